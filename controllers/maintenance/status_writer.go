package maintenance

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
)

// statusWriter writes ShootRollouts off the reconcile path, so that during a
// rollout the API server spends its capacity on the shoot patches first:
// reconciles hand it the desired object and move on; a few workers write
// the newest desired state of each ShootRollout, coalescing repeated
// changes, and hold back while shoots are being patched (up to maxHold).
// The writer is the only writer of ShootRollouts, so it remembers what it
// wrote and patches from that, never from a stale cache copy.
type statusWriter struct {
	c       client.Client
	clock   clock.PassiveClock
	workers int

	// lastPatch is when a shoot was last patched (UnixNano).
	lastPatch atomic.Int64
	queue     workqueue.TypedRateLimitingInterface[types.NamespacedName]

	mu       sync.Mutex
	desired  map[types.NamespacedName]*falcopsv1alpha1.ShootRollout
	since    map[types.NamespacedName]time.Time // when desired was first set
	inflight map[types.NamespacedName]*falcopsv1alpha1.ShootRollout
	written  map[types.NamespacedName]*falcopsv1alpha1.ShootRollout
}

// Holding back: while shoots were patched within quiet, a ShootRollout
// write waits, but never longer than maxHold after it was asked for.
const (
	quiet   = 300 * time.Millisecond
	maxHold = 15 * time.Second
)

func newStatusWriter(c client.Client, clk clock.PassiveClock, workers int) *statusWriter {
	return &statusWriter{
		c:       c,
		clock:   clk,
		workers: workers,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[types.NamespacedName](100*time.Millisecond, time.Minute),
			workqueue.TypedRateLimitingQueueConfig[types.NamespacedName]{Name: "shootrollout-status"}),
		desired:  map[types.NamespacedName]*falcopsv1alpha1.ShootRollout{},
		since:    map[types.NamespacedName]time.Time{},
		inflight: map[types.NamespacedName]*falcopsv1alpha1.ShootRollout{},
		written:  map[types.NamespacedName]*falcopsv1alpha1.ShootRollout{},
	}
}

// current returns the newest state of a ShootRollout: desired but not yet
// written, else being written, else last written, else the cached copy.
// exists is false when it was never created.
func (w *statusWriter) current(ctx context.Context, key types.NamespacedName) (*falcopsv1alpha1.ShootRollout, bool, error) {
	w.mu.Lock()
	if d := w.desired[key]; d != nil {
		w.mu.Unlock()
		return d.DeepCopy(), true, nil
	}
	if d := w.inflight[key]; d != nil {
		w.mu.Unlock()
		return d.DeepCopy(), true, nil
	}
	last := w.written[key]
	w.mu.Unlock()
	sr := &falcopsv1alpha1.ShootRollout{}
	err := w.c.Get(ctx, key, sr)
	switch {
	case apierrors.IsNotFound(err):
		if last != nil {
			return last.DeepCopy(), true, nil
		}
		sr.Name, sr.Namespace = key.Name, key.Namespace
		return sr, false, nil
	case err != nil:
		return nil, false, err
	}
	if last != nil && last.ResourceVersion != sr.ResourceVersion {
		return last.DeepCopy(), true, nil // the cache has not caught up yet
	}
	if last != nil {
		w.mu.Lock()
		delete(w.written, key) // the cache has it now
		w.mu.Unlock()
	}
	return sr, true, nil
}

// set records the desired ShootRollout; the workers write it.
func (w *statusWriter) set(sr *falcopsv1alpha1.ShootRollout) {
	key := types.NamespacedName{Namespace: sr.Namespace, Name: sr.Name}
	w.mu.Lock()
	w.desired[key] = sr.DeepCopy()
	if _, ok := w.since[key]; !ok {
		w.since[key] = w.clock.Now()
	}
	w.mu.Unlock()
	w.queue.Add(key)
}

// patched records that a shoot was just patched.
func (w *statusWriter) patched() { w.lastPatch.Store(w.clock.Now().UnixNano()) }

// hold waits while shoots are being patched, at most until maxHold after
// since, or until ctx ends.
func (w *statusWriter) hold(ctx context.Context, since time.Time) {
	const tick = 50 * time.Millisecond
	for range maxHold / tick { // bounded in real time too, whatever the clock does
		now := w.clock.Now()
		if now.Sub(time.Unix(0, w.lastPatch.Load())) >= quiet || now.Sub(since) >= maxHold {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(tick):
		}
	}
}

