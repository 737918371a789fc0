package artifacts

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/falcops/falcops/internal/sharedtest"
	"github.com/falcops/falcops/rules"
)

const heartbeatDir = "../rulesets/heartbeat"

// TestPackageReproducibleAcrossProcesses packages the shipped heartbeat
// ruleset here and in two fresh processes: every digest must be the same.
func TestPackageReproducibleAcrossProcesses(t *testing.T) {
	dir, err := filepath.Abs(heartbeatDir)
	if err != nil {
		t.Fatal(err)
	}
	here := digestLines(mustPackageDir(t, dir))
	first := packageInSubprocess(t, dir)
	second := packageInSubprocess(t, dir)
	if first != second || first != here {
		t.Fatalf("digests differ between processes:\nin test:\n%s\nprocess 1:\n%s\nprocess 2:\n%s", here, first, second)
	}
}

// TestPackageGolden pins the digests of a snapshot of the heartbeat ruleset
// (testdata/heartbeat), so a change of the artifact format (tar or gzip
// headers, config or manifest JSON, annotations) or of the Go compressor is
// noticed. If such a change is intended: go test ./artifacts -run Golden -update.
func TestPackageGolden(t *testing.T) {
	a := mustPackageDir(t, "testdata/heartbeat")
	got := digestLines(a)
	golden := filepath.Join("testdata", "heartbeat.digests")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("artifact digests changed (run with -update if intended):\ngot:\n%s\nwant:\n%s", got, want)
	}
}

// TestPackageOneByteChange: a one-byte change of a rules file changes the
// layer (and so the manifest) digest, not the config.
func TestPackageOneByteChange(t *testing.T) {
	orig := mustPackageDir(t, "testdata/heartbeat")
	dir := sharedtest.CopyDir(t, "testdata/heartbeat", filepath.Join(t.TempDir(), "heartbeat"))
	p := filepath.Join(dir, "heartbeat_rules.yaml")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(data, []byte("falcops-heartbeat"))
	data[i+len("falcops-heartbeat")-1] = 'X' // heartbeat -> heartbeaX
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	changed := mustPackageDir(t, dir)
	if changed.LayerDescriptor.Digest == orig.LayerDescriptor.Digest {
		t.Error("layer digest did not change")
	}
	if changed.ManifestDigest == orig.ManifestDigest {
		t.Error("manifest digest did not change")
	}
	if changed.ConfigDescriptor.Digest != orig.ConfigDescriptor.Digest {
		t.Error("config digest changed although name, version and requirements did not")
	}
}

// TestPackageHeartbeatFormat checks the artifact against what falcoctl
// expects, field by field.
func TestPackageHeartbeatFormat(t *testing.T) {
	a := mustPackageDir(t, heartbeatDir)
	if got, want := string(a.ConfigBytes), `{"name":"heartbeat","version":"2.0.0","requirements":[{"name":"engine_version_semver","version":"0.31.0"}]}`; got != want {
		t.Errorf("config:\n got %s\nwant %s", got, want)
	}
	if a.ConfigDescriptor.MediaType != MediaTypeRulesfileConfig || a.LayerDescriptor.MediaType != MediaTypeRulesfileLayer {
		t.Errorf("media types: %s, %s", a.ConfigDescriptor.MediaType, a.LayerDescriptor.MediaType)
	}
	checkDescriptor(t, "config", a.ConfigDescriptor, a.ConfigBytes)
	checkDescriptor(t, "layer", a.LayerDescriptor, a.LayerBytes)
	if a.ManifestDigest != digest.FromBytes(a.ManifestBytes) {
		t.Error("manifest digest does not match the manifest bytes")
	}

	// The manifest, read as plain JSON.
	var m map[string]any
	if err := json.Unmarshal(a.ManifestBytes, &m); err != nil {
		t.Fatal(err)
	}
	if m["schemaVersion"] != float64(2) || m["mediaType"] != ocispec.MediaTypeImageManifest {
		t.Errorf("schemaVersion/mediaType: %v %v", m["schemaVersion"], m["mediaType"])
	}
	if _, ok := m["artifactType"]; ok {
		t.Error("manifest has artifactType; falcoctl's has none")
	}
	if _, ok := m["config"].(map[string]any)["annotations"]; ok {
		t.Error("config descriptor has annotations; falcoctl strips them")
	}
	layers := m["layers"].([]any)
	if len(layers) != 1 {
		t.Fatalf("%d layers, want 1", len(layers))
	}
	if got := layers[0].(map[string]any)["annotations"]; !jsonEqual(got, map[string]any{AnnotationTitle: "heartbeat.tar.gz"}) {
		t.Errorf("layer annotations %v", got)
	}
	wantAnn := map[string]any{AnnotationSource: testOpts.Source, AnnotationRevision: testOpts.Revision, AnnotationVersion: "2.0.0"}
	if !jsonEqual(m["annotations"], wantAnn) {
		t.Errorf("manifest annotations %v, want %v", m["annotations"], wantAnn)
	}
	if strings.Contains(string(a.ManifestBytes), "created") {
		t.Error("manifest carries a creation time")
	}

	// gzip header: no name, no modification time.
	raw := a.LayerBytes
	if raw[4] != 0 || raw[5] != 0 || raw[6] != 0 || raw[7] != 0 {
		t.Errorf("gzip MTIME bytes %v, want zero", raw[4:8])
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || !zr.ModTime.IsZero() || zr.Comment != "" || zr.Extra != nil {
		t.Errorf("gzip header %+v", zr.Header)
	}
	// tar: one entry, the base name, mode 0644, nothing else set.
	tr := tar.NewReader(zr)
	hdr, err := tr.Next()
	if err != nil {
		t.Fatal(err)
	}
	content, err := io.ReadAll(tr)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(heartbeatDir, "heartbeat_rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(content, want) {
		t.Error("layer content differs from the rules file")
	}
	if hdr.Name != "heartbeat_rules.yaml" || hdr.Mode != 0o644 || hdr.Typeflag != tar.TypeReg || hdr.Size != int64(len(want)) ||
		hdr.Uid != 0 || hdr.Gid != 0 || hdr.Uname != "" || hdr.Gname != "" || hdr.ModTime.Unix() != 0 || hdr.Format != tar.FormatUSTAR {
		t.Errorf("tar header %+v", hdr)
	}
	if _, err := tr.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("more than one tar entry: %v", err)
	}
}

