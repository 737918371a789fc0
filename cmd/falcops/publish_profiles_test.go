package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/internal/sharedtest"
	"github.com/falcops/falcops/oci"
	"github.com/falcops/falcops/oci/ocitest"
)

func TestPublishProfilesArtifact(t *testing.T) {
	reg := ocitest.New(t)
	host := reg.Host
	priv, pub, err := oci.GenerateKeyPair(t.TempDir(), []byte("pw"))
	must(t, err)
	t.Setenv("COSIGN_PASSWORD", "pw")
	repo := repoWith(t, "heartbeat")
	profiles := filepath.Join(t.TempDir(), "profiles")
	sharedtest.CopyDir(t, filepath.Join("..", "..", "profiles"), profiles)
	index := filepath.Join(t.TempDir(), "index.yaml")
	publish := func() (int, string) {
		code, out, errOut := runCLI(t, "publish", repo, "--registry", host+"/acme", "--key", priv, "--plain-http", "--profiles", profiles, "--index", index)
		return code, out + errOut
	}
	code, out := publish()
	if code != exitOK || !strings.Contains(out, artifacts.ProfilesArtifact+" 0.0.0-") || !strings.Contains(out, "published") {
		t.Fatalf("publish: exit %d\n%s", code, out)
	}
	if code, out, errOut := runCLI(t, "verify", host+"/acme/"+artifacts.ProfilesArtifact+":latest", "--key", pub, "--plain-http"); code != exitOK {
		t.Fatalf("verify the profile artifact: exit %d\n%s%s", code, out, errOut)
	}
	idx, err := artifacts.ParseIndex(readFile(t, index))
	must(t, err)
	if e, ok := idx.Lookup(artifacts.ProfilesArtifact); !ok || e.Type != artifacts.TypeAsset || e.Signature == nil {
		t.Errorf("index entry for the profiles: %+v", e)
	}
	if code, out = publish(); code != exitOK || !strings.Contains(out, artifacts.ProfilesArtifact) || !strings.Contains(out, "unchanged") {
		t.Errorf("re-publish: exit %d\n%s", code, out)
	}
	// An invalid profile stops everything before the first request.
	p := filepath.Join(profiles, "falco.yaml")
	must(t, os.WriteFile(p, append(readFile(t, p), []byte("bogus: field\n")...), 0o644))
	reg.Reset()
	if code, out = publish(); code != exitInput || reg.Requests() != 0 || !strings.Contains(out, "nothing was published") {
		t.Errorf("invalid profile: exit %d, %d requests\n%s", code, reg.Requests(), out)
	}
}

func TestProfileValidateRulesVersions(t *testing.T) {
	repo := repoWith(t, "heartbeat") // version 2.0.0
	profile := filepath.Join(t.TempDir(), "falco.yaml")
	must(t, os.WriteFile(profile, readFile(t, filepath.Join("..", "..", "profiles", "falco.yaml")), 0o644))
	at := "--at=2026-11-25T00:00:00Z"
	code, out, errOut := runCLI(t, "profile", "validate", "--profile", profile, "--rulesets", filepath.Join(repo, "rulesets"), at)
	if code != exitInput || !strings.Contains(out, "rulesVersion 5.0.0 is not the version of any ruleset") {
		t.Fatalf("want exit 1 for unknown rulesVersion: %d\n%s%s", code, out, errOut)
	}
	data := strings.NewReplacer("rulesVersion: 5.0.0", "rulesVersion: 2.0.0", "rulesVersion: 4.0.0", "rulesVersion: 2.0.0").Replace(string(readFile(t, profile)))
	must(t, os.WriteFile(profile, []byte(data), 0o644))
	if code, out, errOut := runCLI(t, "profile", "validate", "--profile", profile, "--rulesets", filepath.Join(repo, "rulesets"), at); code != exitOK {
		t.Fatalf("matching rulesVersions: exit %d\n%s%s", code, out, errOut)
	}
}
