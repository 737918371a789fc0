package extension

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	gardencorev1beta1 "github.com/gardener/gardener/pkg/apis/core/v1beta1"
	extensionsv1alpha1 "github.com/gardener/gardener/pkg/apis/extensions/v1alpha1"
	resourcesv1alpha1 "github.com/gardener/gardener/pkg/apis/resources/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	configv1alpha1 "github.com/falcops/falcops/api/config/v1alpha1"
	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/customrules"
	"github.com/falcops/falcops/deploy"
	"github.com/falcops/falcops/lifecycle"
)

// Finalizer is Gardener's finalizer name for this extension type.
const Finalizer = "extensions.gardener.cloud/" + servicev1alpha1.Type

// The gardener.cloud/operation annotation and its values.
const (
	operationAnnotation = "gardener.cloud/operation"
	opReconcile         = "reconcile"
	opMigrate           = "migrate"
	opRestore           = "restore"
)

// Sources is where the reconciler reads what is not in the seed.
type Sources interface {
	// Profile is the verified FalcoProfile.
	Profile(ctx context.Context) (*lifecycle.Profile, error)
	// Files are the verified files of each pin, by ruleset name.
	Files(ctx context.Context, pins []servicev1alpha1.PinnedRuleset) (map[string]map[string][]byte, error)
}

// Reconciler reconciles Extensions of type shoot-falco-service.
type Reconciler struct {
	Client   client.Client
	Operator *configv1alpha1.Configuration
	Sources  Sources
	Clock    clock.PassiveClock
	// Health, when set, checks the shoot's Falco after each reconcile and
	// every HealthInterval.
	Health         *Health
	HealthInterval time.Duration
	// Namespace is the extension's own namespace, where the operator
	// configuration's rules.credentialsSecret lives.
	Namespace string
	// Keys sign the central and cluster-identity tokens, when the
	// operator configured them (LoadKeys).
	Keys Keys
}

