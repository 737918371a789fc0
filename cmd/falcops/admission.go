package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	"sigs.k8s.io/yaml"

	configv1alpha1 "github.com/falcops/falcops/api/config/v1alpha1"
	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	"github.com/falcops/falcops/lifecycle"
	"github.com/falcops/falcops/rollout"
	"github.com/falcops/falcops/rules"
	"github.com/falcops/falcops/webhooks"
)

// exitUndecided: the review could not be decided (bad review, a webhook
// error that is not a refusal).
const exitUndecided = 2

type admissionOptions struct {
	file, shoot, old, profiles, garden, config, webhook, user, controllerUser, output string
	base                                                                              []string
}

func newAdmissionCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admission",
		Short: "Run falcops' admission webhooks offline",
	}
	cmd.AddCommand(newAdmissionReviewCmd())
	return cmd
}

func newAdmissionReviewCmd() *cobra.Command {
	o := &admissionOptions{}
	cmd := &cobra.Command{
		Use:   "review (--file REVIEW.json|- | --shoot SHOOT.yaml [--old OLD.yaml]) --profiles PATH [--garden FILE] [--config FILE] [--webhook mutate|validate|both] [-o text|json]",
		Short: "Answer an admission request exactly as falcops-controller's webhooks would",
		Long: `Run the Shoot mutating and validating webhooks (or the FalcoProfile
webhook, for a FalcoProfile) of falcops-controller on one request, offline,
with the same code: "why was my shoot refused?"

The request is --file, an admission.k8s.io/v1 AdmissionReview with its
request (- reads stdin), or --shoot, a Shoot (or Seed, or FalcoProfile)
manifest: a CREATE, or an UPDATE from --old. --webhook both (the default)
mutates first and validates the patched object, as the API server does.

What the webhooks read from the garden comes from files: --profiles (the
FalcoProfiles, a file or folder), --garden (a YAML stream or List of
Namespaces, Projects, ConfigMaps, Secrets, RuleSources and ShootRollouts)
and --config (the operator configuration: restrictedUsage,
restrictedCentralizedLogging, otlpLogging, globalDefaultDestinations;
Gardener's defaults without it). Custom rules ConfigMaps found in --garden
are checked on top of the rules files in --base, at the engine of the
shoot's Falco version.

Output: -o text (the verdict, the message, the warnings and the patched
providerConfig) or -o json (the response AdmissionReview; with both, the
mutator's patch and the validator's verdict).

Exit codes: 0 allowed, 1 denied, 2 could not decide (bad input, or a webhook
error that is not a refusal).`,
		Example: `  falcops admission review --shoot shoot.yaml --profiles profiles/
  falcops admission review --shoot shoot.yaml --old before.yaml --profiles profiles/ --garden garden.yaml --config operator.yaml
  kubectl get --raw ... | falcops admission review --file - --profiles profiles/ -o json`,
		Args:          cobra.NoArgs,
		SilenceErrors: true,
		RunE:          func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	f := cmd.Flags()
	f.StringVar(&o.file, "file", "", "an admission.k8s.io/v1 AdmissionReview with request, JSON or YAML (- for stdin)")
	f.StringVar(&o.shoot, "shoot", "", "the object under review: a Shoot, Seed or FalcoProfile manifest")
	f.StringVar(&o.old, "old", "", "the object before the change: the request is an UPDATE (with --shoot)")
	f.StringVar(&o.profiles, "profiles", "", "FalcoProfile file or folder (required)")
	f.StringVar(&o.garden, "garden", "", "YAML stream or List of the garden objects the webhooks read")
	f.StringVar(&o.config, "config", "", "operator configuration (config.falcops.io/v1alpha1 Configuration); default: Gardener's defaults")
	f.StringVar(&o.webhook, "webhook", "both", "which webhooks: mutate, validate or both")
	f.StringVar(&o.user, "user", "shoot-owner", "the requesting user's name (with --shoot); rules.pinned may be changed only by the controller's")
	f.StringVar(&o.controllerUser, "controller-user", "system:serviceaccount:falcops-system:falcops-controller", "the falcops-controller username the pins check trusts")
	f.StringSliceVar(&o.base, "base", nil, "rules files or ruleset folders custom rules load after (repeatable)")
	f.StringVarP(&o.output, "output", "o", "text", "output format: text or json")
	return cmd
}

func (o *admissionOptions) run(cmd *cobra.Command) error {
	switch {
	case o.output != "text" && o.output != "json":
		return usageError("-o %q: want text or json", o.output)
	case !slices.Contains([]string{"mutate", "validate", "both"}, o.webhook):
		return usageError("--webhook %q: want mutate, validate or both", o.webhook)
	case (o.file == "") == (o.shoot == ""):
		return usageError("give either --file or --shoot")
	case o.old != "" && o.shoot == "":
		return usageError("--old goes with --shoot")
	case o.profiles == "":
		return usageError("--profiles is required")
	}
	req, err := o.request(cmd.InOrStdin())
	if err != nil {
		return err
	}
	opts, err := o.options()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
	defer cancel()
	res := webhooks.Review(ctx, opts, req, o.webhook)
	if o.output == "json" {
		out, err := json.MarshalIndent(admissionv1.AdmissionReview{TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
			Response: &res.Response.AdmissionResponse}, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintln(cmd.OutOrStdout(), string(out))
	} else {
		printReview(cmd.OutOrStdout(), res)
	}
	switch {
	case res.Response.Allowed:
		return nil
	case res.Decided():
		return errFindings
	}
	return &exitError{code: exitUndecided}
}

// exitError exits with code and prints nothing more.
type exitError struct{ code int }

func (e *exitError) Error() string { return "" }

func printReview(w io.Writer, r webhooks.Reviewed) {
	res := r.Response
	if res.Allowed {
		fmt.Fprintln(w, "allowed")
	} else {
		fmt.Fprintln(w, "denied")
	}
	if res.Result != nil && res.Result.Message != "" {
		fmt.Fprintln(w, res.Result.Message)
	}
	for _, warning := range res.Warnings {
		fmt.Fprintln(w, "warning:", warning)
	}
	if len(res.Patch) > 0 {
		var ops []map[string]any
		_ = json.Unmarshal(res.Patch, &ops)
		fmt.Fprintf(w, "patch: %d %s\n", len(ops), pluralWord(len(ops), "operation", "operations"))
	}
	if pc := providerConfig(r.Patched); pc != "" {
		fmt.Fprint(w, "providerConfig:\n"+pc)
	}
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// providerConfig is the Falco extension's providerConfig of raw, indented
// YAML; "" when there is none.
func providerConfig(raw []byte) string {
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(raw); err != nil {
		return ""
	}
	exts, _, _ := unstructured.NestedSlice(u.Object, "spec", "extensions")
	for _, e := range exts {
		m, _ := e.(map[string]any)
		if m["type"] != servicev1alpha1.Type || m["providerConfig"] == nil {
			continue
		}
		out, err := yaml.Marshal(m["providerConfig"])
		if err != nil {
			return ""
		}
		return "  " + strings.ReplaceAll(strings.TrimSuffix(string(out), "\n"), "\n", "\n  ") + "\n"
	}
	return ""
}

// request reads the AdmissionReview of --file, or makes one of --shoot and
// --old.
func (o *admissionOptions) request(stdin io.Reader) (admission.Request, error) {
	if o.file != "" {
		var data []byte
		var err error
		if o.file == "-" {
			data, err = io.ReadAll(io.LimitReader(stdin, maxInputFile+1))
			if len(data) > maxInputFile {
				err = fmt.Errorf("stdin: more than the %d bytes falcops reads", maxInputFile)
			}
		} else {
			data, err = readBounded(o.file)
		}
		if err != nil {
			return admission.Request{}, badInput(err)
		}
		js, err := utilyaml.ToJSON(data)
		if err != nil {
			return admission.Request{}, badInput(fmt.Errorf("%s: %w", o.file, err))
		}
		var ar admissionv1.AdmissionReview
		if err := json.Unmarshal(js, &ar); err != nil {
			return admission.Request{}, badInput(fmt.Errorf("%s: not an AdmissionReview: %w", o.file, err))
		}
		if ar.Request == nil {
			return admission.Request{}, badInput(fmt.Errorf("%s: the AdmissionReview has no request", o.file))
		}
		return admission.Request{AdmissionRequest: *ar.Request}, nil
	}
	obj, err := readObjectJSON(o.shoot)
	if err != nil {
		return admission.Request{}, badInput(err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(obj); err != nil {
		return admission.Request{}, badInput(fmt.Errorf("%s: %w", o.shoot, err))
	}
	gvk := u.GroupVersionKind()
	if !slices.Contains([]string{"Shoot", "Seed", "FalcoProfile"}, gvk.Kind) {
		return admission.Request{}, badInput(fmt.Errorf("%s: kind %q: want a Shoot, Seed or FalcoProfile", o.shoot, gvk.Kind))
	}
	req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID:       "falcops-admission-review",
		Kind:      metav1.GroupVersionKind{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind},
		Name:      u.GetName(),
		Namespace: u.GetNamespace(),
		Operation: admissionv1.Create,
		Object:    runtime.RawExtension{Raw: obj},
		UserInfo:  authenticationv1.UserInfo{Username: o.user},
	}}
	if o.old != "" {
		old, err := readObjectJSON(o.old)
		if err != nil {
			return admission.Request{}, badInput(err)
		}
		req.Operation, req.OldObject = admissionv1.Update, runtime.RawExtension{Raw: old}
	}
	return req, nil
}

func readObjectJSON(path string) ([]byte, error) {
	data, err := readBounded(path)
	if err != nil {
		return nil, err
	}
	js, err := utilyaml.ToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return js, nil
}

// options builds the webhooks' options over an in-memory garden of the
// given files.
func (o *admissionOptions) options() (*webhooks.Options, error) {
	objs, err := readProfileObjects(o.profiles)
	if err != nil {
		return nil, badInput(err)
	}
	if len(objs) > 0 { // none: the profiles, if any, are in --garden
		if _, err := lifecycle.Load(o.profiles); err != nil {
			return nil, badInput(err) // file:line:col of what is wrong
		}
	}
	if o.garden != "" {
		more, err := readObjects(o.garden)
		if err != nil {
			return nil, badInput(err)
		}
		objs = append(objs, more...)
	}
	garden, err := webhooks.OfflineGarden(objs)
	if err != nil {
		return nil, badInput(err)
	}
	op := &configv1alpha1.Configuration{}
	if o.config != "" {
		data, err := readBounded(o.config)
		if err != nil {
			return nil, badInput(err)
		}
		if op, err = configv1alpha1.Decode(data); err != nil {
			return nil, badInput(fmt.Errorf("%s: %w", o.config, err))
		}
	}
	configv1alpha1.Default(op)
	opts := &webhooks.Options{Operator: op, Garden: garden, ConfigMaps: garden, ControllerUser: o.controllerUser,
		Inputs: webhooks.CachedInputs(garden, &rollout.InputsCache{Operator: op})}
	if len(o.base) > 0 {
		base, err := readBase(o.base)
		if err != nil {
			return nil, badInput(err)
		}
		opts.Base = func(context.Context, []string, []servicev1alpha1.PinnedRuleset) ([]*rules.Source, error) {
			return base, nil
		}
	}
	return opts, nil
}

// readProfileObjects reads the FalcoProfile objects of a file or folder.
func readProfileObjects(path string) ([]*unstructured.Unstructured, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	files := []string{path}
	if st.IsDir() {
		if files, err = filepath.Glob(filepath.Join(path, "*.yaml")); err != nil {
			return nil, err
		}
	}
	var out []*unstructured.Unstructured
	for _, f := range files {
		objs, err := readObjects(f)
		if err != nil {
			return nil, err
		}
		for _, u := range objs {
			if u.GetKind() == "FalcoProfile" {
				out = append(out, u)
			}
		}
	}
	return out, nil
}

// readObjects reads a YAML stream of objects; a List is expanded.
func readObjects(path string) ([]*unstructured.Unstructured, error) {
	data, err := readBounded(path)
	if err != nil {
		return nil, err
	}
	var out []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var m map[string]any
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if m == nil {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.IsList() {
			l, err := u.ToList()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			for i := range l.Items {
				out = append(out, &l.Items[i])
			}
			continue
		}
		out = append(out, u)
	}
}
