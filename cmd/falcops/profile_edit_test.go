package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/gitrepo/gitrepotest"
)

// editProfile is a valid profile with comments and odd-but-valid
// formatting. The expiry dates are far in the future so that the tests,
// which use the real clock through the CLI, keep passing.
const editProfile = `# Falco versions offered (test copy).
# expirationDate: RFC 3339 with a time zone, quoted.
apiVersion: falco.gardener.cloud/v1alpha1
kind: FalcoProfile
metadata:
  name: falco   # keep
spec:
  images:
    falco:
    - {version: 0.41.3, repository: falcosecurity/falco, tag: 0.41.3}
    -   { version: 0.42.1,  repository: falcosecurity/falco, tag: "0.42.1" }  # odd spacing
    - {version: 0.43.0, repository: falcosecurity/falco, tag: 0.43.0}
    - {version: 0.44.1, repository: falcosecurity/falco, tag: 0.44.1}
    falcosidekick:
    - {version: 2.32.0, repository: falcosecurity/falcosidekick, tag: 2.32.0}
    falcoctl: []
  versions:
    falco:
    # deprecated first
    - {version: 0.41.3, classification: deprecated, expirationDate: "2099-02-28T23:59:59Z", rulesVersion: 4.0.0, engineVersion: 0.50.0}
    - version: 0.42.1
      classification: supported   # the default
      rulesVersion: 5.0.0
    - {version: 0.43.0, classification: preview, rulesVersion: 5.0.0, engineVersion: 0.58.0}
    - {version: 0.44.1, classification: preview, rulesVersion: 5.0.0, engineVersion: 0.62.0}
    falcosidekick:
    - {version: 2.32.0, classification: supported}
    falcoctl: []
`

type editRepo struct {
	*gitrepotest.Repo
	file    string
	initial string
}

// newEditRepo creates a Git repository holding profiles/falco.yaml and a
// README, committed on the default branch.
func newEditRepo(t *testing.T) *editRepo {
	t.Helper()
	g := gitrepotest.New(t)
	file := g.Write("profiles/falco.yaml", editProfile)
	g.Write("README.md", "profiles\n")
	return &editRepo{Repo: g, file: file, initial: g.Commit("initial")}
}

// checkCommitted checks that HEAD is branch, one commit on top of the
// initial one, with message and exactly the profile changed to want.
func (r *editRepo) checkCommitted(t *testing.T, branch, message, want string) {
	t.Helper()
	got, err := os.ReadFile(r.file)
	require.NoError(t, err)
	assert.Equal(t, want, string(got), "file on disk")
	head, _ := r.Head()
	assert.Equal(t, branch, head, "checked-out branch")
	c := r.Show("HEAD")
	assert.Equal(t, message, c.Message)
	assert.Equal(t, []string{r.initial}, c.Parents, "one commit on top of the initial one")
	assert.Equal(t, []string{"profiles/falco.yaml"}, c.Changed, "only the profile changes")
	assert.Equal(t, want, c.Files["profiles/falco.yaml"], "committed file")
	assert.Equal(t, r.initial, r.Resolve("master"), "the default branch did not move")
	assert.True(t, r.Clean(), "worktree clean after the commit")
}

// unmoved checks that no branch was made and HEAD is still the initial
// commit on master.
func (r *editRepo) unmoved(t *testing.T) {
	t.Helper()
	assert.Equal(t, []string{"master"}, r.Branches())
	head, hash := r.Head()
	assert.Equal(t, "master", head)
	assert.Equal(t, r.initial, hash)
}

func sub(t *testing.T, s, old, new string) string {
	t.Helper()
	if strings.Count(s, old) != 1 {
		t.Fatalf("%q occurs %d times", old, strings.Count(s, old))
	}
	return strings.Replace(s, old, new, 1)
}

