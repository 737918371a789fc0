package deploy

import (
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	configv1alpha1 "github.com/falcops/falcops/api/config/v1alpha1"
	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/customrules"
	"github.com/falcops/falcops/lifecycle"
	"github.com/falcops/falcops/rules"
	"github.com/falcops/falcops/shoot"
)

// ErrNoFalco means the shoot does not enable the Falco extension.
var ErrNoFalco = errors.New("the shoot does not enable the shoot-falco-service extension")

// Request is what the extension and `falcops render` know of one shoot.
// Prepare turns it into Inputs with the same defaults, checks and texts
// for both.
type Request struct {
	// Shoot is the Gardener Shoot (from the Cluster resource, or a file).
	Shoot *unstructured.Unstructured
	// Profile is the FalcoProfile (from the signed falco-profiles artifact).
	Profile *lifecycle.Profile
	// Operator is the defaulted, validated operator configuration.
	Operator *configv1alpha1.Configuration
	// Now decides which versions are expired when falcoVersion is unset.
	Now time.Time
	// ConfigMaps are the ConfigMaps spec.resources refers to, by the name
	// of their resourceRef.
	ConfigMaps map[string]customrules.ConfigMap
	// Pins, when set, replace the shoot's rules.pinned.
	Pins []servicev1alpha1.PinnedRuleset
	// Base are the pinned rulesets' files in load order, when known: custom
	// rules are validated on top of them. Without them the custom files
	// are only read with Gardener's checks.
	Base []*rules.Source
	// Logins and Files are passed on to Inputs.
	Logins []artifacts.Login
	Files  map[string]map[string][]byte
}

// Prepare defaults the shoot's config as Gardener's mutator does, resolves
// the Falco image and reads and validates the custom rules.
func Prepare(r Request) (Inputs, error) {
	cfg, ok, err := shoot.ProviderConfig(r.Shoot)
	switch {
	case err != nil:
		return Inputs{}, fmt.Errorf("%w: %w", ErrInputs, err)
	case !ok:
		return Inputs{}, ErrNoFalco
	}
	err = servicev1alpha1.SetDefaults(cfg, func() (string, error) { return lifecycle.DefaultVersion(r.Profile, r.Now) }, r.Operator)
	if err != nil {
		return Inputs{}, fmt.Errorf("%w: %w", ErrInputs, err)
	}
	if r.Pins != nil {
		cfg.Rules.Pinned = r.Pins
	}
	image, err := r.Profile.Image(*cfg.FalcoVersion)
	if err != nil {
		return Inputs{}, fmt.Errorf("%w: %w", ErrInputs, err)
	}
	custom, err := customFiles(r, cfg)
	if err != nil {
		return Inputs{}, err
	}
	return Inputs{Config: cfg, Operator: r.Operator, FalcoImage: image, IPv6First: shoot.IPv6First(r.Shoot),
		Custom: custom, Logins: r.Logins, Files: r.Files}, nil
}

// customFiles reads the ConfigMaps of rules.custom[].resourceName in
// order, with Gardener's checks and texts, and validates them.
func customFiles(r Request, cfg *servicev1alpha1.FalcoServiceConfig) ([]customrules.File, error) {
	if cfg.Rules == nil || cfg.Rules.CustomRules == nil {
		return nil, nil
	}
	var cms []customrules.ConfigMap
	for _, c := range *cfg.Rules.CustomRules {
		if c.ResourceName == "" {
			continue
		}
		kind, name, ok := shoot.Resource(r.Shoot, c.ResourceName)
		if !ok || kind != "ConfigMap" {
			return nil, fmt.Errorf("%w: custom rule %s not found in resources", ErrInputs, c.ResourceName)
		}
		cm, ok := r.ConfigMaps[name]
		if !ok {
			return nil, fmt.Errorf("%w: custom rule %s: ConfigMap %s not found", ErrInputs, c.ResourceName, name)
		}
		cm.Name = name
		cms = append(cms, cm)
	}
	files, err := customrules.Read(cms)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInputs, err)
	}
	if r.Base == nil {
		return files, nil
	}
	engine, err := engineOf(r.Profile, *cfg.FalcoVersion)
	if err != nil {
		return nil, err
	}
	if fs := customrules.Validate(r.Base, files, engine); len(fs) > 0 {
		return nil, fmt.Errorf("%w: custom rules do not load:\n%w", ErrInputs, fs)
	}
	return files, nil
}

func engineOf(p *lifecycle.Profile, version string) (rules.Version, error) {
	e, err := p.EngineVersion(version)
	if err != nil {
		return rules.Version{}, fmt.Errorf("%w: %w", ErrInputs, err)
	}
	v, err := rules.ParseVersion(e)
	if err != nil {
		return rules.Version{}, fmt.Errorf("%w: engine version of Falco %s: %w", ErrInputs, version, err)
	}
	return v, nil
}