// SetupWithManager registers the reconciler: a change of the spec, of an
// annotation or a deletion starts a reconcile; status writes do not.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, opts controller.Options) error {
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	if r.HealthInterval == 0 {
		r.HealthInterval = time.Minute
	}
	return ctrl.NewControllerManagedBy(mgr).Named("extension").WithOptions(opts).
		For(&extensionsv1alpha1.Extension{}, builder.WithPredicates(
			predicate.NewPredicateFuncs(func(o client.Object) bool {
				e, ok := o.(*extensionsv1alpha1.Extension)
				return ok && e.Spec.Type == servicev1alpha1.Type
			}),
			predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Complete(r)
}

// Reconcile runs one step of the Extension contract.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	ext := &extensionsv1alpha1.Extension{}
	if err := r.Client.Get(ctx, req.NamespacedName, ext); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if ext.Spec.Type != servicev1alpha1.Type {
		return ctrl.Result{}, nil
	}
	op := ext.Annotations[operationAnnotation]
	switch {
	case ext.DeletionTimestamp != nil:
		return r.delete(ctx, ext, gardencorev1beta1.LastOperationTypeDelete, true)
	case op == opMigrate:
		return r.delete(ctx, ext, gardencorev1beta1.LastOperationTypeMigrate, false)
	}
	if lo := ext.Status.LastOperation; op == "" && lo != nil && lo.State == gardencorev1beta1.LastOperationStateSucceeded &&
		ext.Status.ObservedGeneration == ext.Generation {
		// Nothing asks for a reconcile (gardenlet annotates the Extension
		// when the shoot changes): only the health check is due, and a
		// renewal (certificates, tokens) when its time has come; nothing for
		// a shoot migrated away.
		if lo.Type == gardencorev1beta1.LastOperationTypeMigrate {
			return ctrl.Result{}, nil
		}
		due, err := r.renewalDue(ctx, ext.Namespace)
		if err != nil {
			return ctrl.Result{}, err
		}
		if !due {
			if r.Health == nil {
				return ctrl.Result{RequeueAfter: r.HealthInterval}, nil
			}
			return ctrl.Result{RequeueAfter: r.HealthInterval}, r.checkHealth(ctx, ext)
		}
	}
	kind := gardencorev1beta1.LastOperationTypeReconcile
	switch {
	case op == opRestore:
		kind = gardencorev1beta1.LastOperationTypeRestore
	case ext.Status.LastOperation == nil:
		kind = gardencorev1beta1.LastOperationTypeCreate
	}
	if !controllerutil.ContainsFinalizer(ext, Finalizer) {
		patch := client.MergeFrom(ext.DeepCopy())
		controllerutil.AddFinalizer(ext, Finalizer)
		if err := r.Client.Patch(ctx, ext, patch); err != nil {
			return ctrl.Result{}, err
		}
	}
	shoot, err := r.shoot(ctx, ext)
	if err != nil {
		return ctrl.Result{}, r.fail(ctx, ext, kind, err)
	}
	if hibernated(shoot) {
		return ctrl.Result{}, r.succeed(ctx, ext, kind, "the shoot is hibernated: nothing changed")
	}
	out, err := r.render(ctx, ext, shoot)
	if err != nil {
		return ctrl.Result{}, r.fail(ctx, ext, kind, err)
	}
	if err := r.write(ctx, ext.Namespace, out); err != nil {
		return ctrl.Result{}, r.fail(ctx, ext, kind, err)
	}
	msg := "Falco deployed"
	if len(out.missing) > 0 {
		msg = fmt.Sprintf("Falco deployed; no rules of %v yet: waiting for the controller to pin them", out.missing)
	}
	for _, w := range out.warnings {
		msg += "; warning: " + w
	}
	if err := r.succeed(ctx, ext, kind, msg); err != nil {
		return ctrl.Result{}, err
	}
	if r.Health == nil {
		return ctrl.Result{RequeueAfter: r.HealthInterval}, nil
	}
	return ctrl.Result{RequeueAfter: r.HealthInterval}, r.checkHealth(ctx, ext)
}

// The shoot ManagedResource's annotations that say when a reconcile is
// due without a change of the Extension.
const (
	annotationRenewAt      = "falcops.io/renew-at"
	annotationTokenRenewed = "falcops.io/token-renewed"
	// tokenRenewTimestamp is where the token requestor says when it renews.
	tokenRenewTimestamp = "serviceaccount.resources.gardener.cloud/token-renew-timestamp"
)

// rendered is one reconcile's output.
type rendered struct {
	shoot, seed  []byte // seed nil: no seed ManagedResource
	missing      []string
	warnings     []string
	renewAt      time.Time // the next certificate or token renewal
	tokenRenewed string    // the token requestor's timestamp rendered
}

// write writes both ManagedResources (removing the seed's when nothing
// needs it), recording when the next renewal is due.
func (r *Reconciler) write(ctx context.Context, namespace string, out rendered) error {
	if out.seed != nil {
		if err := seedMR.write(ctx, r.Client, namespace, out.seed, nil); err != nil {
			return err
		}
	} else if _, err := seedMR.remove(ctx, r.Client, namespace, false); err != nil {
		return err
	}
	annotations := map[string]string{annotationTokenRenewed: out.tokenRenewed, annotationRenewAt: ""}
	if !out.renewAt.IsZero() {
		annotations[annotationRenewAt] = out.renewAt.UTC().Format(time.RFC3339)
	}
	return shootMR.write(ctx, r.Client, namespace, out.shoot, annotations)
}