func TestProfileEditPromote(t *testing.T) {
	r := newEditRepo(t)
	code, out, errs := runCLI(t, "profile", "promote", "0.43.0", "--to", "supported", "--profile", r.file, "--branch", "promote-0.43.0", "--commit")
	if code != exitOK {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	want := sub(t, editProfile, "{version: 0.43.0, classification: preview,", "{version: 0.43.0, classification: supported,")
	r.checkCommitted(t, "promote-0.43.0", "profile: promote falco 0.43.0 to supported", want)
}

func TestProfileEditPromoteUndeprecate(t *testing.T) {
	r := newEditRepo(t)
	code, out, errs := runCLI(t, "profile", "promote", "0.41.3", "--to", "supported", "--profile", r.file, "--branch", "b", "--commit", "--message", "bring 0.41.3 back")
	if code != exitOK {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	want := sub(t, editProfile, `classification: deprecated, expirationDate: "2099-02-28T23:59:59Z", rulesVersion: 4.0.0`, `classification: supported, rulesVersion: 4.0.0`)
	r.checkCommitted(t, "b", "bring 0.41.3 back", want)
}

func TestProfileEditDeprecate(t *testing.T) {
	r := newEditRepo(t)
	// Make 0.43.0 supported first (on disk, committed) so that 0.42.1 is
	// not the last supported version.
	src := sub(t, editProfile, "{version: 0.43.0, classification: preview,", "{version: 0.43.0, classification: supported,")
	if err := os.WriteFile(r.file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	r.initial = r.Commit("0.43.0 supported")
	code, out, errs := runCLI(t, "profile", "deprecate", "0.42.1", "--expires", "2099-06-30", "--profile", r.file, "--branch", "deprecate-0.42.1", "--commit")
	if code != exitOK {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	want := sub(t, src, "      classification: supported   # the default\n",
		"      classification: deprecated   # the default\n      expirationDate: \"2099-06-30T23:59:59Z\"\n")
	r.checkCommitted(t, "deprecate-0.42.1", "profile: deprecate falco 0.42.1, expires 2099-06-30T23:59:59Z", want)
	if !strings.Contains(out, "on branch deprecate-0.42.1") {
		t.Errorf("output %q names no branch", out)
	}
}

func TestProfileEditAdd(t *testing.T) {
	r := newEditRepo(t)
	code, out, errs := runCLI(t, "profile", "add", "0.45.0", "--image", "falcosecurity/falco:0.45.0", "--engine", "0.63.0", "--rules-version", "5.0.1",
		"--profile", r.file, "--branch", "add-0.45.0", "--commit")
	if code != exitOK {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	want := sub(t, editProfile, "tag: 0.44.1}\n", "tag: 0.44.1}\n    - {version: 0.45.0, repository: falcosecurity/falco, tag: 0.45.0}\n")
	want = sub(t, want, "engineVersion: 0.62.0}\n", "engineVersion: 0.62.0}\n    - {version: 0.45.0, classification: preview, rulesVersion: 5.0.1, engineVersion: 0.63.0}\n")
	r.checkCommitted(t, "add-0.45.0", "profile: add falco 0.45.0 as preview", want)
}

func TestProfileEditWithoutGit(t *testing.T) {
	r := newEditRepo(t)
	code, out, errs := runCLI(t, "profile", "promote", "0.44.1", "--to", "supported", "--profile", r.file)
	if code != exitOK {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	got, _ := os.ReadFile(r.file)
	if want := sub(t, editProfile, "{version: 0.44.1, classification: preview,", "{version: 0.44.1, classification: supported,"); string(got) != want {
		t.Errorf("file differs:\n%s", got)
	}
	r.unmoved(t)
}

func TestProfileEditRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		code int
		args []string
	}{
		{"deprecate the last supported", exitInput, []string{"deprecate", "0.42.1", "--expires", "2099-01-01T00:00:00Z"}},
		{"demote the last supported", exitInput, []string{"promote", "0.42.1", "--to", "preview"}},
		{"promote an unknown version", exitInput, []string{"promote", "0.40.0", "--to", "supported"}},
		{"add an existing version", exitInput, []string{"add", "0.43.0", "--image", "falcosecurity/falco:0.43.0"}},
		{"expiry in the past", exitInput, []string{"deprecate", "0.43.0", "--expires", "2020-01-01"}},
		{"bad expiry", exitUsage, []string{"deprecate", "0.43.0", "--expires", "2099-01-01T00:00:00"}},
		{"missing --to", exitUsage, []string{"promote", "0.43.0"}},
		{"to deprecated", exitUsage, []string{"promote", "0.43.0", "--to", "deprecated"}},
		{"add without image", exitUsage, []string{"add", "0.45.0"}},
		{"add with a bad image", exitUsage, []string{"add", "0.45.0", "--image", "falco"}},
		{"no version", exitUsage, []string{"promote", "--to", "supported"}},
		{"existing branch", exitUsage, []string{"promote", "0.43.0", "--to", "supported", "--branch", "master"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newEditRepo(t)
			branch := "x"
			for i, a := range tc.args {
				if a == "--branch" {
					branch = tc.args[i+1]
				}
			}
			args := append([]string{"profile"}, tc.args...)
			args = append(args, "--profile", r.file)
			if branch == "x" {
				args = append(args, "--branch", "x", "--commit")
			}
			code, out, errs := runCLI(t, args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %s%s", code, tc.code, out, errs)
			}
			if !strings.HasPrefix(errs, "falcops: ") {
				t.Errorf("stderr %q", errs)
			}
			if got, _ := os.ReadFile(r.file); string(got) != editProfile {
				t.Errorf("the file changed:\n%s", got)
			}
			r.unmoved(t)
		})
	}
}

func TestProfileEditCommitNeedsBranch(t *testing.T) {
	r := newEditRepo(t)
	code, _, errs := runCLI(t, "profile", "promote", "0.43.0", "--to", "supported", "--profile", r.file, "--commit")
	if code != exitUsage {
		t.Fatalf("exit %d, want 2: %s", code, errs)
	}
	if got, _ := os.ReadFile(r.file); string(got) != editProfile {
		t.Error("the file changed")
	}
}

func TestProfileEditParseExpiry(t *testing.T) {
	for in, want := range map[string]string{
		"2027-06-30":                "2027-06-30T23:59:59Z",
		"2027-06-30T12:00:00+02:00": "2027-06-30T10:00:00Z",
	} {
		got, err := parseExpiry(in)
		if err != nil || got.UTC().Format(time.RFC3339) != want {
			t.Errorf("parseExpiry(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
}
