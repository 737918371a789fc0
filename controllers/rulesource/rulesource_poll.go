package rulesource

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"time"

	digest "github.com/opencontainers/go-digest"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/internal/reconcile"
	"github.com/falcops/falcops/oci"
)

// MinBackoff is the wait after the first failed poll; it doubles with each
// further failure, up to the interval.
const MinBackoff = 2 * time.Second

var followRe = regexp.MustCompile(`^(latest|[0-9]+(\.[0-9]+)?)$`)

// scope is what one reconcile works with and observes. The phases fill it;
// finish computes the status from it.
type scope struct {
	obj  *falcopsv1alpha1.RuleSource
	orig *falcopsv1alpha1.RuleSource
	memo *memo
	now  metav1.Time

	// Settings with defaults applied.
	repo, follow, ref string
	interval          time.Duration
	history           int
	insecure          bool
	insecureRemote    bool
	// secret and keyName locate the key when it is not inline.
	secret  types.NamespacedName
	keyName string
	// credentials names the dockerconfigjson Secret, if any.
	credentials types.NamespacedName
	// client is the registry client of this RuleSource.
	client *oci.Client

	// key is the PEM public key.
	key    []byte
	keySum [32]byte
	// keyProblem says why there is no usable key.
	keyProblem string

	// head is the digest the followed tag resolved to.
	head digest.Digest
	// tagNotFound: the followed tag does not exist.
	tagNotFound bool
	// unavailable is the registry failure of this poll; the status data
	// stays as it was.
	unavailable error
	// headVersion is the verified version of head; headRejected why head
	// was refused.
	headVersion  *falcopsv1alpha1.RulesetVersion
	headRejected *falcopsv1alpha1.RejectedDigest
	// rebuilt: versions were rebuilt from the repository's tags.
	rebuilt bool

	// commit: the poll completed and versions, latest and rejected below
	// replace the status'.
	commit   bool
	versions []falcopsv1alpha1.RulesetVersion
	latest   *falcopsv1alpha1.RulesetVersion
	rejected *falcopsv1alpha1.RejectedDigest
}

func (r *Reconciler) newScope(obj *falcopsv1alpha1.RuleSource) *scope {
	spec := obj.Spec
	s := &scope{
		obj:      obj,
		orig:     obj.DeepCopy(),
		memo:     r.memo(obj.Name),
		now:      metav1.NewTime(r.Clock.Now()),
		repo:     spec.Repository,
		follow:   spec.Follow,
		interval: r.DefaultInterval,
		history:  DefaultHistory,
		insecure: spec.Insecure,
	}
	s.insecureRemote = spec.AllowInsecureRemote
	if ref := spec.Verify.SecretRef; ref != nil {
		s.secret = types.NamespacedName{Namespace: r.SecretNamespace, Name: ref.Name}
		s.keyName = ref.Key
	}
	if ref := spec.CredentialsSecretRef; ref != nil {
		s.credentials = types.NamespacedName{Namespace: r.SecretNamespace, Name: ref.Name}
	}
	if s.follow == "" {
		s.follow = "latest"
	}
	s.ref = s.repo + ":" + s.follow
	if spec.Interval != nil && spec.Interval.Duration > 0 {
		s.interval = spec.Interval.Duration
	}
	if spec.History != nil && *spec.History > 0 {
		s.history = int(*spec.History)
	}
	if s.keyName == "" {
		s.keyName = DefaultKey
	}
	return s
}

// keySource says where the public key comes from, for messages.
func (s *scope) keySource() string {
	if s.secret.Name == "" {
		return "the key in spec.verify.publicKey"
	}
	return "the key in Secret " + s.secret.String()
}

// checkSpec stalls on a spec the API server's validation should have
// refused.
func (r *Reconciler) checkSpec(_ context.Context, s *scope) error {
	if !followRe.MatchString(s.follow) {
		return reconcile.Stall(falcopsv1alpha1.ReasonInvalidSpec,
			"spec.follow %q is not \"latest\", a major (\"5\") or a minor (\"5.1\") version", s.follow)
	}
	if s.repo == "" || (s.secret.Name == "") == (s.obj.Spec.Verify.PublicKey == "") {
		return reconcile.Stall(falcopsv1alpha1.ReasonInvalidSpec, "spec.repository and exactly one of spec.verify.secretRef and spec.verify.publicKey are required")
	}
	if host, _, _ := strings.Cut(s.repo, "/"); s.insecure && !s.insecureRemote && !oci.IsLoopback(host) {
		return reconcile.Stall(falcopsv1alpha1.ReasonInvalidSpec,
			"spec.insecure talks plain HTTP to loopback registries only, and %s is not one: use HTTPS, or set spec.allowInsecureRemote", host)
	}
	return nil
}

