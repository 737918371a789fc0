package lifecycle

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"

	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
	"github.com/falcops/falcops/diag"
)

// APIVersion is the apiVersion of FalcoProfile documents.
var APIVersion = profilev1alpha1.SchemeGroupVersion.String()

// Version is one offered version of a component (Falco or Falcosidekick),
// checked and merged from the profile documents.
type Version struct {
	// Version is the component version, a strict semver X.Y.Z.
	Version string
	// Classification is preview, supported or deprecated.
	Classification string
	// Expires is the expiration date; nil means the version never expires.
	Expires *time.Time
	// RulesVersion is Gardener's rules directory name (Falco only).
	RulesVersion string
	// EngineVersion is the engineVersion written in the profile (Falco
	// only, falcops' addition); empty if absent. See Profile.EngineVersion
	// for the effective value.
	EngineVersion string
	// Plugins are the plugins the Falco release bundles (falcops'
	// addition); nil when the profile does not say.
	Plugins []profilev1alpha1.PluginVersion
	// Image is the image reference (repository:tag, repository@sha256:...,
	// or repository as is when the tag is empty).
	Image string
	// Source is where the version entry is written.
	Source diag.Position

	semver *semver.Version
}

// Expired reports whether the version has expired at the given time: it has
// an expiration date and at is after it.
func (v Version) Expired(at time.Time) bool {
	return v.Expires != nil && at.After(*v.Expires)
}

// Profile is the merge of one or more FalcoProfile documents.
type Profile struct {
	// Objects are the documents as decoded, in load order (files in the
	// order given, documents in file order).
	Objects []*profilev1alpha1.FalcoProfile

	falco    []Version
	sidekick []Version
}

// Versions returns the Falco versions, lowest first.
func (p *Profile) Versions() []Version { return slices.Clone(p.falco) }

// FalcosidekickVersions returns the Falcosidekick versions, lowest first.
func (p *Profile) FalcosidekickVersions() []Version { return slices.Clone(p.sidekick) }

// Version returns the Falco version v, or ErrUnknownVersion.
func (p *Profile) Version(v string) (Version, error) {
	for _, fv := range p.falco {
		if fv.Version == v {
			return fv, nil
		}
	}
	return Version{}, fmt.Errorf("%w: Falco %s", ErrUnknownVersion, v)
}

// Expired reports whether Falco version v has expired at the given time. A
// version the profile does not offer (any more) counts as expired, as in
// Gardener's maintenance controller.
func (p *Profile) Expired(v string, at time.Time) bool {
	fv, err := p.Version(v)
	return err != nil || fv.Expired(at)
}

// Image returns the image of Falco version v.
func (p *Profile) Image(v string) (string, error) {
	fv, err := p.Version(v)
	if err != nil {
		return "", err
	}
	return fv.Image, nil
}

// EngineVersion returns the Falco engine version (semver) of Falco version
// v: the profile's engineVersion if set, else falcops' built-in table.
func (p *Profile) EngineVersion(v string) (string, error) {
	fv, err := p.Version(v)
	if err != nil {
		return "", err
	}
	if fv.EngineVersion != "" {
		return fv.EngineVersion, nil
	}
	if e, ok := BuiltinEngineVersion(v); ok {
		return e, nil
	}
	return "", fmt.Errorf("%w of Falco %s (%s): set engineVersion in the profile", ErrUnknownEngine, v, fv.Source)
}

// ImageRef formats an image as Gardener does: repository@tag when the tag is
// a digest (sha256:...), the repository alone when the tag is empty, else
// repository:tag.
func ImageRef(img profilev1alpha1.ImageSpec) string {
	switch {
	case img.Tag == "":
		return img.Repository
	case strings.HasPrefix(img.Tag, "sha256:"):
		return img.Repository + "@" + img.Tag
	default:
		return img.Repository + ":" + img.Tag
	}
}

// LoadFile loads the FalcoProfile documents of one file.
func LoadFile(path string) (*Profile, error) { return Load(path) }

