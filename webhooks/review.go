package webhooks

import (
	"context"
	"fmt"
	"net/http"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/internal/scheme"
)

// Reviewed is the outcome of a review: the final response (with the
// mutator's patch) and the patched object.
type Reviewed struct {
	Response admission.Response
	Patched  []byte
}

// Decided is true for a refusal (422, Gardener's code for a refused
// Falco config), false for a webhook that could not answer.
func (r Reviewed) Decided() bool {
	return r.Response.Result == nil || r.Response.Result.Code == http.StatusUnprocessableEntity || r.Response.Result.Code == http.StatusForbidden
}

// Review runs the webhooks on req as the API server would: the mutator,
// then the validator on the patched object.
func Review(ctx context.Context, opts *Options, req admission.Request, which string) Reviewed {
	if req.Kind.Kind == "FalcoProfile" {
		return Reviewed{Response: complete(req, ProfileValidator{Options: opts}.Handle(ctx, req)), Patched: req.Object.Raw}
	}
	out := Reviewed{Patched: req.Object.Raw}
	var patch admission.Response
	if which != "validate" {
		patch = complete(req, Mutator{Options: opts}.Handle(ctx, req))
		if !patch.Allowed || which == "mutate" {
			out.Response = patch
			if patch.Allowed {
				out.Patched = apply(req.Object.Raw, patch.Patch)
			}
			return out
		}
		out.Patched = apply(req.Object.Raw, patch.Patch)
		req.Object.Raw = out.Patched
	}
	out.Response = complete(req, Validator{Options: opts}.Handle(ctx, req))
	out.Response.Patch, out.Response.PatchType = patch.Patch, patch.PatchType
	return out
}

// complete fills the response as the webhook server does before it
// answers (the UID, the patch bytes).
func complete(req admission.Request, res admission.Response) admission.Response {
	if err := res.Complete(req); err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	return res
}

func apply(raw, patch []byte) []byte {
	if len(patch) == 0 {
		return raw
	}
	p, err := jsonpatch.DecodePatch(patch)
	if err != nil {
		return raw
	}
	out, err := p.Apply(raw)
	if err != nil {
		return raw
	}
	return out
}

// OfflineGarden is an in-memory garden of objs (FalcoProfiles,
// Namespaces, Projects, ConfigMaps, Secrets, RuleSources, ShootRollouts),
// with the index the FalcoProfile webhook counts by: what `falcops
// admission review` serves the webhooks instead of the manager's cache.
func OfflineGarden(objs []*unstructured.Unstructured) (client.Client, error) {
	s := scheme.New()
	typed := make([]client.Object, 0, len(objs))
	for _, u := range objs {
		obj, err := s.New(u.GroupVersionKind())
		if err != nil {
			return nil, fmt.Errorf("%s %s: not a kind the webhooks read", u.GetKind(), u.GetName())
		}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj); err != nil {
			return nil, fmt.Errorf("%s %s: %w", u.GetKind(), u.GetName(), err)
		}
		typed = append(typed, obj.(client.Object))
	}
	return fake.NewClientBuilder().WithScheme(s).WithObjects(typed...).
		WithIndex(&falcopsv1alpha1.ShootRollout{}, IndexFalcoVersion, FalcoVersionOf).Build(), nil
}
