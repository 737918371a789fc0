package lifecycle

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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
// the expirationDate. See PlanPromote for the rules.
func Promote(file, version, to string, now time.Time) (*Change, error) {
	return write(PlanPromote(file, version, to, now))
}

// Deprecate classifies Falco version in file as deprecated, expiring at
// expires, and writes the file. See PlanDeprecate for the rules.
func Deprecate(file, version string, expires, now time.Time) (*Change, error) {
	return write(PlanDeprecate(file, version, expires, now))
}

// Add appends Falco version (and its image) to file and writes it. See
// PlanAdd for the rules.
func Add(file, version string, o AddOptions, now time.Time) (*Change, error) {
	return write(PlanAdd(file, version, o, now))
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
	before, err := e.load(e.src)
	if err != nil {
		return nil, Version{}, err
	}
	v, err := before.Version(version)
	if err != nil {
		return nil, Version{}, fmt.Errorf("%w: %w in %s", ErrRefused, err, file)
	}
	return e, v, nil
}

// PlanPromote computes Promote without writing. It refuses (ErrRefused) an
// unknown version, a version already classified `to`, an expired version,
// and demoting the last unexpired supported version.
func PlanPromote(file, version, to string, now time.Time) (*Change, error) {
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
	m, err := e.falcoEntry(version)
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
	return e.finish(fmt.Sprintf("profile: %s falco %s to %s", verb, version, to), now)
}

// PlanDeprecate computes Deprecate without writing. It refuses
// (ErrRefused) an unknown version, an expiry not after now, an expired
// version, and deprecating the last unexpired supported version.
func PlanDeprecate(file, version string, expires, now time.Time) (*Change, error) {
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
	m, err := e.falcoEntry(version)
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
	} else if err := e.insertKeyAfter(m, cls, "expirationDate", e.dateText(date)); err != nil {
		return nil, err
	}
	if v.Classification != profilev1alpha1.ClassificationDeprecated {
		if err := e.replaceScalar(cls, profilev1alpha1.ClassificationDeprecated); err != nil {
			return nil, err
		}
	}
	return e.finish(fmt.Sprintf("profile: deprecate falco %s, expires %s", version, date), now)
}

// PlanAdd computes Add without writing. It refuses (ErrRefused) a version
// or image that exists, a classification other than preview or supported,
// and a version whose engine version falcops cannot know.
func PlanAdd(file, version string, o AddOptions, now time.Time) (*Change, error) {
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
	before, err := e.load(e.src)
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
	return e.finish(fmt.Sprintf("profile: add falco %s as %s", version, cls), now)
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

// editor splices text into one profile file at the positions yaml.v3
// reports, never re-marshalling it.
type editor struct {
	file string
	src  []byte // the original file
	out  []byte // the file being edited
	docs []*yaml.Node
	// lineStarts are the byte offsets of each line of src (0-based index).
	lineStarts []int
	// applied are the splices made so far, in src offsets, to map later
	// src offsets into out.
	applied []splice
}

func open(file string) (*editor, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading profile: %w", err)
	}
	e := &editor{file: file, src: data, out: bytes.Clone(data)}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if n.Kind == yaml.DocumentNode && len(n.Content) > 0 && n.Content[0].Kind == yaml.MappingNode {
			e.docs = append(e.docs, n.Content[0])
		}
	}
	e.lineStarts = []int{0}
	for i, b := range data {
		if b == '\n' {
			e.lineStarts = append(e.lineStarts, i+1)
		}
	}
	return e, nil
}

// load loads data as the file's content with the strict loader (through a
// temporary copy with the same name), naming problems in the real file.
func (e *editor) load(data []byte) (*Profile, error) {
	dir, err := os.MkdirTemp("", "falcops-edit-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	tmp := filepath.Join(dir, filepath.Base(e.file))
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return nil, err
	}
	p, err := Load(tmp)
	var le *LoadError
	if errors.As(err, &le) {
		for i := range le.Problems {
			le.Problems[i].File = e.file
		}
		return nil, le
	}
	return p, err
}

