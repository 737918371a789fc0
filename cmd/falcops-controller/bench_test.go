package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/internal/testenv"
	"github.com/falcops/falcops/oci/ocitest"
	"github.com/falcops/falcops/shoot"
)

// benchShoots is the number of shoots of BenchmarkRollout (FALCOPS_BENCH_SHOOTS
// overrides it for a quick run).
func benchShoots() int {
	if n, err := strconv.Atoi(os.Getenv("FALCOPS_BENCH_SHOOTS")); err == nil && n > 0 {
		return n
	}
	return 10000
}

// BenchmarkRollout measures, against one API server and the same shoots:
//
//   - patchloop: a plain client loop that patches every eligible shoot's
//     falcoVersion one after the other (the baseline);
//   - controller: the falcops controller moving the same shoots one version
//     further after a profile promotion, from the promotion until every
//     eligible shoot is patched.
//
// It reports both times and their ratio, the controller's peak Go heap and
// the process's peak RSS, and the registry requests per poll interval with
// a RuleSource of 1s. Every 10th shoot has autoUpdate false and must not
// move.
func BenchmarkRollout(b *testing.B) {
	for range b.N {
		benchRollout(b)
	}
}

func benchRollout(b *testing.B) {
	// Long: setup, baseline, controller run and report share one fleet and its timings.
	b.StopTimer()
	n := benchShoots()
	ctx := context.Background()
	env := testenv.Start(b)
	c := env.Client
	reg := ocitest.New(b)
	pub := testenv.NewPublisher(b, reg.Host)
	const ns0 = "falcops-system"
	must(b, c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns0}}))
	must(b, c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "cosign", Namespace: ns0, Labels: map[string]string{falcopsv1alpha1.SecretLabel: "true"}}, Data: map[string][]byte{"cosign.pub": pub.PublicKey}}))
	pub.Publish(b, ocitest.RulesetArtifact(b, "falco-rules", "1.0.0", "0.50.0", ""), false)
	applyProfile(b, c, "0.42.1=supported", "0.43.0=preview", "0.44.1=preview")
	rs := &falcopsv1alpha1.RuleSource{
		ObjectMeta: metav1.ObjectMeta{Name: "falco-rules"},
		Spec: falcopsv1alpha1.RuleSourceSpec{Ruleset: "falco-rules", Repository: pub.Repo("falco-rules"), Follow: "1", Insecure: true,
			Interval: &metav1.Duration{Duration: time.Second},
			Verify:   falcopsv1alpha1.VerifySpec{SecretRef: &falcopsv1alpha1.SecretReference{Name: "cosign"}}},
	}
	must(b, c.Create(ctx, rs))

	// 10,000 shoots in 100 project namespaces.
	start := time.Now()
	namespaces := 100
	for i := range namespaces {
		must(b, c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("garden-p%02d", i)}}))
	}
	parallel(n, 32, func(i int) {
		u := benchShoot(i, namespaces, "0.42.1")
		if err := c.Create(ctx, u); err != nil {
			b.Error(err)
		}
	})
	b.Logf("created %d shoots in %s", n, time.Since(start).Round(time.Millisecond))
	eligible := 0
	for i := range n {
		if i%10 != 0 {
			eligible++
		}
	}

	// An informer counts shoots on a version, for both runs alike.
	dyn := dynamic.NewForConfigOrDie(env.Config)
	gvr := shoot.GVK.GroupVersion().WithResource("shoots")
	inf := dynamicinformer.NewDynamicSharedInformerFactory(dyn, 0).ForResource(gvr).Informer()
	var counter versionCounter
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { counter.update(nil, o) },
		UpdateFunc: func(old, o any) { counter.update(old, o) },
	})
	stop := make(chan struct{})
	defer close(stop)
	go inf.Run(stop)
	cache.WaitForCacheSync(stop, inf.HasSynced)

	// Baseline: a plain patch loop, 0.42.1 -> 0.43.0.
	list := shoot.NewList()
	must(b, c.List(ctx, list))
	t0 := time.Now()
	for i := range list.Items {
		u := &list.Items[i]
		f, _, err := shoot.FalcoOf(u)
		must(b, err)
		if !f.AutoUpdate {
			continue
		}
		orig := u.DeepCopy()
		must(b, shoot.SetFalco(u, "0.43.0", f.Pins))
		must(b, c.Patch(ctx, u, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})))
	}
	counter.wait(b, "0.43.0", eligible)
	loop := time.Since(t0)

	// The controller: everything on 0.43.0 is up to date with 0.43.0
	// supported; then 0.44.1 is promoted.
	applyProfile(b, c, "0.42.1=supported", "0.43.0=supported", "0.44.1=preview")
	concurrency := 16
	if c, err := strconv.Atoi(os.Getenv("FALCOPS_BENCH_CONCURRENCY")); err == nil && c > 0 {
		concurrency = c
	}
	o := defaultOptions(b)
	o.manager.namespace, o.concurrency.maintenance = ns0, concurrency
	opts, err := o.managerOptions()
	must(b, err)
	// The controller's memory is the peak heap in use while it runs minus
	// the heap before it started (the benchmark's own informer and client).
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heapBefore := ms.HeapInuse
	// As deployed: config/manager sets GOMEMLIMIT=200MiB for the controller.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(int64(heapBefore) + 200<<20))
	var peakHeap atomic.Uint64
	sampling := make(chan struct{})
	go sampleHeap(&peakHeap, sampling)
	env.StartManager(b, opts, func(mgr ctrl.Manager) error { return o.setup(ctx, mgr, clock.RealClock{}) })
	// Wait until every shoot has its ShootRollout (the initial sync, which
	// also pins falco-rules 1.0.0 on every shoot).
	waitFor(b, 10*time.Minute, func() bool {
		var l falcopsv1alpha1.ShootRolloutList
		return c.List(ctx, &l) == nil && len(l.Items) == n && allUpToDate(l.Items)
	})
	reqBefore, pollStart := reg.Requests(), time.Now()

	b.StartTimer()
	t1 := time.Now()
	applyProfile(b, c, "0.42.1=supported", "0.43.0=supported", "0.44.1=supported")
	counter.wait(b, "0.44.1", eligible)
	ctrlTime := time.Since(t1)
	b.StopTimer()
	// The ShootRollouts follow: their writer yields to the shoot patches.
	waitFor(b, 10*time.Minute, func() bool {
		var l falcopsv1alpha1.ShootRolloutList
		if c.List(ctx, &l) != nil {
			return false
		}
		moved := 0
		for _, sr := range l.Items {
			if sr.Status.FalcoVersion == "0.44.1" {
				moved++
			}
		}
		time.Sleep(200 * time.Millisecond)
		return moved == eligible
	})
	statusTime := time.Since(t1)
	runtime.GC()
	runtime.ReadMemStats(&ms)
	liveAfter := float64(ms.HeapInuse-min(heapBefore, ms.HeapInuse)) / (1 << 20)
	if path := os.Getenv("FALCOPS_BENCH_HEAPPROFILE"); path != "" {
		runtime.GC()
		f, err := os.Create(path)
		must(b, err)
		must(b, pprof.WriteHeapProfile(f))
		must(b, f.Close())
	}

	time.Sleep(3 * time.Second)
	intervals := time.Since(pollStart).Seconds()
	reqPerInterval := float64(reg.Requests()-reqBefore) / intervals
	close(sampling)
	if got := counter.count("0.42.1"); got != n-eligible {
		b.Errorf("%d shoots left on 0.42.1, want the %d with autoUpdate false", got, n-eligible)
	}
	if got := counter.count("0.43.0"); got != 0 {
		b.Errorf("%d eligible shoots still on 0.43.0", got)
	}
	b.ReportMetric(float64(ctrlTime.Milliseconds()), "controller-ms")
	b.ReportMetric(float64(loop.Milliseconds()), "patchloop-ms")
	b.ReportMetric(float64(statusTime.Milliseconds()), "status-ms")
	b.ReportMetric(ctrlTime.Seconds()/loop.Seconds(), "ratio")
	ctrlHeap := float64(peakHeap.Load()-min(heapBefore, peakHeap.Load())) / (1 << 20)
	b.ReportMetric(ctrlHeap, "controller-heap-MiB")
	b.ReportMetric(liveAfter, "controller-live-MiB")
	b.ReportMetric(peakRSS()/(1<<20), "peak-rss-MiB")
	b.ReportMetric(reqPerInterval, "registry-req/interval")
	b.Logf("%d shoots (%d eligible): controller %s (ShootRollouts %s), patch loop %s, ratio %.2f; controller peak heap %.0f MiB, live after the rollout %.0f MiB (process peak %.0f MiB); %.2f registry requests per 1s interval",
		n, eligible, ctrlTime.Round(time.Millisecond), statusTime.Round(time.Millisecond), loop.Round(time.Millisecond), ctrlTime.Seconds()/loop.Seconds(),
		ctrlHeap, liveAfter, float64(peakHeap.Load())/(1<<20), reqPerInterval)
}