// forget drops a deleted shoot's state.
func (w *statusWriter) forget(key types.NamespacedName) {
	w.mu.Lock()
	delete(w.desired, key)
	delete(w.since, key)
	delete(w.inflight, key)
	delete(w.written, key)
	w.mu.Unlock()
}

// Start runs the workers until ctx ends (a manager Runnable).
func (w *statusWriter) Start(ctx context.Context) error {
	var wg sync.WaitGroup
	for range w.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for w.next(ctx) {
			}
		}()
	}
	sweep := time.NewTicker(30 * time.Second)
	defer sweep.Stop()
	for {
		select {
		case <-sweep.C:
			w.sweep(ctx)
		case <-ctx.Done():
			w.queue.ShutDown()
			wg.Wait()
			return nil
		}
	}
}

// sweep forgets written ShootRollouts the cache has caught up with, so the
// writer holds only the few that are in flight.
func (w *statusWriter) sweep(ctx context.Context) {
	w.mu.Lock()
	keys := make([]types.NamespacedName, 0, len(w.written))
	for k := range w.written {
		keys = append(keys, k)
	}
	w.mu.Unlock()
	for _, k := range keys {
		cached := &falcopsv1alpha1.ShootRollout{}
		if err := w.c.Get(ctx, k, cached); err != nil {
			continue
		}
		w.mu.Lock()
		if last := w.written[k]; last != nil && last.ResourceVersion == cached.ResourceVersion {
			delete(w.written, k)
		}
		w.mu.Unlock()
	}
}

// NeedLeaderElection: only the leader writes.
func (w *statusWriter) NeedLeaderElection() bool { return true }

func (w *statusWriter) next(ctx context.Context) bool {
	key, shutdown := w.queue.Get()
	if shutdown {
		return false
	}
	defer w.queue.Done(key)
	w.mu.Lock()
	since, queued := w.since[key]
	w.mu.Unlock()
	if queued {
		w.hold(ctx, since)
	}
	w.mu.Lock()
	want := w.desired[key]
	delete(w.desired, key)
	delete(w.since, key)
	if want != nil {
		w.inflight[key] = want
	}
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		delete(w.inflight, key)
		w.mu.Unlock()
	}()
	if want == nil {
		w.queue.Forget(key)
		return true
	}
	if err := w.write(ctx, key, want); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "writing ShootRollout", "ShootRollout", key)
		w.mu.Lock()
		if w.desired[key] == nil { // nothing newer arrived meanwhile
			w.desired[key] = want
			w.since[key] = w.clock.Now().Add(-maxHold) // retry without holding
		}
		w.mu.Unlock()
		w.queue.AddRateLimited(key)
		return true
	}
	w.queue.Forget(key)
	return true
}

func (w *statusWriter) write(ctx context.Context, key types.NamespacedName, want *falcopsv1alpha1.ShootRollout) error {
	w.mu.Lock()
	base := w.written[key]
	w.mu.Unlock()
	if base == nil {
		cached := &falcopsv1alpha1.ShootRollout{}
		err := w.c.Get(ctx, key, cached)
		switch {
		case apierrors.IsNotFound(err):
			obj := want.DeepCopy()
			obj.ResourceVersion = ""
			if err := w.c.Create(ctx, obj); err != nil {
				if apierrors.IsAlreadyExists(err) {
					return err // the cache was behind; retry patches it
				}
				return err
			}
			w.remember(key, obj)
			return nil
		case err != nil:
			return err
		}
		base = cached
	}
	if equality.Semantic.DeepEqual(base.Status, want.Status) {
		return nil
	}
	obj := base.DeepCopy()
	obj.Status = want.Status
	if err := w.c.Patch(ctx, obj, client.MergeFrom(base)); err != nil {
		if apierrors.IsNotFound(err) {
			w.forget(key)
		}
		return err
	}
	w.remember(key, obj)
	return nil
}

func (w *statusWriter) remember(key types.NamespacedName, obj *falcopsv1alpha1.ShootRollout) {
	w.mu.Lock()
	w.written[key] = obj
	w.mu.Unlock()
}

// overlay replaces cached ShootRollouts in m with newer ones the writer
// knows (desired, or written but not yet in the cache).
func (w *statusWriter) overlay(m map[types.NamespacedName]*falcopsv1alpha1.ShootRollout) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for key, sr := range w.written {
		if cached := m[key]; cached == nil || cached.ResourceVersion != sr.ResourceVersion {
			m[key] = sr
		}
	}
	for key, sr := range w.inflight {
		m[key] = sr
	}
	for key, sr := range w.desired {
		m[key] = sr
	}
}