// renewalDue reports whether a certificate or token is due, or the token
// requestor renewed the service account's token since the last render
// (falcosidekick must roll to read it).
func (r *Reconciler) renewalDue(ctx context.Context, namespace string) (bool, error) {
	mr := &resourcesv1alpha1.ManagedResource{}
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: ShootManagedResource}, mr); err != nil {
		return false, client.IgnoreNotFound(err)
	}
	if at, err := time.Parse(time.RFC3339, mr.Annotations[annotationRenewAt]); err == nil && !r.Clock.Now().Before(at) {
		return true, nil
	}
	renewed, err := r.tokenRenewed(ctx, namespace)
	return renewed != mr.Annotations[annotationTokenRenewed], err
}

// tokenRenewed is the token requestor's renew timestamp on the seed's
// token Secret, "" while there is none.
func (r *Reconciler) tokenRenewed(ctx context.Context, namespace string) (string, error) {
	s := &corev1.Secret{}
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: deploy.TokenSecretSeed}, s)
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	return s.Annotations[tokenRenewTimestamp], err
}

// shoot reads the Shoot of the Cluster resource, with the Extension's
// providerConfig in place of the Shoot's (gardenlet copies it there; the
// Extension is what this controller is asked to serve).
func (r *Reconciler) shoot(ctx context.Context, ext *extensionsv1alpha1.Extension) (*unstructured.Unstructured, error) {
	cluster := &extensionsv1alpha1.Cluster{}
	if err := r.Client.Get(ctx, client.ObjectKey{Name: ext.Namespace}, cluster); err != nil {
		return nil, fmt.Errorf("cluster %s: %w", ext.Namespace, err)
	}
	u := &unstructured.Unstructured{}
	if err := json.Unmarshal(cluster.Spec.Shoot.Raw, &u.Object); err != nil {
		return nil, fmt.Errorf("cluster %s: spec.shoot: %w", ext.Namespace, err)
	}
	exts, _, _ := unstructured.NestedSlice(u.Object, "spec", "extensions")
	for i, e := range exts {
		m, _ := e.(map[string]any)
		if m["type"] != servicev1alpha1.Type {
			continue
		}
		delete(m, "providerConfig")
		if ext.Spec.ProviderConfig != nil && len(ext.Spec.ProviderConfig.Raw) > 0 {
			var pc map[string]any
			if err := json.Unmarshal(ext.Spec.ProviderConfig.Raw, &pc); err != nil {
				return nil, fmt.Errorf("providerConfig: %w", err)
			}
			m["providerConfig"] = pc
		}
		exts[i] = m
	}
	if err := unstructured.SetNestedSlice(u.Object, exts, "spec", "extensions"); err != nil {
		return nil, err
	}
	return u, nil
}

func hibernated(u *unstructured.Unstructured) bool {
	on, _, _ := unstructured.NestedBool(u.Object, "spec", "hibernation", "enabled")
	return on
}

// render gathers the inputs and renders the shoot's objects, and the
// seed's for falcosidekick, as YAML streams.
func (r *Reconciler) render(ctx context.Context, ext *extensionsv1alpha1.Extension, shoot *unstructured.Unstructured) (rendered, error) {
	var out rendered
	prof, err := r.Sources.Profile(ctx)
	if err != nil {
		return out, fmt.Errorf("falco-profiles: %w", err)
	}
	cms, err := r.configMaps(ctx, ext.Namespace, shoot)
	if err != nil {
		return out, err
	}
	req := deploy.Request{Shoot: shoot, Profile: prof, Operator: r.Operator, Now: r.Clock.Now(), ConfigMaps: cms}
	// Defaults first, to know the pins; then the verified files: the base
	// the custom rules are validated on, and the inline ConfigMaps.
	in, err := deploy.Prepare(req)
	if err != nil {
		return out, err
	}
	pins := deploy.Pins(in)
	if len(pins) > 0 {
		files, err := r.Sources.Files(ctx, pins)
		if err != nil {
			return out, err
		}
		req.Files = files
		req.Base = customrules.Base(servicev1alpha1.PinNames(pins), files)
		if req.Logins, err = r.logins(ctx, pins); err != nil {
			return out, err
		}
		if in, err = deploy.Prepare(req); err != nil {
			return out, err
		}
	}
	if deploy.NeedsSidekick(in.Config) {
		if in.Sidekick, out.renewAt, err = r.sidekick(ctx, ext.Namespace, shoot, prof); err != nil {
			return out, err
		}
		out.tokenRenewed = in.Sidekick.TokenRenewed
		outputs, err := deploy.SidekickOutputs(in.Config, in.Operator, in.Sidekick.Destinations)
		if err != nil {
			return out, err
		}
		out.warnings = deploy.Warnings(outputs)
	}
	objs, err := deploy.Render(in)
	if err != nil {
		return out, err
	}
	if out.shoot, err = deploy.YAML(objs); err != nil {
		return out, err
	}
	seedObjs, err := deploy.SeedObjects(in, ext.Namespace)
	if err != nil {
		return out, err
	}
	if len(seedObjs) > 0 {
		if out.seed, err = deploy.YAML(seedObjs); err != nil {
			return out, err
		}
	}
	out.missing = deploy.Missing(in)
	return out, nil
}

