package rollout

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	configv1alpha1 "github.com/falcops/falcops/api/config/v1alpha1"
	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/lifecycle"
	"github.com/falcops/falcops/shoot"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// testProfile offers 0.40.0 (deprecated, expired), 0.41.3 and 0.42.1
// (supported) and 0.43.0 (preview).
func testProfile() *profilev1alpha1.FalcoProfile {
	exp := "2026-11-01T00:00:00Z"
	p := &profilev1alpha1.FalcoProfile{ObjectMeta: metav1.ObjectMeta{Name: "falco", UID: "p1", ResourceVersion: "1", Generation: 1}}
	for _, v := range []struct{ version, class, engine string }{
		{"0.40.0", "deprecated", "0.48.0"}, {"0.41.3", "supported", "0.50.0"}, {"0.42.1", "supported", "0.52.0"}, {"0.43.0", "preview", "0.55.0"},
	} {
		fv := profilev1alpha1.FalcoVersion{Version: v.version, Classification: v.class, RulesVersion: v.version, EngineVersion: v.engine}
		if v.version == "0.40.0" {
			fv.ExpirationDate = &exp
		}
		p.Spec.Versions.Falco = append(p.Spec.Versions.Falco, fv)
		p.Spec.Images.Falco = append(p.Spec.Images.Falco, profilev1alpha1.ImageSpec{Version: v.version, Repository: "falco", Tag: v.version})
	}
	return p
}

func profile(t *testing.T) *lifecycle.Profile {
	t.Helper()
	prof, err := lifecycle.FromObjects(testProfile())
	require.NoError(t, err)
	return prof
}

// source is a RuleSource for falco-rules with verified versions given as
// {version, engine requirement}.
func source(versions ...[2]string) *falcopsv1alpha1.RuleSource {
	rs := &falcopsv1alpha1.RuleSource{ObjectMeta: metav1.ObjectMeta{Name: "falco-rules", UID: "s1", ResourceVersion: "1"},
		Spec: falcopsv1alpha1.RuleSourceSpec{Ruleset: "falco-rules", Repository: "reg.example/rules/falco-rules"}}
	for _, v := range versions {
		rs.Status.Versions = append(rs.Status.Versions, falcopsv1alpha1.RulesetVersion{Version: v[0], EngineVersion: v[1], Digest: "sha256:" + strings.ReplaceAll(v[0], ".", "")})
	}
	return rs
}

// named is a copy of rs for another ruleset, in its own repository.
func named(rs *falcopsv1alpha1.RuleSource, ruleset string) *falcopsv1alpha1.RuleSource {
	c := rs.DeepCopy()
	c.Name, c.Spec.Ruleset, c.Spec.Repository = ruleset, ruleset, "reg.example/rules/"+ruleset
	return c
}

// rolledBack sets spec.rollbackTo.
func rolledBack(rs *falcopsv1alpha1.RuleSource, to string) *falcopsv1alpha1.RuleSource {
	rs.Spec.RollbackTo = to
	return rs
}

func pin(version string) servicev1alpha1.PinnedRuleset {
	return servicev1alpha1.PinnedRuleset{Name: "falco-rules", Version: version, Ref: "reg.example/rules/falco-rules@sha256:" + strings.ReplaceAll(version, ".", "")}
}

func pins(versions ...string) []servicev1alpha1.PinnedRuleset {
	var out []servicev1alpha1.PinnedRuleset
	for _, v := range versions {
		out = append(out, pin(v))
	}
	return out
}

