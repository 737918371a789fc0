package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/oci"
)

func TestPublishProfilesArtifact(t *testing.T) {
	host, count := countingRegistry(t)
	priv, pub, err := oci.GenerateKeyPair(t.TempDir(), []byte("pw"))
	must(t, err)
	t.Setenv("COSIGN_PASSWORD", "pw")
	repo := repoWith(t, "heartbeat")
	profiles := filepath.Join(t.TempDir(), "profiles")
	copyDir(t, filepath.Join("..", "..", "profiles"), profiles)
	index := filepath.Join(t.TempDir(), "index.yaml")
	publish := func() (int, string) {
		code, out, errOut := runCLI(t, "publish", repo, "--registry", host+"/acme", "--key", priv, "--plain-http", "--profiles", profiles, "--index", index)
		return code, out + errOut
	}
	code, out := publish()
	if code != exitOK || !strings.Contains(out, ProfilesArtifact+" 0.0.0-") || !strings.Contains(out, "published") {
		t.Fatalf("publish: exit %d\n%s", code, out)
	}
	if code, out, errOut := runCLI(t, "verify", host+"/acme/"+ProfilesArtifact+":latest", "--key", pub, "--plain-http"); code != exitOK {
		t.Fatalf("verify the profile artifact: exit %d\n%s%s", code, out, errOut)
	}
	idx, err := artifacts.ParseIndex(readFile(t, index))
	must(t, err)
	if e, ok := idx.Lookup(ProfilesArtifact); !ok || e.Type != artifacts.TypeAsset || e.Signature == nil {
		t.Errorf("index entry for the profiles: %+v", e)
	}
	if code, out = publish(); code != exitOK || !strings.Contains(out, ProfilesArtifact) || !strings.Contains(out, "unchanged") {
		t.Errorf("re-publish: exit %d\n%s", code, out)
	}
	// An invalid profile stops everything before the first request.
	p := filepath.Join(profiles, "falco.yaml")
	must(t, os.WriteFile(p, append(readFile(t, p), []byte("bogus: field\n")...), 0o644))
	count.Store(0)
	if code, out = publish(); code != exitInput || count.Load() != 0 || !strings.Contains(out, "nothing was published") {
		t.Errorf("invalid profile: exit %d, %d requests\n%s", code, count.Load(), out)
	}
}
