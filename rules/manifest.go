package rules

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/Masterminds/semver/v3"
	"go.yaml.in/yaml/v3"

	"github.com/falcops/falcops/diag"
)

// ManifestFile is the name of a ruleset's manifest.
const ManifestFile = "ruleset.yaml"

// ErrManifest is the code of findings about a ruleset manifest.
const ErrManifest = "FALCOPS_MANIFEST"

var rulesetNameRe = regexp.MustCompile(`^[a-z]+[a-z0-9-_]*$`)

// Manifest describes a ruleset (rulesets/<name>/ruleset.yaml).
type Manifest struct {
	// Name is the ruleset, OCI repository and falcoctl index entry name.
	Name        string       `yaml:"name" json:"name"`
	Version     string       `yaml:"version" json:"version"`
	Description string       `yaml:"description,omitempty" json:"description,omitempty"`
	License     string       `yaml:"license,omitempty" json:"license,omitempty"`
	Home        string       `yaml:"home,omitempty" json:"home,omitempty"`
	Keywords    []string     `yaml:"keywords,omitempty" json:"keywords,omitempty"`
	Maintainers []Maintainer `yaml:"maintainers,omitempty" json:"maintainers,omitempty"`
	// Files are the rules files, in load order, relative to the manifest.
	Files []string `yaml:"files" json:"files"`
	// DependsOn names rulesets loaded before this one (e.g. the ruleset an
	// exceptions ruleset tunes).
	DependsOn []Dependency `yaml:"dependsOn,omitempty" json:"dependsOn,omitempty"`
	// Requires overrides requirements derived from the files.
	Requires Requirements `yaml:"requires,omitempty" json:"requires,omitempty"`
	// Exceptions own the exceptions this ruleset's files add to rules of
	// other rulesets: each has an owner, a reason and an expiry. Falco
	// warns on unknown keys inside rules files, so this metadata lives
	// here, beside them.
	Exceptions []OwnedException `yaml:"exceptions,omitempty" json:"exceptions,omitempty"`
	// Upstream records where vendored files came from (falcops vendor).
	Upstream *Upstream `yaml:"upstream,omitempty" json:"upstream,omitempty"`
}

// OwnedException is the metadata of one exception a ruleset adds to a
// rule it does not define.
type OwnedException struct {
	// Rule and Name identify the exception (the rule's name, the
	// exception's name).
	Rule string `yaml:"rule" json:"rule"`
	Name string `yaml:"name" json:"name"`
	// Owner answers for it; Reason says why it is needed.
	Owner  string `yaml:"owner" json:"owner"`
	Reason string `yaml:"reason" json:"reason"`
	// Expires is the day (YYYY-MM-DD, UTC) after which the exception must
	// be reviewed again: validate warns 30 days before and fails after.
	Expires string `yaml:"expires" json:"expires"`
}

// Upstream is the provenance of a vendored ruleset: the artifact its files
// were written from, byte for byte, and who signed it.
type Upstream struct {
	// Ref is the artifact's reference as vendored (repository:tag).
	Ref string `yaml:"ref" json:"ref"`
	// Digest is the artifact manifest's digest.
	Digest string `yaml:"digest" json:"digest"`
	// Signer is the certificate identity and issuer that signed it.
	Signer Signer `yaml:"signer" json:"signer"`
	// Files are the sha256 digests of the vendored files, by name; validate
	// checks that the files still match.
	Files map[string]string `yaml:"files" json:"files"`
}

// Signer is a keyless signature's identity.
type Signer struct {
	Identity string `yaml:"identity" json:"identity"`
	Issuer   string `yaml:"issuer" json:"issuer"`
}

// Maintainer of a ruleset.
type Maintainer struct {
	Name  string `yaml:"name" json:"name"`
	Email string `yaml:"email,omitempty" json:"email,omitempty"`
}

// Dependency on another ruleset by name and major version.
type Dependency struct {
	Name  string `yaml:"name" json:"name"`
	Major uint64 `yaml:"major" json:"major"`
}

// Requirements a ruleset declares explicitly.
type Requirements struct {
	// Engine is the minimum engine version (x.y.z).
	Engine string `yaml:"engine,omitempty" json:"engine,omitempty"`
}

