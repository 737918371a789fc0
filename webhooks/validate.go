package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	configv1alpha1 "github.com/falcops/falcops/api/config/v1alpha1"
	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
)

// ValidatePath is where the Shoot validating webhook is served
// (Gardener's).
const ValidatePath = "/webhooks/validate"

// standardRules are the selectable standard rulesets.
var standardRules = []string{"falco-rules", "falco-incubating-rules", "falco-sandbox-rules"}

// seedDestinations are the destinations a Seed may use: no logging or
// otlp (both are per shoot).
var seedDestinations = []string{"central", "stdout", "custom", "opensearch", "splunk"}

// Validator checks the Falco config of Shoots and Seeds with Gardener's
// checks, order and texts, and falcops' own (pins, custom rules content,
// opensearch secrets).
type Validator struct{ *Options }

// Handle implements admission.Handler.
func (v Validator) Handle(ctx context.Context, req admission.Request) admission.Response {
	obj, old, res, done := parseRequest(req)
	if done {
		return res
	}
	var warnings []string
	var err error
	switch req.Kind.Kind {
	case "Shoot":
		warnings, err = v.shoot(ctx, req, obj, old)
	case "Seed":
		err = v.seed(obj)
	default:
		err = fmt.Errorf("wrong object type %s", req.Kind.Kind)
	}
	if err != nil {
		// Gardener's webhook answers every refusal with 422 and the text.
		return admission.Errored(http.StatusUnprocessableEntity, err).WithWarnings(warnings...)
	}
	return admission.Allowed("").WithWarnings(warnings...)
}

func (v Validator) shoot(ctx context.Context, req admission.Request, obj, old *object) ([]string, error) {
	if obj.disabled() {
		return nil, nil
	}
	cfg, err := obj.config()
	if err != nil {
		return nil, err
	}
	var oldCfg *servicev1alpha1.FalcoServiceConfig
	oldErr := errNoConfig
	if old != nil {
		oldCfg, oldErr = old.config()
	}
	ns := obj.u.GetNamespace()
	op := v.Operator
	if op == nil {
		op = &configv1alpha1.Configuration{}
	}
	// Newly enabled Falco only: an old config that does not decode counts
	// as newly enabled, as in Gardener.
	if op.RestrictedUsage && (oldErr != nil || oldCfg == nil) {
		ok, err := v.annotated(ctx, ns, AnnotationEnabled)
		if err != nil {
			return nil, fmt.Errorf("failed to check namespace eligibility: %w", err)
		}
		if !ok {
			return nil, fmt.Errorf("namespace %s is not eligible for Falco extension", ns)
		}
	}
	dests := destinations(cfg)
	named := func(name string) bool {
		return slices.ContainsFunc(dests, func(d servicev1alpha1.Destination) bool { return d.Name == name })
	}
	if op.RestrictedCentralizedLogging && named("central") {
		ok, err := v.annotated(ctx, ns, AnnotationCentralLogging, AnnotationCentralizedLogging)
		if err != nil {
			return nil, fmt.Errorf("failed to check namespace eligibility for central logging: %w", err)
		}
		if !ok {
			return nil, fmt.Errorf("namespace %s is not eligible for centralized logging. Set destination to stdout, logging or custom", ns)
		}
	}
	if named("otlp") && !op.OTLPLogging {
		return nil, errors.New(`destination "otlp" is not configured`)
	}
	resources := obj.resources()
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	add(v.version(ctx, cfg, oldCfg))
	rulesErr := verifyRules(cfg, resources)
	add(rulesErr)
	add(verifyDestinations(cfg, resources, configv1alpha1.StandardDestinations, op))
	add(verifyResources(cfg))
	var warnings []string
	if rulesErr == nil {
		var err error
		warnings, err = v.customRules(ctx, cfg, ns, resources)
		add(err)
	}
	var oldPins []servicev1alpha1.PinnedRuleset
	if oldCfg != nil && oldCfg.Rules != nil {
		oldPins = oldCfg.Rules.Pinned
	}
	var pins []servicev1alpha1.PinnedRuleset
	if cfg.Rules != nil {
		pins = cfg.Rules.Pinned
	}
	add(checkPins(req.UserInfo.Username, v.ControllerUser, oldPins, pins))
	return warnings, errors.Join(errs...)
}

