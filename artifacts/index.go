package artifacts

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/falcops/falcops/rules"
)

// ErrDuplicateEntry means an index holds the same name twice; falcoctl
// refuses such an index ("duplicate entry found").
var ErrDuplicateEntry = errors.New("duplicate index entry")

// Index is a falcoctl index.yaml: a list of entries, looked up by name.
type Index []IndexEntry

// IndexEntry is one artifact of an index. Fields and YAML keys are those of
// falcoctl's index.Entry; like falcoctl, every key but signature is written
// even when empty.
type IndexEntry struct {
	Name       string     `yaml:"name"`
	Type       string     `yaml:"type"`
	Registry   string     `yaml:"registry"`
	Repository string     `yaml:"repository"`
	Signature  *Signature `yaml:"signature,omitempty"`

	Description string            `yaml:"description"`
	Home        string            `yaml:"home"`
	Keywords    []string          `yaml:"keywords"`
	License     string            `yaml:"license"`
	Maintainers []IndexMaintainer `yaml:"maintainers"`
	Sources     []string          `yaml:"sources"`
}

// IndexMaintainer is a maintainer of an index entry.
type IndexMaintainer struct {
	Email string `yaml:"email"`
	Name  string `yaml:"name"`
}

// Signature says how falcoctl verifies an entry's artifacts. falcoctl
// understands only cosign.
type Signature struct {
	Cosign *CosignSignature `yaml:"cosign,omitempty"`
}

// CosignSignature holds cosign verification settings: a key (file path,
// env://, k8s://, https:// or KMS URI) or keyless certificate identities.
type CosignSignature struct {
	CertificateOidcIssuer       string `yaml:"certificate-oidc-issuer"`
	CertificateOidcIssuerRegexp string `yaml:"certificate-oidc-issuer-regexp"`
	CertificateIdentity         string `yaml:"certificate-identity"`
	CertificateIdentityRegexp   string `yaml:"certificate-identity-regexp"`
	// CertificateGithubWorkflow is parsed by falcoctl but never used.
	CertificateGithubWorkflow string `yaml:"certificate-github-workflow"`
	Key                       string `yaml:"key"`
	IgnoreTlog                bool   `yaml:"ignore-tlog"`
}

// ParseIndex reads an index.yaml. Unknown keys are ignored, as falcoctl does;
// the same name twice is an error (ErrDuplicateEntry).
func ParseIndex(data []byte) (Index, error) {
	var idx Index
	if err := yaml.Unmarshal(data, &idx); err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	if err := idx.checkUnique(); err != nil {
		return nil, err
	}
	return idx, nil
}

func (idx Index) checkUnique() error {
	seen := make(map[string]bool, len(idx))
	for _, e := range idx {
		if seen[e.Name] {
			return fmt.Errorf("%w: %q", ErrDuplicateEntry, e.Name)
		}
		seen[e.Name] = true
	}
	return nil
}

// Marshal writes the index as falcoctl does (yaml.v3, entries sorted by name),
// so the same entries always give the same bytes.
func (idx Index) Marshal() []byte {
	sorted := slices.Clone(idx)
	slices.SortStableFunc(sorted, func(a, b IndexEntry) int { return strings.Compare(a.Name, b.Name) })
	if sorted == nil {
		sorted = Index{}
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	// The entry types have only strings, bools, slices and pointers:
	// encoding them cannot fail.
	if err := enc.Encode(sorted); err != nil {
		panic(fmt.Sprintf("artifacts: encoding index: %v", err))
	}
	if err := enc.Close(); err != nil {
		panic(fmt.Sprintf("artifacts: encoding index: %v", err))
	}
	return buf.Bytes()
}

// Lookup returns the entry with the given name.
func (idx Index) Lookup(name string) (IndexEntry, bool) {
	for _, e := range idx {
		if e.Name == name {
			return e, true
		}
	}
	return IndexEntry{}, false
}

// Merge returns old with every entry of updates added, an entry of the same
// name replaced; other entries are kept. The result is sorted by name. A name
// twice within old or within updates is an error (ErrDuplicateEntry).
func Merge(old, updates Index) (Index, error) {
	if err := old.checkUnique(); err != nil {
		return nil, fmt.Errorf("merging index: existing: %w", err)
	}
	if err := updates.checkUnique(); err != nil {
		return nil, fmt.Errorf("merging index: new: %w", err)
	}
	replaced := make(map[string]bool, len(updates))
	for _, e := range updates {
		replaced[e.Name] = true
	}
	out := make(Index, 0, len(old)+len(updates))
	for _, e := range old {
		if !replaced[e.Name] {
			out = append(out, e)
		}
	}
	out = append(out, updates...)
	slices.SortStableFunc(out, func(a, b IndexEntry) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// EntryFor is the index entry of a ruleset published at
// registry/repository. Like falcosecurity/rules, the keywords include the
// name, and sources is the home page. sig may be nil (no verification).
func EntryFor(m rules.Manifest, registry, repository string, sig *CosignSignature) IndexEntry {
	e := IndexEntry{
		Name:        m.Name,
		Type:        TypeRulesfile,
		Registry:    registry,
		Repository:  repository,
		Description: strings.TrimSpace(m.Description),
		Home:        m.Home,
		Keywords:    slices.Clone(m.Keywords),
		License:     m.License,
	}
	if !slices.Contains(e.Keywords, m.Name) {
		e.Keywords = append(e.Keywords, m.Name)
	}
	for _, mt := range m.Maintainers {
		e.Maintainers = append(e.Maintainers, IndexMaintainer{Email: mt.Email, Name: mt.Name})
	}
	if m.Home != "" {
		e.Sources = []string{m.Home}
	}
	if sig != nil {
		s := *sig
		e.Signature = &Signature{Cosign: &s}
	}
	return e
}