func TestTarget(t *testing.T) {
	src := source([2]string{"1.2.0", "0.55.0"}, [2]string{"1.1.0", "0.52.0"}, [2]string{"1.0.0", "0.50.0"})
	std := []string{"falco-rules"}
	cases := []struct {
		name      string
		falco     shoot.FalcoConfig
		sources   map[string]*falcopsv1alpha1.RuleSource
		allowDown bool
		want      Decision // Message is not compared
		blocked   string
	}{
		{name: "auto-update to highest supported, newest compatible rules",
			falco: shoot.FalcoConfig{Version: "0.41.3", AutoUpdate: true, Standard: std, Pins: pins("1.0.0")},
			want:  Decision{Version: "0.42.1", Pins: pins("1.1.0"), Reason: falcopsv1alpha1.ReasonAutoUpdate, Changed: true}},
		{name: "a shoot without a pin is first pinned for the Falco it runs, the update comes after",
			falco: shoot.FalcoConfig{Version: "0.41.3", AutoUpdate: true, Standard: std},
			want:  Decision{Version: "0.41.3", Pins: pins("1.0.0"), Reason: falcopsv1alpha1.ReasonFirstPin, FirstPin: true, Changed: true}},
		{name: "a first pin keeps the pins that exist",
			falco:   shoot.FalcoConfig{Version: "0.42.1", AutoUpdate: true, Standard: []string{"falco-rules", "tuning"}, Pins: pins("1.0.0")},
			sources: map[string]*falcopsv1alpha1.RuleSource{"falco-rules": src, "tuning": named(src, "tuning")},
			want: Decision{Version: "0.42.1", Pins: append(pins("1.0.0"), servicev1alpha1.PinnedRuleset{Name: "tuning", Version: "1.1.0", Ref: "reg.example/rules/tuning@sha256:110"}),
				Reason: falcopsv1alpha1.ReasonFirstPin, FirstPin: true, Changed: true}},
		{name: "pinned Falco still gets rules for its engine",
			falco: shoot.FalcoConfig{Version: "0.41.3", AutoUpdate: false, Standard: std},
			want:  Decision{Version: "0.41.3", Pins: pins("1.0.0"), Reason: falcopsv1alpha1.ReasonFirstPin, FirstPin: true, Changed: true}},
		{name: "up to date",
			falco: shoot.FalcoConfig{Version: "0.42.1", AutoUpdate: true, Standard: std, Pins: pins("1.1.0")},
			want:  Decision{Version: "0.42.1", Pins: pins("1.1.0"), Reason: falcopsv1alpha1.ReasonUpToDate}},
		{name: "preview user keeps its version and gets the newest rules",
			falco: shoot.FalcoConfig{Version: "0.43.0", AutoUpdate: true, Standard: std},
			want:  Decision{Version: "0.43.0", Pins: pins("1.2.0"), Reason: falcopsv1alpha1.ReasonFirstPin, FirstPin: true, Changed: true}},
		{name: "a pin the engine does not satisfy is replaced",
			falco: shoot.FalcoConfig{Version: "0.42.1", AutoUpdate: true, Standard: std, Pins: pins("1.2.0")},
			want:  Decision{Version: "0.42.1", Pins: pins("1.1.0"), Reason: falcopsv1alpha1.ReasonRulesetUpdate, Changed: true}},
		{name: "expired is forced",
			falco: shoot.FalcoConfig{Version: "0.40.0", AutoUpdate: false, Standard: std},
			want:  Decision{Version: "0.41.3", Pins: pins("1.0.0"), Reason: falcopsv1alpha1.ReasonForcedExpired, Forced: true, Changed: true}},
		{name: "removed is forced",
			falco: shoot.FalcoConfig{Version: "0.39.0", AutoUpdate: false},
			want:  Decision{Version: "0.41.3", Reason: falcopsv1alpha1.ReasonForcedRemoved, Forced: true, Changed: true}},
		{name: "forced downgrade is blocked",
			falco: shoot.FalcoConfig{Version: "0.45.0", AutoUpdate: true}, blocked: falcopsv1alpha1.ReasonDowngradeBlocked},
		{name: "forced downgrade when allowed",
			falco: shoot.FalcoConfig{Version: "0.45.0", AutoUpdate: true}, allowDown: true,
			want: Decision{Version: "0.42.1", Reason: falcopsv1alpha1.ReasonForcedRemoved, Forced: true, Changed: true}},
		{name: "no compatible ruleset",
			falco:   shoot.FalcoConfig{Version: "0.41.3", AutoUpdate: false, Standard: std},
			sources: map[string]*falcopsv1alpha1.RuleSource{"falco-rules": source([2]string{"2.0.0", "0.60.0"})},
			blocked: falcopsv1alpha1.ReasonNoCompatibleRuleset},
		{name: "no falcoVersion: the default",
			falco: shoot.FalcoConfig{AutoUpdate: true},
			want:  Decision{Version: "0.42.1", Reason: falcopsv1alpha1.ReasonAutoUpdate, Changed: true}},
		{name: "a newer pin no longer listed (tags deleted) is kept",
			falco:   shoot.FalcoConfig{Version: "0.42.1", AutoUpdate: true, Standard: std, Pins: pins("1.1.5")},
			sources: map[string]*falcopsv1alpha1.RuleSource{"falco-rules": source([2]string{"1.1.0", "0.52.0"}, [2]string{"1.0.0", "0.50.0"})},
			want:    Decision{Version: "0.42.1", Pins: pins("1.1.5"), Reason: falcopsv1alpha1.ReasonUpToDate}},
		{name: "a newer unlisted pin still moves down with a Falco whose engine is older",
			falco:   shoot.FalcoConfig{Version: "0.40.0", AutoUpdate: false, Standard: std, Pins: pins("1.1.5")},
			sources: map[string]*falcopsv1alpha1.RuleSource{"falco-rules": source([2]string{"1.1.0", "0.52.0"}, [2]string{"1.0.0", "0.50.0"})},
			want:    Decision{Version: "0.41.3", Pins: pins("1.0.0"), Reason: falcopsv1alpha1.ReasonForcedExpired, Forced: true, Changed: true}},
		{name: "a pin of another repository is replaced",
			falco: shoot.FalcoConfig{Version: "0.42.1", AutoUpdate: true, Standard: std,
				Pins: []servicev1alpha1.PinnedRuleset{{Name: "falco-rules", Version: "9.0.0", Ref: "evil.example/falco-rules@sha256:900"}}},
			want: Decision{Version: "0.42.1", Pins: pins("1.1.0"), Reason: falcopsv1alpha1.ReasonRulesetUpdate, Changed: true}},
		{name: "spec.rollbackTo moves a pin down, and says so",
			falco:   shoot.FalcoConfig{Version: "0.42.1", AutoUpdate: true, Standard: std, Pins: pins("1.1.0")},
			sources: map[string]*falcopsv1alpha1.RuleSource{"falco-rules": rolledBack(source([2]string{"1.1.0", "0.52.0"}, [2]string{"1.0.0", "0.50.0"}), "1.0.0")},
			want:    Decision{Version: "0.42.1", Pins: pins("1.0.0"), Reason: falcopsv1alpha1.ReasonRulesetRollback, Changed: true}},
		{name: "spec.rollbackTo is a ceiling for new pins too",
			falco:   shoot.FalcoConfig{Version: "0.43.0", AutoUpdate: true, Standard: std},
			sources: map[string]*falcopsv1alpha1.RuleSource{"falco-rules": rolledBack(source([2]string{"1.2.0", "0.55.0"}, [2]string{"1.0.0", "0.50.0"}), "1.1.0")},
			want:    Decision{Version: "0.43.0", Pins: pins("1.0.0"), Reason: falcopsv1alpha1.ReasonFirstPin, FirstPin: true, Changed: true}},
		{name: "rulesets without a RuleSource get no pin",
			falco: shoot.FalcoConfig{Version: "0.42.1", AutoUpdate: true, Standard: []string{"falco-incubating-rules"}},
			want:  Decision{Version: "0.42.1", Reason: falcopsv1alpha1.ReasonUpToDate}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := &Inputs{Profile: profile(t), Sources: c.sources}
			if in.Sources == nil {
				in.Sources = map[string]*falcopsv1alpha1.RuleSource{"falco-rules": src}
			}
			f := c.falco
			d, err := Target(in, &f, now, c.allowDown)
			if c.blocked != "" {
				var b *Blocked
				require.ErrorAs(t, err, &b)
				assert.Equal(t, c.blocked, b.Reason())
				assert.Equal(t, b.Message, err.Error())
				return
			}
			require.NoError(t, err)
			assert.NotEmpty(t, d.Message)
			d.Message = ""
			assert.Equal(t, c.want, d)
		})
	}
}

