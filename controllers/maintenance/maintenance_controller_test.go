package maintenance

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/internal/sharedtest"
	"github.com/falcops/falcops/oci/ocitest"
)

// TestPromotion: promoting a version to supported moves auto-updating shoots
// inside their window, leaves those outside waiting, moves a shoot with the
// maintain operation at once, and leaves autoUpdate=false alone.
func TestPromotion(t *testing.T) {
	h := newHarness(t)
	h.profile("0.42.1=supported", "0.43.0=preview")
	h.shoot(shootSpec{name: "inside", version: "0.42.1", window: openWindow()})
	h.shoot(shootSpec{name: "outside", version: "0.42.1", window: closedWindow()})
	h.shoot(shootSpec{name: "maintain", version: "0.42.1", window: closedWindow(), maintain: true})
	h.shoot(shootSpec{name: "pinned", version: "0.42.1", autoUpdate: ptr.To(false), window: openWindow()})
	h.start()
	for _, n := range []string{"inside", "outside", "maintain", "pinned"} {
		h.waitReason(n, falcopsv1alpha1.ReasonUpToDate)
	}

	h.profile("0.42.1=supported", "0.43.0=supported")
	h.waitVersion("inside", "0.43.0")
	h.waitEvent("inside", falcopsv1alpha1.ReasonAutoUpdate, "Falco 0.42.1 -> 0.43.0")
	h.waitVersion("maintain", "0.43.0")
	h.waitEvent("maintain", falcopsv1alpha1.ReasonMaintainOperation, "Falco 0.42.1 -> 0.43.0")

	sr := h.waitReason("outside", falcopsv1alpha1.ReasonWaitingForMaintenanceWindow)
	assert.Equal(t, "0.42.1", sr.Status.FalcoVersion)
	assert.Equal(t, "0.43.0", sr.Status.TargetFalcoVersion)
	assert.Contains(t, sr.Status.Message, "waiting for the maintenance window")
	assert.Equal(t, metav1.ConditionTrue, meta.FindStatusCondition(sr.Status.Conditions, falcopsv1alpha1.RollingOutCondition).Status)
	assert.Equal(t, metav1.ConditionFalse, meta.FindStatusCondition(sr.Status.Conditions, falcopsv1alpha1.UpToDateCondition).Status)

	sr = h.waitReason("pinned", falcopsv1alpha1.ReasonUpToDate)
	assert.Equal(t, "0.42.1", sr.Status.TargetFalcoVersion)
	h.steady([]string{"outside", "pinned"}, 2*time.Second)
	assert.Equal(t, "0.42.1", h.falco("outside").Version)
	assert.Equal(t, "0.42.1", h.falco("pinned").Version)

	// Metrics: shoots per version and updates by reason (process-wide
	// counters, so at least this scenario's).
	assert.GreaterOrEqual(t, metricValue(t, "falcops_shoots_falco_version", map[string]string{"version": "0.43.0"}), 2.0)
	assert.GreaterOrEqual(t, metricValue(t, "falcops_shoot_updates_total", map[string]string{"reason": "AutoUpdate"}), 1.0)
	assert.GreaterOrEqual(t, metricValue(t, "falcops_shoot_updates_total", map[string]string{"reason": "MaintainOperation"}), 1.0)

	sr = h.rollout("inside")
	require.NotNil(t, sr.Status.LastTransitionTime)
	assert.Equal(t, metav1.ConditionTrue, meta.FindStatusCondition(sr.Status.Conditions, falcopsv1alpha1.UpToDateCondition).Status)
	assert.Equal(t, "0.43.0", sr.Status.FalcoVersion)
}