// seed validates a Seed's Falco config as Gardener does: no namespace
// gates, the version checked as unchanged (so only for presence).
func (v Validator) seed(obj *object) error {
	cfg, err := obj.config()
	if err != nil {
		return err
	}
	var errs []error
	if cfg.FalcoVersion == nil {
		errs = append(errs, errors.New("falcoVersion is nil"))
	}
	resources := obj.resources()
	if err := verifyRules(cfg, resources); err != nil {
		errs = append(errs, err)
	}
	if err := verifyDestinations(cfg, resources, seedDestinations, v.Operator); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// annotated is true for the garden namespace and for namespaces with one
// of the annotations set to a true boolean.
func (v Validator) annotated(ctx context.Context, namespace string, annotations ...string) (bool, error) {
	if namespace == gardenNamespace {
		return true, nil
	}
	var ns corev1.Namespace
	if err := v.Garden.Get(ctx, client.ObjectKey{Name: namespace}, &ns); err != nil {
		return false, fmt.Errorf("failed to get namespace %s: %w", namespace, err)
	}
	for _, a := range annotations {
		if on, err := strconv.ParseBool(ns.Annotations[a]); err == nil && on {
			return true, nil
		}
	}
	return false, nil
}

// version checks falcoVersion when it changed (or is new).
func (v Validator) version(ctx context.Context, cfg, oldCfg *servicev1alpha1.FalcoServiceConfig) error {
	if oldCfg != nil && oldCfg.FalcoVersion != nil && cfg.FalcoVersion != nil && *oldCfg.FalcoVersion == *cfg.FalcoVersion {
		return nil
	}
	if cfg.FalcoVersion == nil {
		return errors.New("falcoVersion is nil")
	}
	in, err := v.Inputs(ctx)
	if err != nil || in == nil || in.Profile == nil {
		return errors.New("version not found in possible versions")
	}
	ver, err := in.Profile.Version(*cfg.FalcoVersion)
	if err != nil {
		return errors.New("version not found in possible versions")
	}
	if ver.Classification == "deprecated" && ver.Expired(v.now()) {
		return errors.New("chosen version is marked as deprecated")
	}
	return nil
}

func verifyRules(cfg *servicev1alpha1.FalcoServiceConfig, resources []resourceRef) error {
	if cfg.Rules == nil {
		return errors.New("rules property is not defined")
	}
	var standard []string
	if cfg.Rules.StandardRules != nil {
		standard = *cfg.Rules.StandardRules
	}
	for _, r := range standard {
		if !slices.Contains(standardRules, r) {
			return fmt.Errorf("unknown standard rule %s", r)
		}
	}
	if !unique(standard) {
		return errors.New("duplicate entry in standard rules")
	}
	var custom []servicev1alpha1.CustomRule
	if cfg.Rules.CustomRules != nil {
		custom = *cfg.Rules.CustomRules
	}
	var names []string
	for _, c := range custom {
		switch {
		case c.ResourceName != "" && c.ShootConfigMap != "":
			return errors.New("found custom rule with both resource name and shoot config map defined")
		case c.ResourceName == "" && c.ShootConfigMap == "":
			return errors.New("found custom rule with neither resource name nor shoot config map defined")
		case c.ResourceName != "":
			names = append(names, c.ResourceName)
		}
	}
	if !unique(names) {
		return errors.New("duplicate entry in custom rules")
	}
	for _, n := range names {
		if _, ok := findResource(resources, n, "ConfigMap"); !ok {
			return fmt.Errorf("custom rule %s not found in resources", n)
		}
	}
	if len(standard)+len(custom) == 0 {
		return errors.New("falco deployment without any rules is not allowed")
	}
	return nil
}

func verifyDestinations(cfg *servicev1alpha1.FalcoServiceConfig, resources []resourceRef, allowed []string, op *configv1alpha1.Configuration) error {
	if op == nil {
		op = &configv1alpha1.Configuration{}
	}
	if cfg.Destinations == nil {
		return errors.New("event destination property is not defined")
	}
	dests := *cfg.Destinations
	if len(dests) == 0 {
		return errors.New("no event destination is set")
	}
	var names []string
	used := map[string]bool{}
	for _, d := range dests {
		_, global := op.GlobalDefault(d.Name)
		if !slices.Contains(allowed, d.Name) && !global {
			return fmt.Errorf("unknown event destination: %s", d.Name)
		}
		names = append(names, d.Name)
		if !enabled(d) {
			continue
		}
		if key, ok := op.OutputKey(d.Name); ok && key != "" {
			if used[key] {
				return fmt.Errorf("multiple enabled destinations use the same output key %q", key)
			}
			used[key] = true
		}
	}
	if !unique(names) {
		return errors.New("duplicate entry in event destinations")
	}
	on := map[string]servicev1alpha1.Destination{}
	for _, d := range dests {
		if _, seen := on[d.Name]; enabled(d) && !seen {
			on[d.Name] = d
		}
	}
	_, logging := on["logging"]
	_, custom := on["custom"]
	if logging && custom {
		return errors.New("logging and custom destinations cannot be used together")
	}
	// custom's texts say "custom config", splunk's and opensearch's (falcops'
	// addition: Gardener does not check opensearch) "secret config".
	for _, c := range []struct{ name, what string }{{"custom", "custom"}, {"splunk", "secret"}, {"opensearch", "secret"}} {
		d, ok := on[c.name]
		if !ok {
			continue
		}
		if d.ResourceSecretName == nil {
			return fmt.Errorf("%s event destination is set but no %s config is defined", c.name, c.what)
		}
		if _, ok := findResource(resources, *d.ResourceSecretName, "Secret"); !ok {
			return fmt.Errorf("%s event destination config %s not found in resources", c.name, *d.ResourceSecretName)
		}
	}
	return nil
}

func unique(s []string) bool {
	seen := map[string]bool{}
	for _, e := range s {
		if seen[e] {
			return false
		}
		seen[e] = true
	}
	return true
}

// verifyResources checks falcoConfig.resources with Gardener's bounds and
// texts, reporting every problem.
func verifyResources(cfg *servicev1alpha1.FalcoServiceConfig) error {
	if cfg.FalcoConfig == nil || cfg.FalcoConfig.Resources == nil {
		return nil
	}
	r := cfg.FalcoConfig.Resources
	var errs []error
	check := func(path string, v *string, f func(string) error) {
		if v == nil {
			return
		}
		if err := f(*v); err != nil {
			errs = append(errs, fmt.Errorf("falcoConfig.resources.%s: %w", path, err))
		}
	}
	if r.Requests != nil {
		check("requests.cpu", r.Requests.CPU, cpuQuantity)
		check("requests.memory", r.Requests.Memory, memoryQuantity)
	}
	if r.Limits != nil {
		check("limits.cpu", r.Limits.CPU, cpuQuantity)
		check("limits.memory", r.Limits.Memory, memoryQuantity)
	}
	if r.Requests != nil && r.Limits != nil {
		for _, p := range []struct {
			name       string
			req, limit *string
		}{{"cpu", r.Requests.CPU, r.Limits.CPU}, {"memory", r.Requests.Memory, r.Limits.Memory}} {
			if p.req == nil || p.limit == nil {
				continue
			}
			if err := notAbove(*p.req, *p.limit); err != nil {
				errs = append(errs, fmt.Errorf("falcoConfig.resources: %s request must be less than or equal to limit: %w", p.name, err))
			}
		}
	}
	return errors.Join(errs...)
}

func cpuQuantity(s string) error {
	q, err := resource.ParseQuantity(s)
	switch {
	case err != nil:
		return fmt.Errorf("invalid CPU format: %w", err)
	case q.Sign() <= 0:
		return fmt.Errorf("CPU must be a positive value, got: %s", s)
	case q.MilliValue() > 1_000_000:
		return fmt.Errorf("CPU is unreasonably large (max 1000 cores), got: %s", s)
	}
	return nil
}

func memoryQuantity(s string) error {
	q, err := resource.ParseQuantity(s)
	switch {
	case err != nil:
		return fmt.Errorf("invalid memory format: %w", err)
	case q.Sign() <= 0:
		return fmt.Errorf("memory must be a positive value, got: %s", s)
	case q.Value() < 1<<20:
		return fmt.Errorf("memory is too small (minimum 1Mi), got: %s", s)
	case q.Value() > 1<<40:
		return fmt.Errorf("memory is unreasonably large (max 1Ti), got: %s", s)
	}
	return nil
}

func notAbove(req, limit string) error {
	r, err := resource.ParseQuantity(req)
	if err != nil {
		return fmt.Errorf("invalid request format: %w", err)
	}
	l, err := resource.ParseQuantity(limit)
	if err != nil {
		return fmt.Errorf("invalid limit format: %w", err)
	}
	if r.Cmp(l) > 0 {
		return fmt.Errorf("request %s is greater than limit %s", req, limit)
	}
	return nil
}