// RulesetDir is a ruleset on disk: its folder and manifest. A loose rules
// file is a ruleset of one file with no manifest.
type RulesetDir struct {
	Dir      string
	Manifest Manifest
	// Paths are the rules files in load order.
	Paths []string
	// ManifestPath is empty for a loose file.
	ManifestPath string
	// dependsOnAt is where the manifest lists dependsOn; exceptionsAt where
	// each exceptions entry is.
	dependsOnAt  diag.Position
	exceptionsAt []diag.Position
}

// ReadManifest reads and checks dir/ruleset.yaml. Problems are findings with
// the manifest's positions; the manifest is usable only if none is an error.
func ReadManifest(dir string) (*RulesetDir, diag.Findings) {
	path := filepath.Join(dir, ManifestFile)
	src, err := ReadSource(path)
	if err != nil {
		return nil, diag.Findings{{Code: ErrFileRead, Severity: diag.Error, Message: err.Error(), Position: diag.At(path, 1, 1)}}
	}
	var root yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(src.Data)).Decode(&root); err != nil {
		return nil, diag.Findings{yamlError(src, err)}
	}
	var m Manifest
	dec := func() error {
		d := yaml.NewDecoder(bytes.NewReader(src.Data))
		d.KnownFields(true)
		return d.Decode(&m)
	}
	if err := dec(); err != nil {
		f := yamlError(src, err)
		f.Code = ErrManifest
		return nil, diag.Findings{f}
	}
	var fs diag.Findings
	at := func(key string) diag.Position {
		if len(root.Content) > 0 && root.Content[0].Kind == yaml.MappingNode {
			if v := get(root.Content[0], key); v != nil {
				return nodePos(v)
			}
		}
		return diag.Position{Line: 1, Column: 1}
	}
	bad := func(key, format string, args ...any) {
		fs = append(fs, diag.Finding{Code: ErrManifest, Severity: diag.Error, Message: fmt.Sprintf(format, args...), Position: at(key).In(path)})
	}
	if !rulesetNameRe.MatchString(m.Name) {
		bad("name", "ruleset name %q must match %s", m.Name, rulesetNameRe)
	}
	if _, err := semver.StrictNewVersion(m.Version); err != nil {
		bad("version", "version %q is not a semantic version (X.Y.Z): %v", m.Version, err)
	}
	if len(m.Files) == 0 {
		bad("files", "files must list the ruleset's rules files in load order")
	}
	rd := &RulesetDir{Dir: dir, Manifest: m, ManifestPath: path, dependsOnAt: at("dependsOn").In(path)}
	for _, f := range m.Files {
		clean := filepath.Clean(f)
		if filepath.IsAbs(f) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
			bad("files", "file %q must be a path inside the ruleset folder", f)
			continue
		}
		p := filepath.Join(dir, clean)
		if _, err := os.Stat(p); err != nil {
			bad("files", "file %q: %v", f, err)
			continue
		}
		if err := insideFolder(dir, p); err != nil {
			bad("files", "file %q: %v", f, err)
			continue
		}
		rd.Paths = append(rd.Paths, p)
	}
	for _, d := range m.DependsOn {
		if !rulesetNameRe.MatchString(d.Name) {
			bad("dependsOn", "dependency name %q must match %s", d.Name, rulesetNameRe)
		}
	}
	if m.Requires.Engine != "" {
		if _, err := ParseVersion(m.Requires.Engine); err != nil {
			bad("requires", "requires.engine: %v", err)
		}
	}
	if n := get(firstNode(&root), "exceptions"); n != nil && n.Kind == yaml.SequenceNode {
		for _, item := range n.Content {
			rd.exceptionsAt = append(rd.exceptionsAt, nodePos(item).In(path))
		}
	}
	fs = append(fs, checkOwned(rd)...)
	if err := CheckVendored(rd); err != nil {
		fs = append(fs, diag.Finding{Code: ErrVendored, Severity: diag.Error, Position: at("upstream").In(path), Message: err.Error()})
	}
	return rd, fs
}

