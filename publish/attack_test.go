package publish_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/oci"
	"github.com/falcops/falcops/oci/ocitest"
	"github.com/falcops/falcops/publish"
)

// demo packages a small ruleset; salt changes its content.
func demo(t *testing.T, version, salt string) *artifacts.Artifact {
	t.Helper()
	return ocitest.Package(t, ocitest.Ruleset(t, "demo", version, "0.50.0", salt), artifacts.PackageOptions{})
}

// forged is a copy of a whose manifest was changed by edit: what someone
// with push access could pre-place under our version.
func forged(t *testing.T, a *artifacts.Artifact, edit func(*ocispec.Manifest)) *artifacts.Artifact {
	t.Helper()
	f := *a
	var m ocispec.Manifest
	require.NoError(t, json.Unmarshal(a.ManifestBytes, &m))
	edit(&m)
	var err error
	f.ManifestBytes, err = json.Marshal(m)
	require.NoError(t, err)
	f.ManifestDigest = digest.FromBytes(f.ManifestBytes)
	return &f
}

// TestPrePlacedManifestRefused: a manifest with our config and layer but
// another version annotation, or a layer size that would make clients read
// a petabyte, is not ours: publish refuses it and signs nothing.
func TestPrePlacedManifestRefused(t *testing.T) {
	ctx := context.Background()
	a := demo(t, "1.0.0", "")
	for name, edit := range map[string]func(*ocispec.Manifest){
		"version annotation": func(m *ocispec.Manifest) { m.Annotations[artifacts.AnnotationVersion] = "1.999.0" },
		"layer size":         func(m *ocispec.Manifest) { m.Layers[0].Size = 1e15 },
		"extra layer":        func(m *ocispec.Manifest) { m.Layers = append(m.Layers, m.Layers[0]) },
	} {
		t.Run(name, func(t *testing.T) {
			opts, _ := release(t)
			repo := opts.Registry.Repo("demo")
			evil := forged(t, a, edit)
			_, err := opts.Client.Push(ctx, repo, evil, "1.0.0")
			require.NoError(t, err)
			_, err = publish.Artifact(ctx, a, opts)
			require.ErrorIs(t, err, oci.ErrImmutable)
			assert.ErrorContains(t, err, evil.ManifestDigest.String(), "the message names the registry's digest")
			assert.ErrorContains(t, err, a.ManifestDigest.String(), "and ours")
			signed, err := opts.Client.HasSignature(ctx, repo, evil.ManifestDigest)
			require.NoError(t, err)
			assert.False(t, signed, "nothing was signed")
			tags, err := opts.Client.Tags(ctx, repo)
			require.NoError(t, err)
			assert.Equal(t, []string{"1.0.0"}, tags, "no floating tag moved")
		})
	}
}

// TestSameContentOtherCommitUnchanged: the one difference publish accepts
// under an existing version is the commit it was built from.
func TestSameContentOtherCommitUnchanged(t *testing.T) {
	ctx := context.Background()
	opts, pub := release(t)
	dir := ocitest.Ruleset(t, "demo", "1.0.0", "0.50.0", "")
	first := ocitest.Package(t, dir, artifacts.PackageOptions{Source: "https://example.com/r.git", Revision: "1111"})
	second := ocitest.Package(t, dir, artifacts.PackageOptions{Source: "https://example.com/r.git", Revision: "2222"})
	res, err := publish.Artifact(ctx, first, opts)
	require.NoError(t, err)
	again, err := publish.Artifact(ctx, second, opts)
	require.NoError(t, err)
	assert.Equal(t, publish.Unchanged, again.State)
	assert.Equal(t, res.Digest, again.Digest, "the registry's digest, built from the first commit")
	_, err = opts.Client.Verify(ctx, opts.Registry.Repo("demo")+":1", oci.VerifyOptions{KeyRef: pub})
	require.NoError(t, err)
}

