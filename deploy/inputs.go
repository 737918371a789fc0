package deploy

import (
	configv1alpha1 "github.com/falcops/falcops/api/config/v1alpha1"
	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/customrules"
)

// Namespace is where every object goes in the shoot.
const Namespace = "kube-system"

// Inputs are everything one render needs. The caller defaults the config
// (servicev1alpha1.SetDefaults) and the operator configuration
// (configv1alpha1.Default) first.
type Inputs struct {
	// Config is the shoot's defaulted FalcoServiceConfig; its rules.pinned
	// says which verified digest of each ruleset to run.
	Config *servicev1alpha1.FalcoServiceConfig
	// Operator is the defaulted, validated operator configuration.
	Operator *configv1alpha1.Configuration
	// FalcoImage is the image of Config.FalcoVersion from the profile.
	FalcoImage string
	// IPv6First is true when the shoot's first IP family is IPv6.
	IPv6First bool
	// Custom are the custom rules files in load order (customrules.Read),
	// already validated.
	Custom []customrules.File
	// Logins are the registry logins falcoctl in the shoot uses.
	Logins []artifacts.Login
	// Sidekick, when set, deploys falcosidekick for the destinations.
	Sidekick *Sidekick
	// Files are, in inline mode, the verified files of each pinned ruleset
	// by ruleset name (file name -> content). Unused in falcoctl mode.
	Files map[string]map[string][]byte
}

// Missing are the rulesets the shoot selects that have no pin yet: the
// controller pins them at once; until then Render loads no rules for them.
func Missing(in Inputs) []string {
	var out []string
	for _, name := range wanted(in) {
		if _, ok := pin(in.Config, name); !ok {
			out = append(out, name)
		}
	}
	return out
}

// wanted are the rulesets the shoot loads, in load order.
func wanted(in Inputs) []string {
	var std []string
	heartbeat := false
	if r := in.Config.Rules; r != nil && r.StandardRules != nil {
		std = *r.StandardRules
	}
	if in.Config.HeartbeatEvent != nil {
		heartbeat = *in.Config.HeartbeatEvent
	}
	return in.Operator.Rulesets(std, heartbeat)
}

func pin(c *servicev1alpha1.FalcoServiceConfig, name string) (servicev1alpha1.PinnedRuleset, bool) {
	if c.Rules == nil {
		return servicev1alpha1.PinnedRuleset{}, false
	}
	for _, p := range c.Rules.Pinned {
		if p.Name == name {
			return p, true
		}
	}
	return servicev1alpha1.PinnedRuleset{}, false
}

// Pins are the pinned rulesets the shoot loads, in load order.
func Pins(in Inputs) []servicev1alpha1.PinnedRuleset {
	var out []servicev1alpha1.PinnedRuleset
	for _, name := range wanted(in) {
		if p, ok := pin(in.Config, name); ok {
			out = append(out, p)
		}
	}
	return out
}
