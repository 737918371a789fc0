package maintenance

import (
	"testing"

	"github.com/stretchr/testify/assert"

	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/rollout"
)

func pinned(name, version, digest string) servicev1alpha1.PinnedRuleset {
	return servicev1alpha1.PinnedRuleset{Name: name, Version: version, Ref: "reg.example/rules/" + name + "@" + digest}
}

func TestRulesetPins(t *testing.T) {
	current := []servicev1alpha1.PinnedRuleset{pinned("falco-rules", "1.0.0", "sha256:a"), pinned("falco-sandbox-rules", "0.1.0", "sha256:s")}
	target := []servicev1alpha1.PinnedRuleset{pinned("falco-incubating-rules", "2.0.0", "sha256:i"), pinned("falco-rules", "1.1.0", "sha256:b")}
	assert.Equal(t, []falcopsv1alpha1.RulesetPin{
		{Name: "falco-incubating-rules", TargetVersion: "2.0.0", TargetDigest: "sha256:i"},
		{Name: "falco-rules", Version: "1.0.0", Digest: "sha256:a", TargetVersion: "1.1.0", TargetDigest: "sha256:b"},
		{Name: "falco-sandbox-rules", Version: "0.1.0", Digest: "sha256:s"},
	}, rulesetPins(current, target), "target order first, then what only the shoot still pins")
	assert.Nil(t, rulesetPins(nil, nil))
}

func TestSamePins(t *testing.T) {
	pins := []servicev1alpha1.PinnedRuleset{pinned("falco-rules", "1.1.0", "sha256:b")}
	recorded := func(p ...falcopsv1alpha1.RulesetPin) []falcopsv1alpha1.RulesetPin { return p }
	for _, c := range []struct {
		name     string
		recorded []falcopsv1alpha1.RulesetPin
		pins     []servicev1alpha1.PinnedRuleset
		same     bool
	}{
		{"equal", recorded(falcopsv1alpha1.RulesetPin{Name: "falco-rules", Version: "1.0.0", Digest: "sha256:a", TargetVersion: "1.1.0", TargetDigest: "sha256:b"}), pins, true},
		{"untargeted entries do not count", recorded(
			falcopsv1alpha1.RulesetPin{Name: "falco-sandbox-rules", Version: "0.1.0", Digest: "sha256:s"},
			falcopsv1alpha1.RulesetPin{Name: "falco-rules", TargetVersion: "1.1.0", TargetDigest: "sha256:b"}), pins, true},
		{"other digest", recorded(falcopsv1alpha1.RulesetPin{Name: "falco-rules", TargetVersion: "1.1.0", TargetDigest: "sha256:c"}), pins, false},
		{"other version", recorded(falcopsv1alpha1.RulesetPin{Name: "falco-rules", TargetVersion: "1.2.0", TargetDigest: "sha256:b"}), pins, false},
		{"nothing recorded", nil, pins, false},
		{"nothing to pin any more", recorded(falcopsv1alpha1.RulesetPin{Name: "falco-rules", TargetVersion: "1.1.0", TargetDigest: "sha256:b"}), nil, false},
		{"both empty", nil, nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.same, samePins(c.recorded, c.pins))
		})
	}
}

func TestKeepLastChange(t *testing.T) {
	d := rollout.Decision{Version: "0.43.0", Pins: []servicev1alpha1.PinnedRuleset{pinned("falco-rules", "1.1.0", "sha256:b")}}
	applied := func(reason, version, digest string) *falcopsv1alpha1.ShootRollout {
		sr := &falcopsv1alpha1.ShootRollout{}
		sr.Status.Reason, sr.Status.TargetFalcoVersion = reason, version
		sr.Status.Rulesets = []falcopsv1alpha1.RulesetPin{{Name: "falco-rules", TargetVersion: "1.1.0", TargetDigest: digest}}
		return sr
	}
	assert.True(t, keepLastChange(applied(falcopsv1alpha1.ReasonAutoUpdate, "0.43.0", "sha256:b"), d))
	assert.True(t, keepLastChange(applied(falcopsv1alpha1.ReasonForcedExpired, "0.43.0", "sha256:b"), d))
	assert.False(t, keepLastChange(applied(falcopsv1alpha1.ReasonWaitingForWave, "0.43.0", "sha256:b"), d), "not a change")
	assert.False(t, keepLastChange(applied(falcopsv1alpha1.ReasonAutoUpdate, "0.42.1", "sha256:b"), d), "another version")
	assert.False(t, keepLastChange(applied(falcopsv1alpha1.ReasonAutoUpdate, "0.43.0", "sha256:a"), d), "another digest")
}
