package testenv

import "syscall"

var syscallAddrInUse = syscall.EADDRINUSE