// insideFolder refuses a rules file that resolves, through a symlink, to a
// place outside its ruleset folder: validation would check, and packaging
// would publish, whatever file the link names. A symlink inside the folder
// is fine.
func insideFolder(dir, path string) error {
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(realDir, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return fmt.Errorf("is a symlink to %s, outside the ruleset folder %s (copy the file into the folder)", real, dir)
	}
	return nil
}

// readError is the finding for a path that cannot be read, positioned at
// the path as a whole: "missing.yaml: error: no such file or directory".
func readError(path string, err error) diag.Finding {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return diag.Finding{Code: ErrFileRead, Severity: diag.Error, Message: err.Error(), Position: diag.Position{File: path}}
}

// Discover finds the rulesets a path names: a rules file (a ruleset of one
// file), a ruleset folder (with ruleset.yaml), or a repository root whose
// rulesets/ folder holds ruleset folders.
func Discover(path string) ([]*RulesetDir, diag.Findings) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, diag.Findings{readError(path, err)}
	}
	if !info.IsDir() {
		return []*RulesetDir{{Dir: filepath.Dir(path), Paths: []string{path},
			Manifest: Manifest{Name: strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))}}}, nil
	}
	if _, err := os.Stat(filepath.Join(path, ManifestFile)); err == nil {
		rd, fs := ReadManifest(path)
		if rd == nil || fs.Errors() > 0 {
			return nil, fs
		}
		return []*RulesetDir{rd}, fs
	}
	root := path
	if _, err := os.Stat(filepath.Join(path, "rulesets")); err == nil {
		root = filepath.Join(path, "rulesets")
	}
	entries, _ := os.ReadDir(root)
	var out []*RulesetDir
	var fs diag.Findings
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(root, e.Name())
		if _, err := os.Stat(filepath.Join(dir, ManifestFile)); err != nil {
			continue
		}
		rd, f := ReadManifest(dir)
		fs = append(fs, f...)
		if rd != nil && f.Errors() == 0 {
			out = append(out, rd)
		}
	}
	if len(out) == 0 && fs.Errors() == 0 {
		// a folder has no line: the finding names the folder itself
		// ("rulesets/empty: error: no rules files: ..."), by its absolute
		// path when it is the working directory
		name := path
		if filepath.Clean(path) == "." {
			if abs, err := filepath.Abs(path); err == nil {
				name = abs
			}
		}
		fs = append(fs, diag.Finding{Code: ErrManifest, Severity: diag.Error, Position: diag.Position{File: name},
			Message: "no rules files: expected a rules file, a folder with " + ManifestFile + ", or a repository with rulesets/<name>/" + ManifestFile})
	}
	return out, fs
}

// RulesetsPathEnv lists folders (separated as in PATH) that hold ruleset
// folders besides the repository's own: where dependencies are looked up
// when the repository does not vendor them, such as a checkout of vendored
// upstream rulesets kept in another repository.
const RulesetsPathEnv = "FALCOPS_RULESETS_PATH"

// ErrVendored is the code of vendored files that differ from upstream's.
const ErrVendored = "FALCOPS_VENDORED"

// CheckVendored checks a vendored ruleset's files against the digests its
// manifest recorded (nil for a ruleset that is not vendored): upstream
// bytes are never edited.
func CheckVendored(rd *RulesetDir) error {
	u := rd.Manifest.Upstream
	if u == nil {
		return nil
	}
	var bad []string
	for _, f := range rd.Manifest.Files {
		want, ok := u.Files[f]
		if !ok {
			bad = append(bad, f+" is not one of upstream's files")
			continue
		}
		data, err := os.ReadFile(filepath.Join(rd.Dir, filepath.Clean(f)))
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		if sum := sha256.Sum256(data); "sha256:"+hex.EncodeToString(sum[:]) != want {
			bad = append(bad, fmt.Sprintf("%s differs from upstream's %s (%s)", f, want, u.Ref))
		}
	}
	if len(u.Files) != len(rd.Manifest.Files) {
		bad = append(bad, fmt.Sprintf("files lists %d of upstream's %d files", len(rd.Manifest.Files), len(u.Files)))
	}
	if len(bad) > 0 {
		return fmt.Errorf("vendored files changed: %s; never edit upstream files: tune them in a ruleset that dependsOn this one, or run falcops vendor again", strings.Join(bad, "; "))
	}
	return nil
}