// logins are falcoctl's registry logins: the operator's credentials
// Secret (keys username and password) for each registry the pins name.
func (r *Reconciler) logins(ctx context.Context, pins []servicev1alpha1.PinnedRuleset) ([]artifacts.Login, error) {
	name := r.Operator.Rules.CredentialsSecret
	if name == "" {
		return nil, nil
	}
	s := &corev1.Secret{}
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: r.Namespace, Name: name}, s); err != nil {
		return nil, fmt.Errorf("rules.credentialsSecret %s/%s: %w", r.Namespace, name, err)
	}
	var out []artifacts.Login
	for _, p := range pins {
		host, _, _ := strings.Cut(p.Ref, "/")
		if !slices.ContainsFunc(out, func(l artifacts.Login) bool { return l.Registry == host }) {
			out = append(out, artifacts.Login{Registry: host, User: string(s.Data["username"]), Password: string(s.Data["password"])})
		}
	}
	return out, nil
}

// base are the pinned files in load order, as rules sources.

// configMaps reads the ConfigMaps spec.resources names, which gardenlet
// copies into the shoot namespace as ref-<name>.
func (r *Reconciler) configMaps(ctx context.Context, namespace string, shoot *unstructured.Unstructured) (map[string]customrules.ConfigMap, error) {
	out := map[string]customrules.ConfigMap{}
	res, _, _ := unstructured.NestedSlice(shoot.Object, "spec", "resources")
	for _, e := range res {
		m, _ := e.(map[string]any)
		ref, _ := m["resourceRef"].(map[string]any)
		if ref["kind"] != "ConfigMap" {
			continue
		}
		name, _ := ref["name"].(string)
		cm := &corev1.ConfigMap{}
		err := r.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "ref-" + name}, cm)
		switch {
		case apierrors.IsNotFound(err):
			continue // Prepare names the custom rule that needs it
		case err != nil:
			return nil, err
		}
		out[name] = customrules.ConfigMap{Name: "ref-" + name, Data: cm.Data, BinaryData: cm.BinaryData}
	}
	return out, nil
}

