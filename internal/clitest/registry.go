package clitest

import (
	"net/http/httptest"
	"testing"

	"github.com/olareg/olareg"
	"github.com/olareg/olareg/config"
)

// Registry serves an empty in-memory OCI registry (olareg, referrers API on,
// push allowed, delete off) over plain HTTP on 127.0.0.1 for the rest of the
// test and returns its host, "127.0.0.1:PORT". Clients need their plain-HTTP
// switch (falcoctl and oras --plain-http, cosign --allow-http-registry).
func Registry(t testing.TB) string {
	t.Helper()
	reg := olareg.New(config.Config{
		Storage: config.ConfigStorage{StoreType: config.StoreMem},
	})
	srv := httptest.NewServer(reg)
	t.Cleanup(func() {
		srv.Close()
		_ = reg.Close()
	})
	return srv.Listener.Addr().String()
}