// TestForcedUpdates: an expired version moves at once, outside the window
// and with autoUpdate false; a removed version too, with its reason; a
// preview user and a user of a deprecated version above the highest
// supported one are never moved down; a forced move with nothing higher
// left is blocked, not a silent downgrade.
func TestForcedUpdates(t *testing.T) {
	h := newHarness(t)
	h.profile("0.41.3=deprecated@-1h", "0.42.1=supported", "0.43.0=deprecated@720h", "0.44.1=preview")
	h.shoot(shootSpec{name: "expired", version: "0.41.3", autoUpdate: ptr.To(false), window: closedWindow()})
	h.shoot(shootSpec{name: "removed", version: "0.40.0", autoUpdate: ptr.To(false), window: closedWindow()})
	h.shoot(shootSpec{name: "preview", version: "0.44.1", window: openWindow()})
	h.shoot(shootSpec{name: "newer-deprecated", version: "0.43.0", window: openWindow()})
	h.shoot(shootSpec{name: "nothing-higher", version: "0.45.0", window: openWindow()})
	h.start()

	h.waitVersion("expired", "0.42.1")
	h.waitEvent("expired", falcopsv1alpha1.ReasonForcedExpired, "Falco 0.41.3 -> 0.42.1")
	sr := h.waitReason("expired", falcopsv1alpha1.ReasonForcedExpired)
	assert.Contains(t, sr.Status.Message, "expired")

	h.waitVersion("removed", "0.42.1")
	h.waitEvent("removed", falcopsv1alpha1.ReasonForcedRemoved, "no longer in the profile")

	sr = h.waitReason("nothing-higher", falcopsv1alpha1.ReasonDowngradeBlocked)
	assert.Contains(t, sr.Status.Message, "downgrades are not allowed")
	assert.Equal(t, metav1.ConditionTrue, meta.FindStatusCondition(sr.Status.Conditions, falcopsv1alpha1.StalledCondition).Status)
	h.waitEvent("nothing-higher", falcopsv1alpha1.ReasonDowngradeBlocked, "0.45.0")

	for _, n := range []string{"preview", "newer-deprecated"} {
		h.waitReason(n, falcopsv1alpha1.ReasonUpToDate)
	}
	h.steady([]string{"preview", "newer-deprecated", "nothing-higher"}, 2*time.Second)
	assert.Equal(t, "0.44.1", h.falco("preview").Version)
	assert.Equal(t, "0.43.0", h.falco("newer-deprecated").Version)
	assert.Equal(t, "0.45.0", h.falco("nothing-higher").Version)
	// The blocked shoot got one warning, not one per reconcile.
	n := 0
	for _, e := range h.events("nothing-higher") {
		if e.Reason == falcopsv1alpha1.ReasonDowngradeBlocked {
			n++
		}
	}
	assert.Equal(t, 1, n, "DowngradeBlocked events")
}

