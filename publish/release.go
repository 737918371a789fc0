package publish

import (
	"context"
	"errors"
	"fmt"
	"strings"

	digest "github.com/opencontainers/go-digest"

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
	switch r.State {
	case Unchanged:
		return fmt.Sprintf("%s %s: unchanged (%s)", r.Name, r.Version, r.Digest)
	case SignatureAdded:
		return fmt.Sprintf("%s %s: unchanged (%s), signature added", r.Name, r.Version, r.Digest)
	}
	return fmt.Sprintf("%s %s: published %s as %s, signed", r.Name, r.Version, r.Digest, strings.Join(r.Tags, ", "))
}

// Rulesets releases built rulesets in order and returns their results and
// index entries. It stops at the first error; what was released before
// stays released (a re-run converges).
func Rulesets(ctx context.Context, built []Built, opts Options) ([]Result, artifacts.Index, error) {
	var results []Result
	var idx artifacts.Index
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
		idx = append(idx, artifacts.EntryFor(m, opts.Registry.Host, opts.Registry.Repository(m.Name), opts.IndexSignature))
	}
	return results, idx, nil
}

// Artifact releases one packaged artifact under its config's name and
// version: pushed and tagged (oci.Publish: immutable; content already there
// is Unchanged), its digest signed unless a signature is already stored.
func Artifact(ctx context.Context, a *artifacts.Artifact, opts Options) (Result, error) {
	return release(ctx, opts, a.Config.Name, a.Config.Version, a)
}

func release(ctx context.Context, opts Options, name, version string, a *artifacts.Artifact) (Result, error) {
	repo := opts.Registry.Repo(name)
	pub, err := opts.Client.Publish(ctx, repo, a, version)
	if err != nil {
		if errors.Is(err, oci.ErrImmutable) {
			return Result{}, err
		}
		return Result{}, fmt.Errorf("%s %s: %w", name, version, err)
	}
	res := Result{Name: name, Version: version, Digest: pub.Digest, Tags: pub.Tags, State: Published}
	if pub.Unchanged {
		res.State = Unchanged
		signed, err := opts.Client.HasSignature(ctx, repo, pub.Digest)
		if err != nil {
			return Result{}, fmt.Errorf("%s %s: %w", name, version, err)
		}
		if signed {
			return res, nil
		}
		res.State = SignatureAdded
	}
	ref := repo + "@" + pub.Digest.String()
	if err := opts.Client.Sign(ctx, ref, opts.Sign); err != nil {
		return Result{}, fmt.Errorf("signing %s: %w", ref, err)
	}
	return res, nil
}