func checkDescriptor(t *testing.T, what string, d ocispec.Descriptor, data []byte) {
	t.Helper()
	if d.Digest != digest.FromBytes(data) || d.Size != int64(len(data)) {
		t.Errorf("%s descriptor %v does not describe its %d bytes", what, d, len(data))
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// TestConfigMatchesFalcoctl: falcoctl registry push of a rules file with
// required_engine_version 0.31.0 as my-rules 1.0.0 gave a 106-byte config
// blob sha256:b809ff83... (reference/falcoctl-artifacts.md section 4).
func TestConfigMatchesFalcoctl(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "my-rules")
	sharedtest.WriteFiles(t, dir, map[string]string{
		"ruleset.yaml":  "name: my-rules\nversion: 1.0.0\nfiles: [my_rules.yaml]\n",
		"my_rules.yaml": "- required_engine_version: 0.31.0\n- list: my_list\n  items: [a]\n",
	})
	a := mustPackageDir(t, dir)
	if a.ConfigDescriptor.Size != 106 || !strings.HasPrefix(a.ConfigDescriptor.Digest.String(), "sha256:b809ff83") {
		t.Errorf("config %s (%d bytes) is not falcoctl's sha256:b809ff83... (106 bytes): %s", a.ConfigDescriptor.Digest, a.ConfigDescriptor.Size, a.ConfigBytes)
	}
}

// TestPackageConfigContent covers dependencies (plugins with alternatives,
// dependsOn) and the engine version forms.
func TestPackageConfigContent(t *testing.T) {
	root := t.TempDir()
	sharedtest.WriteFiles(t, root, map[string]string{
		// A ruleset the tuning ruleset depends on; its plugin requirement
		// belongs to its own artifact.
		"base/ruleset.yaml": "name: base\nversion: 2.3.0\nfiles: [base_rules.yaml]\n",
		"base/base_rules.yaml": `
- required_engine_version: 15
- required_plugin_versions:
    - name: cloudtrail
      version: 0.9.0
- list: base_list
  items: [a]
`,
		"tuning/ruleset.yaml": "name: tuning\nversion: 1.2.3\nfiles: [tuning_rules.yaml, more_rules.yaml]\ndependsOn: [{name: base, major: 2}]\n",
		"tuning/tuning_rules.yaml": `
- required_engine_version: 17
- required_plugin_versions:
    - name: k8saudit
      version: 0.7.0
      alternatives:
        - name: k8saudit-gke
          version: 0.2.0
        - name: k8saudit-eks
          version: 0.4.0
    - name: json
      version: 0.7.0
- list: base_list
  items: [b]
  append: true
`,
		"tuning/more_rules.yaml": `
- required_engine_version: 12
- required_plugin_versions:
    - name: json
      version: 0.7.2
    - name: k8saudit
      version: 0.6.0
`,
		"override/ruleset.yaml": "name: override\nversion: 0.1.0\nfiles: [o.yaml]\nrequires: {engine: 0.40.0}\n",
		"override/o.yaml":       "- required_engine_version: 0.31.0\n- list: l\n  items: [a]\n",
		"none/ruleset.yaml":     "name: none\nversion: 0.1.0\nfiles: [n.yaml]\n",
		"none/n.yaml":           "- list: l\n  items: [a]\n",
	})

	a := mustPackageDir(t, filepath.Join(root, "tuning"))
	want := `{"name":"tuning","version":"1.2.3","dependencies":[` +
		`{"name":"base","version":"2.0.0"},` +
		`{"name":"json","version":"0.7.2"},` +
		`{"name":"k8saudit","version":"0.7.0","alternatives":[{"name":"k8saudit-eks","version":"0.4.0"},{"name":"k8saudit-gke","version":"0.2.0"}]}],` +
		`"requirements":[{"name":"engine_version_semver","version":"0.17.0"}]}`
	if string(a.ConfigBytes) != want {
		t.Errorf("tuning config:\n got %s\nwant %s", a.ConfigBytes, want)
	}
	if got := strings.Join(a.Files, ","); got != "tuning_rules.yaml,more_rules.yaml" {
		t.Errorf("layer files %s, want load order", got)
	}

	b := mustPackageDir(t, filepath.Join(root, "base"))
	if want := `{"name":"base","version":"2.3.0","dependencies":[{"name":"cloudtrail","version":"0.9.0"}],"requirements":[{"name":"engine_version_semver","version":"0.15.0"}]}`; string(b.ConfigBytes) != want {
		t.Errorf("base config:\n got %s\nwant %s", b.ConfigBytes, want)
	}

	o := mustPackageDir(t, filepath.Join(root, "override"))
	if want := `{"name":"override","version":"0.1.0","requirements":[{"name":"engine_version_semver","version":"0.40.0"}]}`; string(o.ConfigBytes) != want {
		t.Errorf("requires.engine config:\n got %s\nwant %s", o.ConfigBytes, want)
	}

	if _, err := packageDir(filepath.Join(root, "none"), testOpts); !errors.Is(err, ErrNoEngineVersion) {
		t.Errorf("no engine version: got %v, want ErrNoEngineVersion", err)
	}
}

func TestPackageRefuses(t *testing.T) {
	root := t.TempDir()
	sharedtest.WriteFiles(t, root, map[string]string{
		"dup/ruleset.yaml":      "name: dup\nversion: 1.0.0\nfiles: [a/rules.yaml, b/rules.yaml]\n",
		"dup/a/rules.yaml":      "- required_engine_version: 0.31.0\n",
		"dup/b/rules.yaml":      "- list: l\n  items: [a]\n",
		"build/ruleset.yaml":    "name: build\nversion: 1.0.0+meta\nfiles: [r.yaml]\n",
		"build/r.yaml":          "- required_engine_version: 0.31.0\n",
		"conflict/ruleset.yaml": "name: conflict\nversion: 1.0.0\nfiles: [r.yaml]\ndependsOn: [{name: json, major: 1}]\n",
		"conflict/r.yaml":       "- required_engine_version: 0.31.0\n- required_plugin_versions: [{name: json, version: 0.7.0}]\n",
		"json/ruleset.yaml":     "name: json\nversion: 1.0.0\nfiles: [j.yaml]\n",
		"json/j.yaml":           "- required_engine_version: 0.31.0\n",
	})
	for dir, want := range map[string]error{"dup": ErrDuplicateFile, "build": ErrInvalidVersion, "conflict": ErrInvalidArtifact} {
		if _, err := packageDir(filepath.Join(root, dir), testOpts); !errors.Is(err, want) {
			t.Errorf("%s: got %v, want %v", dir, err, want)
		}
	}
	if _, err := Package(nil, nil, testOpts); !errors.Is(err, ErrInvalidArtifact) {
		t.Errorf("nil ruleset: %v", err)
	}
	// A file that was not loaded with the ruleset was never validated: it
	// is refused, not read from disk behind the loader's back.
	rd, _ := rules.ReadManifest(filepath.Join(root, "json"))
	rs, _ := rules.LoadRuleset(rd, rules.Options{})
	extra := filepath.Join(root, "json", "unvalidated.yaml")
	if err := os.WriteFile(extra, []byte("- rule: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rd.Paths = append(rd.Paths, extra)
	if _, err := Package(rd, rs, testOpts); !errors.Is(err, ErrInvalidArtifact) || !strings.Contains(err.Error(), "not validated") {
		t.Errorf("unloaded file: %v", err)
	}
}

func TestPackageAsset(t *testing.T) {
	files := map[string][]byte{"profile.yaml": []byte("kind: FalcoProfile\n"), "b.yaml": []byte("b\n")}
	a, err := PackageAsset("falco-profile", "1.0.0", files, PackageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		b, err := PackageAsset("falco-profile", "1.0.0", map[string][]byte{"b.yaml": []byte("b\n"), "profile.yaml": []byte("kind: FalcoProfile\n")}, PackageOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if b.ManifestDigest != a.ManifestDigest {
			t.Fatal("asset digest depends on map order")
		}
	}
	if a.ConfigDescriptor.MediaType != MediaTypeAssetConfig || a.LayerDescriptor.MediaType != MediaTypeAssetLayer {
		t.Errorf("media types %s %s", a.ConfigDescriptor.MediaType, a.LayerDescriptor.MediaType)
	}
	if string(a.ConfigBytes) != `{"name":"falco-profile","version":"1.0.0"}` {
		t.Errorf("config %s", a.ConfigBytes)
	}
	if got := strings.Join(a.Files, ","); got != "b.yaml,profile.yaml" {
		t.Errorf("files %s", got)
	}
	if _, ok := a.Manifest.Annotations[AnnotationSource]; ok {
		t.Error("empty source annotation written")
	}
	for _, bad := range []string{"../x", "a/b", "", ".."} {
		if _, err := PackageAsset("p", "1.0.0", map[string][]byte{bad: nil}, PackageOptions{}); !errors.Is(err, ErrInvalidArtifact) {
			t.Errorf("file name %q: %v", bad, err)
		}
	}
	if _, err := PackageAsset("p", "v1", files, PackageOptions{}); !errors.Is(err, ErrInvalidVersion) {
		t.Errorf("version v1: %v", err)
	}
}

// TestPackageRoundTrip extracts a packaged layer and finds the rules files.
func TestPackageRoundTrip(t *testing.T) {
	src := "../rulesets/custom-example"
	a := mustPackageDir(t, src)
	dest := t.TempDir()
	names, err := Extract(bytes.NewReader(a.LayerBytes), dest, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(names, ","); got != "custom_rules.yaml,custom_exceptions.yaml" {
		t.Fatalf("extracted %s", got)
	}
	for _, n := range names {
		want, err := os.ReadFile(filepath.Join(src, n))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dest, n))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs after the round trip", n)
		}
	}
	// The extracted files load as the same ruleset.
	rd := &rules.RulesetDir{Dir: dest, Manifest: rules.Manifest{Name: "custom-example", Version: "0.1.0"}}
	for _, n := range names {
		rd.Paths = append(rd.Paths, filepath.Join(dest, n))
	}
	rs, fs := rules.LoadRuleset(rd, rules.Options{})
	if fs.Errors() > 0 {
		t.Fatalf("extracted ruleset: %v", fs)
	}
	b, err := Package(rd, rs, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	if b.LayerDescriptor.Digest != a.LayerDescriptor.Digest || b.ManifestDigest != a.ManifestDigest {
		t.Error("repackaging the extracted files gives another artifact")
	}
}

func TestWithRevision(t *testing.T) {
	a := mustPackageDir(t, "testdata/heartbeat")
	b, err := a.WithRevision("0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	if b.Manifest.Annotations[AnnotationRevision] != "0123456789abcdef" || b.ManifestDigest == a.ManifestDigest || b.ConfigDescriptor.Digest != a.ConfigDescriptor.Digest {
		t.Fatalf("revision not set: %s", b.ManifestBytes)
	}
	back, err := b.WithRevision(a.Manifest.Annotations[AnnotationRevision])
	if err != nil {
		t.Fatal(err)
	}
	if back.ManifestDigest != a.ManifestDigest || !bytes.Equal(back.ManifestBytes, a.ManifestBytes) {
		t.Fatalf("setting the revision back does not restore the manifest:\n%s\n%s", back.ManifestBytes, a.ManifestBytes)
	}
	if a.Manifest.Annotations[AnnotationRevision] == "0123456789abcdef" {
		t.Fatal("WithRevision changed the original")
	}
}
