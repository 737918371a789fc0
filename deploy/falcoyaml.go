package deploy

import (
	"bytes"

	"github.com/Masterminds/semver/v3"
	"go.yaml.in/yaml/v3"

	configv1alpha1 "github.com/falcops/falcops/api/config/v1alpha1"
	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
)

// Paths inside the Falco pod.
const (
	configDir      = "/etc/falco/config"
	rulesVolumeDir = "/etc/falco/rules"
	// RulesDir is the directory rules_files names first: the agent's tree
	// (falcoctl mode) or the projected rules ConfigMaps (inline mode).
	RulesDir       = rulesVolumeDir + "/rules.d"
	customRulesDir = "/etc/falco/custom-rules"
	shootRulesDir  = "/etc/falco/shoot-custom-rules"
	// ShootTreeDir holds the shoot rules files the agent validated
	// (falcoctl delivery); agentShootDir is where the agent reads them.
	ShootTreeDir    = rulesVolumeDir + "/shoot.d"
	agentShootDir   = "/etc/falcops/shoot-rules"
	falcoctlDir     = "/etc/falcoctl"
	webserverPort   = 8765
	containerPlugin = "0.41.2" // the first Falco that ships the container plugin
	noPrintK8s      = "0.42.0" // the first Falco without -pk
)

// The CRI sockets the container plugin reads (hostPath -> engine).
var sockets = []struct{ engine, path string }{
	{"containerd", "/run/containerd/containerd.sock"},
	{"containerd", "/run/k3s/containerd/containerd.sock"},
	{"containerd", "/run/host-containerd/containerd.sock"},
	{"cri", "/run/crio/crio.sock"},
	{"docker", "/var/run/docker.sock"},
	{"podman", "/run/podman/podman.sock"},
}

// atLeast reports whether Falco version v is min or newer (false when v
// does not parse: the caller validated it).
func atLeast(v, min string) bool {
	a, err := semver.NewVersion(v)
	if err != nil {
		return false
	}
	return !a.LessThan(semver.MustParse(min))
}

// rulesFiles is rules_files in Gardener's order: the pinned rulesets
// (standard, what they imply, heartbeat: one directory whose file names
// keep that order), the custom files, then the shoot ConfigMaps.
func rulesFiles(in Inputs) []string {
	files := []string{RulesDir}
	for _, f := range in.Custom {
		files = append(files, customRulesDir+"/"+f.Name)
	}
	names := shootConfigMaps(in.Config)
	switch {
	case len(names) == 0:
	case in.Operator.Rules.Delivery == configv1alpha1.DeliveryInline:
		for _, name := range names {
			files = append(files, shootRulesDir+"/"+name)
		}
	default:
		files = append(files, ShootTreeDir)
	}
	return files
}

func shootConfigMaps(c *servicev1alpha1.FalcoServiceConfig) []string {
	var out []string
	if c.Rules != nil && c.Rules.CustomRules != nil {
		for _, r := range *c.Rules.CustomRules {
			if r.ShootConfigMap != "" {
				out = append(out, r.ShootConfigMap)
			}
		}
	}
	return out
}

// destinationEnabled reports whether the named destination is listed and
// enabled.
func destinationEnabled(c *servicev1alpha1.FalcoServiceConfig, name string) bool {
	if c.Destinations == nil {
		return false
	}
	for _, d := range *c.Destinations {
		if d.Name == name && (d.Enabled == nil || *d.Enabled) {
			return true
		}
	}
	return false
}

// falcoYAML is falco.yaml: the keys Gardener's extension sets, with
// watch_config_files on so rule changes reload in place.
func falcoYAML(in Inputs) ([]byte, error) {
	version := *in.Config.FalcoVersion
	listen := "0.0.0.0"
	if in.IPv6First {
		listen = "::"
	}
	doc := map[string]any{
		"rules_files":                  rulesFiles(in),
		"watch_config_files":           true,
		"json_output":                  true,
		"json_include_output_property": true,
		"log_level":                    "info",
		"log_stderr":                   true,
		"priority":                     "debug",
		"stdout_output":                map[string]any{"enabled": destinationEnabled(in.Config, "stdout")},
		"http_output":                  httpOutput(in),
		"webserver": map[string]any{
			"enabled": true, "listen_address": listen, "listen_port": webserverPort,
			"k8s_healthz_endpoint": "/healthz", "ssl_enabled": false,
		},
		"append_output": []any{map[string]any{"extra_fields": []any{map[string]string{"falco_version": version}}}},
		"engine":        map[string]any{"kind": "modern_ebpf", "modern_ebpf": map[string]any{"cpus_for_each_buffer": 2, "buf_size_preset": 4, "drop_failed_exit": false}},
		"metrics": map[string]any{
			"enabled": true, "interval": "1h", "output_rule": true,
			"resource_utilization_enabled": true, "state_counters_enabled": true, "kernel_event_counters_enabled": true,
		},
	}
	if atLeast(version, containerPlugin) {
		engines := map[string]any{}
		for _, s := range sockets {
			e, _ := engines[s.engine].(map[string]any)
			if e == nil {
				e = map[string]any{"enabled": true, "sockets": []string{}}
				engines[s.engine] = e
			}
			e["sockets"] = append(e["sockets"].([]string), "/host"+s.path)
		}
		doc["load_plugins"] = []string{"container"}
		doc["plugins"] = []any{map[string]any{
			"name": "container", "library_path": "libcontainer.so",
			"init_config": map[string]any{"label_max_len": 100, "with_size": false, "engines": engines},
		}}
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
