package oci

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Default time bounds of one registry request. A command or a reconcile
// bounds its whole registry work with its own deadline on top of these.
const (
	// DefaultHeaderTimeout bounds the wait for an answer's headers.
	DefaultHeaderTimeout = 30 * time.Second
	// DefaultIdleTimeout bounds a pause in the middle of an answer's body.
	DefaultIdleTimeout = 30 * time.Second
	// maxTags bounds one tag listing: a ruleset repository holds a few
	// hundred tags, a hostile one could list them forever.
	maxTags = 10_000
	// maxTagPage bounds one page of a tag listing.
	maxTagPage = 1 << 20
	// maxSignaturePayload bounds one signature layer: a simple-signing
	// payload is a few hundred bytes.
	maxSignaturePayload = 64 << 10
)

// ErrTooLarge means a registry answer was larger than falcops reads.
var ErrTooLarge = errors.New("registry answer too large")

// timeoutError is a request that ran out of time; it is a net.Error
// timeout, so the retry transport treats it like one.
type timeoutError struct{ msg string }

func (e *timeoutError) Error() string { return e.msg }
func (e *timeoutError) Timeout() bool { return true }
func (e *timeoutError) Temporary() bool {
	return true
}

// boundedTransport puts time bounds on every request, whatever the base
// transport: headers must arrive within header, and the body may pause no
// longer than idle between reads. With maxBody > 0 no body is read past
// maxBody bytes (for the libraries that read whole answers themselves).
type boundedTransport struct {
	base    http.RoundTripper
	header  time.Duration
	idle    time.Duration
	maxBody int64
}

func (t *boundedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	what := req.Method + " " + req.URL.Redacted()
	headerTimer := time.AfterFunc(t.header, func() {
		cancel(&timeoutError{fmt.Sprintf("%s: no answer within %s", what, t.header)})
	})
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	headerTimer.Stop()
	if err != nil {
		if cause := context.Cause(ctx); cause != nil && req.Context().Err() == nil {
			err = cause
		}
		cancel(nil)
		return nil, err
	}
	resp.Body = &boundedBody{rc: resp.Body, ctx: ctx, cancel: cancel, idle: t.idle, what: what, max: t.maxBody}
	return resp, nil
}

// boundedBody is an answer's body under the idle and size bounds.
type boundedBody struct {
	rc     io.ReadCloser
	ctx    context.Context
	cancel context.CancelCauseFunc
	idle   time.Duration
	what   string
	max    int64 // 0: no size bound
	read   int64

	once sync.Once
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.max > 0 {
		// Ask for one byte past the limit to tell "exactly max" from "more".
		p = p[:min(int64(len(p)), b.max-b.read+1)]
	}
	timer := time.AfterFunc(b.idle, func() {
		b.cancel(&timeoutError{fmt.Sprintf("%s: the registry sent nothing for %s", b.what, b.idle)})
	})
	n, err := b.rc.Read(p)
	timer.Stop()
	if err != nil && !errors.Is(err, io.EOF) {
		if cause := context.Cause(b.ctx); cause != nil {
			err = cause
		}
	}
	b.read += int64(n)
	if b.max > 0 && b.read > b.max {
		return n - int(b.read-b.max), fmt.Errorf("%w: %s: more than %d bytes", ErrTooLarge, b.what, b.max)
	}
	return n, err
}

func (b *boundedBody) Close() error {
	err := b.rc.Close()
	b.once.Do(func() { b.cancel(nil) })
	return err
}