// finish validates the edited file and checks that an unexpired supported
// version remains.
func (e *editor) finish(message string, now time.Time) (*Change, error) {
	p, err := e.load(e.out)
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

// offset is the byte offset of n's position in src.
func (e *editor) offset(n *yaml.Node) int {
	start := e.lineStarts[n.Line-1]
	// Column counts characters; advance by runes.
	off := start
	for c := 1; c < n.Column; c++ {
		_, size := decodeRune(e.src[off:])
		off += size
	}
	return off
}

func decodeRune(b []byte) (rune, int) {
	r, size := utf8.DecodeRune(b)
	return r, max(size, 1)
}

// splice is an applied edit: at src offset at, out grew by delta bytes.
type splice struct{ at, delta int }

func (e *editor) splice(from, to int, text string) {
	e.out = append(e.out[:from:from], append([]byte(text), e.out[to:]...)...)
}

// scalarEnd is the src offset just after scalar n.
func (e *editor) scalarEnd(n *yaml.Node) (int, error) {
	off := e.offset(n)
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		for i := off + 1; i < len(e.src); i++ {
			switch e.src[i] {
			case '\\':
				i++
			case '"':
				return i + 1, nil
			case '\n':
				return 0, fmt.Errorf("%s:%d: cannot edit a multi-line value", e.file, n.Line)
			}
		}
	case n.Style&yaml.SingleQuotedStyle != 0:
		for i := off + 1; i < len(e.src); i++ {
			switch e.src[i] {
			case '\'':
				if i+1 < len(e.src) && e.src[i+1] == '\'' {
					i++
					continue
				}
				return i + 1, nil
			case '\n':
				return 0, fmt.Errorf("%s:%d: cannot edit a multi-line value", e.file, n.Line)
			}
		}
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) == 0 && n.Tag != "" && !strings.Contains(n.Value, "\n") &&
		bytes.HasPrefix(e.src[off:], []byte(n.Value)):
		return off + len(n.Value), nil
	}
	return 0, fmt.Errorf("%s:%d:%d: cannot edit this value in place", e.file, n.Line, n.Column)
}

// edit replaces src[from:to] by text. Positions always come from src
// (the parsed original); apply maps them into out, so edits at distinct
// places can be applied in any order.
type edit struct {
	from, to int
	text     string
}

func (e *editor) apply(edits ...edit) {
	// Map src offsets to out offsets: out = src + sum of deltas of applied
	// edits that lie before.
	for _, ed := range edits {
		from, to := e.mapOff(ed.from), e.mapOff(ed.to)
		e.splice(from, to, ed.text)
		e.applied = append(e.applied, splice{ed.from, len(ed.text) - (ed.to - ed.from)})
	}
}

func (e *editor) mapOff(off int) int {
	out := off
	for _, s := range e.applied {
		if s.at < off {
			out += s.delta
		}
	}
	return out
}

func (e *editor) replaceScalar(n *yaml.Node, value string) error {
	end, err := e.scalarEnd(n)
	if err != nil {
		return err
	}
	var text string
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		text = strconv.Quote(value)
	case n.Style&yaml.SingleQuotedStyle != 0:
		text = "'" + strings.ReplaceAll(value, "'", "''") + "'"
	default:
		text = plainOrQuoted(value)
	}
	e.apply(edit{e.offset(n), end, text})
	return nil
}

// value returns the value node of key in mapping m.
func (e *editor) value(m *yaml.Node, key string) (*yaml.Node, bool) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1], true
		}
	}
	return nil, false
}

func (e *editor) path(keys ...string) (*yaml.Node, error) {
	for _, d := range e.docs {
		n := d
		for _, k := range keys {
			if n == nil || n.Kind != yaml.MappingNode {
				n = nil
				break
			}
			n, _ = e.value(n, k)
		}
		if n != nil {
			return n, nil
		}
	}
	return nil, fmt.Errorf("%s: no %s", e.file, strings.Join(keys, "."))
}