// TestRulesetPinning: a shoot without a pin is pinned at once, even
// outside its window (a first install); a new ruleset version is pinned
// by its verified digest on eligible shoots only: not on a Falco whose
// engine is too old, not outside the window, not when unsigned.
func TestRulesetPinning(t *testing.T) {
	h := newHarness(t)
	h.profile("0.41.3=supported", "0.42.1=supported")
	v100 := h.pub.Publish(t, ocitest.RulesetArtifact(t, "falco-rules", "1.0.0", "0.50.0", ""), false)
	h.ruleSource("falco-rules", "1")
	h.shoot(shootSpec{name: "new-engine", version: "0.42.1", window: openWindow()})
	h.shoot(shootSpec{name: "old-engine", version: "0.41.3", autoUpdate: ptr.To(false), window: openWindow()})
	h.shoot(shootSpec{name: "outside", version: "0.42.1", window: closedWindow()})
	h.shoot(shootSpec{name: "incubating-only", version: "0.42.1", standard: []string{"falco-incubating-rules"}, window: openWindow()})
	h.start()

	ref100 := h.pub.Repo("falco-rules") + "@" + v100.String()
	for _, n := range []string{"new-engine", "old-engine", "outside"} {
		h.eventually(func(c *assert.CollectT) {
			f := h.falco(n)
			if assert.Len(c, f.Pins, 1) {
				assert.Equal(c, ref100, f.Pins[0].Ref)
				assert.Equal(c, "1.0.0", f.Pins[0].Version)
			}
		}, n+" pinned to 1.0.0")
	}
	assert.Empty(t, h.falco("incubating-only").Pins, "no RuleSource for falco-incubating-rules: nothing pinned")
	h.waitEvent("outside", falcopsv1alpha1.ReasonFirstPin, "first pin of falco-rules for Falco 0.42.1: a first install waits for no maintenance window")

	// 1.1.0 needs engine 0.52.0: Falco 0.42.1 has it, 0.41.3 does not.
	v110 := h.pub.Publish(t, ocitest.RulesetArtifact(t, "falco-rules", "1.1.0", "0.52.0", ""), false)
	ref110 := h.pub.Repo("falco-rules") + "@" + v110.String()
	h.eventually(func(c *assert.CollectT) {
		assert.Equal(c, ref110, h.falco("new-engine").Pins[0].Ref)
	}, "new-engine pinned to 1.1.0")
	h.waitEvent("new-engine", falcopsv1alpha1.ReasonRulesetUpdate, "falco-rules 1.0.0 -> 1.1.0 ("+v110.String()+")")
	h.waitReason("outside", falcopsv1alpha1.ReasonWaitingForMaintenanceWindow)
	h.steady([]string{"old-engine", "outside"}, 2*time.Second)
	assert.Equal(t, ref100, h.falco("old-engine").Pins[0].Ref, "engine 0.50.0 does not satisfy 1.1.0's requirement 0.52.0")
	sr := h.rollout("outside")
	require.Len(t, sr.Status.Rulesets, 1)
	assert.Equal(t, v110.String(), sr.Status.Rulesets[0].TargetDigest)
	assert.Equal(t, v100.String(), sr.Status.Rulesets[0].Digest, "outside the window the first pin stays")

	// An unsigned 1.2.0 is never pinned; the RuleSource says why.
	v120 := h.pub.Publish(t, ocitest.RulesetArtifact(t, "falco-rules", "1.2.0", "0.50.0", ""), true)
	h.eventually(func(c *assert.CollectT) {
		rs := &falcopsv1alpha1.RuleSource{}
		if !assert.NoError(c, h.c.Get(h.ctx, clientKey("falco-rules"), rs)) {
			return
		}
		if assert.NotNil(c, rs.Status.Rejected) {
			assert.Equal(c, v120.String(), rs.Status.Rejected.Digest)
		}
		v := meta.FindStatusCondition(rs.Status.Conditions, falcopsv1alpha1.VerifiedCondition)
		if assert.NotNil(c, v) {
			assert.Equal(c, metav1.ConditionFalse, v.Status)
			assert.Contains(c, v.Message, v120.String())
		}
	}, "unsigned 1.2.0 rejected")
	h.steady([]string{"new-engine", "old-engine"}, 2*time.Second)
	assert.Equal(t, ref110, h.falco("new-engine").Pins[0].Ref)
	assert.Equal(t, ref100, h.falco("old-engine").Pins[0].Ref)
}