// Load loads and merges the FalcoProfile documents of the given files. A
// directory stands for its *.yaml and *.yml files (not recursive, in name
// order). Missing files are returned as they are (errors.Is(err,
// fs.ErrNotExist)); problems with the content as a *LoadError listing all of
// them with their positions (errors.Is(err, ErrInvalid)).
//
// Documents merge by version: the same version may appear in several
// documents only with identical entries; a conflict is an error naming both
// places, so the result never depends on load order.
func Load(paths ...string) (*Profile, error) {
	files, err := expand(paths)
	if err != nil {
		return nil, err
	}
	var docs []*document
	var problems diag.Findings
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("reading profile: %w", err)
		}
		ds, ps := decodeFile(f, data)
		problems = append(problems, ps...)
		if len(ds) == 0 && len(ps) == 0 {
			problems = append(problems, problem(diag.At(f, 1, 1), "no FalcoProfile document in the file"))
		}
		for _, d := range ds {
			problems = append(problems, d.check()...)
		}
		docs = append(docs, ds...)
	}
	p, ps := merge(docs)
	problems = append(problems, ps...)
	if len(problems) > 0 {
		slices.SortStableFunc(problems, func(a, b diag.Finding) int {
			return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
		})
		return nil, &LoadError{Problems: problems}
	}
	return p, nil
}

// expand replaces directories by their YAML files.
func expand(paths []string) ([]string, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("no profile path given: %w", ErrNoProfile)
	}
	var files []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("reading profile: %w", err)
		}
		if !info.IsDir() {
			files = append(files, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("reading profiles: %w", err)
		}
		n := len(files)
		for _, e := range entries {
			ext := filepath.Ext(e.Name())
			if e.Type().IsRegular() && (ext == ".yaml" || ext == ".yml") {
				files = append(files, filepath.Join(p, e.Name()))
			}
		}
		if len(files) == n {
			return nil, fmt.Errorf("%s: no *.yaml file: %w", p, ErrNoProfile)
		}
	}
	return files, nil
}

var classifications = []string{
	profilev1alpha1.ClassificationPreview,
	profilev1alpha1.ClassificationSupported,
	profilev1alpha1.ClassificationDeprecated,
}

// check validates one document on its own.
func (d *document) check() diag.Findings {
	var ps diag.Findings
	bad := func(path, format string, args ...any) {
		ps = append(ps, problem(d.pos(path), format, args...))
	}
	o := d.obj
	if o.APIVersion != APIVersion {
		bad("apiVersion", "apiVersion is %q, want %q", o.APIVersion, APIVersion)
	}
	if o.Kind != profilev1alpha1.Kind {
		bad("kind", "kind is %q, want %q", o.Kind, profilev1alpha1.Kind)
	}
	if o.Name == "" {
		bad("metadata.name", "metadata.name is required")
	}
	if o.Namespace != "" {
		bad("metadata.namespace", "FalcoProfile is cluster-scoped: remove metadata.namespace")
	}
	checkVersion := func(path, what, version, classification string, expiration *string) {
		if _, err := semver.StrictNewVersion(version); err != nil {
			bad(path+".version", "%s version %q is not a semantic version X.Y.Z", what, version)
		}
		if !slices.Contains(classifications, classification) {
			bad(path+".classification", "%s %s: classification %q must be one of %s", what, version, classification, strings.Join(classifications, ", "))
		}
		if expiration != nil {
			if _, err := parseDate(*expiration); err != nil {
				bad(path+".expirationDate", "%s %s: expirationDate %q is not an RFC 3339 date-time with a time zone (like 2026-07-31T23:59:59Z): %v", what, version, *expiration, err)
			}
		}
	}
	for i, v := range o.Spec.Versions.Falco {
		path := fmt.Sprintf("spec.versions.falco[%d]", i)
		checkVersion(path, "Falco", v.Version, v.Classification, v.ExpirationDate)
		if _, err := semver.StrictNewVersion(v.RulesVersion); err != nil {
			bad(path+".rulesVersion", "Falco %s: rulesVersion %q is not a semantic version X.Y.Z", v.Version, v.RulesVersion)
		}
		if v.EngineVersion != "" {
			if _, err := semver.StrictNewVersion(v.EngineVersion); err != nil {
				bad(path+".engineVersion", "Falco %s: engineVersion %q is not a semantic version X.Y.Z", v.Version, v.EngineVersion)
			}
		}
		seen := map[string]bool{}
		for j, p := range v.Plugins {
			at := fmt.Sprintf("%s.plugins[%d]", path, j)
			if _, err := semver.StrictNewVersion(p.Version); err != nil || p.Name == "" {
				bad(at, "Falco %s: plugin %q version %q: want a name and a semantic version X.Y.Z", v.Version, p.Name, p.Version)
			}
			if seen[p.Name] {
				bad(at, "Falco %s: plugin %q is listed twice", v.Version, p.Name)
			}
			seen[p.Name] = true
		}
	}
	for i, v := range o.Spec.Versions.Falcosidekick {
		checkVersion(fmt.Sprintf("spec.versions.falcosidekick[%d]", i), "Falcosidekick", v.Version, v.Classification, v.ExpirationDate)
	}
	for i, v := range o.Spec.Versions.Falcoctl {
		checkVersion(fmt.Sprintf("spec.versions.falcoctl[%d]", i), "falcoctl", v.Version, v.Classification, v.ExpirationDate)
	}
	images := map[string][]profilev1alpha1.ImageSpec{
		"falco": o.Spec.Images.Falco, "falcosidekick": o.Spec.Images.Falcosidekick, "falcoctl": o.Spec.Images.Falcoctl,
	}
	for _, component := range []string{"falco", "falcosidekick", "falcoctl"} {
		for i, img := range images[component] {
			path := fmt.Sprintf("spec.images.%s[%d]", component, i)
			if _, err := semver.StrictNewVersion(img.Version); err != nil {
				bad(path+".version", "image version %q is not a semantic version X.Y.Z", img.Version)
			}
			if img.Repository == "" {
				bad(path+".repository", "image of %s %s: repository is required", component, img.Version)
			}
		}
	}
	return ps
}

