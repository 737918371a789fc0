package artifacts

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/falcops/falcops/rules"
)

// Manifest annotations falcops writes. There is deliberately no
// org.opencontainers.image.created: a timestamp would make every build of the
// same content a different artifact.
const (
	AnnotationTitle    = ocispec.AnnotationTitle
	AnnotationSource   = ocispec.AnnotationSource
	AnnotationRevision = ocispec.AnnotationRevision
	AnnotationVersion  = ocispec.AnnotationVersion
	AnnotationRefName  = ocispec.AnnotationRefName
)

// Errors callers branch on.
var (
	// ErrNoEngineVersion means neither the manifest (requires.engine) nor
	// the rules files (required_engine_version) name an engine version;
	// falcoctl follow cannot check such an artifact against Falco.
	ErrNoEngineVersion = errors.New("no engine version: set requires.engine in ruleset.yaml or required_engine_version in a rules file")
	// ErrDuplicateFile means two files would get the same name in the layer.
	ErrDuplicateFile = errors.New("duplicate file name in layer")
	// ErrInvalidArtifact means the input cannot make a valid artifact (no
	// name, no files, a file name that is not a plain base name, ...).
	ErrInvalidArtifact = errors.New("invalid artifact")
)

// PackageOptions are the inputs of an artifact that do not come from the
// ruleset itself. Empty values are left out of the manifest.
type PackageOptions struct {
	// Source is the repository the content comes from
	// (org.opencontainers.image.source), e.g. https://github.com/acme/rules.
	Source string
	// Revision is the commit the content was built from
	// (org.opencontainers.image.revision).
	Revision string
}

// Artifact is a built falcoctl artifact held in memory: config and layer blob,
// and the image manifest that ties them together.
type Artifact struct {
	Config           ArtifactConfig
	ConfigBytes      []byte
	ConfigDescriptor ocispec.Descriptor
	LayerBytes       []byte
	LayerDescriptor  ocispec.Descriptor
	// Files are the layer's entry names in order.
	Files          []string
	Manifest       ocispec.Manifest
	ManifestBytes  []byte
	ManifestDigest digest.Digest
}

// ManifestDescriptor describes the manifest, e.g. for an index or a push.
func (a *Artifact) ManifestDescriptor() ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: MediaTypeImageManifest, Digest: a.ManifestDigest, Size: int64(len(a.ManifestBytes))}
}

// Blobs returns the config and layer blobs (not the manifest) with their
// descriptors.
func (a *Artifact) Blobs() []Blob {
	return []Blob{{a.ConfigDescriptor, a.ConfigBytes}, {a.LayerDescriptor, a.LayerBytes}}
}

// Blob is content with its descriptor.
type Blob struct {
	Descriptor ocispec.Descriptor
	Data       []byte
}

// File is one entry of a layer.
type File struct {
	Name string
	Data []byte
}

// Package builds the rulesfile artifact of a ruleset in memory. rs is the
// loaded ruleset (rules.LoadRuleset): it supplies the file contents that were
// validated, the engine version and the plugin requirements.
//
// Config: name and version from the manifest; one requirement
// engine_version_semver, from requires.engine if set, else the highest
// required_engine_version of the loaded files (an integer N is 0.N.0); it is an
// error (ErrNoEngineVersion) if neither is known. Dependencies, sorted by
// name as falcoctl does:
//   - each required_plugin_versions entry of the ruleset's own files (those of
//     the rulesets it depends on are in their own artifacts): the first plugin
//     as name and version, the others as alternatives (sorted by name);
//   - each dependsOn entry as name and version "X.0.0" for major X. falcoctl
//     reads dependency versions as "at least this version within major X"
//     when it resolves dependencies (install --resolve-deps, which falcops
//     does not use: it pins every artifact by digest); note that falcoctl
//     then fetches the tag "X.0.0" itself, so that release must exist.
//
// Layer: one tar.gz with each rules file at the top level under its base name,
// in load order (two files with the same base name are an error). Tar headers
// carry only name, mode 0644, size and type; the gzip header has no name and
// no time. The layer is annotated org.opencontainers.image.title=<name>.tar.gz.
//
// Manifest: OCI image manifest, schemaVersion 2, without artifactType, config
// descriptor without annotations; annotations source, revision (from opts, if
// set) and version, never a creation time.
func Package(rd *rules.RulesetDir, rs *rules.Ruleset, opts PackageOptions) (*Artifact, error) {
	if rd == nil || rs == nil {
		return nil, fmt.Errorf("%w: ruleset not loaded", ErrInvalidArtifact)
	}
	m := rd.Manifest
	if len(rd.Paths) == 0 {
		return nil, fmt.Errorf("%w: ruleset %q has no files", ErrInvalidArtifact, m.Name)
	}
	engine, err := engineRequirement(m, rs)
	if err != nil {
		return nil, fmt.Errorf("ruleset %q: %w", m.Name, err)
	}
	deps, err := dependencies(rd, rs)
	if err != nil {
		return nil, fmt.Errorf("ruleset %q: %w", m.Name, err)
	}
	files := make([]File, 0, len(rd.Paths))
	for _, p := range rd.Paths {
		data, err := fileData(p, rs)
		if err != nil {
			return nil, fmt.Errorf("ruleset %q: %w", m.Name, err)
		}
		files = append(files, File{Name: filepath.Base(p), Data: data})
	}
	cfg := ArtifactConfig{
		Name:         m.Name,
		Version:      m.Version,
		Dependencies: deps,
		Requirements: []Requirement{{Name: RequirementEngineVersionSemver, Version: engine}},
	}
	return build(cfg, MediaTypeRulesfileConfig, MediaTypeRulesfileLayer, files, opts)
}

