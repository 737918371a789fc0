package oci

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// RetryPolicy bounds the retries of one registry request. Requests are
// retried on 408, 429 and 5xx answers (except 501 and 505) and on network
// errors (timeouts, refused or reset connections, unexpected EOF), with
// exponential backoff and jitter. A Retry-After header (seconds or an HTTP
// date) sets the wait instead when it is longer; a Retry-After beyond MaxWait
// ends the retries, and the answer is returned to the caller.
type RetryPolicy struct {
	// MaxAttempts is the number of tries, the first included (default 5;
	// 1 turns retries off).
	MaxAttempts int
	// MinWait is the backoff before the second try; it doubles with each
	// further try (default 200ms).
	MinWait time.Duration
	// MaxWait caps every wait (default 30s).
	MaxWait time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 5
	}
	if p.MinWait <= 0 {
		p.MinWait = 200 * time.Millisecond
	}
	if p.MaxWait <= 0 {
		p.MaxWait = 30 * time.Second
	}
	if p.MinWait > p.MaxWait {
		p.MinWait = p.MaxWait
	}
	return p
}

// retryTransport retries requests under a RetryPolicy. It sits below the
// authenticating client, so a token request is retried the same way.
type retryTransport struct {
	base   http.RoundTripper
	policy RetryPolicy
	// now is the clock for Retry-After dates when the answer has no Date
	// header; nil means such a date is ignored (backoff applies).
	now func() time.Time
	// sleep waits for d or until ctx ends; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
}

func newRetryTransport(base http.RoundTripper, p RetryPolicy, now func() time.Time) *retryTransport {
	return &retryTransport{base: base, policy: p.withDefaults(), now: now, sleep: sleepCtx}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	for attempt := 1; ; attempt++ {
		resp, err := t.base.RoundTrip(req)
		if attempt >= t.policy.MaxAttempts || ctx.Err() != nil || !retryable(resp, err) {
			return resp, err
		}
		wait := t.backoff(attempt)
		if resp != nil {
			if ra, ok := t.retryAfter(resp); ok {
				if ra > t.policy.MaxWait {
					// The server asks for a longer pause than we wait
					// for: give its answer to the caller.
					return resp, nil
				}
				wait = max(wait, ra)
			}
		}
		next, ok := rewind(req)
		if !ok {
			return resp, err
		}
		if resp != nil {
			// Drain a little so the connection can be reused.
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			_ = resp.Body.Close()
		}
		if serr := t.sleep(ctx, wait); serr != nil {
			return nil, serr
		}
		req = next
	}
}

// backoff is MinWait·2^(attempt-1), at most MaxWait, with ±20% jitter.
func (t *retryTransport) backoff(attempt int) time.Duration {
	d := t.policy.MinWait
	for i := 1; i < attempt && d < t.policy.MaxWait; i++ {
		d *= 2
	}
	d = min(d, t.policy.MaxWait)
	jitter := time.Duration(float64(d) * 0.2 * (2*rand.Float64() - 1))
	return min(max(d+jitter, 0), t.policy.MaxWait)
}

// retryAfter reads Retry-After as delay-seconds or an HTTP date. A date is
// measured from the answer's Date header, else from the injected clock.
func (t *retryTransport) retryAfter(resp *http.Response) (time.Duration, bool) {
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(24*time.Hour/time.Second) {
			secs = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(secs) * time.Second, true
	}
	when, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	var now time.Time
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		now = d
	} else if t.now != nil {
		now = t.now()
	} else {
		return 0, false
	}
	return max(when.Sub(now), 0), true
}

// retryable tells transient failures from final answers.
func retryable(resp *http.Response, err error) bool {
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return false
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return true
		}
		return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
			errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
	}
	switch resp.StatusCode {
	case http.StatusRequestTimeout, http.StatusTooManyRequests:
		return true
	case http.StatusNotImplemented, http.StatusHTTPVersionNotSupported:
		return false
	default:
		return resp.StatusCode >= 500
	}
}

// rewind returns a copy of req with a fresh body for another try; false if
// the body cannot be read again.
func rewind(req *http.Request) (*http.Request, bool) {
	next := req.Clone(req.Context())
	if req.Body == nil || req.Body == http.NoBody {
		return next, true
	}
	if req.GetBody == nil {
		return nil, false
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, false
	}
	next.Body = body
	return next, true
}