func TestTargetMessages(t *testing.T) {
	in := &Inputs{Profile: profile(t), Sources: map[string]*falcopsv1alpha1.RuleSource{"falco-rules": source([2]string{"1.1.0", "0.50.0"}, [2]string{"1.0.0", "0.50.0"})}}
	d, err := Target(in, &shoot.FalcoConfig{Version: "0.42.1", AutoUpdate: true, Standard: []string{"falco-rules"}, Pins: pins("1.0.0")}, now, false)
	require.NoError(t, err)
	assert.Equal(t, "a newer verified ruleset version is compatible with Falco 0.42.1", d.Message)
	d, err = Target(in, &shoot.FalcoConfig{Version: "0.42.1", AutoUpdate: true, Standard: []string{"falco-rules"}}, now, false)
	require.NoError(t, err)
	assert.Equal(t, "first pin of falco-rules for Falco 0.42.1: a first install waits for no maintenance window", d.Message)
	d, err = Target(in, &shoot.FalcoConfig{AutoUpdate: true}, now, false)
	require.NoError(t, err)
	assert.Equal(t, "no falcoVersion set; 0.42.1 is the default", d.Message)
	rb := &Inputs{Profile: profile(t), Sources: map[string]*falcopsv1alpha1.RuleSource{"falco-rules": rolledBack(source([2]string{"1.1.0", "0.52.0"}, [2]string{"1.0.0", "0.50.0"}), "1.0.0")}}
	d, err = Target(rb, &shoot.FalcoConfig{Version: "0.42.1", AutoUpdate: true, Standard: []string{"falco-rules"}, Pins: pins("1.1.0")}, now, false)
	require.NoError(t, err)
	assert.Equal(t, "RuleSource falco-rules rolls falco-rules back to 1.0.0 (spec.rollbackTo 1.0.0)", d.Message)
	_, err = Target(in, &shoot.FalcoConfig{Version: "0.45.0", AutoUpdate: true}, now, false)
	assert.ErrorContains(t, err, "downgrades are not allowed (--allow-forced-downgrade)")
}