// PackageAsset builds a falcoctl "asset" artifact (e.g. the FalcoProfile
// documents) with the same guarantees as Package. Files are stored at the top
// level of the layer, sorted by name; names must be plain file names.
func PackageAsset(name, version string, files map[string][]byte, opts PackageOptions) (*Artifact, error) {
	if len(files) == 0 {
		return nil, fmt.Errorf("%w: asset %q has no files", ErrInvalidArtifact, name)
	}
	list := make([]File, 0, len(files))
	for n, d := range files {
		list = append(list, File{Name: n, Data: d})
	}
	slices.SortFunc(list, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	return build(ArtifactConfig{Name: name, Version: version}, MediaTypeAssetConfig, MediaTypeAssetLayer, list, opts)
}

func build(cfg ArtifactConfig, configMediaType, layerMediaType string, files []File, opts PackageOptions) (*Artifact, error) {
	if cfg.Name == "" {
		return nil, fmt.Errorf("%w: no name", ErrInvalidArtifact)
	}
	if _, err := parseReleaseVersion(cfg.Version); err != nil {
		return nil, fmt.Errorf("artifact %q: %w", cfg.Name, err)
	}
	configBytes, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("artifact %q: encoding config: %w", cfg.Name, err)
	}
	layer, err := TarGz(files)
	if err != nil {
		return nil, fmt.Errorf("artifact %q: %w", cfg.Name, err)
	}
	a := &Artifact{
		Config:           cfg,
		ConfigBytes:      configBytes,
		ConfigDescriptor: descriptor(configMediaType, configBytes),
		LayerBytes:       layer,
		LayerDescriptor:  descriptor(layerMediaType, layer),
	}
	for _, f := range files {
		a.Files = append(a.Files, f.Name)
	}
	a.LayerDescriptor.Annotations = map[string]string{AnnotationTitle: cfg.Name + ".tar.gz"}
	annotations := map[string]string{AnnotationVersion: cfg.Version}
	if opts.Source != "" {
		annotations[AnnotationSource] = opts.Source
	}
	if opts.Revision != "" {
		annotations[AnnotationRevision] = opts.Revision
	}
	a.Manifest = ocispec.Manifest{
		Versioned:   specs.Versioned{SchemaVersion: 2},
		MediaType:   MediaTypeImageManifest,
		Config:      a.ConfigDescriptor,
		Layers:      []ocispec.Descriptor{a.LayerDescriptor},
		Annotations: annotations,
	}
	// encoding/json sorts map keys, so the manifest bytes are canonical.
	if a.ManifestBytes, err = json.Marshal(a.Manifest); err != nil {
		return nil, fmt.Errorf("artifact %q: encoding manifest: %w", cfg.Name, err)
	}
	a.ManifestDigest = digest.FromBytes(a.ManifestBytes)
	return a, nil
}

func descriptor(mediaType string, data []byte) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(data), Size: int64(len(data))}
}

