package lifecycle

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"go.yaml.in/yaml/v3"

	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
)

// ErrRefused is wrapped by every error of an edit that would break a
// lifecycle rule or names a version the profile does not (or already)
// offer. Nothing is written when an edit is refused.
var ErrRefused = errors.New("edit refused")

// Change is an edit of one profile file, computed but not yet written:
// Data is the whole new file, identical to the old one outside the edited
// lines (comments, key order and formatting are kept).
type Change struct {
	File    string
	Data    []byte
	Message string // a commit subject, like "profile: promote falco 0.43.0 to supported"
}

// Write writes the change to its file, keeping the file's mode.
func (c *Change) Write() error {
	mode := os.FileMode(0o644)
	if info, err := os.Stat(c.File); err == nil {
		mode = info.Mode().Perm()
	}
	return os.WriteFile(c.File, c.Data, mode)
}

// AddOptions are the fields of a Falco version Add creates.
type AddOptions struct {
	// Image is REPOSITORY:TAG or REPOSITORY@sha256:DIGEST.
	Image string
	// Classification is preview (default) or supported.
	Classification string
	// RulesVersion is the rulesVersion (semver); empty means the one of the
	// highest Falco version already in the file.
	RulesVersion string
	// EngineVersion is the engineVersion (semver); empty leaves it out,
	// which needs falcops' built-in table to know the release.
	EngineVersion string
}

// Promote sets the classification of Falco version in file to `to`
// (preview or supported) and writes the file. Leaving deprecated removes
// the expirationDate. See PreviewPromote for the rules.
func Promote(file, version, to string, now time.Time) (*Change, error) {
	return write(PreviewPromote(file, version, to, now))
}

// Deprecate classifies Falco version in file as deprecated, expiring at
// expires, and writes the file. See PreviewDeprecate for the rules.
func Deprecate(file, version string, expires, now time.Time) (*Change, error) {
	return write(PreviewDeprecate(file, version, expires, now))
}

// Add appends Falco version (and its image) to file and writes it. See
// PreviewAdd for the rules.
func Add(file, version string, o AddOptions, now time.Time) (*Change, error) {
	return write(PreviewAdd(file, version, o, now))
}

func write(c *Change, err error) (*Change, error) {
	if err != nil {
		return nil, err
	}
	if err := c.Write(); err != nil {
		return nil, err
	}
	return c, nil
}

// openVersion opens the profile file for editing and finds a Falco version in it.
func openVersion(file, version string) (*editor, Version, error) {
	e, err := open(file)
	if err != nil {
		return nil, Version{}, err
	}
	before, err := loadAs(e.file, e.src)
	if err != nil {
		return nil, Version{}, err
	}
	v, err := before.Version(version)
	if err != nil {
		return nil, Version{}, fmt.Errorf("%w: %w in %s", ErrRefused, err, file)
	}
	return e, v, nil
}

// PreviewPromote computes Promote without writing. It refuses (ErrRefused) an
// unknown version, a version already classified `to`, an expired version,
// and demoting the last unexpired supported version.
func PreviewPromote(file, version, to string, now time.Time) (*Change, error) {
	if to != profilev1alpha1.ClassificationPreview && to != profilev1alpha1.ClassificationSupported {
		return nil, fmt.Errorf("%w: --to %q: want preview or supported (use deprecate to deprecate)", ErrRefused, to)
	}
	e, v, err := openVersion(file, version)
	if err != nil {
		return nil, err
	}
	if v.Classification == to {
		return nil, fmt.Errorf("%w: Falco %s is already %s", ErrRefused, version, to)
	}
	if v.Expired(now) {
		return nil, fmt.Errorf("%w: Falco %s expired at %s; add a new version instead", ErrRefused, version, v.Expires.Format(time.RFC3339))
	}
	m, err := falcoEntry(e, version)
	if err != nil {
		return nil, err
	}
	cls, ok := e.value(m, "classification")
	if !ok {
		return nil, fmt.Errorf("%s: Falco %s has no classification", file, version)
	}
	if err := e.replaceScalar(cls, to); err != nil {
		return nil, err
	}
	if _, ok := e.value(m, "expirationDate"); ok {
		if err := e.removeKey(m, "expirationDate"); err != nil {
			return nil, err
		}
	}
	verb := "promote"
	if to == profilev1alpha1.ClassificationPreview && v.Classification == profilev1alpha1.ClassificationSupported {
		verb = "demote"
	}
	return finishEdit(e, fmt.Sprintf("profile: %s falco %s to %s", verb, version, to), now)
}

