package webhooks

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	"github.com/falcops/falcops/customrules"
	"github.com/falcops/falcops/rollout"
	"github.com/falcops/falcops/rules"
	"github.com/falcops/falcops/shoot"
)

// customRules is falcops' addition to Gardener's checks: the ConfigMaps of
// rules.custom[].resourceName are read with Gardener's limits and loaded
// on top of the rulesets the shoot runs (its pins, or the ones the
// controller would pin first), at the engine of its Falco version. A
// ConfigMap that does not exist yet, or a base that cannot be read, is a
// warning: the extension checks again before it deploys anything.
func (v Validator) customRules(ctx context.Context, cfg *servicev1alpha1.FalcoServiceConfig, namespace string, resources []resourceRef) ([]string, error) {
	if cfg.Rules.CustomRules == nil || v.ConfigMaps == nil {
		return nil, nil
	}
	var cms []customrules.ConfigMap
	for _, c := range *cfg.Rules.CustomRules {
		if c.ResourceName == "" {
			continue
		}
		r, _ := findResource(resources, c.ResourceName, "ConfigMap")
		var cm corev1.ConfigMap
		err := v.ConfigMaps.Get(ctx, client.ObjectKey{Namespace: namespace, Name: r.refName}, &cm)
		switch {
		case apierrors.IsNotFound(err):
			return []string{fmt.Sprintf("custom rule %s: ConfigMap %s not found in namespace %s: its rules are checked when the shoot is reconciled", c.ResourceName, r.refName, namespace)}, nil
		case err != nil:
			return []string{fmt.Sprintf("custom rule %s: ConfigMap %s could not be read (%v): its rules are checked when the shoot is reconciled", c.ResourceName, r.refName, err)}, nil
		}
		cms = append(cms, customrules.ConfigMap{Name: r.refName, Data: cm.Data, BinaryData: cm.BinaryData})
	}
	files, err := customrules.Read(cms)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 || v.Base == nil || cfg.FalcoVersion == nil {
		return nil, nil
	}
	base, engine, err := v.base(ctx, cfg)
	if err != nil {
		return []string{fmt.Sprintf("custom rules were checked with Gardener's limits only: %v", err)}, nil
	}
	if fs := customrules.Validate(base, files, engine); len(fs) > 0 {
		return nil, fmt.Errorf("custom rules do not load:\n%w", fs)
	}
	return nil, nil
}

// base returns the files of the rulesets the shoot loads before its custom
// rules, in load order, and the engine version of its Falco.
func (v Validator) base(ctx context.Context, cfg *servicev1alpha1.FalcoServiceConfig) ([]*rules.Source, rules.Version, error) {
	in, err := v.Inputs(ctx)
	if err != nil {
		return nil, rules.Version{}, err
	}
	e, err := in.Profile.EngineVersion(*cfg.FalcoVersion)
	if err != nil {
		return nil, rules.Version{}, err
	}
	engine, err := rules.ParseVersion(e)
	if err != nil {
		return nil, rules.Version{}, err
	}
	f := &shoot.FalcoConfig{Version: *cfg.FalcoVersion, AutoUpdate: cfg.AutoUpdate == nil || *cfg.AutoUpdate,
		Standard: shoot.DefaultStandardRules, Pins: cfg.Rules.Pinned, Heartbeat: cfg.HeartbeatEvent != nil && *cfg.HeartbeatEvent}
	if cfg.Rules.StandardRules != nil {
		f.Standard = *cfg.Rules.StandardRules
	}
	pins := f.Pins
	if len(pins) == 0 { // a new shoot: what the controller pins first
		if d, err := rollout.Target(in, f, v.now(), false); err == nil {
			pins = d.Pins
		}
	}
	base, err := v.Base(ctx, in.Rulesets(f), pins)
	return base, engine, err
}
