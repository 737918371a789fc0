package oci

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/falcops/falcops/oci/ocitest"
)

const testDigest = "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"

// scripted is a registry stand-in on 127.0.0.1 that answers manifest HEADs
// with the scripted statuses in turn and then with success.
func scripted(t *testing.T, script func(n int, w http.ResponseWriter) bool) (string, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1))
		if script(i, w) {
			return
		}
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		w.Header().Set("Docker-Content-Digest", testDigest)
		w.Header().Set("Content-Length", "3")
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), &n
}

// waits records the retry waits of c and, if real, also sleeps them.
func waits(c *Client, real bool) *[]time.Duration {
	var mu sync.Mutex
	var got []time.Duration
	rt := c.http.Transport.(*retryTransport)
	rt.sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		got = append(got, d)
		mu.Unlock()
		if real {
			return sleepCtx(ctx, d)
		}
		return nil
	}
	return &got
}

// TestRetryThenSucceed: 429 with Retry-After: 1, then 503, then success is
// one successful call that waited the second the server asked for.
func TestRetryThenSucceed(t *testing.T) {
	host, n := scripted(t, func(i int, w http.ResponseWriter) bool {
		switch i {
		case 1:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		case 2:
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	c := newTestClient(t, nil, Options{})
	got := waits(c, true)
	desc, err := c.Resolve(testContext(t), host+"/falcops/heartbeat:1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if desc.Digest != testDigest {
		t.Fatalf("digest %s", desc.Digest)
	}
	if n.Load() != 3 {
		t.Fatalf("%d requests, want 3", n.Load())
	}
	if len(*got) != 2 {
		t.Fatalf("waits %v, want 2", *got)
	}
	if (*got)[0] != time.Second {
		t.Errorf("first wait %v, want the 1s of Retry-After", (*got)[0])
	}
	if w := (*got)[1]; w <= 0 || w > 2*time.Second {
		t.Errorf("second wait %v, want a short backoff", w)
	}
}

// TestRetryAfterDate: Retry-After as an HTTP date is measured from the
// answer's Date header, and from the injected clock without one.
func TestRetryAfterDate(t *testing.T) {
	base := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, withDate := range []bool{true, false} {
		host, _ := scripted(t, func(i int, w http.ResponseWriter) bool {
			if i == 1 {
				if withDate {
					w.Header().Set("Date", base.Format(http.TimeFormat))
				} else {
					w.Header()["Date"] = nil // no automatic Date either
				}
				w.Header().Set("Retry-After", base.Add(3*time.Second).Format(http.TimeFormat))
				w.WriteHeader(http.StatusServiceUnavailable)
				return true
			}
			return false
		})
		opts := Options{}
		if !withDate {
			opts.Clock = func() time.Time { return base.Add(time.Second) }
		}
		c := newTestClient(t, nil, opts)
		got := waits(c, false)
		if _, err := c.Resolve(testContext(t), host+"/r:1"); err != nil {
			t.Fatal(err)
		}
		want := 3 * time.Second
		if !withDate {
			want = 2 * time.Second
		}
		if len(*got) != 1 || (*got)[0] != want {
			t.Errorf("Date header %v: waits %v, want [%v]", withDate, *got, want)
		}
	}
}

// TestRetryBounded: a registry that keeps failing is tried MaxAttempts
// times; a Retry-After beyond MaxWait is not waited for.
func TestRetryBounded(t *testing.T) {
	host, n := scripted(t, func(_ int, w http.ResponseWriter) bool {
		w.WriteHeader(http.StatusBadGateway)
		return true
	})
	c := newTestClient(t, nil, Options{Retry: RetryPolicy{MaxAttempts: 3, MinWait: time.Millisecond, MaxWait: 10 * time.Millisecond}})
	got := waits(c, false)
	_, err := c.Resolve(testContext(t), host+"/r:1")
	if err == nil || !strings.Contains(err.Error(), "502") {
		t.Fatalf("error %v, want the 502", err)
	}
	if n.Load() != 3 || len(*got) != 2 {
		t.Fatalf("%d requests and waits %v, want 3 and 2", n.Load(), *got)
	}
	for i, w := range *got {
		if w > 10*time.Millisecond {
			t.Errorf("wait %d = %v beyond MaxWait", i, w)
		}
	}

	host, n = scripted(t, func(_ int, w http.ResponseWriter) bool {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
		return true
	})
	c = newTestClient(t, nil, Options{})
	got = waits(c, false)
	if _, err := c.Resolve(testContext(t), host+"/r:1"); err == nil || !strings.Contains(err.Error(), "429") {
		t.Fatalf("error %v, want the 429", err)
	}
	if n.Load() != 1 || len(*got) != 0 {
		t.Fatalf("%d requests and waits %v, want 1 and none", n.Load(), *got)
	}
}

// TestRetryNetworkError: a refused connection is retried, then reported.
func TestRetryNetworkError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	rec := newRecorder()
	c := newTestClient(t, rec, Options{Retry: RetryPolicy{MaxAttempts: 3, MinWait: time.Millisecond}})
	got := waits(c, false)
	if _, err := c.Resolve(testContext(t), addr+"/r:1"); err == nil {
		t.Fatal("no error")
	}
	if len(rec.requests()) != 3 || len(*got) != 2 {
		t.Fatalf("requests %v, waits %v; want 3 tries", rec.requests(), *got)
	}
}

// TestErrorMapping: 404 is ErrNotFound, 401 and 403 are ErrUnauthorized,
// for the oras client against a real registry.
func TestErrorMapping(t *testing.T) {
	ctx := testContext(t)
	host := startRegistry(t, nil)
	c := newTestClient(t, nil, Options{})
	a := heartbeat(t, "1.0.0", "")
	repo := host + "/falcops/heartbeat"
	if _, err := c.Publish(ctx, repo, a, "1.0.0"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Resolve(ctx, repo+":9.9.9"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing tag: %v, want ErrNotFound", err)
	}
	// Registries differ here: an empty list or 404 (olareg: empty).
	if tags, err := c.Tags(ctx, host+"/falcops/none"); len(tags) > 0 || (err != nil && !errors.Is(err, ErrNotFound)) {
		t.Errorf("missing repository: %v, %v; want no tags or ErrNotFound", tags, err)
	}
	if _, _, err := c.FetchManifest(ctx, repo+":9.9.9"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing manifest: %v, want ErrNotFound", err)
	}

	locked := ocitest.NewWith(t, ocitest.Options{User: "ci", Password: "s3cret"}).Host
	anon := newTestClient(t, nil, Options{})
	if _, err := anon.Resolve(ctx, locked+"/falcops/heartbeat:1.0.0"); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("no credentials: %v, want ErrUnauthorized", err)
	}
	wrong := newTestClient(t, nil, Options{DockerConfig: dockerConfig(t, locked, "ci", "wrong")})
	if _, err := wrong.Publish(ctx, locked+"/falcops/heartbeat", a, "1.0.0"); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("wrong credentials: %v, want ErrUnauthorized", err)
	}
	right := newTestClient(t, nil, Options{DockerConfig: dockerConfig(t, locked, "ci", "s3cret")})
	if _, err := right.Publish(ctx, locked+"/falcops/heartbeat", a, "1.0.0"); err != nil {
		t.Errorf("right credentials: %v", err)
	}

	forbidden, _ := scripted(t, func(_ int, w http.ResponseWriter) bool {
		w.WriteHeader(http.StatusForbidden)
		return true
	})
	if _, err := anon.Resolve(ctx, forbidden+"/r:1"); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("403: %v, want ErrUnauthorized", err)
	}
	if _, err := anon.Resolve(ctx, forbidden+"/r:1"); errors.Is(err, ErrNotFound) {
		t.Errorf("403 is not ErrNotFound")
	}
}
