package artifacts

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/falcops/falcops/rules"
)

// upstreamIndex is shaped like falcosecurity's public index: every cosign key
// spelled out, maintainers as a list of {email, name}.
const upstreamIndex = `
- name: falco-rules
  type: rulesfile
  registry: ghcr.io
  repository: falcosecurity/rules/falco-rules
  description: Falco rules that are loaded by default
  home: https://github.com/falcosecurity/rules/blob/main/rules/falco_rules.yaml
  keywords:
    - falco-rules
  license: apache-2.0
  maintainers:
    - email: cncf-falco-dev@lists.cncf.io
      name: The Falco Authors
  sources:
    - https://github.com/falcosecurity/rules/blob/main/rules/falco_rules.yaml
  signature:
    cosign:
      certificate-oidc-issuer: https://token.actions.githubusercontent.com
      certificate-oidc-issuer-regexp: ""
      certificate-identity: ""
      certificate-identity-regexp: https://github.com/falcosecurity/rules/
      certificate-github-workflow: ""
- name: acme-rules
  type: rulesfile
  registry: registry.example.internal
  repository: falco/acme-rules
  signature:
    cosign:
      key: /etc/falcoctl/cosign.pub
      ignore-tlog: true
  description: ""
  home: ""
  keywords: []
  license: ""
  maintainers: []
  sources: []
  unknown-future-key: ignored
`