// reconcileKey reads the public key, inline or from its Secret. Without a
// usable key the RuleSource stalls until the spec or the Secret changes
// (the Secret watch wakes it).
func (r *Reconciler) reconcileKey(ctx context.Context, s *scope) error {
	stall := func(format string, args ...any) error {
		err := reconcile.Stall(falcopsv1alpha1.ReasonKeyMissing, format, args...)
		s.keyProblem = err.Error()
		return err
	}
	if inline := s.obj.Spec.Verify.PublicKey; inline != "" {
		if err := parsePublicKey([]byte(inline)); err != nil {
			return stall("spec.verify.publicKey: %v", err)
		}
		s.key = []byte(inline)
		s.keySum = sha256.Sum256(s.key)
		return nil
	}
	secret, err := r.secret(ctx, s.secret)
	if err != nil {
		var missing *missingSecret
		if errors.As(err, &missing) {
			return stall("key %s", missing)
		}
		return err
	}
	data, ok := secret.Data[s.keyName]
	if !ok || len(data) == 0 {
		return stall("key Secret %s has no key %q", s.secret, s.keyName)
	}
	if err := parsePublicKey(data); err != nil {
		return stall("key %q of Secret %s: %v", s.keyName, s.secret, err)
	}
	s.key = data
	s.keySum = sha256.Sum256(data)
	return nil
}

// missingSecret is a Secret the controller may not or cannot read.
type missingSecret struct {
	name types.NamespacedName
}

func (m *missingSecret) Error() string {
	return fmt.Sprintf("Secret %s not found (it must carry the label %s=true: the controller reads no other Secret)", m.name, falcopsv1alpha1.SecretLabel)
}

// secret reads a Secret of the controller's namespace that carries
// SecretLabel. The cache holds only such Secrets; the label is checked
// again here, so a reader without that cache reads no other Secret either.
func (r *Reconciler) secret(ctx context.Context, name types.NamespacedName) (*corev1.Secret, error) {
	var secret corev1.Secret
	if err := r.Secrets.Get(ctx, name, &secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &missingSecret{name}
		}
		return nil, err
	}
	if secret.Labels[falcopsv1alpha1.SecretLabel] != "true" {
		return nil, &missingSecret{name}
	}
	return &secret, nil
}

// reconcileCredentials picks the registry client: with the credentials of
// spec.credentialsSecretRef, and plain HTTP only where the spec allows it.
func (r *Reconciler) reconcileCredentials(ctx context.Context, s *scope) error {
	var cred []byte
	if s.credentials.Name != "" {
		secret, err := r.secret(ctx, s.credentials)
		if err != nil {
			var missing *missingSecret
			if errors.As(err, &missing) {
				return reconcile.Stall(falcopsv1alpha1.ReasonCredentialsInvalid, "registry credentials %s", missing)
			}
			return err
		}
		if cred = secret.Data[corev1.DockerConfigJsonKey]; len(cred) == 0 {
			return reconcile.Stall(falcopsv1alpha1.ReasonCredentialsInvalid,
				"registry credentials Secret %s has no %s (want a %s Secret)", s.credentials, corev1.DockerConfigJsonKey, corev1.SecretTypeDockerConfigJson)
		}
	}
	c, err := r.clientFor(s, cred)
	if err != nil {
		return reconcile.Stall(falcopsv1alpha1.ReasonCredentialsInvalid, "registry credentials Secret %s: %v", s.credentials, err)
	}
	s.client = c
	return nil
}

// parsePublicKey checks that data is a PEM-encoded PKIX public key, the
// format of cosign.pub.
func parsePublicKey(data []byte) error {
	block, _ := pem.Decode(data)
	if block == nil {
		return errors.New("not PEM-encoded")
	}
	if _, err := x509.ParsePKIXPublicKey(block.Bytes); err != nil {
		return fmt.Errorf("not a PEM public key: %w", err)
	}
	return nil
}

// reconcileSource resolves the followed tag with one HEAD request.
func (r *Reconciler) reconcileSource(ctx context.Context, s *scope) error {
	desc, err := s.client.Resolve(ctx, s.ref)
	switch {
	case err == nil:
		s.head = desc.Digest
	case errors.Is(err, oci.ErrNotFound):
		s.tagNotFound = true
	default:
		return r.unavailable(s, err)
	}
	return nil
}

// unavailable records a registry failure and returns the Waiting error that
// retries it after the backoff.
func (r *Reconciler) unavailable(s *scope, err error) error {
	s.unavailable = err
	s.memo.failures++
	return reconcile.Wait(falcopsv1alpha1.ReasonRegistryUnavailable, Backoff(s.memo.failures, s.interval),
		"registry unavailable: %v", err)
}

// Backoff is the wait after the given number of consecutive failed polls:
// MinBackoff, doubling per failure, capped at interval (so a poll succeeds
// at most one interval after the registry is back).
func Backoff(failures int, interval time.Duration) time.Duration {
	d := MinBackoff
	for i := 1; i < failures && d < interval; i++ {
		d *= 2
	}
	return min(d, interval)
}

// DefaultJitter is the fraction of the interval JitterUpTo adds at most
// when the Reconciler has no Jitter.
const DefaultJitter = 0.1

// JitterUpTo returns a function that adds a random duration of less than
// fraction times d to d, so RuleSources created together do not poll
// together. A fraction of 0 or less adds nothing.
func JitterUpTo(fraction float64) func(time.Duration) time.Duration {
	return func(d time.Duration) time.Duration {
		limit := time.Duration(float64(d) * fraction)
		if limit <= 0 {
			return d
		}
		return d + rand.N(limit)
	}
}