// PreviewDeprecate computes Deprecate without writing. It refuses
// (ErrRefused) an unknown version, an expiry not after now, an expired
// version, and deprecating the last unexpired supported version.
func PreviewDeprecate(file, version string, expires, now time.Time) (*Change, error) {
	if !expires.After(now) {
		return nil, fmt.Errorf("%w: expiry %s is not in the future (now is %s)", ErrRefused, expires.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	e, v, err := openVersion(file, version)
	if err != nil {
		return nil, err
	}
	if v.Expired(now) {
		return nil, fmt.Errorf("%w: Falco %s already expired at %s", ErrRefused, version, v.Expires.Format(time.RFC3339))
	}
	date := expires.UTC().Format(time.RFC3339)
	m, err := falcoEntry(e, version)
	if err != nil {
		return nil, err
	}
	cls, ok := e.value(m, "classification")
	if !ok {
		return nil, fmt.Errorf("%s: Falco %s has no classification", file, version)
	}
	if exp, ok := e.value(m, "expirationDate"); ok {
		if err := e.replaceScalar(exp, date); err != nil {
			return nil, err
		}
	} else if err := e.insertKeyAfter(m, cls, "expirationDate", e.styledLike("expirationDate", date)); err != nil {
		return nil, err
	}
	if v.Classification != profilev1alpha1.ClassificationDeprecated {
		if err := e.replaceScalar(cls, profilev1alpha1.ClassificationDeprecated); err != nil {
			return nil, err
		}
	}
	return finishEdit(e, fmt.Sprintf("profile: deprecate falco %s, expires %s", version, date), now)
}

// PreviewAdd computes Add without writing. It refuses (ErrRefused) a version
// or image that exists, a classification other than preview or supported,
// and a version whose engine version falcops cannot know.
func PreviewAdd(file, version string, o AddOptions, now time.Time) (*Change, error) {
	if _, err := semver.StrictNewVersion(version); err != nil {
		return nil, fmt.Errorf("%w: version %q is not a semantic version X.Y.Z", ErrRefused, version)
	}
	cls := o.Classification
	if cls == "" {
		cls = profilev1alpha1.ClassificationPreview
	}
	if cls != profilev1alpha1.ClassificationPreview && cls != profilev1alpha1.ClassificationSupported {
		return nil, fmt.Errorf("%w: classification %q: a new version is preview or supported", ErrRefused, cls)
	}
	repo, tag, err := ParseImage(o.Image)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	e, err := open(file)
	if err != nil {
		return nil, err
	}
	before, err := loadAs(e.file, e.src)
	if err != nil {
		return nil, err
	}
	if _, err := before.Version(version); err == nil {
		return nil, fmt.Errorf("%w: Falco %s is already in %s", ErrRefused, version, file)
	}
	for _, obj := range before.Objects {
		for _, img := range obj.Spec.Images.Falco {
			if img.Version == version {
				return nil, fmt.Errorf("%w: %s already has an image for Falco %s", ErrRefused, file, version)
			}
		}
	}
	rules := o.RulesVersion
	if rules == "" {
		vs := before.Versions()
		if len(vs) == 0 {
			return nil, fmt.Errorf("%w: give the rules version (no Falco version to take it from)", ErrRefused)
		}
		rules = vs[len(vs)-1].RulesVersion
	}
	if o.EngineVersion == "" {
		if _, ok := BuiltinEngineVersion(version); !ok {
			return nil, fmt.Errorf("%w: falcops does not know the engine version of Falco %s: give it", ErrRefused, version)
		}
	}
	versions, err := e.seq("spec", "versions", "falco")
	if err != nil {
		return nil, err
	}
	images, err := e.seq("spec", "images", "falco")
	if err != nil {
		return nil, err
	}
	entry := []kv{{"version", version}, {"classification", cls}, {"rulesVersion", rules}}
	if o.EngineVersion != "" {
		entry = append(entry, kv{"engineVersion", o.EngineVersion})
	}
	if err := e.appendItem(versions, entry); err != nil {
		return nil, err
	}
	if err := e.appendItem(images, []kv{{"version", version}, {"repository", repo}, {"tag", tag}}); err != nil {
		return nil, err
	}
	return finishEdit(e, fmt.Sprintf("profile: add falco %s as %s", version, cls), now)
}

// ParseImage splits REPOSITORY:TAG or REPOSITORY@sha256:DIGEST into the
// repository and the tag of a profile image (a digest is the tag, as
// Gardener reads it).
func ParseImage(ref string) (repository, tag string, err error) {
	if r, d, ok := strings.Cut(ref, "@"); ok {
		if r == "" || !strings.HasPrefix(d, "sha256:") {
			return "", "", fmt.Errorf("image %q: want REPOSITORY@sha256:DIGEST", ref)
		}
		return r, d, nil
	}
	i := strings.LastIndex(ref, ":")
	if i <= 0 || i == len(ref)-1 || strings.Contains(ref[i+1:], "/") {
		return "", "", fmt.Errorf("image %q: want REPOSITORY:TAG", ref)
	}
	return ref[:i], ref[i+1:], nil
}

// open reads a profile file for editing.
func open(file string) (*editor, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading profile: %w", err)
	}
	return newEditor(file, data)
}

// loadAs loads data as the content of file with the strict loader
// (through a temporary copy with the same name), naming problems in file.
func loadAs(file string, data []byte) (*Profile, error) {
	dir, err := os.MkdirTemp("", "falcops-edit-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	tmp := filepath.Join(dir, filepath.Base(file))
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return nil, err
	}
	p, err := Load(tmp)
	var le *LoadError
	if errors.As(err, &le) {
		for i := range le.Problems {
			le.Problems[i].File = file
		}
		return nil, le
	}
	return p, err
}

// finishEdit validates the edited file and checks that an unexpired supported
// version remains.
func finishEdit(e *editor, message string, now time.Time) (*Change, error) {
	p, err := loadAs(e.file, e.out)
	if err != nil {
		return nil, fmt.Errorf("the edited profile would be invalid (please report this): %w", err)
	}
	supported := false
	for _, v := range p.Versions() {
		supported = supported || (v.Classification == profilev1alpha1.ClassificationSupported && !v.Expired(now))
	}
	if !supported {
		return nil, fmt.Errorf("%w: no unexpired supported Falco version would be left in %s", ErrRefused, e.file)
	}
	return &Change{File: e.file, Data: e.out, Message: message}, nil
}

// falcoEntry is the mapping of Falco version in spec.versions.falco.
func falcoEntry(e *editor, version string) (*yaml.Node, error) {
	for _, d := range e.docs {
		s, ok := e.value(d, "spec")
		if !ok || s.Kind != yaml.MappingNode {
			continue
		}
		vs, ok := e.value(s, "versions")
		if !ok || vs.Kind != yaml.MappingNode {
			continue
		}
		f, ok := e.value(vs, "falco")
		if !ok || f.Kind != yaml.SequenceNode {
			continue
		}
		for _, item := range f.Content {
			if v, ok := e.value(item, "version"); ok && item.Kind == yaml.MappingNode && v.Value == version {
				return item, nil
			}
		}
	}
	return nil, fmt.Errorf("%w: %s: no Falco %s in spec.versions.falco", ErrRefused, e.file, version)
}
