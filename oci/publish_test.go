package oci

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/falcops/falcops/oci/ocitest"
	digest "github.com/opencontainers/go-digest"
	"oras.land/oras-go/v2/registry/remote/auth"
)

// TestPublishTags publishes version histories in order and checks every tag
// of the repository against the version it must point at.
func TestPublishTags(t *testing.T) {
	cases := []struct {
		name    string
		history []string
		// want maps each tag to the version whose digest it must have.
		want map[string]string
		// wrote are the tags each publish must report, in order.
		wrote [][]string
	}{
		{
			name:    "first release",
			history: []string{"1.0.0"},
			want:    map[string]string{"1.0.0": "1.0.0", "1.0": "1.0.0", "1": "1.0.0", "latest": "1.0.0"},
			wrote:   [][]string{{"1.0.0", "1.0", "1", "latest"}},
		},
		{
			name:    "patch moves everything",
			history: []string{"1.0.0", "1.0.1"},
			want:    map[string]string{"1.0.0": "1.0.0", "1.0.1": "1.0.1", "1.0": "1.0.1", "1": "1.0.1", "latest": "1.0.1"},
			wrote:   [][]string{{"1.0.0", "1.0", "1", "latest"}, {"1.0.1", "1.0", "1", "latest"}},
		},
		{
			name:    "out of order: older major line does not move latest",
			history: []string{"1.0.0", "2.0.0", "1.1.0"},
			want: map[string]string{
				"1.0.0": "1.0.0", "1.0": "1.0.0",
				"2.0.0": "2.0.0", "2.0": "2.0.0", "2": "2.0.0", "latest": "2.0.0",
				"1.1.0": "1.1.0", "1.1": "1.1.0", "1": "1.1.0",
			},
			wrote: [][]string{{"1.0.0", "1.0", "1", "latest"}, {"2.0.0", "2.0", "2", "latest"}, {"1.1.0", "1.1", "1"}},
		},
		{
			name:    "older patch in a minor line moves only its minor",
			history: []string{"1.5.0", "1.4.0", "1.4.1"},
			want: map[string]string{
				"1.5.0": "1.5.0", "1.5": "1.5.0", "1": "1.5.0", "latest": "1.5.0",
				"1.4.0": "1.4.0", "1.4.1": "1.4.1", "1.4": "1.4.1",
			},
			wrote: [][]string{{"1.5.0", "1.5", "1", "latest"}, {"1.4.0", "1.4"}, {"1.4.1", "1.4"}},
		},
		{
			name:    "pre-releases get only their own tag",
			history: []string{"1.0.0", "1.1.0-rc.1", "2.0.0-alpha.1", "1.1.0"},
			want: map[string]string{
				"1.0.0": "1.0.0", "1.0": "1.0.0",
				"1.1.0-rc.1": "1.1.0-rc.1", "2.0.0-alpha.1": "2.0.0-alpha.1",
				"1.1.0": "1.1.0", "1.1": "1.1.0", "1": "1.1.0", "latest": "1.1.0",
			},
			wrote: [][]string{{"1.0.0", "1.0", "1", "latest"}, {"1.1.0-rc.1"}, {"2.0.0-alpha.1"}, {"1.1.0", "1.1", "1", "latest"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			host := startRegistry(t, nil)
			c := newTestClient(t, nil, Options{})
			repo := host + "/falcops/heartbeat"
			digests := map[string]digest.Digest{}
			for i, v := range tc.history {
				a := heartbeat(t, v, "")
				res, err := c.Publish(ctx, repo, a, v)
				if err != nil {
					t.Fatalf("publish %s: %v", v, err)
				}
				if res.Unchanged || res.Digest != a.ManifestDigest {
					t.Fatalf("publish %s: %+v, want digest %s and a change", v, res, a.ManifestDigest)
				}
				if !slices.Equal(res.Tags, tc.wrote[i]) {
					t.Errorf("publish %s wrote tags %v, want %v", v, res.Tags, tc.wrote[i])
				}
				digests[v] = a.ManifestDigest
			}
			tags, err := c.Tags(ctx, repo)
			if err != nil {
				t.Fatal(err)
			}
			var wantTags []string
			for tag := range tc.want {
				wantTags = append(wantTags, tag)
			}
			slices.Sort(tags)
			slices.Sort(wantTags)
			if !slices.Equal(tags, wantTags) {
				t.Fatalf("tags %v, want %v", tags, wantTags)
			}
			for tag, v := range tc.want {
				desc, err := c.Resolve(ctx, repo+":"+tag)
				if err != nil {
					t.Fatal(err)
				}
				if desc.Digest != digests[v] {
					t.Errorf("tag %s -> %s, want %s (version %s)", tag, desc.Digest, digests[v], v)
				}
			}
		})
	}
}

// TestPublishUnchanged: publishing the same content again writes nothing;
// it reads the version (HEAD), the tag list and each floating tag (HEAD),
// so that a release interrupted before its floating tags converges.
func TestPublishUnchanged(t *testing.T) {
	ctx := testContext(t)
	a := heartbeat(t, "1.0.0", "")

	t.Run("anonymous", func(t *testing.T) {
		host := startRegistry(t, nil)
		repo := host + "/falcops/heartbeat"
		if _, err := newTestClient(t, nil, Options{}).Publish(ctx, repo, a, "1.0.0"); err != nil {
			t.Fatal(err)
		}
		rec := newRecorder()
		res, err := newTestClient(t, rec, Options{}).Publish(ctx, repo, a, "1.0.0")
		if err != nil {
			t.Fatal(err)
		}
		if !res.Unchanged || res.Digest != a.ManifestDigest || len(res.Tags) != 0 {
			t.Fatalf("result %+v, want unchanged %s", res, a.ManifestDigest)
		}
		t.Logf("re-publish: %v", rec.requests())
		if n := len(rec.requests()); n > 5 {
			t.Fatalf("%d requests %v, want at most 5", n, rec.requests())
		}
		if w := rec.writes(); len(w) > 0 {
			t.Fatalf("wrote %v", w)
		}
	})

	t.Run("basic auth from docker config", func(t *testing.T) {
		host := ocitest.NewWith(t, ocitest.Options{User: "ci", Password: "s3cret"}).Host
		repo := host + "/falcops/heartbeat"
		cfg := dockerConfig(t, host, "ci", "s3cret")
		if _, err := newTestClient(t, nil, Options{DockerConfig: cfg}).Publish(ctx, repo, a, "1.0.0"); err != nil {
			t.Fatal(err)
		}
		rec := newRecorder()
		res, err := newTestClient(t, rec, Options{DockerConfig: cfg}).Publish(ctx, repo, a, "1.0.0")
		if err != nil {
			t.Fatal(err)
		}
		if !res.Unchanged {
			t.Fatalf("result %+v, want unchanged", res)
		}
		t.Logf("re-publish: %v", rec.requests())
		if n := len(rec.requests()); n > 6 {
			t.Fatalf("%d requests %v, want at most 6 (challenge included)", n, rec.requests())
		}
		if w := rec.writes(); len(w) > 0 {
			t.Fatalf("wrote %v", w)
		}
	})
}

// TestPublishImmutable: other content under an existing version is refused
// and the registry is left exactly as it was.
func TestPublishImmutable(t *testing.T) {
	ctx := testContext(t)
	host := startRegistry(t, nil)
	repo := host + "/falcops/heartbeat"
	c := newTestClient(t, nil, Options{})
	for _, v := range []string{"1.0.0", "1.1.0"} {
		if _, err := c.Publish(ctx, repo, heartbeat(t, v, ""), v); err != nil {
			t.Fatal(err)
		}
	}
	before := snapshot(t, c, repo)

	changed := heartbeat(t, "1.0.0", "changed")
	rec := newRecorder()
	_, err := newTestClient(t, rec, Options{}).Publish(ctx, repo, changed, "1.0.0")
	if !errors.Is(err, ErrImmutable) {
		t.Fatalf("error %v, want ErrImmutable", err)
	}
	if !strings.Contains(err.Error(), changed.ManifestDigest.String()) {
		t.Errorf("error %q does not name the new digest", err)
	}
	if w := rec.writes(); len(w) > 0 {
		t.Fatalf("wrote %v", w)
	}
	after := snapshot(t, c, repo)
	if !mapsEqual(before, after) {
		t.Fatalf("registry changed:\nbefore %v\nafter  %v", before, after)
	}
	// The changed content's blobs were not uploaded either.
	if _, err := c.FetchBlob(ctx, repo, changed.LayerDescriptor); !errors.Is(err, ErrNotFound) {
		t.Fatalf("changed layer: %v, want ErrNotFound", err)
	}
}

// TestPublishVersionMismatch: the artifact's own version must be the one
// published.
func TestPublishVersionMismatch(t *testing.T) {
	host := startRegistry(t, nil)
	c := newTestClient(t, nil, Options{})
	if _, err := c.Publish(testContext(t), host+"/falcops/heartbeat", heartbeat(t, "1.0.0", ""), "1.0.1"); err == nil {
		t.Fatal("no error")
	}
}

// TestFetch reads back what Publish wrote, within the limits.
func TestFetch(t *testing.T) {
	ctx := testContext(t)
	host := startRegistry(t, nil)
	repo := host + "/falcops/heartbeat"
	c := newTestClient(t, nil, Options{})
	a := heartbeat(t, "1.0.0", "")
	if _, err := c.Publish(ctx, repo, a, "1.0.0"); err != nil {
		t.Fatal(err)
	}
	desc, data, err := c.FetchManifest(ctx, repo+":latest")
	if err != nil {
		t.Fatal(err)
	}
	if desc.Digest != a.ManifestDigest || string(data) != string(a.ManifestBytes) {
		t.Fatalf("manifest %s differs from the published one %s", desc.Digest, a.ManifestDigest)
	}
	if _, _, err := c.FetchManifest(ctx, repo+"@"+a.ManifestDigest.String()); err != nil {
		t.Fatal(err)
	}
	layer, err := c.FetchBlob(ctx, repo, a.LayerDescriptor)
	if err != nil {
		t.Fatal(err)
	}
	if string(layer) != string(a.LayerBytes) {
		t.Fatal("layer differs")
	}

	small := newTestClient(t, nil, Options{MaxManifestSize: 16, MaxBlobSize: 16})
	if _, _, err := small.FetchManifest(ctx, repo+":latest"); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("manifest over the limit: %v", err)
	}
	if _, err := small.FetchBlob(ctx, repo, a.LayerDescriptor); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("blob over the limit: %v", err)
	}
	// A descriptor that understates the size is caught while reading.
	short := a.LayerDescriptor
	short.Size--
	if _, err := c.FetchBlob(ctx, repo, short); err == nil {
		t.Fatal("short descriptor: no error")
	}
	if _, err := c.FetchBlob(ctx, repo, a.LayerDescriptor); err != nil {
		t.Fatal(err)
	}

	// Tag moves a new tag to an existing digest.
	if err := c.Tag(ctx, repo, a.ManifestDigest, "stable"); err != nil {
		t.Fatal(err)
	}
	if d, err := c.Resolve(ctx, repo+":stable"); err != nil || d.Digest != a.ManifestDigest {
		t.Fatalf("stable -> %v, %v", d.Digest, err)
	}
}

