package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/internal/sharedtest"
	"github.com/falcops/falcops/oci"
	"github.com/falcops/falcops/oci/ocitest"
)

// killingRegistry serves the test registry and can kill the publisher at
// its n-th request; it records what every tag was ever set to and whether
// a floating tag was ever moved to a digest without a signature.
type killingRegistry struct {
	*ocitest.Registry
	mu       sync.Mutex
	inner    http.Handler
	count    int
	killAt   int
	victim   *exec.Cmd
	tagged   map[string]map[string]bool // repo:tag -> digests it was set to
	unsigned []string                   // floating tags moved to unsigned digests
}

func newKillingRegistry(t *testing.T) *killingRegistry {
	k := &killingRegistry{tagged: map[string]map[string]bool{}}
	k.Registry = ocitest.NewWith(t, ocitest.Options{Wrap: func(h http.Handler) http.Handler {
		k.inner = h
		return http.HandlerFunc(k.serve)
	}})
	return k
}

func (k *killingRegistry) serve(w http.ResponseWriter, r *http.Request) {
	k.mu.Lock()
	k.count++
	if k.killAt > 0 && k.count == k.killAt && k.victim != nil && k.victim.Process != nil {
		_ = k.victim.Process.Kill()
		k.mu.Unlock()
		http.Error(w, "publisher killed", http.StatusServiceUnavailable)
		return
	}
	k.mu.Unlock()
	if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.Sum256(body)
		k.record(r.URL.Path, "sha256:"+hex.EncodeToString(sum[:]))
	}
	k.inner.ServeHTTP(w, r)
}

// record notes that tag (from /v2/<repo>/manifests/<tag>) is set to d, and
// checks that a floating tag only ever names a signed digest.
func (k *killingRegistry) record(path, d string) {
	repo, tag, _ := strings.Cut(strings.TrimPrefix(path, "/v2/"), "/manifests/")
	if strings.HasSuffix(tag, ".sig") || strings.HasPrefix(tag, "sha256") {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	key := repo + ":" + tag
	if k.tagged[key] == nil {
		k.tagged[key] = map[string]bool{}
	}
	k.tagged[key][d] = true
	if strings.Count(tag, ".") < 2 && !strings.HasPrefix(tag, "0.0.0-") {
		sig := httptestHead(k.inner, "/v2/"+repo+"/manifests/sha256-"+strings.TrimPrefix(d, "sha256:")+".sig")
		if sig != http.StatusOK {
			k.unsigned = append(k.unsigned, key+" -> "+d)
		}
	}
}

// httptestHead sends a HEAD through the registry itself (not the killer).
func httptestHead(h http.Handler, path string) int {
	rec := &statusRecorder{header: http.Header{}}
	req, _ := http.NewRequest(http.MethodHead, path, nil)
	h.ServeHTTP(rec, req)
	return rec.status
}

type statusRecorder struct {
	header http.Header
	status int
}

func (s *statusRecorder) Header() http.Header         { return s.header }
func (s *statusRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusRecorder) WriteHeader(code int)        { s.status = code }

// publishProcess runs `falcops publish` as its own process against host,
// killed at the registry's killAt-th request (0: never). It returns the
// exit code (-1 when killed).
func publishProcess(t *testing.T, k *killingRegistry, killAt int, repo, priv, index string) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "publish", filepath.Join(repo, "rulesets"), "--registry", k.Host+"/acme", "--key", priv,
		"--plain-http", "--profiles", filepath.Join(repo, "profiles"), "--index", index)
	cmd.Env = append(os.Environ(), cliEnv+"=1", "COSIGN_PASSWORD=pw", "DOCKER_CONFIG="+t.TempDir())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	k.mu.Lock()
	k.count, k.killAt, k.victim = 0, killAt, cmd
	k.mu.Unlock()
	require.NoError(t, cmd.Start())
	err := cmd.Wait()
	k.mu.Lock()
	k.victim, k.killAt = nil, 0
	k.mu.Unlock()
	if killAt == 0 && err != nil {
		t.Fatalf("publish: %v\n%s", err, out.String())
	}
	return cmd.ProcessState.ExitCode()
}

// TestPublishConvergesAfterSIGKILL: `falcops publish` killed with SIGKILL
// at 20 random points (fixed seeds) of its registry traffic; one re-run
// later every tag, signature and the index are right, no version tag ever
// named two digests, and no floating tag ever named unsigned content.
func TestPublishConvergesAfterSIGKILL(t *testing.T) {
	repo := repoWith(t, "heartbeat", "custom-example")
	sharedtest.CopyDir(t, filepath.Join(sharedtest.RepoRoot(t), "profiles"), filepath.Join(repo, "profiles"))
	priv, pub, err := oci.GenerateKeyPair(t.TempDir(), []byte("pw"))
	require.NoError(t, err)

	clean := newKillingRegistry(t)
	publishProcess(t, clean, 0, repo, priv, filepath.Join(t.TempDir(), "index.yaml"))
	total := clean.count
	require.Greater(t, total, 20)
	t.Logf("a clean publish takes %d registry requests", total)

	for seed := uint64(1); seed <= 20; seed++ {
		at := 1 + rand.New(rand.NewPCG(seed, 0x5eed)).IntN(total)
		t.Run(fmt.Sprintf("kill at request %d", at), func(t *testing.T) {
			k := newKillingRegistry(t)
			index := filepath.Join(t.TempDir(), "index.yaml")
			require.NotEqual(t, exitOK, publishProcess(t, k, at, repo, priv, index), "the publisher was killed")
			publishProcess(t, k, 0, repo, priv, index)
			checkPublished(t, k, pub, index)
		})
	}
}

// checkPublished checks a registry after a publish that succeeded.
func checkPublished(t *testing.T, k *killingRegistry, pub, index string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := oci.New(oci.Options{PlainHTTP: true, Credential: oci.Anonymous})
	require.NoError(t, err)
	for name, version := range map[string]string{"heartbeat": "2.0.0", "custom-example": "0.1.0"} {
		repo := k.Host + "/acme/" + name
		want, err := c.Resolve(ctx, repo+":"+version)
		require.NoError(t, err)
		tags, err := artifacts.Tags(version, nil)
		require.NoError(t, err)
		for _, tag := range tags {
			v, err := c.Verify(ctx, repo+":"+tag, oci.VerifyOptions{KeyRef: pub})
			require.NoError(t, err, "%s:%s", name, tag)
			assert.Equal(t, want.Digest, v.Digest, "%s:%s", name, tag)
		}
	}
	_, err = c.Verify(ctx, k.Host+"/acme/"+artifacts.ProfilesArtifact+":latest", oci.VerifyOptions{KeyRef: pub})
	require.NoError(t, err, "profiles")
	idx, err := artifacts.ParseIndex(readFile(t, index))
	require.NoError(t, err)
	for _, name := range []string{"heartbeat", "custom-example", artifacts.ProfilesArtifact} {
		e, ok := idx.Lookup(name)
		if assert.True(t, ok, "index entry %s", name) {
			assert.NotNil(t, e.Signature, "index entry %s is signed", name)
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for tag, digests := range k.tagged {
		if strings.Count(strings.SplitN(tag, ":", 2)[1], ".") == 2 {
			assert.Len(t, digests, 1, "version tag %s named %v", tag, digests)
		}
	}
	assert.Empty(t, k.unsigned, "floating tags moved to unsigned content")
}