func (e *editor) seq(keys ...string) (*yaml.Node, error) {
	n, err := e.path(keys...)
	if err != nil {
		return nil, err
	}
	if n.Kind != yaml.SequenceNode || n.Style&yaml.FlowStyle != 0 || len(n.Content) == 0 {
		return nil, fmt.Errorf("%s:%d: %s: can only append to a non-empty block list (- items)", e.file, n.Line, strings.Join(keys, "."))
	}
	return n, nil
}

// falcoEntry is the mapping of Falco version in spec.versions.falco.
func (e *editor) falcoEntry(version string) (*yaml.Node, error) {
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

// lineEnd is the src offset just after the newline ending the line of off.
func (e *editor) lineEnd(off int) int {
	if i := bytes.IndexByte(e.src[off:], '\n'); i >= 0 {
		return off + i + 1
	}
	return len(e.src)
}

// onlyBlank reports whether src[from:to] holds only spaces and tabs.
func (e *editor) onlyBlank(from, to int) bool {
	return len(bytes.Trim(e.src[from:to], " \t")) == 0
}

// removeKey removes key and its value from mapping m: its lines in a
// block mapping, its "key: value" and one comma in a flow mapping.
func (e *editor) removeKey(m *yaml.Node, key string) error {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Value != key {
			continue
		}
		kOff := e.offset(k)
		vEnd, err := e.scalarEnd(v)
		if err != nil {
			return err
		}
		if m.Style&yaml.FlowStyle != 0 {
			if i > 0 { // from the end of the previous value
				prevEnd, err := e.scalarEnd(m.Content[i-1])
				if err != nil {
					return err
				}
				e.apply(edit{prevEnd, vEnd, ""})
				return nil
			}
			if i+2 < len(m.Content) { // up to the next key
				e.apply(edit{kOff, e.offset(m.Content[i+2]), ""})
				return nil
			}
			e.apply(edit{kOff, vEnd, ""})
			return nil
		}
		lineStart := e.lineStarts[k.Line-1]
		end := e.lineEnd(vEnd - 1)
		if !e.onlyBlank(lineStart, kOff) || (i+2 < len(m.Content) && m.Content[i+2].Line == v.Line) {
			return fmt.Errorf("%s:%d: cannot remove %s: put it on a line of its own", e.file, k.Line, key)
		}
		if rest := bytes.TrimSpace(e.src[vEnd:end]); len(rest) > 0 && rest[0] != '#' {
			return fmt.Errorf("%s:%d: cannot remove %s: unexpected text after it", e.file, k.Line, key)
		}
		e.apply(edit{lineStart, end, ""})
		return nil
	}
	return nil
}

// insertKeyAfter inserts "key: text" after the value after of mapping m:
// as ", key: text" in a flow mapping, on a new line with the indentation
// of the keys in a block mapping.
func (e *editor) insertKeyAfter(m, after *yaml.Node, key, text string) error {
	end, err := e.scalarEnd(after)
	if err != nil {
		return err
	}
	if m.Style&yaml.FlowStyle != 0 {
		e.apply(edit{end, end, ", " + key + ": " + text})
		return nil
	}
	k := m.Content[0]
	lineEnd := e.lineEnd(end - 1)
	line := strings.Repeat(" ", k.Column-1) + key + ": " + text
	if lineEnd == len(e.src) && (lineEnd == 0 || e.src[lineEnd-1] != '\n') {
		line = "\n" + line // the file keeps lacking its final newline
	} else {
		line += "\n"
	}
	e.apply(edit{lineEnd, lineEnd, line})
	return nil
}

type kv struct{ key, value string }