// TarGz writes files into a reproducible tar.gz, in the given order: each
// file at the top level, tar headers with only name, mode 0644, size and type
// (no times, owners or user names), gzip at the default level with an empty
// header (no name, no time). Names must be plain file names, each used once.
func TarGz(files []File) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	seen := map[string]bool{}
	for _, f := range files {
		if err := checkBaseName(f.Name); err != nil {
			return nil, err
		}
		if seen[f.Name] {
			return nil, fmt.Errorf("%w: %q", ErrDuplicateFile, f.Name)
		}
		seen[f.Name] = true
		hdr := &tar.Header{Name: f.Name, Mode: 0o644, Size: int64(len(f.Data)), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("tar header %q: %w", f.Name, err)
		}
		if _, err := tw.Write(f.Data); err != nil {
			return nil, fmt.Errorf("tar %q: %w", f.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("tar: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return buf.Bytes(), nil
}

func checkBaseName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00") || path.Base(name) != name {
		return fmt.Errorf("%w: file name %q must be a plain file name", ErrInvalidArtifact, name)
	}
	return nil
}

// engineRequirement is requires.engine if set, else the highest
// required_engine_version of the loaded files.
func engineRequirement(m rules.Manifest, rs *rules.Ruleset) (string, error) {
	if s := strings.TrimSpace(m.Requires.Engine); s != "" {
		if n, err := strconv.ParseUint(s, 10, 32); err == nil {
			return rules.Version{Minor: n}.String(), nil
		}
		v, err := rules.ParseVersion(s)
		if err != nil {
			return "", fmt.Errorf("requires.engine: %w", err)
		}
		return v.String(), nil
	}
	if rs.RequiredEngine.IsZero() {
		return "", ErrNoEngineVersion
	}
	return rs.RequiredEngine.String(), nil
}

// dependencies lists the plugin requirements of the ruleset's own files and
// its dependsOn rulesets, sorted by name. A plugin required twice keeps the
// highest version.
func dependencies(rd *rules.RulesetDir, rs *rules.Ruleset) ([]Dependency, error) {
	own := map[string]bool{}
	for _, p := range rd.Paths {
		own[p] = true
	}
	byName := map[string]int{}
	var deps []Dependency
	for _, req := range rs.Plugins {
		if len(req.Alternatives) == 0 || (req.At.File != "" && !own[req.At.File]) {
			continue
		}
		d := Dependency{Name: req.Alternatives[0].Name, Version: req.Alternatives[0].Version}
		for _, alt := range req.Alternatives[1:] {
			d.Alternatives = append(d.Alternatives, Alternative(alt))
		}
		slices.SortStableFunc(d.Alternatives, func(a, b Alternative) int { return strings.Compare(a.Name, b.Name) })
		if i, ok := byName[d.Name]; ok {
			if higherVersion(d.Version, deps[i].Version) {
				deps[i] = d
			}
			continue
		}
		byName[d.Name] = len(deps)
		deps = append(deps, d)
	}
	plugins := len(deps)
	for _, dep := range rd.Manifest.DependsOn {
		if i, ok := byName[dep.Name]; ok {
			if i < plugins {
				return nil, fmt.Errorf("%w: %q is both a required plugin and a dependsOn ruleset", ErrInvalidArtifact, dep.Name)
			}
			return nil, fmt.Errorf("%w: dependsOn names %q twice", ErrInvalidArtifact, dep.Name)
		}
		byName[dep.Name] = len(deps)
		deps = append(deps, Dependency{Name: dep.Name, Version: strconv.FormatUint(dep.Major, 10) + ".0.0"})
	}
	slices.SortStableFunc(deps, func(a, b Dependency) int { return strings.Compare(a.Name, b.Name) })
	return deps, nil
}

// higherVersion reports whether a > b for x.y.z versions; unparsable
// versions (already reported by the rules loader) never win.
func higherVersion(a, b string) bool {
	va, err := rules.ParseVersion(a)
	if err != nil {
		return false
	}
	vb, err := rules.ParseVersion(b)
	if err != nil {
		return true
	}
	return vb.Less(va)
}

// fileData returns the bytes the loader validated. A file the loaded
// ruleset does not hold was never validated and is refused, never re-read
// from disk.
func fileData(p string, rs *rules.Ruleset) ([]byte, error) {
	for _, src := range rs.Sources {
		if src.Name == p {
			return src.Data, nil
		}
	}
	return nil, fmt.Errorf("%w: %s was not loaded with the ruleset, so it was not validated", ErrInvalidArtifact, p)
}

// WithRevision returns the artifact with its manifest's revision
// annotation set to revision ("" removes it); config and layer are shared.
// Publishing compares the registry's manifest with its own rebuilt this
// way, so only the commit may differ between two builds of the same content.
func (a *Artifact) WithRevision(revision string) (*Artifact, error) {
	b := *a
	b.Manifest.Annotations = maps.Clone(a.Manifest.Annotations)
	delete(b.Manifest.Annotations, AnnotationRevision)
	if revision != "" {
		b.Manifest.Annotations[AnnotationRevision] = revision
	}
	var err error
	if b.ManifestBytes, err = json.Marshal(b.Manifest); err != nil {
		return nil, fmt.Errorf("artifact %q: encoding manifest: %w", a.Config.Name, err)
	}
	b.ManifestDigest = digest.FromBytes(b.ManifestBytes)
	return &b, nil
}
