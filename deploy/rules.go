package deploy

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	"github.com/falcops/falcops/artifacts"
)

// Annotations on rendered rules objects.
const (
	// AnnotationRuleset, AnnotationVersion and AnnotationRef say which pin
	// an inline rules ConfigMap holds.
	AnnotationRuleset = "falcops.io/ruleset"
	AnnotationVersion = "falcops.io/version"
	AnnotationRef     = "falcops.io/ref"
)

// FalcoctlSecret is the Secret with falcoctl.yaml, index.yaml and the
// cosign key, mounted at /etc/falcoctl (a Secret: it may carry logins).
const FalcoctlSecret = "falcoctl"

// falcoctlSecret holds the falcoctl configuration that installs exactly
// the pins, from an index of only these entries, each verified with the
// landscape's key. A pin change changes this Secret only; kubelet updates
// the mount and the agent installs the new set.
func falcoctlSecret(in Inputs) (*corev1.Secret, error) {
	ps := Pins(in)
	idx := make(artifacts.Index, 0, len(ps))
	refs := make([]string, 0, len(ps))
	for _, p := range ps {
		registry, repository, digest, err := splitRef(p)
		if err != nil {
			return nil, err
		}
		idx = append(idx, artifacts.IndexEntry{Name: p.Name, Type: artifacts.TypeRulesfile, Registry: registry, Repository: repository,
			Signature: &artifacts.Signature{Cosign: &artifacts.CosignSignature{Key: falcoctlDir + "/cosign.pub", IgnoreTlog: true}}})
		refs = append(refs, p.Name+"@"+digest)
	}
	cfg, err := artifacts.FalcoctlConfig{IndexURL: "file://" + falcoctlDir + "/index.yaml", Refs: refs,
		RulesDir: "/rulesfiles", StateDir: "/artifactstate", Logins: in.Logins}.Marshal()
	if err != nil {
		return nil, err
	}
	s := &corev1.Secret{TypeMeta: typeMeta("Secret"), ObjectMeta: meta(FalcoctlSecret), Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{"falcoctl.yaml": cfg, "index.yaml": idx.Marshal(), "cosign.pub": []byte(in.Operator.Rules.CosignPublicKey)}}
	return s, nil
}

// splitRef reads registry/repository@sha256:hex.
func splitRef(p servicev1alpha1.PinnedRuleset) (registry, repository, digest string, err error) {
	at := strings.LastIndexByte(p.Ref, '@')
	slash := strings.IndexByte(p.Ref, '/')
	if at < 0 || slash < 0 || slash > at || !strings.HasPrefix(p.Ref[at+1:], "sha256:") || len(p.Ref[at+1:]) != len("sha256:")+64 {
		return "", "", "", fmt.Errorf("rules.pinned %s: ref %q is not registry/repository@sha256:<digest>", p.Name, p.Ref)
	}
	return p.Ref[:slash], p.Ref[slash+1 : at], p.Ref[at+1:], nil
}

// inlineName is the ConfigMap of a pinned ruleset in inline mode:
// Gardener's names where Gardener has one.
func inlineName(ruleset string) string {
	switch ruleset {
	case "falco-rules", "falco-incubating-rules", "falco-sandbox-rules":
		return ruleset
	case "heartbeat":
		return "falco-heartbeat-rule"
	}
	return "falco-ruleset-" + ruleset
}

// inlineConfigMaps are the verified files of each pin, one ConfigMap per
// ruleset, and the projection that puts them into one directory in load
// order. kubelet swaps a projected volume atomically, so a pin change is
// one reload.
func inlineConfigMaps(in Inputs) ([]*corev1.ConfigMap, []corev1.VolumeProjection, error) {
	var cms []*corev1.ConfigMap
	var proj []corev1.VolumeProjection
	for i, p := range Pins(in) {
		files, ok := in.Files[p.Name]
		if !ok || len(files) == 0 {
			return nil, nil, fmt.Errorf("inline delivery: no verified files for %s (%s)", p.Name, p.Ref)
		}
		cm := &corev1.ConfigMap{TypeMeta: typeMeta("ConfigMap"), ObjectMeta: meta(inlineName(p.Name)), Data: map[string]string{}}
		cm.Annotations = map[string]string{AnnotationRuleset: p.Name, AnnotationVersion: p.Version, AnnotationRef: p.Ref}
		src := &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: cm.Name}}
		for _, name := range slices.Sorted(maps.Keys(files)) {
			cm.Data[name] = string(files[name])
			src.Items = append(src.Items, corev1.KeyToPath{Key: name, Path: artifacts.LoadOrderName(i, name)})
		}
		cms = append(cms, cm)
		proj = append(proj, corev1.VolumeProjection{ConfigMap: src})
	}
	return cms, proj, nil
}

// customConfigMap holds the custom rules files, each listed in
// rules_files in load order.
func customConfigMap(in Inputs) *corev1.ConfigMap {
	if len(in.Custom) == 0 {
		return nil
	}
	cm := &corev1.ConfigMap{TypeMeta: typeMeta("ConfigMap"), ObjectMeta: meta("falco-custom-rules"), Data: map[string]string{}}
	for _, f := range in.Custom {
		cm.Data[f.Name] = string(f.Data)
	}
	return cm
}