// parseDate parses an expiration date: RFC 3339, time zone required.
func parseDate(s string) (time.Time, error) { return time.Parse(time.RFC3339, s) }

// entry is a version or image entry with where it was written, for merging.
type entry[T any] struct {
	value T
	pos   diag.Position
}

// mergeInto adds value under key unless an identical entry exists; a
// different one is a conflict.
func mergeInto[T any](m map[string]entry[T], key, what string, value T, pos diag.Position) *diag.Finding {
	if prev, ok := m[key]; ok {
		if reflect.DeepEqual(prev.value, value) {
			return nil
		}
		p := problem(pos, "%s is defined differently at %s", what, prev.pos)
		return &p
	}
	m[key] = entry[T]{value, pos}
	return nil
}

// merge combines checked documents; documents with problems still merge so
// that all problems are reported at once.
func merge(docs []*document) (*Profile, diag.Findings) {
	p := &Profile{}
	var ps diag.Findings
	falco := map[string]entry[profilev1alpha1.FalcoVersion]{}
	sidekick := map[string]entry[profilev1alpha1.FalcosidekickVersion]{}
	falcoImages := map[string]entry[profilev1alpha1.ImageSpec]{}
	sidekickImages := map[string]entry[profilev1alpha1.ImageSpec]{}
	add := func(pr *diag.Finding) {
		if pr != nil {
			ps = append(ps, *pr)
		}
	}
	for _, d := range docs {
		p.Objects = append(p.Objects, d.obj)
		s := d.obj.Spec
		for i, v := range s.Versions.Falco {
			add(mergeInto(falco, v.Version, "Falco version "+v.Version, v, d.pos(fmt.Sprintf("spec.versions.falco[%d]", i))))
		}
		for i, v := range s.Versions.Falcosidekick {
			add(mergeInto(sidekick, v.Version, "Falcosidekick version "+v.Version, v, d.pos(fmt.Sprintf("spec.versions.falcosidekick[%d]", i))))
		}
		for i, img := range s.Images.Falco {
			add(mergeInto(falcoImages, img.Version, "the image of Falco "+img.Version, img, d.pos(fmt.Sprintf("spec.images.falco[%d]", i))))
		}
		for i, img := range s.Images.Falcosidekick {
			add(mergeInto(sidekickImages, img.Version, "the image of Falcosidekick "+img.Version, img, d.pos(fmt.Sprintf("spec.images.falcosidekick[%d]", i))))
		}
	}
	for _, e := range falco {
		v := Version{
			Version: e.value.Version, Classification: e.value.Classification, RulesVersion: e.value.RulesVersion,
			EngineVersion: e.value.EngineVersion, Plugins: e.value.Plugins, Source: e.pos,
		}
		ps = append(ps, finish(&v, e.value.ExpirationDate, falcoImages, "Falco")...)
		p.falco = append(p.falco, v)
	}
	for _, e := range sidekick {
		v := Version{Version: e.value.Version, Classification: e.value.Classification, Source: e.pos}
		ps = append(ps, finish(&v, e.value.ExpirationDate, sidekickImages, "Falcosidekick")...)
		p.sidekick = append(p.sidekick, v)
	}
	sortVersions(p.falco)
	sortVersions(p.sidekick)
	return p, ps
}

