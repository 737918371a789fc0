package publish

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/oci"
)

// Options say where and how to release.
type Options struct {
	Client   *oci.Client
	Registry Registry
	// Sign signs every digest released (load the key once with
	// oci.LoadSigner and set Signer: decrypting a key file is slow).
	Sign oci.SignOptions
	// IndexSignature is written into the index entries so that falcoctl
	// verifies what it installs; nil writes entries without one.
	IndexSignature *artifacts.CosignSignature
	// Progress, if set, is called with each result as soon as it is known.
	Progress func(Result)
	// Step, if set, is called when each step of a release starts and ends
	// (a slow registry shows which step is slow); Clock times them (nil:
	// no durations).
	Step  func(Step)
	Clock func() time.Time
}

// Step is one step of releasing one artifact.
type Step struct {
	Name, Version string
	// What the step does: pushing, checking the signature, signing,
	// checking the version, moving tags.
	What string
	// Done is false when the step starts and true when it ended; Took is
	// then its duration (zero without a Clock).
	Done bool
	Took time.Duration
}

// step runs do as one reported step.
func (o Options) step(name, version, what string, do func() error) error {
	if o.Step == nil {
		return do()
	}
	var start time.Time
	if o.Clock != nil {
		start = o.Clock()
	}
	o.Step(Step{Name: name, Version: version, What: what})
	err := do()
	took := time.Duration(0)
	if o.Clock != nil {
		took = o.Clock().Sub(start)
	}
	o.Step(Step{Name: name, Version: version, What: what, Done: true, Took: took})
	return err
}

// State is what a release did to one artifact.
type State string

// States of a Result.
const (
	// Published: the version was new; it was pushed, tagged and signed.
	Published State = "published"
	// Unchanged: the same content was already published and signed.
	Unchanged State = "unchanged"
	// SignatureAdded: the same content was already published but its
	// signature was missing; it is signed now.
	SignatureAdded State = "signature added"
)

// Result is the release of one artifact.
type Result struct {
	Name    string
	Version string
	Digest  digest.Digest
	// Tags are the tags written, the version first (Published only).
	Tags  []string
	State State
	// Repaired are the floating tags an earlier, interrupted release left
	// behind and this one moved (Unchanged and SignatureAdded only).
	Repaired []string
	// TaggedLatest is set for the profiles artifact, whose "latest" always
	// names the newest content.
	TaggedLatest bool
}

// String is the line the CLI prints for the result.
func (r Result) String() string {
	if r.TaggedLatest {
		word := string(Published)
		if r.State != Published {
			word = string(Unchanged)
		}
		return fmt.Sprintf("%s %s: %s %s, signed, tagged latest", r.Name, r.Version, word, r.Digest)
	}
	repaired := ""
	if len(r.Repaired) > 0 {
		repaired = ", moved " + strings.Join(r.Repaired, ", ")
	}
	switch r.State {
	case Unchanged:
		return fmt.Sprintf("%s %s: unchanged (%s)%s", r.Name, r.Version, r.Digest, repaired)
	case SignatureAdded:
		return fmt.Sprintf("%s %s: unchanged (%s), signature added%s", r.Name, r.Version, r.Digest, repaired)
	}
	return fmt.Sprintf("%s %s: published %s as %s, signed", r.Name, r.Version, r.Digest, strings.Join(r.Tags, ", "))
}

// Rulesets releases built rulesets in order and returns their results and
// index entries. It stops at the first error; what was released before
// stays released (a re-run converges).
func Rulesets(ctx context.Context, built []Built, opts Options) ([]Result, artifacts.Index, error) {
	var results []Result
	var idx artifacts.Index
	versions := map[string]string{}
	for _, b := range built {
		m := b.Dir.Manifest
		res, err := release(ctx, opts, m.Name, m.Version, b.Artifact)
		if errors.Is(err, oci.ErrImmutable) {
			err = fmt.Errorf("%w: %s %s: %w: change the version in %s", ErrInvalid, m.Name, m.Version, err, b.Dir.ManifestPath)
		}
		if err != nil {
			return results, idx, err
		}
		results = append(results, res)
		if opts.Progress != nil {
			opts.Progress(res)
		}
		e := artifacts.EntryFor(m, opts.Registry.Host, opts.Registry.Repository(m.Name), opts.IndexSignature)
		// One entry per name: folders per major line share the repository,
		// and the entry of the highest version describes it.
		if i := slices.IndexFunc(idx, func(x artifacts.IndexEntry) bool { return x.Name == e.Name }); i >= 0 {
			if higher(m.Version, versions[e.Name]) {
				idx[i], versions[e.Name] = e, m.Version
			}
		} else {
			idx, versions[e.Name] = append(idx, e), m.Version
		}
	}
	return results, idx, nil
}

