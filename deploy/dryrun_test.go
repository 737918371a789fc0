package deploy_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client" //nolint:depguard // test only: a real API server judges the objects (server-side dry run)

	"github.com/falcops/falcops/deploy"
	"github.com/falcops/falcops/internal/testenv"
)

// TestStrictDryRun: a real kube-apiserver with Gardener's seed CRDs
// accepts every object of every scenario, the shoot's and the seed's, with
// fieldValidation=Strict (server-side dry run), so no field is misspelt,
// misplaced or of the wrong type.
func TestStrictDryRun(t *testing.T) {
	env := testenv.Seed(t, testenv.Scheme())
	ctx := context.Background()
	dryRun := func(name string, objs []runtime.Object) {
		for _, o := range objs {
			obj := o.(client.Object)
			if obj.GetNamespace() == seedNamespace {
				obj.SetNamespace("default") // dry run needs an existing namespace
			}
			require.NoError(t, env.Client.Create(ctx, obj.DeepCopyObject().(client.Object), client.DryRunAll, client.FieldValidation("Strict")),
				"%s: %s %s", name, o.GetObjectKind().GroupVersionKind().Kind, obj.GetName())
		}
	}
	for name, in := range cases(t) {
		objs, err := deploy.Render(in)
		require.NoError(t, err)
		dryRun(name, objs)
	}
	for name, in := range destinationCases(t) {
		shoot, seed := destinationObjects(t, in)
		dryRun(name, shoot)
		dryRun(name+" (seed)", seed)
	}
}
