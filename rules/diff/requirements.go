package diff

import (
	"strings"

	"github.com/falcops/falcops/rules"
)

const (
	engineName = "required_engine_version"

	whyFloatingMajor = "consumers follow a floating major tag and `falcoctl artifact install` does not check requirements, so older Falco installations would get rules they cannot load (upstream practice)"
)

func (d *differ) requirements() {
	o, n := d.old.rs.RequiredEngine, d.new.rs.RequiredEngine
	switch {
	case o == n:
	case o.IsZero():
		d.add(KindRequirement, engineName, ChangeAdded, Major, d.new.rs.RequiredEngineAt,
			"the rules now require engine version %s; %s", n, whyFloatingMajor)
	case n.IsZero():
		d.add(KindRequirement, engineName, ChangeRemoved, Patch, d.old.rs.RequiredEngineAt,
			"the engine requirement %s was dropped; any engine may load the rules", o)
	case o.Less(n):
		d.add(KindRequirement, engineName, ChangeRaised, Major, d.new.rs.RequiredEngineAt,
			"engine requirement raised from %s (%s) to %s (%s); %s", o, rules.FalcoForEngine(o), n, rules.FalcoForEngine(n), whyFloatingMajor)
	default:
		d.add(KindRequirement, engineName, ChangeLowered, Patch, d.new.rs.RequiredEngineAt,
			"engine requirement lowered from %s to %s; more Falco versions can load the rules", o, n)
	}
}

func groupNames(g rules.PluginRequirement) map[string]string {
	out := map[string]string{}
	for _, a := range g.Alternatives {
		out[a.Name] = a.Version
	}
	return out
}

func groupName(g rules.PluginRequirement) string {
	if len(g.Alternatives) == 0 {
		return ""
	}
	return g.Alternatives[0].Name
}

func describeGroup(g rules.PluginRequirement) string {
	parts := make([]string, len(g.Alternatives))
	for i, a := range g.Alternatives {
		parts[i] = a.Name + " " + a.Version
	}
	return strings.Join(parts, " or ")
}

// plugins matches required_plugin_versions entries by any plugin name they
// share and compares their alternatives and versions.
func (d *differ) plugins() {
	olds := d.old.rs.Plugins
	used := make([]bool, len(olds))
	for _, ng := range d.new.rs.Plugins {
		nn := groupNames(ng)
		match := -1
		for i, og := range olds {
			if used[i] {
				continue
			}
			for name := range groupNames(og) {
				if _, ok := nn[name]; ok {
					match = i
					break
				}
			}
			if match >= 0 {
				break
			}
		}
		if match < 0 {
			d.add(KindPlugin, groupName(ng), ChangeAdded, Major, ng.At,
				"new plugin requirement %s; %s", describeGroup(ng), whyFloatingMajor)
			continue
		}
		used[match] = true
		d.pluginGroup(olds[match], ng)
	}
	for i, og := range olds {
		if !used[i] {
			d.add(KindPlugin, groupName(og), ChangeRemoved, Patch, og.At,
				"plugin requirement %s dropped; the rules load without it", describeGroup(og))
		}
	}
}

func (d *differ) pluginGroup(og, ng rules.PluginRequirement) {
	name := groupName(ng)
	on := groupNames(og)
	nn := groupNames(ng)
	for _, a := range ng.Alternatives {
		ov, ok := on[a.Name]
		if !ok {
			d.add(KindPlugin, name, ChangeAlternativeAdded, Patch, ng.At,
				"plugin %s %s added as an alternative; the requirement is easier to meet", a.Name, a.Version)
			continue
		}
		if ov == a.Version {
			continue
		}
		o, oerr := rules.ParseVersion(ov)
		n, nerr := rules.ParseVersion(a.Version)
		switch {
		case oerr != nil || nerr != nil:
			d.add(KindPlugin, name, ChangeRaised, Major, ng.At,
				"plugin %s requirement changed from %s to %s, which cannot be compared as versions; treated as raised: %s", a.Name, ov, a.Version, whyFloatingMajor)
		case o.Less(n):
			d.add(KindPlugin, name, ChangeRaised, Major, ng.At,
				"plugin %s requirement raised from %s to %s; %s", a.Name, ov, a.Version, whyFloatingMajor)
		default:
			d.add(KindPlugin, name, ChangeLowered, Patch, ng.At,
				"plugin %s requirement lowered from %s to %s; older plugin versions can load the rules", a.Name, ov, a.Version)
		}
	}
	for _, a := range og.Alternatives {
		if _, ok := nn[a.Name]; !ok {
			d.add(KindPlugin, name, ChangeAlternativeRemoved, Major, ng.At,
				"plugin %s %s is no longer an accepted alternative; installations that have only it cannot load the rules", a.Name, a.Version)
		}
	}
}
