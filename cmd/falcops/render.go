package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	configv1alpha1 "github.com/falcops/falcops/api/config/v1alpha1"
	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	"github.com/falcops/falcops/controllers/extension"
	"github.com/falcops/falcops/customrules"
	"github.com/falcops/falcops/deploy"
	"github.com/falcops/falcops/lifecycle"
	"github.com/falcops/falcops/oci"
	"github.com/falcops/falcops/rules"
	"github.com/falcops/falcops/secrets"
)

type renderOptions struct {
	profiles, config, resources, pins, output, ingressDomain string
	base                                                     []string
	transport                                                transportFlags
}

// maxInputFile bounds each file render reads.
const maxInputFile = 8 << 20

func newRenderCmd() *cobra.Command {
	o := &renderOptions{}
	cmd := &cobra.Command{
		Use:   "render SHOOT.yaml --profiles PATH [--config FILE] [--resources DIR] [--pins FILE] [-o yaml|json]",
		Short: "Print the objects falcops-extension would deploy into a shoot",
		Long: `Print what falcops-extension deploys into the shoot's kube-system for SHOOT.yaml
(a Gardener Shoot), as helm template does: the Falco DaemonSet with the
falcops agent, falco.yaml, the falcoctl configuration and index of the pinned
rulesets (or, with delivery inline, ConfigMaps) and the custom rules.

The shoot's FalcoServiceConfig is defaulted as Gardener's mutator does
(falcoVersion from --profiles, autoUpdate, rules.standard, destinations) and
checked with the extension's texts. Pins come from the shoot's rules.pinned,
or from --pins (a YAML list of {name, version, ref}); a selected ruleset
without a pin loads no rules yet, and render says so on stderr.

--resources is a folder of ConfigMap and Secret manifests: those
spec.resources names for rules.custom[].resourceName and for destinations'
resourceSecretName. --base lists the rules files or ruleset
folders the pinned rulesets hold: custom rules are then validated on top of
them, as the extension does. With delivery inline, render fetches each pinned
ruleset from its registry and verifies it with the configuration's cosign key,
as the extension does, and prints the ConfigMaps with the verified files.

Exit codes: 0 rendered, 1 the inputs are invalid (the message says which),
2 usage error.`,
		Example: `  falcops render shoot.yaml --profiles profiles/ --config config/extension/configuration.yaml
  falcops render shoot.yaml --profiles profiles/falco.yaml --config operator.yaml --resources cms/ --base rulesets/heartbeat -o json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError("render needs SHOOT.yaml, got %d arguments (see '%s --help')", len(args), cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd, args[0]) },
	}
	f := cmd.Flags()
	f.StringVar(&o.profiles, "profiles", "", "FalcoProfile file or folder (required)")
	f.StringVar(&o.ingressDomain, "seed-ingress-domain", "ingress.seed.example", "the seed's ingress domain, under which the logging and otlp destinations reach the shoot's Vali and OTLP collector")
	f.StringVar(&o.config, "config", "", "operator configuration (config.falcops.io/v1alpha1 Configuration); default: config/extension/configuration.yaml of the repository")
	f.StringVar(&o.resources, "resources", "", "folder of ConfigMap and Secret manifests that spec.resources refers to (custom rules, destination Secrets)")
	f.StringVar(&o.pins, "pins", "", "YAML list of pins ({name, version, ref}) to use instead of the shoot's rules.pinned")
	f.StringSliceVar(&o.base, "base", nil, "rules files or ruleset folders loaded before the custom rules, to validate them (repeatable)")
	f.StringVarP(&o.output, "output", "o", "yaml", "output format: yaml (a document per object) or json (a v1 List)")
	o.transport.register(cmd)
	return cmd
}

func (o *renderOptions) run(cmd *cobra.Command, shootPath string) error {
	if o.output != "yaml" && o.output != "json" {
		return usageError("-o %q: want yaml or json", o.output)
	}
	if o.profiles == "" {
		return usageError("--profiles is required")
	}
	u, err := readShoot(shootPath)
	if err != nil {
		return badInput(err)
	}
	prof, err := lifecycle.Load(o.profiles)
	if err != nil {
		return badInput(err)
	}
	op, err := o.operator()
	if err != nil {
		return badInput(err)
	}
	req := deploy.Request{Shoot: u, Profile: prof, Operator: op, Now: time.Now()} //nolint:forbidigo // the default version is the one not expired now
	var resourceSecrets map[string]map[string][]byte
	if req.ConfigMaps, resourceSecrets, err = readResources(o.resources); err != nil {
		return badInput(err)
	}
	if o.pins != "" {
		if req.Pins, err = readPins(o.pins); err != nil {
			return badInput(err)
		}
	}
	if req.Base, err = readBase(o.base); err != nil {
		return badInput(err)
	}
	in, err := deploy.Prepare(req)
	if err != nil {
		return badInput(fmt.Errorf("%s: %w", shootPath, err))
	}
	if op.Rules.Delivery == configv1alpha1.DeliveryInline {
		if in, err = o.inline(cmd, req, in); err != nil {
			return err
		}
	}
	if deploy.NeedsSidekick(in.Config) {
		in.Sidekick = sidekickPreview(prof, u, resourceSecrets, o.ingressDomain)
	}
	objs, err := deploy.Render(in)
	if err != nil {
		return badInput(fmt.Errorf("%s: %w", shootPath, err))
	}
	if missing := deploy.Missing(in); len(missing) > 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "render: no pin yet for %s: it loads no rules until the controller pins it\n", strings.Join(missing, ", "))
	}
	var out []byte
	if o.output == "json" {
		out, err = deploy.List(objs)
	} else {
		out, err = deploy.YAML(objs)
	}
	if err != nil {
		return err
	}
	_, err = cmd.OutOrStdout().Write(out)
	return err
}

// operator reads, defaults and validates the operator configuration.
func (o *renderOptions) operator() (*configv1alpha1.Configuration, error) {
	path := o.config
	if path == "" {
		path = filepath.Join(repoRoot(), "config", "extension", "configuration.yaml")
	}
	data, err := readBounded(path)
	if err != nil {
		return nil, err
	}
	op, err := configv1alpha1.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	configv1alpha1.Default(op)
	if err := configv1alpha1.Validate(op); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return op, nil
}

func readBounded(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Size() > maxInputFile {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d bytes render reads", path, st.Size(), maxInputFile)
	}
	return os.ReadFile(path)
}

func readShoot(path string) (*unstructured.Unstructured, error) {
	data, err := readBounded(path)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(data, &u.Object); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if u.GetKind() != "Shoot" {
		return nil, fmt.Errorf("%s: kind %q, want a Gardener Shoot", path, u.GetKind())
	}
	return u, nil
}

// readResources reads every ConfigMap and Secret manifest (*.yaml, *.yml,
// *.json, one or more documents each) in dir, by name: what the shoot's
// spec.resources refer to (custom rules, destination Secrets).
func readResources(dir string) (map[string]customrules.ConfigMap, map[string]map[string][]byte, error) {
	cms, secs := map[string]customrules.ConfigMap{}, map[string]map[string][]byte{}
	if dir == "" {
		return cms, secs, nil
	}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !slices.Contains([]string{".yaml", ".yml", ".json"}, filepath.Ext(path)) {
			return err
		}
		data, err := readBounded(path)
		if err != nil {
			return err
		}
		for i, doc := range strings.Split(string(data), "\n---") {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			if err := addResource(cms, secs, []byte(doc)); err != nil {
				return fmt.Errorf("%s: document %d: %w", path, i+1, err)
			}
		}
		return nil
	})
	return cms, secs, err
}

// addResource decodes one ConfigMap or Secret manifest strictly.
func addResource(cms map[string]customrules.ConfigMap, secs map[string]map[string][]byte, doc []byte) error {
	var head struct{ Kind string }
	if err := yaml.Unmarshal(doc, &head); err != nil {
		return err
	}
	switch head.Kind {
	case "ConfigMap":
		var cm corev1.ConfigMap
		if err := yaml.UnmarshalStrict(doc, &cm); err != nil {
			return err
		}
		if _, dup := cms[cm.Name]; dup || cm.Name == "" {
			return fmt.Errorf("a ConfigMap named %q is unnamed or defined twice", cm.Name)
		}
		cms[cm.Name] = customrules.ConfigMap{Name: cm.Name, Data: cm.Data, BinaryData: cm.BinaryData}
	case "Secret":
		var s corev1.Secret
		if err := yaml.UnmarshalStrict(doc, &s); err != nil {
			return err
		}
		if _, dup := secs[s.Name]; dup || s.Name == "" {
			return fmt.Errorf("a Secret named %q is unnamed or defined twice", s.Name)
		}
		data := map[string][]byte{}
		for k, v := range s.Data {
			data[k] = v
		}
		for k, v := range s.StringData {
			data[k] = []byte(v)
		}
		secs[s.Name] = data
	default:
		return fmt.Errorf("kind %q: want a ConfigMap or a Secret", head.Kind)
	}
	return nil
}

func readPins(path string) ([]servicev1alpha1.PinnedRuleset, error) {
	data, err := readBounded(path)
	if err != nil {
		return nil, err
	}
	var pins []servicev1alpha1.PinnedRuleset
	if err := yaml.UnmarshalStrict(data, &pins); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if pins == nil {
		pins = []servicev1alpha1.PinnedRuleset{}
	}
	return pins, nil
}

// readBase reads the rules files of each path (a file, or a ruleset folder
// in its manifest's order).
func readBase(paths []string) ([]*rules.Source, error) {
	var out []*rules.Source
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			src, err := rules.ReadSource(p)
			if err != nil {
				return nil, err
			}
			out = append(out, src)
			continue
		}
		rd, fs := rules.ReadManifest(p)
		if fs.Errors() > 0 {
			return nil, errors.Join(fs)
		}
		for _, f := range rd.Paths {
			src, err := rules.ReadSource(f)
			if err != nil {
				return nil, err
			}
			out = append(out, src)
		}
	}
	if out == nil && len(paths) > 0 {
		return []*rules.Source{}, nil
	}
	return out, nil
}

// inline fetches and verifies the pinned rulesets, as the extension does in
// inline mode, and prepares again with their files.
func (o *renderOptions) inline(cmd *cobra.Command, req deploy.Request, in deploy.Inputs) (deploy.Inputs, error) {
	c, err := o.transport.client()
	if err != nil {
		return in, err
	}
	reg := &extension.Registry{Client: c, PublicKey: []byte(req.Operator.Rules.CosignPublicKey)}
	err = o.transport.within(cmd.Context(), func(ctx context.Context) error {
		req.Files, err = reg.Files(ctx, deploy.Pins(in))
		return err
	})
	switch {
	case errors.Is(err, oci.ErrSignature), errors.Is(err, oci.ErrNotFound):
		return in, badInput(err)
	case err != nil:
		return in, err
	}
	if in, err = deploy.Prepare(req); err != nil {
		return in, badInput(err)
	}
	return in, nil
}

// sidekickPreview is falcosidekick as the extension deploys it, with
// placeholders where the extension puts the certificates it keeps in the
// seed and the destination Secrets it reads there.
func sidekickPreview(prof *lifecycle.Profile, u *unstructured.Unstructured, resourceSecrets map[string]map[string][]byte, ingressDomain string) *deploy.Sidekick {
	image := ""
	for _, v := range prof.FalcosidekickVersions() {
		if v.Classification == "supported" {
			image = v.Image
		}
	}
	certs := map[string][]byte{}
	for _, k := range []string{secrets.KeyServerCA, secrets.KeyClientCA, secrets.KeyServerCert, secrets.KeyServerKey, secrets.KeyClientCert, secrets.KeyClientKey} {
		certs[k] = []byte("<made and renewed by falcops-extension in the seed>\n")
	}
	id, _, _ := unstructured.NestedString(u.Object, "status", "clusterIdentity")
	// Destinations name spec.resources entries; the manifests are by Secret name.
	byResource := map[string]map[string][]byte{}
	res, _, _ := unstructured.NestedSlice(u.Object, "spec", "resources")
	for _, e := range res {
		m, _ := e.(map[string]any)
		ref, _ := m["resourceRef"].(map[string]any)
		name, _ := m["name"].(string)
		refName, _ := ref["name"].(string)
		if data, ok := resourceSecrets[refName]; ok && ref["kind"] == "Secret" {
			byResource[name] = data
		}
	}
	// The extension mints the tokens; their place holds what it puts there.
	return &deploy.Sidekick{Image: image, Certs: certs, ClusterID: id, TokenRenewed: "<the token requestor's renewal time>",
		Destinations: deploy.Destinations{Secrets: byResource, ShortID: strings.TrimPrefix(u.GetNamespace(), "garden-") + "--" + u.GetName(), IngressDomain: ingressDomain,
			CentralToken: "<JWT minted by falcops-extension>", ClusterIdentityToken: "<JWT minted by falcops-extension>"}}
}
