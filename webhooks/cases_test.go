package webhooks

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	configv1alpha1 "github.com/falcops/falcops/api/config/v1alpha1"
	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	"github.com/falcops/falcops/internal/admissiontest"
	"github.com/falcops/falcops/rollout"
	"github.com/falcops/falcops/rules"
)

// caseOptions builds the webhooks' options for c as falcops-controller
// would, over an in-memory garden of c's objects.
func caseOptions(t testing.TB, c admissiontest.Case) *Options {
	t.Helper()
	garden, err := OfflineGarden(c.GardenObjects(t))
	if err != nil {
		t.Fatal(err)
	}
	op := &configv1alpha1.Configuration{}
	if data := c.OperatorYAML(t); data != nil {
		if op, err = configv1alpha1.Decode(data); err != nil {
			t.Fatal(err)
		}
	}
	configv1alpha1.Default(op)
	o := &Options{Operator: op, Garden: garden, ConfigMaps: garden, ControllerUser: admissiontest.ControllerUser,
		Inputs: CachedInputs(garden, &rollout.InputsCache{Operator: op})}
	if paths := c.BasePaths(); len(paths) > 0 {
		var base []*rules.Source
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			base = append(base, &rules.Source{Name: filepath.Base(p), Data: data})
		}
		o.Base = func(context.Context, []string, []servicev1alpha1.PinnedRuleset) ([]*rules.Source, error) {
			return base, nil
		}
	}
	return o
}

// TestCases answers every admission case through the handlers, as the
// webhook server calls them (mutate, then validate the patched object).
func TestCases(t *testing.T) {
	cases := admissiontest.Load(t)
	for _, c := range cases {
		t.Run(c.Title(), func(t *testing.T) {
			res := Review(t.Context(), caseOptions(t, c), c.Request(t), c.Which())
			c.Check(t, res.Response.AdmissionResponse, res.Patched)
		})
	}
	t.Logf("%d admission cases", len(cases))
}
