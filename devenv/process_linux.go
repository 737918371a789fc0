package devenv

import "syscall"

// sysProcAttr puts the child into a group of its own (Ctrl-C in the
// terminal reaches falcops dev only, which stops the children in order)
// and kills it if falcops dev dies without stopping it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func signalGroup(pid int, sig syscall.Signal) { _ = syscall.Kill(-pid, sig) }