// delete removes the ManagedResources (keeping the shoot's objects when
// migrating), waits until they are gone, removes the certificates and
// tokens, then drops the finalizer (delete) or the operation annotation
// (migrate).
func (r *Reconciler) delete(ctx context.Context, ext *extensionsv1alpha1.Extension, kind gardencorev1beta1.LastOperationType, finalize bool) (ctrl.Result, error) {
	all := true
	for _, m := range []managed{shootMR, seedMR} {
		gone, err := m.remove(ctx, r.Client, ext.Namespace, !finalize && m == shootMR)
		if err != nil {
			return ctrl.Result{}, err
		}
		all = all && gone
	}
	if !all {
		if err := r.setStatus(ctx, ext, kind, gardencorev1beta1.LastOperationStateProcessing, "waiting for the ManagedResources to be deleted", nil); err != nil {
			return ctrl.Result{}, err
		}
		return ctrl.Result{RequeueAfter: 2 * time.Second}, nil
	}
	for _, name := range []string{CertificatesSecret, TokensSecret} {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ext.Namespace, Name: name}}
		if err := r.Client.Delete(ctx, s); client.IgnoreNotFound(err) != nil {
			return ctrl.Result{}, err
		}
	}
	if finalize {
		patch := client.MergeFrom(ext.DeepCopy())
		controllerutil.RemoveFinalizer(ext, Finalizer)
		return ctrl.Result{}, client.IgnoreNotFound(r.Client.Patch(ctx, ext, patch))
	}
	// The status first: the event of the annotation's removal must find
	// the migration done, even in a cache that is a step behind.
	if err := r.setStatus(ctx, ext, kind, gardencorev1beta1.LastOperationStateSucceeded, "migrated: the ManagedResource is gone, the shoot's objects are kept", nil); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, r.dropOperation(ctx, ext)
}

// dropOperation removes the gardener.cloud/operation annotation.
func (r *Reconciler) dropOperation(ctx context.Context, ext *extensionsv1alpha1.Extension) error {
	if _, ok := ext.Annotations[operationAnnotation]; !ok {
		return nil
	}
	patch := client.MergeFrom(ext.DeepCopy())
	delete(ext.Annotations, operationAnnotation)
	return client.IgnoreNotFound(r.Client.Patch(ctx, ext, patch))
}

func (r *Reconciler) succeed(ctx context.Context, ext *extensionsv1alpha1.Extension, kind gardencorev1beta1.LastOperationType, msg string) error {
	if err := r.setStatus(ctx, ext, kind, gardencorev1beta1.LastOperationStateSucceeded, msg, nil); err != nil {
		return err
	}
	if op := ext.Annotations[operationAnnotation]; op == opReconcile || op == opRestore {
		return r.dropOperation(ctx, ext)
	}
	return nil
}

// fail records err in the status. Invalid inputs are not retried: the
// next change of the Extension starts a new attempt; other errors are.
func (r *Reconciler) fail(ctx context.Context, ext *extensionsv1alpha1.Extension, kind gardencorev1beta1.LastOperationType, err error) error {
	if serr := r.setStatus(ctx, ext, kind, gardencorev1beta1.LastOperationStateError, err.Error(), err); serr != nil {
		return serr
	}
	if errors.Is(err, deploy.ErrInputs) || errors.Is(err, deploy.ErrNoFalco) {
		return nil
	}
	return err
}

// maxDescription keeps status texts well below the API's limits.
const maxDescription = 4 << 10

func (r *Reconciler) setStatus(ctx context.Context, ext *extensionsv1alpha1.Extension, kind gardencorev1beta1.LastOperationType,
	state gardencorev1beta1.LastOperationState, msg string, err error) error {
	if len(msg) > maxDescription {
		msg = msg[:maxDescription] + "..."
	}
	patch := client.MergeFrom(ext.DeepCopy())
	now := metav1.NewTime(r.Clock.Now())
	progress := int32(100)
	if state == gardencorev1beta1.LastOperationStateProcessing {
		progress = 50
	}
	ext.Status.LastOperation = &gardencorev1beta1.LastOperation{Type: kind, State: state, Description: msg, LastUpdateTime: now, Progress: progress}
	ext.Status.LastError = nil
	if err != nil {
		ext.Status.LastError = &gardencorev1beta1.LastError{Description: msg, LastUpdateTime: &now}
	}
	if state != gardencorev1beta1.LastOperationStateProcessing {
		ext.Status.ObservedGeneration = ext.Generation
	}
	return client.IgnoreNotFound(r.Client.Status().Patch(ctx, ext, patch))
}