// TestJunkSignatureResigned: a .sig tag holding junk or another key's
// signature does not count as signed; publish signs, and the result verifies.
func TestJunkSignatureResigned(t *testing.T) {
	ctx := context.Background()
	for _, kind := range []string{"junk", "foreign"} {
		t.Run(kind, func(t *testing.T) {
			opts, pub := release(t)
			a := demo(t, "1.0.0", "")
			repo := opts.Registry.Repo("demo")
			_, err := opts.Client.PushVersion(ctx, repo, a, "1.0.0")
			require.NoError(t, err)
			if kind == "junk" {
				junk := demo(t, "9.9.9", "junk") // any manifest will do as junk under the tag
				_, err = opts.Client.Push(ctx, repo, junk, oci.SignatureTag(a.ManifestDigest))
			} else {
				other, _ := release(t)
				err = opts.Client.Sign(ctx, repo+"@"+a.ManifestDigest.String(), other.Sign)
			}
			require.NoError(t, err)
			res, err := publish.Artifact(ctx, a, opts)
			require.NoError(t, err)
			assert.Equal(t, publish.SignatureAdded, res.State)
			_, err = opts.Client.Verify(ctx, repo+":1.0.0", oci.VerifyOptions{KeyRef: pub})
			require.NoError(t, err)
			assert.Equal(t, []string{"1.0", "1", "latest"}, res.Repaired, "floating tags follow the signature")
		})
	}
}

// TestInterruptedReleaseConverges: a release that failed before its
// floating tags (here: the registry refuses them) leaves them where they
// were, never on unsigned content, and the next run moves them.
func TestInterruptedReleaseConverges(t *testing.T) {
	ctx := context.Background()
	var refuse sync.Map
	reg := ocitest.NewWith(t, ocitest.Options{Wrap: func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, no := refuse.Load(r.Method + " " + r.URL.Path); no {
				http.Error(w, "refused by the test", http.StatusServiceUnavailable)
				return
			}
			h.ServeHTTP(w, r)
		})
	}})
	opts, pub := release(t)
	opts.Registry.Host = reg.Host
	repo := opts.Registry.Repo("demo")
	_, err := publish.Artifact(ctx, demo(t, "1.0.0", ""), opts)
	require.NoError(t, err)

	refuse.Store("PUT /v2/falcops/demo/manifests/1", true)
	b := demo(t, "1.1.0", "")
	_, err = publish.Artifact(ctx, b, opts)
	require.Error(t, err)
	one, err := opts.Client.Resolve(ctx, repo+":1")
	require.NoError(t, err)
	assert.NotEqual(t, b.ManifestDigest, one.Digest, "1 still names 1.0.0")

	refuse.Delete("PUT /v2/falcops/demo/manifests/1")
	res, err := publish.Artifact(ctx, b, opts)
	require.NoError(t, err)
	assert.Equal(t, publish.Unchanged, res.State)
	assert.ElementsMatch(t, []string{"1", "latest"}, res.Repaired)
	assert.Contains(t, res.String(), "moved")
	for _, tag := range []string{"1.1.0", "1.1", "1", "latest"} {
		v, err := opts.Client.Verify(ctx, repo+":"+tag, oci.VerifyOptions{KeyRef: pub})
		require.NoError(t, err, tag)
		assert.Equal(t, b.ManifestDigest, v.Digest, tag)
	}
}

// choreography forces an interleaving of two publishers' requests: the
// n-th request of a kind by one publisher ("A PUT manifests/1.0.0#1") can
// wait until a request of the other one has been answered.
type choreography struct {
	mu    sync.Mutex
	done  map[string]chan struct{}
	count map[string]int
	base  http.RoundTripper
	waits map[string]string
}

func (c *choreography) step(name string) chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done[name] == nil {
		c.done[name] = make(chan struct{})
	}
	return c.done[name]
}