func benchShoot(i, namespaces int, version string) *unstructured.Unstructured {
	pc := map[string]any{"apiVersion": servicev1alpha1.SchemeGroupVersion.String(), "kind": servicev1alpha1.Kind, "falcoVersion": version}
	if i%10 == 0 {
		pc["autoUpdate"] = false
	}
	u := shoot.New()
	u.SetName(fmt.Sprintf("shoot-%05d", i))
	u.SetNamespace(fmt.Sprintf("garden-p%02d", i%namespaces))
	u.SetLabels(map[string]string{servicev1alpha1.ShootLabel: "true"})
	u.Object["spec"] = map[string]any{
		"kubernetes": map[string]any{"version": "1.33.0"},
		"extensions": []any{map[string]any{"type": servicev1alpha1.Type, "providerConfig": pc}},
	}
	return u
}

func allUpToDate(items []falcopsv1alpha1.ShootRollout) bool {
	for _, sr := range items {
		upToDate := meta.IsStatusConditionTrue(sr.Status.Conditions, falcopsv1alpha1.UpToDateCondition)
		if !upToDate || len(sr.Status.Rulesets) == 0 || sr.Status.Rulesets[0].Digest == "" {
			return false
		}
	}
	return true
}

// versionCounter counts shoots per Falco version from informer events.
type versionCounter struct {
	mu sync.Mutex
	by map[string]int
}