func TestIndexRoundTrip(t *testing.T) {
	idx, err := ParseIndex([]byte(upstreamIndex))
	if err != nil {
		t.Fatal(err)
	}
	if len(idx) != 2 {
		t.Fatalf("%d entries", len(idx))
	}
	fr, ok := idx.Lookup("falco-rules")
	if !ok {
		t.Fatal("falco-rules missing")
	}
	if fr.Signature == nil || fr.Signature.Cosign == nil ||
		fr.Signature.Cosign.CertificateIdentityRegexp != "https://github.com/falcosecurity/rules/" ||
		fr.Signature.Cosign.CertificateOidcIssuer != "https://token.actions.githubusercontent.com" {
		t.Errorf("signature %+v", fr.Signature)
	}
	if len(fr.Maintainers) != 1 || fr.Maintainers[0] != (IndexMaintainer{Email: "cncf-falco-dev@lists.cncf.io", Name: "The Falco Authors"}) {
		t.Errorf("maintainers %+v", fr.Maintainers)
	}
	acme, _ := idx.Lookup("acme-rules")
	if c := acme.Signature.Cosign; c.Key != "/etc/falcoctl/cosign.pub" || !c.IgnoreTlog {
		t.Errorf("key-based signature %+v", c)
	}

	out := idx.Marshal()
	again, err := ParseIndex(out)
	if err != nil {
		t.Fatal(err)
	}
	sorted, err := Merge(nil, idx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(normalize(again), normalize(sorted)) {
		t.Errorf("round trip changed the index:\n%s", out)
	}
	if string(again.Marshal()) != string(out) {
		t.Error("Marshal is not stable")
	}
	// Sorted by name: acme-rules first.
	if !strings.HasPrefix(string(out), "- name: acme-rules\n") {
		t.Errorf("not sorted by name:\n%s", out)
	}
	for _, key := range []string{"certificate-oidc-issuer-regexp: \"\"", "ignore-tlog: true", "keywords: []", "description: \"\""} {
		if !strings.Contains(string(out), key) {
			t.Errorf("output lacks %q:\n%s", key, out)
		}
	}
}

// normalize makes empty and nil slices equal for comparison.
func normalize(idx Index) Index {
	out := make(Index, len(idx))
	for i, e := range idx {
		if len(e.Keywords) == 0 {
			e.Keywords = nil
		}
		if len(e.Maintainers) == 0 {
			e.Maintainers = nil
		}
		if len(e.Sources) == 0 {
			e.Sources = nil
		}
		out[i] = e
	}
	return out
}

func TestIndexDuplicate(t *testing.T) {
	dup := "- name: a\n  type: rulesfile\n- name: b\n- name: a\n"
	if _, err := ParseIndex([]byte(dup)); !errors.Is(err, ErrDuplicateEntry) {
		t.Errorf("ParseIndex: got %v, want ErrDuplicateEntry", err)
	}
	twice := Index{{Name: "a"}, {Name: "a"}}
	if _, err := Merge(twice, nil); !errors.Is(err, ErrDuplicateEntry) {
		t.Errorf("Merge old: got %v", err)
	}
	if _, err := Merge(nil, twice); !errors.Is(err, ErrDuplicateEntry) {
		t.Errorf("Merge new: got %v", err)
	}
	if _, err := ParseIndex([]byte("name: not-a-list\n")); err == nil {
		t.Error("accepted a mapping")
	}
}

func TestIndexMerge(t *testing.T) {
	old := Index{
		{Name: "zeta", Type: TypeRulesfile, Repository: "falco/zeta", Description: "kept"},
		{Name: "acme", Type: TypeRulesfile, Repository: "falco/acme", Description: "old"},
	}
	updates := Index{
		{Name: "acme", Type: TypeRulesfile, Repository: "falco/acme", Description: "new"},
		{Name: "beta", Type: TypeRulesfile, Repository: "falco/beta"},
	}
	got, err := Merge(old, updates)
	if err != nil {
		t.Fatal(err)
	}
	var names, descs []string
	for _, e := range got {
		names = append(names, e.Name)
		descs = append(descs, e.Description)
	}
	if strings.Join(names, ",") != "acme,beta,zeta" || strings.Join(descs, ",") != "new,,kept" {
		t.Errorf("merged %v %v", names, descs)
	}
	if old[1].Description != "old" {
		t.Error("Merge changed its input")
	}
	empty, err := Merge(nil, nil)
	if err != nil || string(empty.Marshal()) != "[]\n" {
		t.Errorf("empty merge %q %v", empty.Marshal(), err)
	}
}

// TestEntryFor pins the YAML of an entry: keys, order and the indentation of
// yaml.v3's default encoder, which falcoctl uses too.
func TestEntryFor(t *testing.T) {
	rd, fs := rules.ReadManifest(heartbeatDir)
	if fs.Errors() > 0 {
		t.Fatal(fs)
	}
	sig := &CosignSignature{Key: "/etc/falcoctl/cosign.pub", IgnoreTlog: true}
	e := EntryFor(rd.Manifest, "registry.example.internal", "falco/heartbeat", sig)
	sig.Key = "changed"
	got := string(Index{e}.Marshal())
	want := `- name: heartbeat
  type: rulesfile
  registry: registry.example.internal
  repository: falco/heartbeat
  signature:
    cosign:
        certificate-oidc-issuer: ""
        certificate-oidc-issuer-regexp: ""
        certificate-identity: ""
        certificate-identity-regexp: ""
        certificate-github-workflow: ""
        key: /etc/falcoctl/cosign.pub
        ignore-tlog: true
  description: Liveness signal for Falco. A periodic marker process (for example a sidecar next to Falco) is turned into a low-priority event, so a missing event shows that Falco, its rules or its output pipeline stopped working on a node.
  home: https://github.com/falcops/falcops
  keywords:
    - falco
    - heartbeat
    - liveness
  license: Apache-2.0
  maintainers:
    - email: maintainers@falcops.dev
      name: falcops maintainers
  sources:
    - https://github.com/falcops/falcops
`
	if got != want {
		t.Errorf("entry:\n%s\nwant:\n%s", got, want)
	}
	// The name is added to the keywords if missing, once.
	m := rules.Manifest{Name: "acme", Keywords: []string{"x"}}
	if kw := EntryFor(m, "r", "p", nil).Keywords; strings.Join(kw, ",") != "x,acme" {
		t.Errorf("keywords %v", kw)
	}
	if e := EntryFor(m, "r", "p", nil); e.Signature != nil || e.Sources != nil {
		t.Errorf("entry without signature or home: %+v", e)
	}
	if len(m.Keywords) != 1 {
		t.Error("EntryFor changed the manifest's keywords")
	}
}