// transport is one publisher's way to the registry.
func (c *choreography) transport(who string) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		parts := strings.Split(r.URL.Path, "/")
		kind := who + " " + r.Method + " " + strings.Join(parts[max(len(parts)-2, 0):], "/")
		c.mu.Lock()
		c.count[kind]++
		key := fmt.Sprintf("%s#%d", kind, c.count[kind])
		c.mu.Unlock()
		if dep, ok := c.waits[key]; ok {
			select {
			case <-c.step(dep):
			case <-time.After(20 * time.Second):
				return nil, fmt.Errorf("choreography: %s waited 20 s for %s", key, dep)
			}
		}
		resp, err := c.base.RoundTrip(r)
		ch := c.step(key)
		c.mu.Lock()
		select {
		case <-ch:
		default:
			close(ch)
		}
		c.mu.Unlock()
		return resp, err
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestConcurrentPublishers: two publishers of one version with different
// content. Whatever the interleaving, exactly one succeeds, the loser's
// digest is never what the version names at the end, and the loser fails
// with ErrImmutable (exit 1 in the CLI).
func TestConcurrentPublishers(t *testing.T) {
	interleavings := map[string]map[string]string{
		// Both see the version missing, A pushes, B overwrites, then A
		// checks after its push: A sees B's digest and signs nothing.
		"overwritten before signing": {
			"A PUT manifests/1.0.0#1":  "B HEAD manifests/1.0.0#1",
			"B PUT manifests/1.0.0#1":  "A PUT manifests/1.0.0#1",
			"A HEAD manifests/1.0.0#2": "B PUT manifests/1.0.0#1",
		},
		// A pushes, checks and signs; B (which saw the version missing)
		// overwrites before A's last check: A fails before moving any
		// floating tag, B's content is the version. The registry has no
		// compare-and-swap: for that moment the version named A's signed
		// content, which is why one publisher per repository is the rule.
		"overwritten after signing": {
			"A PUT manifests/1.0.0#1":  "B HEAD manifests/1.0.0#1",
			"B PUT manifests/1.0.0#1":  "A HEAD manifests/1.0.0#2",
			"A HEAD manifests/1.0.0#3": "B PUT manifests/1.0.0#1",
		},
		// B starts after A has pushed: B sees other content under the
		// version and refuses at once.
		"second sees the first": {
			"B HEAD manifests/1.0.0#1": "A HEAD manifests/1.0.0#2",
		},
	}
	for name, waits := range interleavings {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			reg := ocitest.New(t)
			c := &choreography{done: map[string]chan struct{}{}, count: map[string]int{}, base: http.DefaultTransport, waits: waits}
			results := map[string]error{}
			var mu sync.Mutex
			var wg sync.WaitGroup
			arts := map[string]*artifacts.Artifact{"A": demo(t, "1.0.0", "a"), "B": demo(t, "1.0.0", "b")}
			for who, a := range arts {
				opts, _ := release(t)
				opts.Registry.Host = reg.Host
				client, err := oci.New(oci.Options{PlainHTTP: true, Transport: c.transport(who), DockerConfig: filepath.Join(t.TempDir(), "c.json")})
				require.NoError(t, err)
				opts.Client = client
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := publish.Artifact(ctx, a, opts)
					mu.Lock()
					results[who] = err
					mu.Unlock()
				}()
			}
			wg.Wait()
			for key, dep := range waits {
				for _, step := range []string{key, dep} {
					select {
					case <-c.step(step):
					default:
						t.Fatalf("the interleaving did not happen: no request %s", step)
					}
				}
			}
			winners := 0
			var winner string
			for who, err := range results {
				if err == nil {
					winners++
					winner = who
				} else {
					require.True(t, errors.Is(err, oci.ErrImmutable), "%s: %v", who, err)
				}
			}
			require.Equal(t, 1, winners, "exactly one publisher succeeds: %v", results)
			plain, err := oci.New(oci.Options{PlainHTTP: true, DockerConfig: filepath.Join(t.TempDir(), "c.json")})
			require.NoError(t, err)
			now, err := plain.Resolve(ctx, reg.Host+"/falcops/demo:1.0.0")
			require.NoError(t, err)
			assert.Equal(t, arts[winner].ManifestDigest, now.Digest, "the version names the winner's content")
		})
	}
}
