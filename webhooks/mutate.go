package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	gardencorev1beta1 "github.com/gardener/gardener/pkg/apis/core/v1beta1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	configv1alpha1 "github.com/falcops/falcops/api/config/v1alpha1"
	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	"github.com/falcops/falcops/lifecycle"
)

// MutatePath is where the Shoot mutating webhook is served (Gardener's).
const MutatePath = "/webhooks/mutate"

// Mutator defaults the Falco config of Shoots and Seeds as Gardener's
// mutating webhook does.
type Mutator struct{ *Options }

// Handle implements admission.Handler.
func (m Mutator) Handle(ctx context.Context, req admission.Request) admission.Response {
	obj, old, res, done := parseRequest(req)
	if done {
		return res
	}
	namespace := ""
	switch req.Kind.Kind {
	case "Shoot":
		if obj.deleting() || obj.disabled() {
			return admission.Allowed("")
		}
		namespace = obj.u.GetNamespace()
	case "Seed": // Gardener mutates every labelled seed, disabled or not
	default:
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("unsupported object type %s", req.Kind.Kind))
	}
	cfg, err := obj.config()
	switch {
	case errors.Is(err, errNoConfig):
		cfg = &servicev1alpha1.FalcoServiceConfig{}
	case err != nil:
		return admission.Errored(http.StatusUnprocessableEntity, err)
	}
	var oldCfg *servicev1alpha1.FalcoServiceConfig
	if old != nil {
		if oldCfg, err = old.config(); errors.Is(err, errNoConfig) {
			oldCfg = nil
		} else if err != nil {
			return admission.Errored(http.StatusUnprocessableEntity, err)
		}
	}
	if err := m.mutate(ctx, cfg, oldCfg, namespace); err != nil {
		return admission.Errored(http.StatusUnprocessableEntity, err)
	}
	if err := obj.setConfig(cfg); err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	mutated, err := obj.u.MarshalJSON()
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	return admission.PatchResponseFromRaw(req.Object.Raw, mutated)
}

// errNoSupported is Gardener's text when no version can be the default.
var errNoSupported = errors.New("no version with classification supported was found")

func (m Mutator) mutate(ctx context.Context, cfg, oldCfg *servicev1alpha1.FalcoServiceConfig, namespace string) error {
	defaultVersion := func() (string, error) {
		in, err := m.Inputs(ctx)
		if err != nil || in == nil || in.Profile == nil {
			return "", errNoSupported
		}
		v, err := lifecycle.DefaultVersion(in.Profile, m.now())
		if err != nil {
			return "", errNoSupported
		}
		return v, nil
	}
	// Gardener's mutator always defaults to logging; so does the operator
	// configuration unless defaultDestination says otherwise.
	if err := servicev1alpha1.SetDefaults(cfg, defaultVersion, m.Operator); err != nil {
		return err
	}
	return m.globalDefaults(ctx, cfg, oldCfg, namespace)
}

// globalDefaults adds the operator's global default destinations, as
// Gardener does: stale ones are removed on every update, new ones are
// added only when the shoot had no Falco config before (create), disabled
// where an enabled destination already writes their output key, and not
// at all for projects that opted out.
func (m Mutator) globalDefaults(ctx context.Context, cfg, oldCfg *servicev1alpha1.FalcoServiceConfig, namespace string) error {
	var globals []configv1alpha1.GlobalDefaultDestination
	if m.Operator != nil {
		globals = m.Operator.GlobalDefaultDestinations
	}
	if oldCfg != nil {
		removeStale(cfg, oldCfg, globals)
	}
	if len(globals) == 0 {
		return nil
	}
	if namespace != "" {
		skip, err := m.projectOptedOut(ctx, namespace)
		if err != nil {
			return fmt.Errorf("failed to get project for namespace %s: %w", namespace, err)
		}
		if skip {
			return nil
		}
	}
	if oldCfg != nil {
		return nil
	}
	used := map[string]bool{}
	for _, d := range destinations(cfg) {
		if key, ok := configv1alpha1.StandardOutputKeys[d.Name]; ok && enabled(d) {
			used[key] = true
		}
	}
	dests := destinations(cfg)
	for _, g := range globals {
		if slices.ContainsFunc(dests, func(d servicev1alpha1.Destination) bool { return d.Name == g.Name }) {
			continue
		}
		d := servicev1alpha1.Destination{Name: g.Name}
		if used[g.FalcosidekickOutput.Key] {
			off := false
			d.Enabled = &off
		}
		dests = append(dests, d)
	}
	cfg.Destinations = &dests
	return nil
}

// removeStale drops destinations that were in the old config, are neither
// standard nor a current global default, and have no secret: global
// defaults the operator has since removed.
func removeStale(cfg, oldCfg *servicev1alpha1.FalcoServiceConfig, globals []configv1alpha1.GlobalDefaultDestination) {
	if cfg.Destinations == nil {
		return
	}
	valid := map[string]bool{}
	for _, n := range configv1alpha1.StandardDestinations {
		valid[n] = true
	}
	for _, g := range globals {
		valid[g.Name] = true
	}
	wasOld := map[string]bool{}
	for _, d := range destinations(oldCfg) {
		wasOld[d.Name] = true
	}
	kept := (*cfg.Destinations)[:0]
	for _, d := range *cfg.Destinations {
		if !valid[d.Name] && wasOld[d.Name] && d.ResourceSecretName == nil {
			continue
		}
		kept = append(kept, d)
	}
	*cfg.Destinations = kept
}

// projectOptedOut reads the Project whose namespace this is, as Gardener
// does (a namespace without a Project is an error).
func (m Mutator) projectOptedOut(ctx context.Context, namespace string) (bool, error) {
	var projects gardencorev1beta1.ProjectList
	if err := m.Garden.List(ctx, &projects); err != nil {
		return false, err
	}
	for _, p := range projects.Items {
		if p.Spec.Namespace != nil && *p.Spec.Namespace == namespace {
			return p.Annotations[AnnotationSkipDefaultDestinations] == "true", nil
		}
	}
	return false, apierrors.NewNotFound(gardencorev1beta1.Resource("Project"), "<unknown>")
}
