package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/falcops/falcops/internal/sharedtest"
)

// browser is a headless Chromium (Debian's, installed by
// hack/chromium.sh) with the page's console errors collected.
type browser struct {
	ctx    context.Context
	mu     sync.Mutex
	errors []string
}

// chromium is the browser binary: $FALCOPS_CHROMIUM (make test sets it
// from hack/chromium.sh) or /usr/bin/chromium.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("FALCOPS_CHROMIUM"), "/usr/bin/chromium"} {
		if p == "" {
			continue
		}
		if info, err := os.Stat(p); err == nil && !info.IsDir() {
			return p
		}
	}
	sharedtest.SkipOrFail(t, sharedtest.RequireToolsEnv, "no Chromium: run hack/chromium.sh (make test does) or set FALCOPS_CHROMIUM")
	return ""
}

// newBrowser starts Chromium with no network but loopback (the flags keep
// it from calling home) and stops it when the test ends.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium(t)), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 1100),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &browser{ctx: ctx}
	// The first Run starts the browser; the console is read from then on.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.add(m.String() + " " + m.URL)
			}
		}
	}()
	return b
}

func (b *browser) add(msg string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.errors = append(b.errors, msg)
}

// Errors are the console errors so far.
func (b *browser) Errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

// do runs actions with a deadline.
func (b *browser) do(t *testing.T, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// eval evaluates a JavaScript expression.
func eval[T any](t *testing.T, b *browser, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("browser: %s: %v", expr, err)
	}
	return v
}

// chart reads the bars of chart id as label -> count, as drawn.
func (b *browser) chart(t *testing.T, id string) map[string]int {
	t.Helper()
	bars := eval[[][2]any](t, b, fmt.Sprintf(`[...document.querySelectorAll('svg[data-chart=%q] g.bar')].map(g => [g.dataset.label, Number(g.dataset.count)])`, id))
	out := map[string]int{}
	for _, bar := range bars {
		out[bar[0].(string)] = int(bar[1].(float64))
	}
	return out
}

// screenshot saves a full-page PNG as a test artifact in
// $FALCOPS_ARTIFACTS (default: falcops-artifacts in the temp folder) and
// returns its path.
func (b *browser) screenshot(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("FALCOPS_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "falcops-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(dir, strings.ReplaceAll(name, "/", "-")+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	return path
}
