package oci

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestServe runs the registry on a directory, publishes and signs, stops
// it, and finds everything again after a restart on the same directory.
func TestServe(t *testing.T) {
	root := t.TempDir()
	a := heartbeat(t, "1.0.0", "")
	priv, pub, err := GenerateKeyPair(t.TempDir(), []byte(testPassword))
	if err != nil {
		t.Fatal(err)
	}

	serve := func() (string, context.CancelFunc, chan error) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- ServeListener(ctx, ln, ServerOptions{Root: root}) }()
		return ln.Addr().String(), cancel, done
	}
	stop := func(cancel context.CancelFunc, done chan error) {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("serve: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("registry did not stop")
		}
	}

	ctx := testContext(t)
	addr, cancel, done := serve()
	repo := addr + "/falcops/heartbeat"
	c := newTestClient(t, nil, Options{})
	if _, err := c.Publish(ctx, repo, a, "1.0.0"); err != nil {
		t.Fatal(err)
	}
	if err := c.Sign(ctx, repo+"@"+a.ManifestDigest.String(), SignOptions{KeyRef: priv, Password: password}); err != nil {
		t.Fatal(err)
	}
	stop(cancel, done)
	once := newTestClient(t, nil, Options{Retry: RetryPolicy{MaxAttempts: 1}})
	if _, err := once.Resolve(ctx, repo+":1.0.0"); err == nil {
		t.Fatal("registry still answers after stop")
	}

	addr, cancel, done = serve()
	defer stop(cancel, done)
	repo = addr + "/falcops/heartbeat"
	res, err := c.Publish(ctx, repo, a, "1.0.0")
	if err != nil || !res.Unchanged {
		t.Fatalf("after restart: %+v, %v; want unchanged", res, err)
	}
	if d, err := c.Verify(ctx, repo+":latest", VerifyOptions{KeyRef: pub}); err != nil || d.Digest != a.ManifestDigest {
		t.Fatalf("verify after restart: %s, %v", d, err)
	}

	// The referrers API is there (OCI 1.1), answering with an empty index.
	resp, err := http.Get("http://" + addr + "/v2/falcops/heartbeat/referrers/" + a.ManifestDigest.String())
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("referrers API: %s", resp.Status)
	}
}

// TestServeAddressInUse: Serve reports a listen failure.
func TestServeAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close() //nolint:errcheck // test listener
	err = Serve(context.Background(), ln.Addr().String(), ServerOptions{})
	var op *net.OpError
	if !errors.As(err, &op) {
		t.Fatalf("error %v, want a listen error", err)
	}
}