// ErrDependency is the code of a dependsOn entry that does not resolve.
const ErrDependency = "FALCOPS_DEPENDENCY"

// FindDependency finds the ruleset folder d names: the one folder whose
// manifest has d's name and a version of d's major, among rd's sibling
// folders (the repository's rulesets), then in each folder of
// $FALCOPS_RULESETS_PATH. Two folders of the same line in one place are an
// error: which one loads would depend on their names.
func FindDependency(rd *RulesetDir, d Dependency) (*RulesetDir, error) {
	return FindDependencyIn(rd, d, append([]string{filepath.Dir(rd.Dir)}, filepath.SplitList(os.Getenv(RulesetsPathEnv))...))
}

// FindDependencyIn is FindDependency over the folders roots, in order.
func FindDependencyIn(rd *RulesetDir, d Dependency, roots []string) (*RulesetDir, error) {
	for _, root := range roots {
		entries, _ := os.ReadDir(root)
		var found []*RulesetDir
		for _, e := range entries {
			dir := filepath.Join(root, e.Name())
			if !e.IsDir() || filepath.Clean(dir) == filepath.Clean(rd.Dir) {
				continue
			}
			if _, err := os.Stat(filepath.Join(dir, ManifestFile)); err != nil {
				continue
			}
			m, f := ReadManifest(dir)
			if m == nil || f.Errors() > 0 || m.Manifest.Name != d.Name {
				continue
			}
			if v, err := semver.StrictNewVersion(m.Manifest.Version); err == nil && v.Major() == d.Major {
				found = append(found, m)
			}
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			return found[0], nil
		default:
			return nil, fmt.Errorf("dependency %s %d: both %s and %s hold it; keep one folder per major line", d.Name, d.Major, found[0].Dir, found[1].Dir)
		}
	}
	return nil, fmt.Errorf("dependency %s %d is neither in this repository (%s) nor in $%s: vendor it (falcops vendor %s X.Y.Z) or add the folder that holds it to $%s",
		d.Name, d.Major, filepath.Dir(rd.Dir), RulesetsPathEnv, d.Name, RulesetsPathEnv)
}

// LoadRuleset loads a ruleset's files in order, after the files of the
// rulesets it depends on (FindDependency), and keeps only the findings
// about its own files.
func LoadRuleset(rd *RulesetDir, opts Options) (*Ruleset, diag.Findings) {
	var srcs []*Source
	var fs diag.Findings
	own := map[string]bool{}
	var deps []string
	missing := false
	for _, d := range rd.Manifest.DependsOn {
		dep, err := FindDependency(rd, d)
		if err != nil {
			missing = true
			fs = append(fs, diag.Finding{Code: ErrDependency, Severity: diag.Error, Position: rd.dependsOnAt, Message: err.Error()})
			continue
		}
		deps = append(deps, dep.Paths...)
	}
	for _, p := range append(deps, rd.Paths...) {
		src, err := ReadSource(p)
		if err != nil {
			fs = append(fs, diag.Finding{Code: ErrFileRead, Severity: diag.Error, Message: err.Error(), Position: diag.At(p, 1, 1)})
			continue
		}
		srcs = append(srcs, src)
	}
	for _, p := range rd.Paths {
		own[p] = true
	}
	if opts.Engine.IsZero() && rd.Manifest.Requires.Engine != "" {
		opts.Engine, _ = ParseVersion(rd.Manifest.Requires.Engine)
	}
	rs := Load(srcs, opts)
	for _, f := range rs.Findings {
		if own[f.File] {
			fs = append(fs, f)
		}
	}
	if rd.ManifestPath != "" && !missing { // without its dependency no tuned rule exists
		fs = append(fs, CheckOwnedExceptions(rd, rs, opts.Now)...)
	}
	fs.Sort()
	return rs, fs
}

// firstNode is the document's top node, nil for an empty document.
func firstNode(doc *yaml.Node) *yaml.Node {
	if len(doc.Content) == 0 {
		return nil
	}
	return doc.Content[0]
}
