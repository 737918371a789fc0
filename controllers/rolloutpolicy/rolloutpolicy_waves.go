package rolloutpolicy

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/internal/reconcile"
	"github.com/falcops/falcops/rollout"
	"github.com/falcops/falcops/shoot"
)

// reconcileWaves prepares the policy's waves.
func (r *Reconciler) reconcileWaves(_ context.Context, s *scope) error {
	waves, err := rollout.NewWaves(s.policy)
	if err != nil {
		return reconcile.Stall(falcopsv1alpha1.ReasonInvalidSpec, "%v", err)
	}
	s.waves = waves
	return nil
}

// reconcileInputs reads the shared inputs: the merged profiles and the
// RuleSources (from the cache, without copying: the Inputs are read-only).
func (r *Reconciler) reconcileInputs(ctx context.Context, s *scope) error {
	var profiles profilev1alpha1.FalcoProfileList
	if err := r.Client.List(ctx, &profiles, client.UnsafeDisableDeepCopy); err != nil {
		return err
	}
	var sources falcopsv1alpha1.RuleSourceList
	if err := r.Client.List(ctx, &sources, client.UnsafeDisableDeepCopy); err != nil {
		return err
	}
	in, err := r.Inputs.For(profiles.Items, sources.Items)
	if err != nil {
		return err
	}
	s.inputs = in
	return nil
}

// reconcileCount tallies the shoots per wave: pending ones have a decided
// target that differs from what they run (blocked shoots are not pending:
// they wait for a profile or RuleSource change, not for the rollout);
// failed ones were changed by this revision and report a failed last
// operation.
func (r *Reconciler) reconcileCount(ctx context.Context, s *scope) error {
	shoots := shoot.NewList()
	if err := r.Client.List(ctx, shoots, client.UnsafeDisableDeepCopy); err != nil {
		return err
	}
	var rollouts falcopsv1alpha1.ShootRolloutList
	if err := r.Client.List(ctx, &rollouts, client.UnsafeDisableDeepCopy); err != nil {
		return err
	}
	changedBy := map[types.NamespacedName]bool{}
	for _, sr := range rollouts.Items {
		if sr.Status.Revision == s.inputs.Revision && sr.Status.LastTransitionTime != nil {
			changedBy[types.NamespacedName{Namespace: sr.Namespace, Name: sr.Name}] = true
		}
	}
	s.tally = make([]counts, s.waves.Len())
	for i := range shoots.Items {
		v := shoot.Observe(&shoots.Items[i])
		if !v.Enabled || v.Err != nil {
			continue
		}
		w := s.waves.Of(v.Namespace, v.Name, v.Labels)
		s.tally[w].shoots++
		if d, err := rollout.Target(s.inputs, v.Falco, s.now, r.AllowForcedDowngrade); err == nil && d.Changed {
			s.tally[w].pending++
		}
		if changedBy[types.NamespacedName{Namespace: v.Namespace, Name: v.Name}] && v.LastOperationFailed {
			s.tally[w].failed++
		}
	}
	return nil
}

// reconcileProgress writes the tally into the wave status: a new revision
// starts over with the first wave open; a wave is completed when nothing
// in it is pending.
func (r *Reconciler) reconcileProgress(_ context.Context, s *scope) error {
	st := &s.policy.Status
	if st.Revision != s.inputs.Revision {
		st.Revision, st.OpenWaves = s.inputs.Revision, 1
		st.Waves = nil
	}
	if len(st.Waves) != s.waves.Len() {
		st.Waves = make([]falcopsv1alpha1.WaveStatus, s.waves.Len())
	}
	s.failed = 0
	for i := range st.Waves {
		w, c := &st.Waves[i], s.tally[i]
		w.Name = s.waves.Name(i)
		w.Shoots, w.UpToDate, w.Failed = int32(c.shoots), int32(c.shoots-c.pending), int32(c.failed)
		if c.pending > 0 {
			w.CompletedAt = nil
		} else if w.CompletedAt == nil && i < int(st.OpenWaves) {
			t := metav1.NewTime(s.now)
			w.CompletedAt = &t
		}
		s.failed += c.failed
	}
	return nil
}

// reconcileHalt applies the halt rule: spec.paused, or more failed shoots
// than spec.maxFailedShoots.
func (r *Reconciler) reconcileHalt(_ context.Context, s *scope) error {
	p := s.policy
	s.haltChecked = true
	switch {
	case p.Spec.Paused:
		s.halt = &halt{falcopsv1alpha1.ReasonPaused, "spec.paused is true"}
	case p.Spec.MaxFailedShoots != nil && s.failed > int(*p.Spec.MaxFailedShoots):
		s.halt = &halt{falcopsv1alpha1.ReasonTooManyFailed, fmt.Sprintf(
			"%d shoots changed by revision %s report a failed last operation (maxFailedShoots %d)", s.failed, s.inputs.Revision, *p.Spec.MaxFailedShoots)}
	}
	if s.halt != nil {
		return reconcile.Wait(s.halt.reason, 0, "rollout halted: %s", s.halt.message)
	}
	return nil
}

// reconcileOpen opens the next wave when the open ones are done and the
// pause after the last of them has passed.
func (r *Reconciler) reconcileOpen(ctx context.Context, s *scope) error {
	st := &s.policy.Status
	pause := time.Duration(0)
	if s.policy.Spec.Pause != nil {
		pause = s.policy.Spec.Pause.Duration
	}
	for int(st.OpenWaves) < s.waves.Len() {
		last := st.Waves[st.OpenWaves-1]
		if last.CompletedAt == nil {
			break
		}
		if wait := last.CompletedAt.Add(pause).Sub(s.now); wait > 0 {
			st.CurrentWave = s.waves.Name(int(st.OpenWaves) - 1)
			return reconcile.Wait(falcopsv1alpha1.ReasonPausing, wait,
				"wave %s is done; wave %s opens in %s", last.Name, s.waves.Name(int(st.OpenWaves)), wait.Round(time.Second))
		}
		st.OpenWaves++
		ctrl.LoggerFrom(ctx).Info("opened wave", "wave", s.waves.Name(int(st.OpenWaves)-1), "revision", s.inputs.Revision)
	}
	st.CurrentWave = s.waves.Name(int(st.OpenWaves) - 1)
	for i := range int(st.OpenWaves) {
		if w := st.Waves[i]; w.CompletedAt == nil {
			return reconcile.Wait(falcopsv1alpha1.ReasonWaveInProgress, 0,
				"wave %s: %d of %d shoots up to date", w.Name, w.UpToDate, w.Shoots)
		}
	}
	return nil
}
