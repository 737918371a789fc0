package webhooks

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/lifecycle"
)

// ProfilePath is where the FalcoProfile validating webhook is served.
const ProfilePath = "/webhooks/validate-falcoprofile"

// IndexFalcoVersion indexes ShootRollouts by status.falcoVersion, so that
// the shoots running a version are counted from the cache's index, not by
// a list per request.
const IndexFalcoVersion = "status.falcoVersion"

// FalcoVersionOf is the index function of IndexFalcoVersion.
func FalcoVersionOf(o client.Object) []string {
	if r, ok := o.(*falcopsv1alpha1.ShootRollout); ok && r.Status.FalcoVersion != "" {
		return []string{r.Status.FalcoVersion}
	}
	return nil
}

// ProfileValidator checks a FalcoProfile with lifecycle's strict rules,
// merged with the other profiles as every consumer merges them, and
// refuses removing a Falco version that shoots still run.
type ProfileValidator struct{ *Options }

// Handle implements admission.Handler.
func (p ProfileValidator) Handle(ctx context.Context, req admission.Request) admission.Response {
	decode := func(raw []byte) (*profilev1alpha1.FalcoProfile, error) {
		if len(raw) == 0 {
			return nil, nil
		}
		var o profilev1alpha1.FalcoProfile
		if err := json.Unmarshal(raw, &o); err != nil {
			return nil, fmt.Errorf("the FalcoProfile does not decode: %w", err)
		}
		return &o, nil
	}
	obj, err := decode(req.Object.Raw)
	if err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	old, err := decode(req.OldObject.Raw)
	if err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	if req.Operation == admissionv1.Delete {
		obj = nil
	}
	if err := p.validate(ctx, req.Name, obj, old); err != nil {
		return admission.Errored(http.StatusUnprocessableEntity, err)
	}
	return admission.Allowed("")
}

func (p ProfileValidator) validate(ctx context.Context, name string, obj, old *profilev1alpha1.FalcoProfile) error {
	var all profilev1alpha1.FalcoProfileList
	if err := p.Garden.List(ctx, &all); err != nil {
		return fmt.Errorf("failed to list FalcoProfiles: %w", err)
	}
	var merged []*profilev1alpha1.FalcoProfile
	for i := range all.Items {
		if all.Items[i].Name != name {
			merged = append(merged, &all.Items[i])
		}
	}
	if obj != nil {
		merged = append(merged, obj)
	}
	kept := map[string]bool{}
	if len(merged) > 0 {
		prof, problems := lifecycle.Problems(merged, p.now())
		if len(problems) > 0 {
			return fmt.Errorf("FalcoProfile %s is invalid:\n%s", name, strings.Join(problems, "\n"))
		}
		for _, v := range prof.Versions() {
			kept[v.Version] = true
		}
	}
	if old == nil {
		return nil
	}
	var problems []string
	for _, v := range old.Spec.Versions.Falco {
		if kept[v.Version] {
			continue
		}
		var running falcopsv1alpha1.ShootRolloutList
		if err := p.Garden.List(ctx, &running, client.MatchingFields{IndexFalcoVersion: v.Version}); err != nil {
			return fmt.Errorf("failed to count the shoots on Falco %s: %w", v.Version, err)
		}
		if n := len(running.Items); n > 0 {
			problems = append(problems, fmt.Sprintf("Falco %s is still run by %d %s", v.Version, n, plural(n, "shoot", "shoots")))
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return fmt.Errorf("%s: removing a version forces its shoots off at once; deprecate it with an expirationDate first and remove it when no shoot runs it", strings.Join(problems, "; "))
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
