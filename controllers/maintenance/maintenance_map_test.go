package maintenance

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/internal/scheme"
	"github.com/falcops/falcops/rollout"
	"github.com/falcops/falcops/shoot"
)

func testShoot(name, version string, autoUpdate bool, standard ...string) *unstructured.Unstructured {
	pc := map[string]any{"apiVersion": servicev1alpha1.SchemeGroupVersion.String(), "kind": servicev1alpha1.Kind,
		"falcoVersion": version, "autoUpdate": autoUpdate}
	if standard != nil {
		std := []any{}
		for _, s := range standard {
			std = append(std, s)
		}
		pc["rules"] = map[string]any{"standard": std}
	}
	u := shoot.New()
	u.SetNamespace("garden-x")
	u.SetName(name)
	u.Object["spec"] = map[string]any{"extensions": []any{map[string]any{"type": servicev1alpha1.Type, "providerConfig": pc}}}
	return u
}

func testProfile(classes ...string) *profilev1alpha1.FalcoProfile {
	p := &profilev1alpha1.FalcoProfile{ObjectMeta: metav1.ObjectMeta{Name: "falco"}}
	for i, v := range []string{"0.42.1", "0.43.0"} {
		p.Spec.Versions.Falco = append(p.Spec.Versions.Falco, profilev1alpha1.FalcoVersion{
			Version: v, Classification: classes[i], RulesVersion: v, EngineVersion: []string{"0.52.0", "0.55.0"}[i]})
		p.Spec.Images.Falco = append(p.Spec.Images.Falco, profilev1alpha1.ImageSpec{Version: v, Repository: "falco", Tag: v})
	}
	return p
}

func rolloutFor(name, target string) *falcopsv1alpha1.ShootRollout {
	sr := &falcopsv1alpha1.ShootRollout{ObjectMeta: metav1.ObjectMeta{Namespace: "garden-x", Name: name}}
	sr.Status.TargetFalcoVersion, sr.Status.FalcoVersion, sr.Status.Reason = target, target, falcopsv1alpha1.ReasonUpToDate
	return sr
}

func names(t *testing.T, r *Reconciler) []string {
	t.Helper()
	var out []string
	for _, req := range r.affectedShoots(context.Background(), nil) {
		out = append(out, req.Name)
	}
	slices.Sort(out)
	return out
}

// TestAffectedShoots: a profile or RuleSource change enqueues exactly the
// shoots whose decision it changes.
func TestAffectedShoots(t *testing.T) {
	s := scheme.New()
	s.AddKnownTypeWithName(shoot.GVK, &unstructured.Unstructured{})
	s.AddKnownTypeWithName(shoot.GVK.GroupVersion().WithKind("ShootList"), &unstructured.UnstructuredList{})
	objs := []client.Object{
		testProfile("supported", "preview"),
		testShoot("auto", "0.42.1", true), rolloutFor("auto", "0.42.1"),
		testShoot("pinned", "0.42.1", false), rolloutFor("pinned", "0.42.1"),
		testShoot("preview-user", "0.43.0", true), rolloutFor("preview-user", "0.43.0"),
		testShoot("incubating", "0.43.0", true, "falco-incubating-rules"), rolloutFor("incubating", "0.43.0"),
		testShoot("auto-2", "0.42.1", true), rolloutFor("auto-2", "0.42.1"),
	}
	c := fake.NewClientBuilder().WithScheme(s).WithObjects(objs...).Build()
	r := &Reconciler{Client: c, Clock: clocktesting.NewFakePassiveClock(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)),
		Inputs: &rollout.InputsCache{}}
	assert.Empty(t, names(t, r), "nothing changed")

	// Promote 0.43.0: only the auto-updating shoots on 0.42.1 move.
	p := testProfile("supported", "supported")
	old := &profilev1alpha1.FalcoProfile{}
	require.NoError(t, c.Get(context.Background(), client.ObjectKeyFromObject(p), old))
	p.ResourceVersion = old.ResourceVersion
	require.NoError(t, c.Update(context.Background(), p))
	assert.Equal(t, []string{"auto", "auto-2"}, names(t, r), "promotion")

	// A RuleSource for falco-rules changes every shoot that selects it
	// (the default rules.standard), not the incubating-only shoot.
	rs := &falcopsv1alpha1.RuleSource{ObjectMeta: metav1.ObjectMeta{Name: "falco-rules"},
		Spec: falcopsv1alpha1.RuleSourceSpec{Ruleset: "falco-rules", Repository: "registry.example/rules/falco-rules"}}
	rs.Status.Versions = []falcopsv1alpha1.RulesetVersion{{Version: "1.0.0", Digest: "sha256:aa", EngineVersion: "0.50.0"}}
	require.NoError(t, c.Create(context.Background(), rs))
	assert.Equal(t, []string{"auto", "auto-2", "pinned", "preview-user"}, names(t, r), "new RuleSource")
}
