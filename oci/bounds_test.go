package oci

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/falcops/falcops/oci/ocitest"
)

// memoryBound is what one registry operation may allocate in all (so also
// at its peak) against a hostile registry. The attacks cost 280 MB to 2 GB
// before the bounds.
const memoryBound = 100 << 20

// hostileEnv is a signed artifact in a registry whose answers an attack
// can take over.
type hostileEnv struct {
	*signEnv
	attack *ocitest.Switch
}

func newHostileEnv(t *testing.T) *hostileEnv {
	t.Helper()
	sw := &ocitest.Switch{}
	e := &signEnv{ctx: testContext(t)}
	e.repo = ocitest.NewWith(t, ocitest.Options{Wrap: sw.Wrap}).Host + "/falcops/heartbeat"
	e.c = newTestClient(t, nil, Options{})
	e.a = heartbeat(t, "1.0.0", "")
	if _, err := e.c.Publish(e.ctx, e.repo, e.a, "1.0.0"); err != nil {
		t.Fatal(err)
	}
	var err error
	if e.priv, e.pub, err = GenerateKeyPair(t.TempDir(), []byte(testPassword)); err != nil {
		t.Fatal(err)
	}
	e.sign(t, e.a)
	if _, err := e.c.Verify(e.ctx, e.ref(e.a), VerifyOptions{KeyRef: e.pub}); err != nil {
		t.Fatalf("honest registry: %v", err)
	}
	return &hostileEnv{signEnv: e, attack: sw}
}

// allocated runs f and returns the bytes it allocated (an upper bound of
// its peak heap).
func allocated(f func()) uint64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestHostileRegistryMemory: the attacks that made falcops read hundreds of
// megabytes are refused with a clear error, allocating less than
// memoryBound.
func TestHostileRegistryMemory(t *testing.T) {
	cases := []struct {
		name   string
		attack func(http.Handler) http.Handler
		run    func(e *hostileEnv) error
		want   []string
		is     error
	}{
		{name: "endless tag list", attack: ocitest.EndlessTags(900 << 10),
			run:  func(e *hostileEnv) error { _, err := e.c.Tags(e.ctx, e.repo); return err },
			want: []string{"more than 10000 tags"}, is: ErrTooLarge},
		{name: "endless tag list of 4 MiB pages", attack: ocitest.EndlessTags(4 << 20),
			run:  func(e *hostileEnv) error { _, err := e.c.Tags(e.ctx, e.repo); return err },
			want: []string{"a page of tags that is not JSON or larger than 1048576 bytes"}, is: ErrTooLarge},
		{name: "300k-layer signature manifest", attack: ocitest.SignatureLayers(300_000, 300),
			run: func(e *hostileEnv) error {
				_, err := e.c.Verify(e.ctx, e.ref(e.a), VerifyOptions{KeyRef: e.pub})
				return err
			},
			want: []string{"more than 4194304 bytes"}, is: ErrTooLarge},
		{name: "64 signature payloads of 120 MiB", attack: ocitest.SignatureLayers(64, 120<<20),
			run: func(e *hostileEnv) error {
				_, err := e.c.Verify(e.ctx, e.ref(e.a), VerifyOptions{KeyRef: e.pub})
				return err
			},
			want: []string{"signature payload of 125829120 bytes is larger than the 65536 bytes falcops reads"}, is: ErrSignature},
		{name: "endless signature manifest", attack: ocitest.Endless(ocitest.SignatureManifests),
			run: func(e *hostileEnv) error {
				_, err := e.c.Verify(e.ctx, e.ref(e.a), VerifyOptions{KeyRef: e.pub})
				return err
			},
			want: []string{"more than 4194304 bytes"}, is: ErrTooLarge},
		{name: "a signature refused by signing replaces it, reading little", attack: ocitest.SignatureLayers(64, 120<<20),
			run: func(e *hostileEnv) error {
				return e.c.Sign(e.ctx, e.ref(e.a), SignOptions{KeyRef: e.priv, Password: password})
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newHostileEnv(t)
			e.attack.Set(c.attack)
			var err error
			n := allocated(func() { err = c.run(e) })
			t.Logf("allocated %.1f MB: %v", float64(n)/(1<<20), err)
			if n > memoryBound {
				t.Errorf("allocated %d bytes, bound %d", n, memoryBound)
			}
			if c.is == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, c.is) {
				t.Fatalf("error %v, want %v", err, c.is)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestHostileRegistryTime: a registry that never answers, or answers one
// byte at a time, ends the operation at the header or idle timeout of
// each request or at the caller's deadline, with a message that says so.
func TestHostileRegistryTime(t *testing.T) {
	cases := []struct {
		name     string
		attack   func(http.Handler) http.Handler
		opts     Options
		deadline time.Duration
		want     string
	}{
		{name: "never answers: header timeout", attack: ocitest.Silent(ocitest.AnyRequest),
			opts: Options{HeaderTimeout: 300 * time.Millisecond, Retry: RetryPolicy{MaxAttempts: 2, MinWait: time.Millisecond}},
			want: "no answer within 300ms"},
		{name: "a pause in the body: idle timeout", attack: ocitest.Trickle(ocitest.SignatureManifests, 2*time.Second),
			opts: Options{IdleTimeout: 300 * time.Millisecond, Retry: RetryPolicy{MaxAttempts: 1}},
			want: "the registry sent nothing for 300ms"},
		{name: "one byte at a time: the caller's deadline", attack: ocitest.Trickle(ocitest.SignatureManifests, 100*time.Millisecond),
			opts: Options{Retry: RetryPolicy{MaxAttempts: 1}}, deadline: 1500 * time.Millisecond,
			want: "context deadline exceeded"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newHostileEnv(t)
			e.attack.Set(c.attack)
			client := newTestClient(t, nil, c.opts)
			ctx := e.ctx
			if c.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, c.deadline)
				defer cancel()
			}
			start := time.Now()
			_, err := client.Verify(ctx, e.ref(e.a), VerifyOptions{KeyRef: e.pub})
			took := time.Since(start)
			t.Logf("after %s: %v", took.Round(time.Millisecond), err)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one that says %q", err, c.want)
			}
			// Generous: the point is that it ends, not how fast.
			if took > 20*time.Second {
				t.Errorf("took %s", took)
			}
		})
	}
}
