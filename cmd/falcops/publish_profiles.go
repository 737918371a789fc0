package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/lifecycle"
	"github.com/falcops/falcops/oci"
)

// ProfilesArtifact is the name of the signed artifact holding profiles/.
const ProfilesArtifact = "falco-profiles"

// profileFiles validates the FalcoProfile documents in dir and returns their
// bytes by file name; none when dir does not exist.
func profileFiles(dir string) (map[string][]byte, error) {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, &exitError{exitUsage, err}
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
			return nil, &exitError{exitUsage, err}
		}
		files[e.Name()] = data
		paths = append(paths, p)
	}
	if len(paths) == 0 {
		return nil, nil
	}
	if _, err := lifecycle.Load(paths...); err != nil {
		return nil, &exitError{exitInput, fmt.Errorf("profiles: %w; nothing was published", err)}
	}
	return files, nil
}

// profilesVersion names the content: 0.0.0-<first 12 hex of its hash>. The
// profile is a moving document without a version of its own; consumers
// follow "latest" and pin the digest.
func profilesVersion(files map[string][]byte) string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(files[n]))
		h.Write(files[n])
	}
	return "0.0.0-" + hex.EncodeToString(h.Sum(nil))[:12]
}

// publishProfiles pushes profiles/ as a signed falcoctl asset artifact tagged
// with its content version and "latest".
func publishProfiles(ctx context.Context, out io.Writer, c *oci.Client, reg registryRef, files map[string][]byte, source, revision string, signOpts oci.SignOptions) (artifacts.IndexEntry, error) {
	version := profilesVersion(files)
	a, err := artifacts.PackageAsset(ProfilesArtifact, version, files, artifacts.PackageOptions{Source: source, Revision: revision})
	if err != nil {
		return artifacts.IndexEntry{}, &exitError{exitInput, err}
	}
	repo := reg.repo(ProfilesArtifact)
	res, err := c.Publish(ctx, repo, a, version)
	if err != nil && !errors.Is(err, oci.ErrImmutable) {
		return artifacts.IndexEntry{}, &exitError{exitUsage, fmt.Errorf("%s: %w", ProfilesArtifact, err)}
	}
	if errors.Is(err, oci.ErrImmutable) {
		// Same content, other commit annotation: keep what is published.
		same, d, cerr := sameContent(ctx, c, repo+":"+version, a)
		if cerr != nil || !same {
			return artifacts.IndexEntry{}, &exitError{exitUsage, fmt.Errorf("%s: %w", ProfilesArtifact, err)}
		}
		res = oci.Result{Digest: d, Unchanged: true}
	}
	ref := repo + "@" + res.Digest.String()
	signed := false
	if res.Unchanged {
		if signed, err = hasSignature(ctx, c, repo, res.Digest); err != nil {
			return artifacts.IndexEntry{}, &exitError{exitUsage, err}
		}
	}
	if !signed {
		if err := c.Sign(ctx, ref, signOpts); err != nil {
			return artifacts.IndexEntry{}, &exitError{exitUsage, fmt.Errorf("signing %s: %w", ref, err)}
		}
	}
	// "latest" always names the newest profile content.
	if err := c.Tag(ctx, repo, res.Digest, artifacts.TagLatest); err != nil {
		return artifacts.IndexEntry{}, &exitError{exitUsage, err}
	}
	state := "published"
	if res.Unchanged {
		state = "unchanged"
	}
	fmt.Fprintf(out, "%s %s: %s %s, signed, tagged latest\n", ProfilesArtifact, version, state, res.Digest)
	return artifacts.IndexEntry{Name: ProfilesArtifact, Type: artifacts.TypeAsset, Registry: reg.host,
		Repository: reg.repository(ProfilesArtifact), Description: "Falco profiles (FalcoProfile documents) of this landscape"}, nil
}
