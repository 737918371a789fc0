package plan

import (
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/internal/shoot"
	"github.com/falcops/falcops/lifecycle"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func profile(t *testing.T) *lifecycle.Profile {
	t.Helper()
	exp := "2026-11-01T00:00:00Z"
	p := &profilev1alpha1.FalcoProfile{ObjectMeta: metav1.ObjectMeta{Name: "falco"}}
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
	prof, err := lifecycle.FromObjects(p)
	if err != nil {
		t.Fatal(err)
	}
	return prof
}

func source(versions ...[2]string) *falcopsv1alpha1.RuleSource {
	rs := &falcopsv1alpha1.RuleSource{ObjectMeta: metav1.ObjectMeta{Name: "falco-rules"},
		Spec: falcopsv1alpha1.RuleSourceSpec{Ruleset: "falco-rules", Repository: "reg.example/rules/falco-rules"}}
	for _, v := range versions {
		rs.Status.Versions = append(rs.Status.Versions, falcopsv1alpha1.RulesetVersion{Version: v[0], EngineVersion: v[1], Digest: "sha256:" + strings.ReplaceAll(v[0], ".", "")})
	}
	return rs
}

func pin(version string) servicev1alpha1.PinnedRuleset {
	return servicev1alpha1.PinnedRuleset{Name: "falco-rules", Version: version, Ref: "reg.example/rules/falco-rules@sha256:" + strings.ReplaceAll(version, ".", "")}
}

func TestCompute(t *testing.T) {
	src := source([2]string{"1.2.0", "0.55.0"}, [2]string{"1.1.0", "0.52.0"}, [2]string{"1.0.0", "0.50.0"})
	cases := []struct {
		name      string
		falco     shoot.Falco
		sources   map[string]*falcopsv1alpha1.RuleSource
		version   string
		pins      []servicev1alpha1.PinnedRuleset
		reason    string
		changed   bool
		blocked   string
		allowDown bool
	}{
		{name: "auto-update to highest supported, newest compatible rules",
			falco:   shoot.Falco{Version: "0.41.3", AutoUpdate: true, Standard: []string{"falco-rules"}},
			version: "0.42.1", pins: []servicev1alpha1.PinnedRuleset{pin("1.1.0")}, reason: falcopsv1alpha1.ReasonAutoUpdate, changed: true},
		{name: "pinned Falco still gets rules for its engine",
			falco:   shoot.Falco{Version: "0.41.3", AutoUpdate: false, Standard: []string{"falco-rules"}},
			version: "0.41.3", pins: []servicev1alpha1.PinnedRuleset{pin("1.0.0")}, reason: falcopsv1alpha1.ReasonRulesetUpdate, changed: true},
		{name: "up to date",
			falco:   shoot.Falco{Version: "0.42.1", AutoUpdate: true, Standard: []string{"falco-rules"}, Pins: []servicev1alpha1.PinnedRuleset{pin("1.1.0")}},
			version: "0.42.1", pins: []servicev1alpha1.PinnedRuleset{pin("1.1.0")}, reason: falcopsv1alpha1.ReasonUpToDate},
		{name: "preview user keeps its version and gets the newest rules",
			falco:   shoot.Falco{Version: "0.43.0", AutoUpdate: true, Standard: []string{"falco-rules"}},
			version: "0.43.0", pins: []servicev1alpha1.PinnedRuleset{pin("1.2.0")}, reason: falcopsv1alpha1.ReasonRulesetUpdate, changed: true},
		{name: "a pin the engine does not satisfy is replaced",
			falco:   shoot.Falco{Version: "0.42.1", AutoUpdate: true, Standard: []string{"falco-rules"}, Pins: []servicev1alpha1.PinnedRuleset{pin("1.2.0")}},
			version: "0.42.1", pins: []servicev1alpha1.PinnedRuleset{pin("1.1.0")}, reason: falcopsv1alpha1.ReasonRulesetUpdate, changed: true},
		{name: "expired is forced",
			falco:   shoot.Falco{Version: "0.40.0", AutoUpdate: false, Standard: []string{"falco-rules"}},
			version: "0.41.3", pins: []servicev1alpha1.PinnedRuleset{pin("1.0.0")}, reason: falcopsv1alpha1.ReasonForcedExpired, changed: true},
		{name: "removed is forced",
			falco:   shoot.Falco{Version: "0.39.0", AutoUpdate: false},
			version: "0.41.3", reason: falcopsv1alpha1.ReasonForcedRemoved, changed: true},
		{name: "forced downgrade is blocked",
			falco: shoot.Falco{Version: "0.45.0", AutoUpdate: true}, blocked: falcopsv1alpha1.ReasonDowngradeBlocked},
		{name: "forced downgrade when allowed",
			falco: shoot.Falco{Version: "0.45.0", AutoUpdate: true}, allowDown: true,
			version: "0.42.1", reason: falcopsv1alpha1.ReasonForcedRemoved, changed: true},
		{name: "no compatible ruleset",
			falco:   shoot.Falco{Version: "0.41.3", AutoUpdate: false, Standard: []string{"falco-rules"}},
			sources: map[string]*falcopsv1alpha1.RuleSource{"falco-rules": source([2]string{"2.0.0", "0.60.0"})},
			blocked: falcopsv1alpha1.ReasonNoCompatibleRuleset},
		{name: "no falcoVersion: the default",
			falco: shoot.Falco{AutoUpdate: true}, version: "0.42.1", reason: falcopsv1alpha1.ReasonAutoUpdate, changed: true},
		{name: "rulesets without a RuleSource get no pin",
			falco:   shoot.Falco{Version: "0.42.1", AutoUpdate: true, Standard: []string{"falco-incubating-rules"}},
			version: "0.42.1", reason: falcopsv1alpha1.ReasonUpToDate},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sources := c.sources
			if sources == nil {
				sources = map[string]*falcopsv1alpha1.RuleSource{"falco-rules": src}
			}
			f := c.falco
			p, err := Compute(Input{Falco: &f, Profile: profile(t), Sources: sources, Now: now, AllowDowngrade: c.allowDown})
			var b *Blocked
			if c.blocked != "" {
				if !errors.As(err, &b) || b.Reason != c.blocked {
					t.Fatalf("err = %v, want blocked %s", err, c.blocked)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Version != c.version || p.Reason != c.reason || p.Changed != c.changed || len(p.Pins) != len(c.pins) {
				t.Fatalf("plan = %+v, want version %s reason %s changed %v pins %v", p, c.version, c.reason, c.changed, c.pins)
			}
			for i := range c.pins {
				if p.Pins[i] != c.pins[i] {
					t.Fatalf("pin %d = %+v, want %+v", i, p.Pins[i], c.pins[i])
				}
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	f := &shoot.Falco{Version: "0.41.3", Pins: []servicev1alpha1.PinnedRuleset{pin("1.0.0")}}
	got := Describe(f, Plan{Version: "0.42.1", Pins: []servicev1alpha1.PinnedRuleset{pin("1.1.0")}})
	want := "Falco 0.41.3 -> 0.42.1, falco-rules 1.0.0 -> 1.1.0 (sha256:110)"
	if got != want {
		t.Fatalf("Describe = %q, want %q", got, want)
	}
}

func TestWavesAndRevision(t *testing.T) {
	pct := int32(50)
	policy := &falcopsv1alpha1.RolloutPolicy{Spec: falcopsv1alpha1.RolloutPolicySpec{Waves: []falcopsv1alpha1.Wave{
		{Name: "canary", Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"canary": "true"}}},
		{Name: "half", Percent: &pct},
		{Name: "rest"},
	}}}
	w, err := NewWaves(policy)
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Of("ns", "a", map[string]string{"canary": "true"}); got != 0 {
		t.Fatalf("canary shoot in wave %d", got)
	}
	counts := make([]int, 3)
	for i := range 1000 {
		counts[w.Of("ns", strings.Repeat("x", i%7)+string(rune('a'+i%26))+time.Duration(i).String(), nil)]++
	}
	if counts[0] != 0 || counts[1] < 400 || counts[1] > 600 || counts[1]+counts[2] != 1000 {
		t.Fatalf("spread %v, want about half in wave 1 and none in the canary wave", counts)
	}
	if a, b := w.Of("ns", "same", nil), w.Of("ns", "same", nil); a != b {
		t.Fatal("wave assignment is not stable")
	}
	single, _ := NewWaves(nil)
	if single.Len() != 1 || single.Name(0) != "all" {
		t.Fatal("no policy must be one wave")
	}
	p1 := []profilev1alpha1.FalcoProfile{{ObjectMeta: metav1.ObjectMeta{Name: "falco", Generation: 1}}}
	p2 := []profilev1alpha1.FalcoProfile{{ObjectMeta: metav1.ObjectMeta{Name: "falco", Generation: 2}}}
	s := []falcopsv1alpha1.RuleSource{*source([2]string{"1.0.0", ""})}
	again := []falcopsv1alpha1.RuleSource{*source([2]string{"1.0.0", ""})}
	if Revision(p1, s) == Revision(p2, s) || Revision(p1, s) != Revision(p1, again) || Revision(p1, nil) == Revision(p1, s) {
		t.Fatal("revision must change with the profile generation and the verified digests, and only then")
	}
}
