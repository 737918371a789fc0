package dashboard_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/dashboard"
	"github.com/falcops/falcops/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// counting counts the requests made with a config.
type counting struct{ n atomic.Int64 }

func (c *counting) wrap(cfg *rest.Config) *rest.Config {
	out := rest.CopyConfig(cfg)
	out.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		return roundTripper(func(r *http.Request) (*http.Response, error) { c.n.Add(1); return rt.RoundTrip(r) })
	}
	return out
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// served starts a cache on env with a request counter, the dashboard
// over it and an HTTP server for it.
func served(t testing.TB, env *testenv.Env) (*httptest.Server, *counting, cache.Cache) {
	t.Helper()
	cnt := &counting{}
	c, err := cache.New(cnt.wrap(env.Config), cache.Options{Scheme: env.Scheme})
	require.NoError(t, err)
	d := dashboard.New(c, clock.RealClock{})
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, d.Watch(ctx, c))
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Start(ctx) }()
	require.True(t, c.WaitForCacheSync(ctx))
	srv := httptest.NewServer(d.Handler())
	t.Cleanup(func() { srv.Close(); cancel(); <-done })
	return srv, cnt, c
}

func rolloutObj(ns, name, falco, reason, message string, upToDate bool) *falcopsv1alpha1.ShootRollout {
	status := metav1.ConditionFalse
	if upToDate {
		status = metav1.ConditionTrue
	}
	return &falcopsv1alpha1.ShootRollout{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Status: falcopsv1alpha1.ShootRolloutStatus{FalcoVersion: falco, Reason: reason, Message: message,
			Rulesets:   []falcopsv1alpha1.RulesetPin{{Name: "falco-rules", Version: "5.0.0"}},
			Conditions: []metav1.Condition{{Type: falcopsv1alpha1.UpToDateCondition, Status: status, Reason: reason, LastTransitionTime: metav1.Now()}}}}
}

func get(t testing.TB, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	return string(body)
}

// TestPage: the page shows the cached objects (counts in the charts,
// blocked reasons with their text and links to ShootRollouts, the rule
// source's rejected digest), costs no API request, and the stream sends
// a new fragment when a ShootRollout changes.
func TestPage(t *testing.T) {
	env := testenv.Shared(t)
	ctx := context.Background()
	ns := "garden-dash"
	require.NoError(t, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	for i := range 3 {
		require.NoError(t, env.Client.Create(ctx, rolloutObj(ns, fmt.Sprintf("up%d", i), "0.42.1", falcopsv1alpha1.ReasonUpToDate, "", true)))
	}
	blocked := rolloutObj(ns, "stuck", "0.99.0", falcopsv1alpha1.ReasonDowngradeBlocked, "Falco 0.99.0 was removed; moving down needs --allow-forced-downgrade", false)
	require.NoError(t, env.Client.Create(ctx, blocked))
	src := &falcopsv1alpha1.RuleSource{ObjectMeta: metav1.ObjectMeta{Name: "dash-rules"},
		Spec: falcopsv1alpha1.RuleSourceSpec{Ruleset: "falco-rules", Repository: "127.0.0.1:1/rules/falco-rules", Follow: "5",
			Verify: falcopsv1alpha1.VerifySpec{SecretRef: &falcopsv1alpha1.SecretReference{Name: "cosign"}}}}
	require.NoError(t, env.Client.Create(ctx, src))
	t.Cleanup(func() { _ = env.Client.Delete(ctx, src) })
	src.Status.Rejected = &falcopsv1alpha1.RejectedDigest{Digest: "sha256:0bad", Reason: falcopsv1alpha1.ReasonSignatureInvalid, Message: "no signature verifies", Since: metav1.Now()}
	require.NoError(t, env.Client.Status().Update(ctx, src))

	srv, cnt, _ := served(t, env)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Contains(c, get(t, srv.URL+dashboard.Prefix+"fragment"), "sha256:0bad")
	}, 10*time.Second, 50*time.Millisecond)

	before := cnt.n.Load()
	page := get(t, srv.URL+dashboard.Prefix)
	assert.Contains(t, page, `data-shoots="4" data-up-to-date="3"`)
	assert.Contains(t, page, `data-label="0.42.1" data-count="3"`)
	assert.Contains(t, page, `data-label="0.99.0" data-count="1"`)
	assert.Contains(t, page, `data-reason="DowngradeBlocked" data-shoots="1"`)
	assert.Contains(t, page, "moving down needs --allow-forced-downgrade")
	assert.Contains(t, page, `href="/dashboard/shootrollouts/garden-dash/stuck"`)
	assert.Contains(t, page, "SignatureInvalid")
	detail := get(t, srv.URL+"/dashboard/shootrollouts/garden-dash/stuck")
	assert.Contains(t, detail, `<td data-field="reason">DowngradeBlocked</td>`)
	assert.Equal(t, before, cnt.n.Load(), "a page view must not reach the API server")

	// Live: the stream's first event is the current fragment; after the
	// blocked shoot moves, the next one shows its new version.
	resp, err := http.Get(srv.URL + dashboard.Prefix + "updates")
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	events := make(chan string, 8)
	go readEvents(resp.Body, events)
	first := <-events
	assert.Contains(t, first, `data-label="0.99.0"`)
	blocked.Status.FalcoVersion, blocked.Status.Reason, blocked.Status.Message = "0.42.1", falcopsv1alpha1.ReasonUpToDate, ""
	blocked.Status.Conditions[0].Status = metav1.ConditionTrue
	require.NoError(t, env.Client.Update(ctx, blocked))
	select {
	case next := <-events:
		assert.Contains(t, next, `data-label="0.42.1" data-count="4"`)
		assert.NotContains(t, next, "DowngradeBlocked\"")
		assert.Contains(t, next, "garden-dash/stuck</a>: 0.99.0 DowngradeBlocked &rarr; 0.42.1 UpToDate", "the change is listed")
	case <-time.After(10 * time.Second):
		t.Fatal("no update after the ShootRollout changed")
	}
}