// snapshot maps every tag of repo to its digest.
func snapshot(t *testing.T, c *Client, repo string) map[string]digest.Digest {
	t.Helper()
	ctx := testContext(t)
	tags, err := c.Tags(ctx, repo)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]digest.Digest{}
	for _, tag := range tags {
		d, err := c.Resolve(ctx, repo+":"+tag)
		if err != nil {
			t.Fatal(err)
		}
		out[tag] = d.Digest
	}
	return out
}

func mapsEqual(a, b map[string]digest.Digest) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// basicAuth guards a handler with HTTP basic authentication, as a private
// registry with htpasswd does.
// dockerConfig writes a Docker config.json with credentials for host.
func dockerConfig(t *testing.T, host, user, pass string) string {
	t.Helper()
	cfg := map[string]any{"auths": map[string]any{host: map[string]string{
		"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + pass)),
	}}}
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPushSkipsExistingBlobs: a new version with the same rules uploads only
// its new config blob; the layer is already there.
func TestPushSkipsExistingBlobs(t *testing.T) {
	ctx := testContext(t)
	host := startRegistry(t, nil)
	repo := host + "/falcops/heartbeat"
	a, b := heartbeat(t, "1.0.0", ""), heartbeat(t, "1.0.1", "")
	if a.LayerDescriptor.Digest != b.LayerDescriptor.Digest {
		t.Fatal("same rules should give the same layer")
	}
	rec := newRecorder()
	c := newTestClient(t, rec, Options{})
	if _, err := c.Publish(ctx, repo, a, "1.0.0"); err != nil {
		t.Fatal(err)
	}
	if n := countUploads(rec.writes()); n != 2 {
		t.Fatalf("first publish: %d blob uploads, want 2 (config, layer): %v", n, rec.writes())
	}
	rec.reset()
	if _, err := c.Publish(ctx, repo, b, "1.0.1"); err != nil {
		t.Fatal(err)
	}
	if n := countUploads(rec.writes()); n != 1 {
		t.Fatalf("second publish: %d blob uploads, want 1 (config): %v", n, rec.writes())
	}
}

func countUploads(writes []string) int {
	n := 0
	for _, w := range writes {
		if strings.HasPrefix(w, "POST ") && strings.HasSuffix(w, "/blobs/uploads/") {
			n++
		}
	}
	return n
}

// TestPlainHTTPOnlyToLoopback: plain HTTP reaches loopback registries, and
// a remote one only when explicitly allowed.
func TestPlainHTTPOnlyToLoopback(t *testing.T) {
	for host, loop := range map[string]bool{"127.0.0.1:5000": true, "localhost:5000": true, "[::1]:5000": true, "localhost": true,
		"registry.example.com": false, "10.0.0.1:5000": false, "127.0.0.1.example.com": false} {
		if IsLoopback(host) != loop {
			t.Errorf("IsLoopback(%q) = %v", host, !loop)
		}
	}
	ctx := testContext(t)
	c := newTestClient(t, nil, Options{})
	_, err := c.Resolve(ctx, "registry.example.com/falcops/heartbeat:1")
	if !errors.Is(err, ErrInsecure) {
		t.Fatalf("plain HTTP to a remote registry: %v, want ErrInsecure", err)
	}
	if err := c.Sign(ctx, "registry.example.com/x@sha256:"+strings.Repeat("0", 64), SignOptions{KeyRef: "k"}); !errors.Is(err, ErrInsecure) {
		t.Fatalf("sign over plain HTTP to a remote registry: %v, want ErrInsecure", err)
	}
	allowed := newTestClient(t, nil, Options{AllowInsecureRemote: true, Transport: failingTransport{}})
	if _, err := allowed.Resolve(ctx, "registry.example.com/falcops/heartbeat:1"); errors.Is(err, ErrInsecure) || err == nil {
		t.Fatalf("allowed: %v, want the transport's error", err)
	}
}

// failingTransport answers nothing: the request got as far as the network.
type failingTransport struct{}

func (failingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("no network in tests")
}

func TestDockerConfigCredential(t *testing.T) {
	ctx := testContext(t)
	cred, err := DockerConfigCredential([]byte(`{"auths":{"https://reg.example/v1/":{"auth":"` +
		base64.StdEncoding.EncodeToString([]byte("ci:s3cret")) + `"},"other.example":{"username":"u","password":"p"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := cred(ctx, "reg.example"); c.Username != "ci" || c.Password != "s3cret" {
		t.Errorf("reg.example: %+v", c)
	}
	if c, _ := cred(ctx, "other.example"); c.Username != "u" || c.Password != "p" {
		t.Errorf("other.example: %+v", c)
	}
	if c, _ := cred(ctx, "unknown.example"); c != (auth.Credential{}) {
		t.Errorf("unknown host got credentials: %+v", c)
	}
	for _, bad := range []string{`{`, `{"auths":{}}`, `{"auths":{"h":{"auth":"!!"}}}`, `{"auths":{"h":{"auth":"` + base64.StdEncoding.EncodeToString([]byte("nocolon")) + `"}}}`, `{"auths":{"h":{}}}`} {
		if _, err := DockerConfigCredential([]byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	// End to end: a registry that wants basic auth accepts the Secret's credentials.
	host := ocitest.NewWith(t, ocitest.Options{User: "ci", Password: "s3cret"}).Host
	cred, err = DockerConfigCredential([]byte(`{"auths":{"` + host + `":{"auth":"` + base64.StdEncoding.EncodeToString([]byte("ci:s3cret")) + `"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	c := newTestClient(t, nil, Options{Credential: cred})
	if _, err := c.Publish(ctx, host+"/falcops/heartbeat", heartbeat(t, "1.0.0", ""), "1.0.0"); err != nil {
		t.Fatalf("publish with Secret credentials: %v", err)
	}
}
