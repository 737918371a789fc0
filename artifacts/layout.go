package artifacts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"

	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// tagRe is the OCI distribution tag grammar.
var tagRe = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)

// ErrInvalidTag means a string is not a valid OCI tag.
var ErrInvalidTag = errors.New("invalid tag")

// WriteLayout stores the artifact as an OCI image layout in dir (created if
// missing): the oci-layout file, the blobs under blobs/sha256/, and index.json
// listing the manifest with the org.opencontainers.image.ref.name annotation
// tag. An existing layout keeps its other manifests; an entry with the same
// tag is replaced. Blobs already present with the right content are kept.
func WriteLayout(a *Artifact, dir string, tag string) error {
	if !tagRe.MatchString(tag) {
		return fmt.Errorf("%w: %q", ErrInvalidTag, tag)
	}
	if err := os.MkdirAll(filepath.Join(dir, ocispec.ImageBlobsDir, "sha256"), 0o755); err != nil {
		return fmt.Errorf("layout: %w", err)
	}
	layout, err := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	if err != nil {
		return fmt.Errorf("layout: %w", err)
	}
	if err := writeFile(filepath.Join(dir, ocispec.ImageLayoutFile), layout); err != nil {
		return fmt.Errorf("layout: %w", err)
	}
	blobs := append(a.Blobs(), Blob{a.ManifestDescriptor(), a.ManifestBytes})
	for _, b := range blobs {
		if err := b.Descriptor.Digest.Validate(); err != nil {
			return fmt.Errorf("layout: blob digest: %w", err)
		}
		p := filepath.Join(dir, ocispec.ImageBlobsDir, b.Descriptor.Digest.Algorithm().String(), b.Descriptor.Digest.Encoded())
		if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, b.Data) {
			continue
		}
		if err := writeFile(p, b.Data); err != nil {
			return fmt.Errorf("layout: blob %s: %w", b.Descriptor.Digest, err)
		}
	}
	index := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex}
	indexPath := filepath.Join(dir, ocispec.ImageIndexFile)
	if data, err := os.ReadFile(indexPath); err == nil {
		if err := json.Unmarshal(data, &index); err != nil {
			return fmt.Errorf("layout: existing %s: %w", indexPath, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("layout: %w", err)
	}
	md := a.ManifestDescriptor()
	md.Annotations = map[string]string{AnnotationRefName: tag}
	manifests := index.Manifests[:0]
	replaced := false
	for _, m := range index.Manifests {
		switch {
		case m.Annotations[AnnotationRefName] != tag:
			manifests = append(manifests, m)
		case !replaced:
			manifests = append(manifests, md)
			replaced = true
		}
	}
	if !replaced {
		manifests = append(manifests, md)
	}
	index.Manifests = manifests
	data, err := json.Marshal(index)
	if err != nil {
		return fmt.Errorf("layout: %w", err)
	}
	if err := writeFile(indexPath, data); err != nil {
		return fmt.Errorf("layout: %w", err)
	}
	return nil
}

// writeFile writes through a temporary file and a rename, so a reader never
// sees half a file.
func writeFile(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}
