package extension

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/lifecycle"
	"github.com/falcops/falcops/oci"
)

// Registry reads what the extension needs from the landscape's registry,
// verified with the landscape's cosign key: the FalcoProfile (the signed
// falco-profiles artifact; seeds need no garden access) and the files of
// pinned rulesets. Verified content is cached by digest.
type Registry struct {
	Client *oci.Client
	// Profiles is the falco-profiles reference, such as
	// registry.example/falcops/falco-profiles:latest.
	Profiles string
	// PublicKey is the landscape's cosign public key (PEM).
	PublicKey []byte

	mu    sync.Mutex
	files map[string]map[string][]byte // by digest
}

// Profile verifies and reads the falco-profiles artifact.
func (r *Registry) Profile(ctx context.Context) (*lifecycle.Profile, error) {
	files, err := r.verified(ctx, r.Profiles, "")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.Profiles, err)
	}
	dir, err := os.MkdirTemp("", "falco-profiles-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	var paths []string
	for name, data := range files {
		p := filepath.Join(dir, filepath.Base(name))
		if err := os.WriteFile(p, data, 0o600); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	return lifecycle.Load(paths...)
}

// Files verifies each pin (signature bound to its digest, repository,
// name and version) and returns its files by ruleset name.
func (r *Registry) Files(ctx context.Context, pins []servicev1alpha1.PinnedRuleset) (map[string]map[string][]byte, error) {
	out := map[string]map[string][]byte{}
	for _, p := range pins {
		files, err := r.verified(ctx, p.Ref, p.Version)
		if err != nil {
			return nil, fmt.Errorf("rules.pinned %s: %w", p.Name, err)
		}
		out[p.Name] = files
	}
	return out, nil
}

// verified fetches ref after verifying its signature, and returns the
// files of its one layer.
func (r *Registry) verified(ctx context.Context, ref, version string) (map[string][]byte, error) {
	v, err := r.Client.Verify(ctx, ref, oci.VerifyOptions{PublicKey: r.PublicKey})
	if err != nil {
		return nil, err
	}
	if version != "" && v.Version != version {
		return nil, fmt.Errorf("the signed artifact is version %s, the pin says %s", v.Version, version)
	}
	r.mu.Lock()
	cached, ok := r.files[v.Digest.String()]
	r.mu.Unlock()
	if ok {
		return cached, nil
	}
	repo := repository(ref)
	_, data, err := r.Client.FetchManifest(ctx, repo+"@"+v.Digest.String())
	if err != nil {
		return nil, err
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", v.Digest, err)
	}
	if len(m.Layers) != 1 {
		return nil, fmt.Errorf("manifest %s has %d layers, want 1", v.Digest, len(m.Layers))
	}
	layer, err := r.Client.FetchBlob(ctx, repo, m.Layers[0])
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "falcops-layer-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	names, err := artifacts.Extract(bytes.NewReader(layer), dir, artifacts.Limits{})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", v.Digest, err)
	}
	files := map[string][]byte{}
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, err
		}
		files[filepath.Base(n)] = data
	}
	r.mu.Lock()
	if r.files == nil {
		r.files = map[string]map[string][]byte{}
	}
	r.files[v.Digest.String()] = files
	r.mu.Unlock()
	return files, nil
}

// repository is host/repo of host/repo:tag or host/repo@digest.
func repository(ref string) string {
	if i := strings.LastIndexByte(ref, '@'); i >= 0 {
		return ref[:i]
	}
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		return ref[:i]
	}
	return ref
}