// TestPluginRequirements: a ruleset version that requires a newer container
// plugin than a Falco version bundles is never pinned for it; the Falco
// version that bundles it gets it. The requirement comes from the signed
// artifact, through the RuleSource's status.
func TestPluginRequirements(t *testing.T) {
	h := newHarness(t)
	h.profile("0.41.3=supported", "0.42.1=supported")
	var p profilev1alpha1.FalcoProfile
	require.NoError(t, h.c.Get(h.ctx, types.NamespacedName{Name: "falco"}, &p))
	bundled := map[string]string{"0.41.3": "0.3.1", "0.42.1": "0.4.0"} // Falco's bundled container plugin
	for i, v := range p.Spec.Versions.Falco {
		p.Spec.Versions.Falco[i].Plugins = []profilev1alpha1.PluginVersion{{Name: "container", Version: bundled[v.Version]}}
	}
	require.NoError(t, h.c.Update(h.ctx, &p))
	v100 := h.pub.Publish(t, ocitest.RulesetArtifact(t, "falco-rules", "1.0.0", "0.50.0", ""), false)
	dir := ocitest.Ruleset(t, "falco-rules", "1.1.0", "0.50.0", "")
	sharedtest.WriteFile(t, dir, "falco-rules_rules.yaml", "- required_plugin_versions:\n    - {name: container, version: 0.4.0}\n"+
		"- required_engine_version: 0.50.0\n- rule: needs container\n  desc: d\n  condition: evt.type = execve and proc.name = x\n  output: o\n  priority: INFO\n")
	v110 := h.pub.Publish(t, ocitest.Package(t, dir, artifacts.PackageOptions{}), false)
	h.ruleSource("falco-rules", "1")
	h.shoot(shootSpec{name: "bundles-0-3", version: "0.41.3", autoUpdate: ptr.To(false), window: openWindow()})
	h.shoot(shootSpec{name: "bundles-0-4", version: "0.42.1", window: openWindow()})
	h.start()

	repo := h.pub.Repo("falco-rules")
	h.eventually(func(c *assert.CollectT) {
		if f := h.falco("bundles-0-4"); assert.Len(c, f.Pins, 1) {
			assert.Equal(c, repo+"@"+v110.String(), f.Pins[0].Ref)
		}
		if f := h.falco("bundles-0-3"); assert.Len(c, f.Pins, 1) {
			assert.Equal(c, repo+"@"+v100.String(), f.Pins[0].Ref)
		}
	}, "each Falco pinned to what its container plugin loads")
	h.steady([]string{"bundles-0-3"}, 2*time.Second)
	assert.Equal(t, repo+"@"+v100.String(), h.falco("bundles-0-3").Pins[0].Ref, "container 0.3.1 does not satisfy 1.1.0's 0.4.0")
	rs := &falcopsv1alpha1.RuleSource{}
	require.NoError(t, h.c.Get(h.ctx, clientKey("falco-rules"), rs))
	i := slices.IndexFunc(rs.Status.Versions, func(v falcopsv1alpha1.RulesetVersion) bool { return v.Version == "1.1.0" })
	require.GreaterOrEqual(t, i, 0)
	assert.Equal(t, []falcopsv1alpha1.RulesetDependency{{Name: "container", Version: "0.4.0"}}, rs.Status.Versions[i].Dependencies)
}

// TestTagRollbackNeverLowersPins: the followed tag moved back to an older
// signed release leaves every shoot on what it runs (the RuleSource says
// the tag is below its floor); spec.rollbackTo is the explicit way down.
func TestTagRollbackNeverLowersPins(t *testing.T) {
	h := newHarness(t)
	h.profile("0.42.1=supported")
	v100 := h.pub.Publish(t, ocitest.RulesetArtifact(t, "falco-rules", "1.0.0", "0.50.0", ""), false)
	v110 := h.pub.Publish(t, ocitest.RulesetArtifact(t, "falco-rules", "1.1.0", "0.50.0", ""), false)
	h.ruleSource("falco-rules", "1")
	h.shoot(shootSpec{name: "prod", version: "0.42.1", window: openWindow()})
	h.start()
	repo := h.pub.Repo("falco-rules")
	h.eventually(func(c *assert.CollectT) {
		if f := h.falco("prod"); assert.Len(c, f.Pins, 1) {
			assert.Equal(c, repo+"@"+v110.String(), f.Pins[0].Ref)
		}
	}, "prod pinned to 1.1.0")

	require.NoError(t, h.pub.Client.Tag(h.ctx, repo, v100, "1"))
	h.eventually(func(c *assert.CollectT) {
		rs := &falcopsv1alpha1.RuleSource{}
		if assert.NoError(c, h.c.Get(h.ctx, clientKey("falco-rules"), rs)) {
			r := meta.FindStatusCondition(rs.Status.Conditions, falcopsv1alpha1.ResolvedCondition)
			if assert.NotNil(c, r) {
				assert.Equal(c, falcopsv1alpha1.ReasonTagBelowFloor, r.Reason, r.Message)
			}
		}
	}, "the RuleSource sees the tag below its floor")
	h.steady([]string{"prod"}, 2*time.Second)
	assert.Equal(t, repo+"@"+v110.String(), h.falco("prod").Pins[0].Ref, "a moved-back tag does not move the shoot down")

	rs := &falcopsv1alpha1.RuleSource{}
	require.NoError(t, h.c.Get(h.ctx, clientKey("falco-rules"), rs))
	rs.Spec.RollbackTo = "1.0.0"
	require.NoError(t, h.c.Update(h.ctx, rs))
	h.eventually(func(c *assert.CollectT) {
		assert.Equal(c, repo+"@"+v100.String(), h.falco("prod").Pins[0].Ref)
	}, "spec.rollbackTo moves prod down")
	h.waitEvent("prod", falcopsv1alpha1.ReasonRulesetRollback, "falco-rules 1.1.0 -> 1.0.0")
}

