package deploy_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/controller-runtime/pkg/client" //nolint:depguard // test only: a real API server judges the objects (server-side dry run)

	"github.com/falcops/falcops/deploy"
	"github.com/falcops/falcops/internal/testenv"
)

// TestStrictDryRun: a real kube-apiserver accepts every object of every
// scenario with fieldValidation=Strict (server-side dry run), so no field
// is misspelt, misplaced or of the wrong type.
func TestStrictDryRun(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	for name, in := range cases(t) {
		objs, err := deploy.Render(in)
		require.NoError(t, err)
		for _, o := range objs {
			obj := o.(client.Object)
			require.NoError(t, env.Client.Create(ctx, obj, client.DryRunAll, client.FieldValidation("Strict")),
				"%s: %s %s", name, o.GetObjectKind().GroupVersionKind().Kind, obj.GetName())
		}
	}
}
