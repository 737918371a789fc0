package devenv

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/shoot"
)

// Projects are the sample projects; shoots are spread over them in turn.
var Projects = []string{"alpha", "beta", "gamma"}

// DemoShoot is the sample shoot with an API server of its own: the one
// whose Falco objects gardener-resource-manager applies.
const DemoShoot = "demo"

// CanaryLabel puts a shoot into the first wave of the sample policy,
// LateLabel into the last: the shoots whose window is closed and the
// blocked one, so that they hold up no wave but the last.
const (
	CanaryLabel = "falcops.dev/canary"
	LateLabel   = "falcops.dev/late"
)

// Sample is one sample shoot's settings.
type Sample struct {
	Project, Name string
	Falco         string
	AutoUpdate    bool
	// Window is the daily maintenance window, as Gardener writes it.
	Begin, End   string
	Canary, Late bool
}

// Namespace is the sample's garden namespace.
func (s Sample) Namespace() string { return "garden-" + s.Project }

// SeedNamespace is the sample's namespace in the seed, as Gardener names
// it.
func (s Sample) SeedNamespace() string { return "shoot--" + s.Project + "--" + s.Name }

// Samples are n sample shoots at now: the demo shoot first (a canary,
// window open), then shoots on the profile's versions, most with
// autoUpdate and a window open now, every fifth (but canaries) late, with
// a window that opens in six hours, every seventh pinned (autoUpdate
// off). Falco versions cycle through versions.
func Samples(n int, versions []string, now time.Time) []Sample {
	out := make([]Sample, 0, n)
	for i := range n {
		s := Sample{Project: Projects[i%len(Projects)], Name: fmt.Sprintf("shoot-%03d", i), Falco: versions[i%len(versions)], AutoUpdate: true}
		open := i%5 != 4
		if i == 0 {
			s.Name, s.Canary = DemoShoot, true
		}
		s.Canary = s.Canary || i%10 == 3
		if i%7 == 6 {
			s.AutoUpdate = false
		}
		start := now.Add(-time.Hour)
		if !open && !s.Canary {
			start, s.Late = now.Add(6*time.Hour), true
		}
		s.Begin, s.End = window(start), window(start.Add(4*time.Hour))
		out = append(out, s)
	}
	return out
}

// window is t's time of day in Gardener's format, HHMMSS+0000.
func window(t time.Time) string { return t.UTC().Format("150405") + "+0000" }

// Object is the sample's Shoot.
func (s Sample) Object() *unstructured.Unstructured {
	u := shoot.New()
	u.SetNamespace(s.Namespace())
	u.SetName(s.Name)
	labels := map[string]string{servicev1alpha1.ShootLabel: "true"}
	if s.Canary {
		labels[CanaryLabel] = "true"
	}
	if s.Late {
		labels[LateLabel] = "true"
	}
	u.SetLabels(labels)
	u.Object["spec"] = map[string]any{
		"kubernetes":  map[string]any{"version": "1.33.0"},
		"maintenance": map[string]any{"timeWindow": map[string]any{"begin": s.Begin, "end": s.End}},
		"extensions": []any{map[string]any{"type": servicev1alpha1.Type, "providerConfig": map[string]any{
			"apiVersion": servicev1alpha1.SchemeGroupVersion.String(), "kind": servicev1alpha1.Kind,
			"falcoVersion": s.Falco, "autoUpdate": s.AutoUpdate}}},
	}
	return u
}

// Project is the Gardener Project named name.
func Project(name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("core.gardener.cloud/v1beta1")
	u.SetKind("Project")
	u.SetName(name)
	u.Object["spec"] = map[string]any{"namespace": "garden-" + name}
	return u
}

// Policy is the sample RolloutPolicy: the canaries, then half of the
// others, then the rest and the late shoots, with pause between waves.
func Policy(pause time.Duration) *falcopsv1alpha1.RolloutPolicy {
	half := int32(50)
	return &falcopsv1alpha1.RolloutPolicy{ObjectMeta: metav1.ObjectMeta{Name: "default"}, Spec: falcopsv1alpha1.RolloutPolicySpec{
		Waves: []falcopsv1alpha1.Wave{
			{Name: "canary", Selector: &metav1.LabelSelector{MatchLabels: map[string]string{CanaryLabel: "true"}}},
			{Name: "early", Percent: &half},
			{Name: "rest", Selector: &metav1.LabelSelector{MatchLabels: map[string]string{LateLabel: "true"}}},
		},
		Pause: &metav1.Duration{Duration: pause},
	}}
}

// KeySecret is the name of the garden Secret with the dev signing key.
const KeySecret = "falcops-cosign"

// RuleSource follows ruleset name in repository, verified with the dev key.
func RuleSource(name, repository string, interval time.Duration) *falcopsv1alpha1.RuleSource {
	follow := "latest"
	if name == "heartbeat" {
		follow = "2"
	}
	history := int32(10)
	return &falcopsv1alpha1.RuleSource{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: falcopsv1alpha1.RuleSourceSpec{
		Ruleset: name, Repository: repository, Follow: follow, History: &history, Insecure: true,
		Interval: &metav1.Duration{Duration: interval},
		Verify:   falcopsv1alpha1.VerifySpec{SecretRef: &falcopsv1alpha1.SecretReference{Name: KeySecret, Key: "cosign.pub"}},
	}}
}
