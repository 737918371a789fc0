package artifacts

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestWriteLayout(t *testing.T) {
	a := mustPackageDir(t, heartbeatDir)
	dir := filepath.Join(t.TempDir(), "out")
	if err := WriteLayout(a, dir, "1.0.0"); err != nil {
		t.Fatal(err)
	}
	layout, err := os.ReadFile(filepath.Join(dir, "oci-layout"))
	if err != nil || string(layout) != `{"imageLayoutVersion":"1.0.0"}` {
		t.Errorf("oci-layout %q %v", layout, err)
	}
	for _, d := range []digest.Digest{a.ManifestDigest, a.ConfigDescriptor.Digest, a.LayerDescriptor.Digest} {
		data, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", d.Encoded()))
		if err != nil {
			t.Fatal(err)
		}
		if digest.FromBytes(data) != d {
			t.Errorf("blob %s has other content", d)
		}
	}
	idx := readIndex(t, dir)
	if idx.SchemaVersion != 2 || idx.MediaType != ocispec.MediaTypeImageIndex || len(idx.Manifests) != 1 {
		t.Fatalf("index.json %+v", idx)
	}
	m := idx.Manifests[0]
	if m.Digest != a.ManifestDigest || m.MediaType != MediaTypeImageManifest || m.Size != int64(len(a.ManifestBytes)) ||
		m.Annotations[AnnotationRefName] != "1.0.0" {
		t.Errorf("index entry %+v", m)
	}

	// A second tag is added, the same tag replaced, the layout written twice
	// is unchanged.
	b := mustPackageDir(t, "../rulesets/custom-example")
	if err := WriteLayout(b, dir, "0.1.0"); err != nil {
		t.Fatal(err)
	}
	if err := WriteLayout(a, dir, "0.1.0"); err != nil {
		t.Fatal(err)
	}
	if err := WriteLayout(a, dir, "1.0.0"); err != nil {
		t.Fatal(err)
	}
	idx = readIndex(t, dir)
	if len(idx.Manifests) != 2 || idx.Manifests[0].Annotations[AnnotationRefName] != "1.0.0" ||
		idx.Manifests[1].Annotations[AnnotationRefName] != "0.1.0" || idx.Manifests[1].Digest != a.ManifestDigest {
		t.Errorf("index after retagging %+v", idx.Manifests)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, "*", "*", ".tmp-*"))
	top, _ := filepath.Glob(filepath.Join(dir, ".tmp-*"))
	if len(leftovers)+len(top) > 0 {
		t.Errorf("temporary files left: %v %v", leftovers, top)
	}

	for _, bad := range []string{"", "-x", "a:b", "1.0.0+meta", string(make([]byte, 129))} {
		if err := WriteLayout(a, dir, bad); !errors.Is(err, ErrInvalidTag) {
			t.Errorf("tag %q: %v", bad, err)
		}
	}
}

func readIndex(t *testing.T, dir string) ocispec.Index {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx ocispec.Index
	if err := json.Unmarshal(data, &idx); err != nil {
		t.Fatal(err)
	}
	return idx
}