func (v *versionCounter) update(old, o any) {
	ver := func(x any) string {
		u, ok := x.(*unstructured.Unstructured)
		if !ok {
			return ""
		}
		f, _, _ := shoot.FalcoOf(u)
		if f == nil {
			return ""
		}
		return f.Version
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.by == nil {
		v.by = map[string]int{}
	}
	if old != nil {
		v.by[ver(old)]--
	}
	v.by[ver(o)]++
}

func (v *versionCounter) count(version string) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.by[version]
}

func (v *versionCounter) wait(b *testing.B, version string, want int) {
	waitFor(b, 20*time.Minute, func() bool { return v.count(version) >= want })
}

func waitFor(b *testing.B, limit time.Duration, cond func() bool) {
	b.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatalf("condition not met within %s", limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func parallel(n, workers int, f func(i int)) {
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				f(i)
			}
		}()
	}
	wg.Wait()
}

func sampleHeap(peak *atomic.Uint64, stop chan struct{}) {
	var ms runtime.MemStats
	for {
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse > peak.Load() {
			peak.Store(ms.HeapInuse)
		}
		select {
		case <-stop:
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// peakRSS is the process's peak resident set size (VmHWM), in bytes.
func peakRSS() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb * 1024
		}
	}
	return 0
}

func must(b testing.TB, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}