// TestRegistryOutage: with the registry stopped no shoot changes and the
// RuleSource explains; after it returns, a new version is picked up within
// one interval.
func TestRegistryOutage(t *testing.T) {
	h := newHarness(t)
	h.profile("0.42.1=supported")
	v100 := h.pub.Publish(t, ocitest.RulesetArtifact(t, "falco-rules", "1.0.0", "0.50.0", ""), false)
	h.ruleSource("falco-rules", "1")
	h.shoot(shootSpec{name: "a", version: "0.42.1"})
	h.shoot(shootSpec{name: "b", version: "0.42.1"})
	h.start()
	ref100 := h.pub.Repo("falco-rules") + "@" + v100.String()
	for _, n := range []string{"a", "b"} {
		h.eventually(func(c *assert.CollectT) {
			f := h.falco(n)
			if assert.Len(c, f.Pins, 1) {
				assert.Equal(c, ref100, f.Pins[0].Ref)
			}
		}, n+" pinned")
	}

	h.reg.Stop()
	h.eventually(func(c *assert.CollectT) {
		rs := &falcopsv1alpha1.RuleSource{}
		if !assert.NoError(c, h.c.Get(h.ctx, clientKey("falco-rules"), rs)) {
			return
		}
		r := meta.FindStatusCondition(rs.Status.Conditions, falcopsv1alpha1.ResolvedCondition)
		if assert.NotNil(c, r) {
			assert.Equal(c, falcopsv1alpha1.ReasonRegistryUnavailable, r.Reason)
		}
		assert.Len(c, rs.Status.Versions, 1, "the last good versions stay")
	}, "RuleSource reports the outage")
	h.steady([]string{"a", "b"}, 3*time.Second)
	assert.Equal(t, ref100, h.falco("a").Pins[0].Ref)

	h.reg.Start(t)
	back := time.Now()
	v110 := h.pub.Publish(t, ocitest.RulesetArtifact(t, "falco-rules", "1.1.0", "0.50.0", ""), false)
	ref110 := h.pub.Repo("falco-rules") + "@" + v110.String()
	for _, n := range []string{"a", "b"} {
		h.eventually(func(c *assert.CollectT) {
			assert.Equal(c, ref110, h.falco(n).Pins[0].Ref)
		}, n+" pinned to 1.1.0 after the registry returned")
	}
	// Interval 1s; the backoff is capped at the interval, so recovery plus
	// the rollout take a few seconds, not minutes.
	assert.Less(t, time.Since(back), 10*time.Second)
}

// TestConcurrentEdit: a user edits the shoot between the controller's read
// and its patch; the patch must not overwrite that edit.
func TestConcurrentEdit(t *testing.T) {
	h := newHarness(t)
	racing := &racingClient{name: "racy", race: func(ctx context.Context) {
		cur := h.getShoot("racy")
		require.NoError(t, unstructured.SetNestedField(cur.Object, "1.34.0", "spec", "kubernetes", "version"))
		exts, _, _ := unstructured.NestedSlice(cur.Object, "spec", "extensions")
		pc := exts[1].(map[string]any)["providerConfig"].(map[string]any)
		pc["heartbeatEvent"] = true
		require.NoError(t, unstructured.SetNestedSlice(cur.Object, exts, "spec", "extensions"))
		require.NoError(t, h.c.Update(ctx, cur))
	}}
	h.wrap = func(c client.Client) client.Client {
		racing.Client = c
		return racing
	}
	h.profile("0.42.1=supported", "0.43.0=supported")
	h.shoot(shootSpec{name: "racy", version: "0.42.1"})
	h.start()
	h.waitVersion("racy", "0.43.0")
	require.True(t, racing.raced.Load(), "the concurrent edit ran")
	u := h.getShoot("racy")
	v, _, _ := unstructured.NestedString(u.Object, "spec", "kubernetes", "version")
	assert.Equal(t, "1.34.0", v, "the concurrent edit of spec.kubernetes.version was lost")
	exts, _, _ := unstructured.NestedSlice(u.Object, "spec", "extensions")
	pc := exts[1].(map[string]any)["providerConfig"].(map[string]any)
	assert.Equal(t, true, pc["heartbeatEvent"], "the concurrent edit of the providerConfig was lost")
	assert.Equal(t, "shoot-dns-service", exts[0].(map[string]any)["type"], "other extensions stay")
}

