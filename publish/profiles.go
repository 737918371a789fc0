package publish

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/lifecycle"
	"github.com/falcops/falcops/oci"
)

// ReadProfiles validates the FalcoProfile documents in dir (*.yaml, *.yml)
// and returns their bytes by file name; none when dir does not exist or
// holds no such file. Invalid profiles wrap ErrInvalid.
func ReadProfiles(dir string) (map[string][]byte, error) {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	var paths []string
	for _, e := range entries {
		if e.IsDir() || (!strings.HasSuffix(e.Name(), ".yaml") && !strings.HasSuffix(e.Name(), ".yml")) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		files[e.Name()] = data
		paths = append(paths, p)
	}
	if len(paths) == 0 {
		return nil, nil
	}
	if _, err := lifecycle.Load(paths...); err != nil {
		return nil, fmt.Errorf("%w: profiles: %w; nothing was published", ErrInvalid, err)
	}
	return files, nil
}

// Profiles releases profile files as the signed asset artifact
// artifacts.ProfilesArtifact, versioned by content and tagged "latest"
// (always the newest content), and returns its index entry.
func Profiles(ctx context.Context, files map[string][]byte, source, revision string, opts Options) (Result, artifacts.IndexEntry, error) {
	name := artifacts.ProfilesArtifact
	version := artifacts.ProfilesVersion(files)
	a, err := artifacts.PackageAsset(name, version, files, artifacts.PackageOptions{Source: source, Revision: revision})
	if err != nil {
		return Result{}, artifacts.IndexEntry{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	res, err := release(ctx, opts, name, version, a)
	if errors.Is(err, oci.ErrImmutable) {
		err = fmt.Errorf("%w: %s: %w", ErrInvalid, name, err)
	}
	if err != nil {
		return Result{}, artifacts.IndexEntry{}, err
	}
	repo := opts.Registry.Repo(name)
	if err := opts.Client.Tag(ctx, repo, res.Digest, artifacts.TagLatest); err != nil {
		return Result{}, artifacts.IndexEntry{}, err
	}
	res.TaggedLatest = true
	if opts.Progress != nil {
		opts.Progress(res)
	}
	e := artifacts.IndexEntry{Name: name, Type: artifacts.TypeAsset, Registry: opts.Registry.Host,
		Repository: opts.Registry.Repository(name), Description: "Falco profiles (FalcoProfile documents) of this landscape"}
	if opts.IndexSignature != nil {
		e.Signature = &artifacts.Signature{Cosign: opts.IndexSignature}
	}
	return res, e, nil
}