// Artifact releases one packaged artifact under its config's name and
// version (see release).
func Artifact(ctx context.Context, a *artifacts.Artifact, opts Options) (Result, error) {
	return release(ctx, opts, a.Config.Name, a.Config.Version, a)
}

// release is the convergent release of one artifact, in an order that
// never lets a tag point at unsigned content and that any re-run completes:
//
//  1. push the content under the version (oci.PushVersion: only content
//     this build made, byte for byte but for the commit, is accepted under
//     an existing version; a concurrent publisher is detected);
//  2. make sure a signature that verifies with the signer's public key (and
//     is bound to this repository, name and version) exists, else sign;
//  3. check the version still names that digest, so a publisher that lost
//     a race never moves floating tags or reports success;
//  4. move the floating tags (X.Y, X, latest) that should name it.
func release(ctx context.Context, opts Options, name, version string, a *artifacts.Artifact) (Result, error) {
	repo := opts.Registry.Repo(name)
	var pushed oci.Result
	err := opts.step(name, version, "pushing", func() (err error) {
		pushed, err = opts.Client.PushVersion(ctx, repo, a, version)
		return err
	})
	if err != nil {
		if errors.Is(err, oci.ErrImmutable) {
			return Result{}, err
		}
		return Result{}, fmt.Errorf("%s %s: %w", name, version, err)
	}
	res := Result{Name: name, Version: version, Digest: pushed.Digest, Tags: pushed.Tags, State: Published}
	signed := false
	if pushed.Unchanged {
		res.State = Unchanged
		err := opts.step(name, version, "checking the signature", func() (err error) {
			signed, err = hasValidSignature(ctx, opts, repo, pushed.Digest)
			return err
		})
		if err != nil {
			return Result{}, fmt.Errorf("%s %s: %w", name, version, err)
		}
		if !signed {
			res.State = SignatureAdded
		}
	}
	ref := repo + "@" + pushed.Digest.String()
	if !signed {
		if err := opts.step(name, version, "signing", func() error { return opts.Client.Sign(ctx, ref, opts.Sign) }); err != nil {
			return Result{}, fmt.Errorf("signing %s: %w", ref, err)
		}
	}
	var now ocispec.Descriptor
	if err := opts.step(name, version, "checking the version", func() (err error) {
		now, err = opts.Client.Resolve(ctx, repo+":"+version)
		return err
	}); err != nil {
		return Result{}, fmt.Errorf("%s %s: %w", name, version, err)
	}
	if now.Digest != pushed.Digest {
		return Result{}, fmt.Errorf("%w: %s:%s changed from %s to %s while it was being released: another publisher is at work",
			oci.ErrImmutable, repo, version, pushed.Digest, now.Digest)
	}
	var moved []string
	err = opts.step(name, version, "moving tags", func() (err error) {
		moved, err = opts.Client.MoveTags(ctx, repo, version, pushed.Digest)
		return err
	})
	if err != nil {
		return Result{}, fmt.Errorf("%s %s: moving tags: %w", name, version, err)
	}
	if pushed.Unchanged {
		res.Repaired = moved
	} else {
		res.Tags = append(res.Tags, moved...)
	}
	return res, nil
}

// hasValidSignature reports whether the digest carries a signature by the
// signing key, bound to this repository, name and version. Keyless signers
// have no lasting key: any stored signature counts for them.
func hasValidSignature(ctx context.Context, opts Options, repo string, d digest.Digest) (bool, error) {
	pub, err := signerPublicKey(ctx, opts.Sign)
	if err != nil {
		return false, err
	}
	if pub == nil {
		return opts.Client.HasSignature(ctx, repo, d)
	}
	_, err = opts.Client.Verify(ctx, repo+"@"+d.String(), oci.VerifyOptions{PublicKey: pub})
	if errors.Is(err, oci.ErrSignature) || errors.Is(err, oci.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// signerPublicKey is the PEM public key of the signing key; nil for keyless.
func signerPublicKey(ctx context.Context, so oci.SignOptions) ([]byte, error) {
	sv := so.Signer
	if sv == nil && so.KeyRef != "" {
		var err error
		if sv, err = oci.LoadSigner(ctx, so.KeyRef, so.Password); err != nil {
			return nil, err
		}
	}
	if sv == nil {
		return nil, nil
	}
	pub, err := sv.PublicKey()
	if err != nil {
		return nil, err
	}
	return cryptoutils.MarshalPublicKeyToPEM(pub)
}

// higher is true when version a is above b (both X.Y.Z; an unparsable one
// is never higher).
func higher(a, b string) bool {
	va, err1 := semver.StrictNewVersion(a)
	vb, err2 := semver.StrictNewVersion(b)
	return err1 == nil && (err2 != nil || va.GreaterThan(vb))
}