// finish fills the parsed fields of v; invalid values were reported by check.
func finish(v *Version, expiration *string, images map[string]entry[profilev1alpha1.ImageSpec], component string) diag.Findings {
	v.semver, _ = semver.StrictNewVersion(v.Version)
	if expiration != nil {
		if t, err := parseDate(*expiration); err == nil {
			v.Expires = &t
		}
	}
	img, ok := images[v.Version]
	if !ok {
		return diag.Findings{problem(v.Source, "%s %s has no image: add it to spec.images.%s", component, v.Version, strings.ToLower(component))}
	}
	v.Image = ImageRef(img.value)
	return nil
}

func sortVersions(vs []Version) {
	slices.SortFunc(vs, func(a, b Version) int {
		if a.semver != nil && b.semver != nil {
			if c := a.semver.Compare(b.semver); c != 0 {
				return c
			}
		}
		return strings.Compare(a.Version, b.Version)
	})
}

// FromObjects checks and merges FalcoProfile objects read from a cluster,
// as Load does for files. Positions name the object ("FalcoProfile/NAME")
// at line 1, column 1. An empty apiVersion or kind (typed clients clear
// them) counts as FalcoProfile's.
func FromObjects(objs ...*profilev1alpha1.FalcoProfile) (*Profile, error) {
	if len(objs) == 0 {
		return nil, fmt.Errorf("no FalcoProfile object: %w", ErrNoProfile)
	}
	docs := make([]*document, 0, len(objs))
	var problems diag.Findings
	for _, o := range objs {
		o = o.DeepCopy()
		if o.APIVersion == "" && o.Kind == "" {
			o.APIVersion, o.Kind = APIVersion, profilev1alpha1.Kind
		}
		d := &document{file: profilev1alpha1.Kind + "/" + o.Name, obj: o}
		problems = append(problems, d.check()...)
		docs = append(docs, d)
	}
	p, ps := merge(docs)
	problems = append(problems, ps...)
	if len(problems) > 0 {
		return nil, &LoadError{Problems: problems}
	}
	return p, nil
}

// Problems merges objs as every consumer does and says what keeps the
// result from being served, one text per problem: lifecycle's strict rules,
// and an unexpired supported version for new shoots' default. The
// admission webhook refuses a profile with problems; the controller writes
// them into the Valid condition.
func Problems(objs []*profilev1alpha1.FalcoProfile, at time.Time) (*Profile, []string) {
	p, err := FromObjects(objs...)
	var invalid *LoadError
	switch {
	case errors.As(err, &invalid):
		texts := make([]string, len(invalid.Problems))
		for i, f := range invalid.Problems {
			texts[i] = f.Message
		}
		return nil, texts
	case err != nil:
		return nil, []string{err.Error()}
	}
	if _, err := DefaultVersion(p, at); err != nil {
		return p, []string{"no supported Falco version is unexpired, so new shoots would get no default version"}
	}
	return p, nil
}

// Bundles reports whether the Falco release bundles plugin name at a
// version Falco accepts for the required minimum: the same major version
// and at least minimum (required_plugin_versions' rule).
func (v Version) Bundles(name, minimum string) bool {
	m, err := semver.StrictNewVersion(minimum)
	if err != nil {
		return false
	}
	for _, p := range v.Plugins {
		pv, err := semver.StrictNewVersion(p.Version)
		if p.Name == name && err == nil && pv.Major() == m.Major() && !pv.LessThan(m) {
			return true
		}
	}
	return false
}