// TestWaves: three waves; wave 2 moves only after wave 1 is done and the
// pause has passed; a halt stops the rollout.
func TestWaves(t *testing.T) {
	// Long: two rollouts of one fleet, whose steps depend on the timing of the ones before.
	h := newHarness(t)
	pause := 3 * time.Second
	waves := []falcopsv1alpha1.Wave{}
	for _, w := range []string{"one", "two", "three"} {
		waves = append(waves, falcopsv1alpha1.Wave{Name: w, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"wave": w}}})
	}
	policy := &falcopsv1alpha1.RolloutPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "default"},
		Spec:       falcopsv1alpha1.RolloutPolicySpec{Waves: waves, Pause: &metav1.Duration{Duration: pause}, MaxFailedShoots: ptr.To(int32(0))},
	}
	require.NoError(t, h.c.Create(h.ctx, policy))
	h.profile("0.42.1=supported", "0.43.0=preview", "0.44.1=preview")
	for _, w := range []string{"one", "two", "three"} {
		for _, i := range []string{"a", "b"} {
			h.shoot(shootSpec{name: w + "-" + i, version: "0.42.1", labels: map[string]string{"wave": w}})
		}
	}
	h.start()
	h.waitReason("three-b", falcopsv1alpha1.ReasonUpToDate)

	// Rollout 1: promote 0.43.0.
	h.profile("0.42.1=supported", "0.43.0=supported", "0.44.1=preview")
	changedAt := func(name string) time.Time {
		var at time.Time
		h.eventually(func(c *assert.CollectT) {
			assert.Equal(c, "0.43.0", h.falco(name).Version)
			sr := h.rollout(name)
			if assert.NotNil(c, sr) && assert.NotNil(c, sr.Status.LastTransitionTime) {
				at = sr.Status.LastTransitionTime.Time
			}
		}, name+" moved")
		return at
	}
	// Wave two waits while wave one moves.
	sr := h.waitReason("two-a", falcopsv1alpha1.ReasonWaitingForWave)
	assert.Equal(t, "two", sr.Status.Wave)
	one := []time.Time{changedAt("one-a"), changedAt("one-b")}
	two := []time.Time{changedAt("two-a"), changedAt("two-b")}
	three := []time.Time{changedAt("three-a"), changedAt("three-b")}
	last := func(ts []time.Time) time.Time {
		if ts[0].After(ts[1]) {
			return ts[0]
		}
		return ts[1]
	}
	first := func(ts []time.Time) time.Time {
		if ts[0].Before(ts[1]) {
			return ts[0]
		}
		return ts[1]
	}
	// Transition times have second precision: allow one second.
	assert.GreaterOrEqual(t, first(two).Sub(last(one)), pause-time.Second, "wave two started before wave one + pause")
	assert.GreaterOrEqual(t, first(three).Sub(last(two)), pause-time.Second, "wave three started before wave two + pause")
	h.eventually(func(c *assert.CollectT) {
		p := &falcopsv1alpha1.RolloutPolicy{}
		if assert.NoError(c, h.c.Get(h.ctx, clientKey("default"), p)) {
			r := meta.FindStatusCondition(p.Status.Conditions, falcopsv1alpha1.ReadyCondition)
			if assert.NotNil(c, r) {
				assert.Equal(c, falcopsv1alpha1.ReasonComplete, r.Reason, "%s: %+v", r.Message, p.Status.Waves)
			}
			assert.EqualValues(c, 3, p.Status.OpenWaves)
		}
	}, "rollout 1 complete")

	// Rollout 2: promote 0.44.1; a wave-one shoot fails after its update,
	// which exceeds maxFailedShoots 0 and halts the rollout before wave two.
	// A longer pause leaves the halt (debounced by a second) ample time to
	// land before wave two could open.
	require.NoError(t, h.c.Get(h.ctx, clientKey("default"), policy))
	pause = 8 * time.Second
	policy.Spec.Pause = &metav1.Duration{Duration: pause}
	require.NoError(t, h.c.Update(h.ctx, policy))
	h.profile("0.42.1=supported", "0.43.0=supported", "0.44.1=supported")
	h.waitVersion("one-a", "0.44.1")
	h.waitVersion("one-b", "0.44.1")
	u := h.getShoot("one-a")
	require.NoError(t, unstructured.SetNestedField(u.Object, "Failed", "status", "lastOperation", "state"))
	require.NoError(t, h.c.Status().Update(h.ctx, u))
	h.eventually(func(c *assert.CollectT) {
		p := &falcopsv1alpha1.RolloutPolicy{}
		if assert.NoError(c, h.c.Get(h.ctx, clientKey("default"), p)) {
			hc := meta.FindStatusCondition(p.Status.Conditions, falcopsv1alpha1.HaltedCondition)
			if assert.NotNil(c, hc) {
				assert.Equal(c, metav1.ConditionTrue, hc.Status)
				assert.Equal(c, falcopsv1alpha1.ReasonTooManyFailed, hc.Reason)
			}
		}
	}, "rollout halted")
	time.Sleep(pause + 2*time.Second)
	for _, n := range []string{"two-a", "two-b", "three-a", "three-b"} {
		assert.Equal(t, "0.43.0", h.falco(n).Version, "%s moved although the rollout is halted", n)
	}
	sr = h.waitReason("two-a", falcopsv1alpha1.ReasonRolloutHalted)
	assert.Contains(t, sr.Status.Message, "failed last operation")
}