// appendItem appends a mapping to block sequence s after its last item,
// in the style of that item (flow {k: v, ...} or block mapping), with the
// keys in the order of the last item where it has them.
func (e *editor) appendItem(s *yaml.Node, kvs []kv) error {
	last := s.Content[len(s.Content)-1]
	if last.Kind != yaml.MappingNode || len(last.Content) == 0 {
		return fmt.Errorf("%s:%d: cannot append after this item", e.file, last.Line)
	}
	// Order: the last item's keys first, then the rest.
	var ordered []kv
	for i := 0; i < len(last.Content); i += 2 {
		for _, p := range kvs {
			if p.key == last.Content[i].Value {
				ordered = append(ordered, p)
			}
		}
	}
	for _, p := range kvs {
		found := false
		for _, o := range ordered {
			found = found || o.key == p.key
		}
		if !found {
			ordered = append(ordered, p)
		}
	}
	dashLine := e.lineStarts[last.Line-1]
	itemOff := e.offset(last)
	// The "- " prefix: indentation up to the dash, and what follows it.
	prefix := string(e.src[dashLine:itemOff])
	dash := strings.Index(prefix, "-")
	if dash < 0 || strings.TrimSpace(prefix) != "-" {
		return fmt.Errorf("%s:%d: cannot append after this item", e.file, last.Line)
	}
	var text strings.Builder
	var end int
	if last.Style&yaml.FlowStyle != 0 {
		close, err := e.flowEnd(itemOff)
		if err != nil {
			return err
		}
		end = e.lineEnd(close)
		inner := string(e.src[itemOff+1 : close])
		pad := ""
		if strings.HasPrefix(inner, " ") {
			pad = " "
		}
		text.WriteString(prefix + "{" + pad)
		for i, p := range ordered {
			if i > 0 {
				text.WriteString(", ")
			}
			text.WriteString(p.key + ": " + plainOrQuoted(p.value))
		}
		text.WriteString(pad + "}\n")
	} else {
		lastVal := last.Content[len(last.Content)-1]
		vEnd, err := e.scalarEnd(lastVal)
		if err != nil {
			return err
		}
		end = e.lineEnd(vEnd - 1)
		indent := strings.Repeat(" ", len(prefix))
		for i, p := range ordered {
			lead := indent
			if i == 0 {
				lead = prefix
			}
			text.WriteString(lead + p.key + ": " + plainOrQuoted(p.value) + "\n")
		}
	}
	if end == len(e.src) && (end == 0 || e.src[end-1] != '\n') {
		e.apply(edit{end, end, "\n" + strings.TrimSuffix(text.String(), "\n")})
		return nil
	}
	e.apply(edit{end, end, text.String()})
	return nil
}

// flowEnd is the src offset of the "}" closing the flow mapping at off.
func (e *editor) flowEnd(off int) (int, error) {
	depth := 0
	quote := byte(0)
	for i := off; i < len(e.src); i++ {
		c := e.src[i]
		switch {
		case quote == '"' && c == '\\':
			i++
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
		case c == '"' || c == '\'':
			quote = c
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth == 0 {
				if c != '}' {
					break
				}
				return i, nil
			}
		}
	}
	return 0, fmt.Errorf("%s: unterminated flow mapping", e.file)
}

// dateText formats an expiration date quoted like the file's first
// existing expirationDate (double quotes when there is none).
func (e *editor) dateText(date string) string {
	style := yaml.DoubleQuotedStyle
	var find func(n *yaml.Node) bool
	find = func(n *yaml.Node) bool {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if k, v := n.Content[i], n.Content[i+1]; k.Value == "expirationDate" && v.Kind == yaml.ScalarNode {
					style = v.Style
					return true
				}
			}
		}
		for _, c := range n.Content {
			if find(c) {
				return true
			}
		}
		return false
	}
	for _, d := range e.docs {
		if find(d) {
			break
		}
	}
	switch {
	case style&yaml.SingleQuotedStyle != 0:
		return "'" + date + "'"
	case style&yaml.DoubleQuotedStyle != 0:
		return strconv.Quote(date)
	default:
		return date
	}
}

var plainRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/+-]*$`)

// plainOrQuoted writes value plain when YAML reads it back as that string,
// else double-quoted.
func plainOrQuoted(value string) string {
	if plainRe.MatchString(value) {
		var n yaml.Node
		if yaml.Unmarshal([]byte(value), &n) == nil && len(n.Content) == 1 &&
			n.Content[0].Tag == "!!str" && n.Content[0].Value == value {
			return value
		}
	}
	return strconv.Quote(value)
}