func TestDescribe(t *testing.T) {
	f := &shoot.FalcoConfig{Version: "0.41.3", Pins: pins("1.0.0")}
	assert.Equal(t, "Falco 0.41.3 -> 0.42.1, falco-rules 1.0.0 -> 1.1.0 (sha256:110)",
		Describe(f, Decision{Version: "0.42.1", Pins: pins("1.1.0")}))
	assert.Equal(t, "Falco (none) -> 0.42.1, falco-rules (unpinned) -> 1.1.0 (sha256:110)",
		Describe(&shoot.FalcoConfig{}, Decision{Version: "0.42.1", Pins: pins("1.1.0")}))
	assert.Equal(t, "no change", Describe(f, Decision{Version: "0.41.3", Pins: pins("1.0.0")}))
}

// TestTargetPinsImpliedRulesets: with an operator configuration, a
// standard selection pins what it implies (falco-rules → falco-rules +
// gardener-tuning), and heartbeatEvent pins the heartbeat ruleset.
func TestTargetPinsImpliedRulesets(t *testing.T) {
	op := &configv1alpha1.Configuration{Rules: configv1alpha1.Rules{Implies: map[string][]string{"falco-rules": {"falco-rules", "gardener-tuning"}}}}
	configv1alpha1.Default(op)
	src := source([2]string{"1.0.0", "0.50.0"})
	in := &Inputs{Profile: profile(t), Operator: op, Sources: map[string]*falcopsv1alpha1.RuleSource{
		"falco-rules": src, "gardener-tuning": named(src, "gardener-tuning"), "heartbeat": named(src, "heartbeat")}}
	f := shoot.FalcoConfig{Version: "0.42.1", AutoUpdate: true, Standard: []string{"falco-rules"}, Heartbeat: true}
	d, err := Target(in, &f, now, false)
	require.NoError(t, err)
	var names []string
	for _, p := range d.Pins {
		names = append(names, p.Name)
	}
	assert.Equal(t, []string{"falco-rules", "gardener-tuning", "heartbeat"}, names)
	assert.True(t, d.FirstPin)

	in.Operator = nil
	d, err = Target(in, &f, now, false)
	require.NoError(t, err)
	require.Len(t, d.Pins, 1, "without an operator configuration only the selection itself")
}

// TestPluginsSatisfy: Falco's rule for required_plugin_versions (same
// major, at least the version, or an alternative), dependencies that are
// rulesets skipped, and no filtering when the profile lists no plugins.
func TestPluginsSatisfy(t *testing.T) {
	bundled := []profilev1alpha1.PluginVersion{{Name: "container", Version: "0.4.0"}, {Name: "k8smeta", Version: "1.2.0"}}
	dep := func(name, version string, alts ...falcopsv1alpha1.DependencyAlternative) falcopsv1alpha1.RulesetDependency {
		return falcopsv1alpha1.RulesetDependency{Name: name, Version: version, Alternatives: alts}
	}
	rulesets := map[string]*falcopsv1alpha1.RuleSource{"falco-rules": {}}
	for _, c := range []struct {
		deps []falcopsv1alpha1.RulesetDependency
		want bool
	}{
		{nil, true},
		{[]falcopsv1alpha1.RulesetDependency{dep("container", "0.4.0")}, true},
		{[]falcopsv1alpha1.RulesetDependency{dep("container", "0.3.1")}, true},
		{[]falcopsv1alpha1.RulesetDependency{dep("container", "1.0.0")}, false}, // another major
		{[]falcopsv1alpha1.RulesetDependency{dep("container", "0.4.1")}, false},
		{[]falcopsv1alpha1.RulesetDependency{dep("k8smeta", "1.0.0")}, true},
		{[]falcopsv1alpha1.RulesetDependency{dep("json", "0.1.0")}, false},
		{[]falcopsv1alpha1.RulesetDependency{dep("json", "0.1.0", falcopsv1alpha1.DependencyAlternative{Name: "container", Version: "0.4.0"})}, true},
		{[]falcopsv1alpha1.RulesetDependency{dep("falco-rules", "5.0.0")}, true}, // a ruleset, not a plugin
	} {
		assert.Equal(t, c.want, pluginsSatisfy(lifecycle.Version{Plugins: bundled}, c.deps, rulesets), "%v", c.deps)
	}
	assert.True(t, pluginsSatisfy(lifecycle.Version{}, []falcopsv1alpha1.RulesetDependency{dep("container", "9.0.0")}, nil), "nothing known: not filtered")
}
