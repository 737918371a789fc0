package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/falcops/falcops/internal/sharedtest"
	"github.com/falcops/falcops/internal/testenv"
)

// TestInstallManifests: `kubectl apply -k config/extension` renders the
// seed side; a real API server accepts every object (server-side dry run)
// and the Deployment passes only flags falcops-extension knows.
func TestInstallManifests(t *testing.T) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	res, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(sharedtest.RepoRoot(t), "config", "extension"))
	require.NoError(t, err)
	data, err := res.AsYaml()
	require.NoError(t, err)
	env := testenv.Start(t)
	var kinds []string
	for _, doc := range strings.Split(string(data), "\n---\n") {
		u := &unstructured.Unstructured{}
		require.NoError(t, yaml.Unmarshal([]byte(doc), &u.Object))
		kinds = append(kinds, u.GetKind()+"/"+u.GetName())
		opts := []client.CreateOption{client.DryRunAll}
		if u.GetKind() == "Namespace" {
			opts = nil
		}
		require.NoError(t, env.Client.Create(t.Context(), u, opts...), "%s", u.GetKind())
		if u.GetKind() == "Deployment" {
			args, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
			c := args[0].(map[string]any)
			var o options
			fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
			o.bind(fs)
			var flags []string
			for _, a := range c["args"].([]any) {
				flags = append(flags, a.(string))
			}
			require.NoError(t, fs.Parse(flags))
			assert.Equal(t, "/etc/falcops/configuration.yaml", o.config)
		}
	}
	for _, want := range []string{"Namespace/falcops-system", "ServiceAccount/falcops-extension", "ClusterRole/falcops-extension",
		"ClusterRoleBinding/falcops-extension", "Role/falcops-extension-leader", "RoleBinding/falcops-extension-leader", "Deployment/falcops-extension"} {
		assert.Contains(t, kinds, want)
	}
}

// TestDockerfileBuilds: no container runtime runs here, so the test reads
// the Dockerfile and builds every Go binary it names the way it names it;
// its falcoctl is the version hack/falcoctl pins, and the image runs as
// non-root from a distroless base.
func TestDockerfileBuilds(t *testing.T) {
	root := sharedtest.RepoRoot(t)
	data, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	require.NoError(t, err)
	df := string(data)
	assert.Regexp(t, `(?m)^FROM gcr.io/distroless/static-debian12:nonroot$`, df)
	assert.Regexp(t, `(?m)^USER 65532:65532$`, df)
	builds := regexp.MustCompile(`(?m)go build .*-o /out/(\S+) (\./cmd/\S+)$`).FindAllStringSubmatch(df, -1)
	var names, pkgs []string
	for _, b := range builds {
		names, pkgs = append(names, b[1]), append(pkgs, b[2])
	}
	out := t.TempDir()
	// One go build for all, with the Dockerfile's flags (no DWARF: links fast).
	cmd := exec.Command("go", append([]string{"build", "-trimpath", "-ldflags=-s -w", "-o", out + "/"}, pkgs...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
	outb, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", outb)
	for _, n := range names {
		assert.FileExists(t, filepath.Join(out, n))
	}
	assert.Equal(t, []string{"falcops-controller", "falcops-extension", "falcops-agent"}, names)
	mod, err := os.ReadFile(filepath.Join(root, "hack", "falcoctl", "go.mod"))
	require.NoError(t, err)
	pinned := regexp.MustCompile(`github.com/falcosecurity/falcoctl v(\S+)`).FindStringSubmatch(string(mod))
	require.NotNil(t, pinned)
	assert.Contains(t, df, "semVersion="+pinned[1], "the image's falcoctl is the pinned one")
	assert.Contains(t, df, "COPY --from=build /out/falcoctl /usr/bin/falcoctl", "where the rendered agent looks for it")
}