// TestDisableFalco: a shoot that turns the extension off loses its
// ShootRollout and is never patched again.
func TestDisableFalco(t *testing.T) {
	h := newHarness(t)
	h.profile("0.42.1=supported", "0.43.0=preview")
	h.shoot(shootSpec{name: "leaving", version: "0.42.1"})
	h.start()
	h.waitReason("leaving", falcopsv1alpha1.ReasonUpToDate)

	u := h.getShoot("leaving")
	exts, _, _ := unstructured.NestedSlice(u.Object, "spec", "extensions")
	exts[1].(map[string]any)["disabled"] = true
	require.NoError(t, unstructured.SetNestedSlice(u.Object, exts, "spec", "extensions"))
	require.NoError(t, h.c.Update(h.ctx, u))
	h.eventually(func(c *assert.CollectT) {
		assert.Nil(c, h.rollout("leaving"), "ShootRollout still exists")
	}, "ShootRollout deleted")

	h.profile("0.42.1=supported", "0.43.0=supported")
	h.steady([]string{"leaving"}, 2*time.Second)
	assert.Nil(t, h.rollout("leaving"))
}

// TestInvalidProviderConfig: a providerConfig the strict decoder rejects
// stalls the shoot with a reason that names the field, and the shoot is
// never patched.
func TestInvalidProviderConfig(t *testing.T) {
	h := newHarness(t)
	h.profile("0.42.1=supported", "0.43.0=supported")
	h.shoot(shootSpec{name: "invalid", version: "0.42.1", providerConfig: map[string]any{"falcoCtl": map[string]any{}}})
	h.start()
	sr := h.waitReason("invalid", falcopsv1alpha1.ReasonInvalidProviderConfig)
	assert.Contains(t, sr.Status.Message, "spec.extensions[1].providerConfig")
	assert.Contains(t, sr.Status.Message, "falcoCtl")
	stalled := meta.FindStatusCondition(sr.Status.Conditions, falcopsv1alpha1.StalledCondition)
	require.NotNil(t, stalled)
	assert.Equal(t, metav1.ConditionTrue, stalled.Status)
	h.steady([]string{"invalid"}, 2*time.Second)
}