// readEvents sends the data of each server-sent event to out.
func readEvents(r io.Reader, out chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	var data []string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "data: "):
			data = append(data, strings.TrimPrefix(line, "data: "))
		case line == "" && data != nil:
			out <- strings.Join(data, "\n")
			data = nil
		}
	}
}

// TestReadOnly: the dashboard answers only GET (and HEAD).
func TestReadOnly(t *testing.T) {
	srv, _, _ := served(t, testenv.Shared(t))
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		req, err := http.NewRequest(m, srv.URL+dashboard.Prefix, nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, m)
	}
	resp, err := http.Get(srv.URL + "/dashboard/shootrollouts/nowhere/none")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, err = http.Get(srv.URL + dashboard.Prefix)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "script-src 'self'")
}

// createRollouts creates n ShootRollouts in ns, 32 at a time.
func createRollouts(t testing.TB, c client.Client, ns string, n int) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	reasons := []string{falcopsv1alpha1.ReasonUpToDate, falcopsv1alpha1.ReasonWaitingForMaintenanceWindow, falcopsv1alpha1.ReasonWaitingForWave, falcopsv1alpha1.ReasonDowngradeBlocked}
	versions := []string{"0.41.3", "0.42.1", "0.43.0", "0.44.1"}
	work := make(chan int)
	var wg sync.WaitGroup
	var failed atomic.Value
	for range 32 {
		wg.Go(func() {
			for i := range work {
				r := reasons[i%len(reasons)]
				if err := c.Create(ctx, rolloutObj(ns, fmt.Sprintf("shoot-%05d", i), versions[i%len(versions)], r, "because "+r, r == falcopsv1alpha1.ReasonUpToDate)); err != nil {
					failed.Store(err)
				}
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		t.Fatal(err)
	}
}

// BenchmarkDashboard: over 10,000 ShootRollouts in envtest, a full page
// view (make bench-dashboard) against the baseline of one deep-copying
// list of the same cache, the least any page of them costs. PageView
// reports the API requests per view (it fails on any) and fails when a
// view takes 300 ms or more.
func BenchmarkDashboard(b *testing.B) {
	env := testenv.Start(b)
	createRollouts(b, env.Client, "garden-bench", 10000)
	srv, cnt, reader := served(b, env)
	require.Eventually(b, func() bool {
		return strings.Contains(get(b, srv.URL+dashboard.Prefix+"fragment"), `data-shoots="10000"`)
	}, time.Minute, 100*time.Millisecond)
	b.Run("PageView", func(b *testing.B) {
		before := cnt.n.Load()
		var slowest time.Duration
		for b.Loop() {
			start := time.Now()
			page := get(b, srv.URL+dashboard.Prefix)
			slowest = max(slowest, time.Since(start))
			if !strings.Contains(page, `data-shoots="10000"`) {
				b.Fatal("the page does not count 10,000 shoots")
			}
		}
		requests := cnt.n.Load() - before
		b.ReportMetric(float64(requests)/float64(b.N), "api-requests/view")
		b.ReportMetric(float64(slowest.Microseconds())/1000, "slowest-ms")
		if requests != 0 {
			b.Fatalf("%d API requests during %d views", requests, b.N)
		}
		if slowest >= 300*time.Millisecond {
			b.Fatalf("slowest view %s, want < 300 ms", slowest)
		}
	})
	b.Run("CacheList", func(b *testing.B) {
		for b.Loop() {
			var list falcopsv1alpha1.ShootRolloutList
			require.NoError(b, reader.List(context.Background(), &list))
			if len(list.Items) != 10000 {
				b.Fatalf("%d ShootRollouts cached", len(list.Items))
			}
		}
	})
}
