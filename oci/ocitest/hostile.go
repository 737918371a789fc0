package ocitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The attacks below are hostile registry behaviours for Options.Wrap, as
// found by attacking falcops on 127.0.0.1: each answers the requests it
// matches and hands every other request to the real registry, so the
// attacked artifact resolves and only its weak spot is hostile.

// Match chooses the requests an attack answers.
type Match func(*http.Request) bool

// AnyRequest matches every request.
func AnyRequest(*http.Request) bool { return true }

// SignatureManifests matches GET requests of cosign signature manifests
// (tags sha256-<hex>.sig).
func SignatureManifests(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/manifests/sha256-") && strings.HasSuffix(r.URL.Path, ".sig")
}

// TagLists matches tag listings.
func TagLists(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/tags/list") }

// Silent never answers the requests it matches: no header, no byte, until
// the client gives up.
func Silent(match Match) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !match(r) {
				next.ServeHTTP(w, r)
				return
			}
			<-r.Context().Done()
		})
	}
}

// Trickle sends the real answer to the requests it matches, headers at
// once and then one byte of the body every interval.
func Trickle(match Match, every time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !match(r) {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			body := rec.Body.Bytes()
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(rec.Code)
			for _, b := range body {
				if _, err := w.Write([]byte{b}); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(every):
				}
			}
		})
	}
}

// Endless answers the requests it matches with 200 and a body that never
// ends (chunked, no length), typed as an OCI manifest.
func Endless(match Match) func(http.Handler) http.Handler {
	chunk := bytes.Repeat([]byte(`{"layers":[`), 4096)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !match(r) {
				next.ServeHTTP(w, r)
				return
			}
			w.Header().Set("Content-Type", ocispec.MediaTypeImageManifest)
			for r.Context().Err() == nil {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		})
	}
}

// ErrorText answers the requests it matches with 400 and an error text of
// size bytes that is not JSON (go-containerregistry puts such a text into
// its error whole).
func ErrorText(match Match, size int) func(http.Handler) http.Handler {
	text := bytes.Repeat([]byte("no "), size/3)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !match(r) {
				next.ServeHTTP(w, r)
				return
			}
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write(text)
		})
	}
}

// EndlessTags answers every tag listing with a page of about pageBytes
// and a link to yet another page.
func EndlessTags(pageBytes int) func(http.Handler) http.Handler {
	var page bytes.Buffer
	page.WriteString(`{"name":"endless","tags":[`)
	for i := 0; page.Len() < pageBytes-64; i++ {
		if i > 0 {
			page.WriteByte(',')
		}
		fmt.Fprintf(&page, `"t%07d"`, i)
	}
	page.WriteString(`]}`)
	body := page.Bytes()
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !TagLists(r) {
				next.ServeHTTP(w, r)
				return
			}
			n, _ := strconv.Atoi(r.URL.Query().Get("p"))
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Link", fmt.Sprintf(`<%s?p=%d>; rel="next"`, r.URL.Path, n+1))
			_, _ = w.Write(body)
		})
	}
}

// SignatureLayers answers signature manifests with a manifest of n layers,
// each claiming size bytes, and streams size bytes for each such layer's
// blob. n = 300000 is the many-layers attack, n = 64 and size = 120 MiB
// the huge-payloads attack.
func SignatureLayers(n int, size int64) func(http.Handler) http.Handler {
	config := []byte("{}")
	m := ocispec.Manifest{
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    ocispec.Descriptor{MediaType: "application/vnd.oci.image.config.v1+json", Digest: digest.FromBytes(config), Size: int64(len(config))},
		Layers:    make([]ocispec.Descriptor, n),
	}
	m.SchemaVersion = 2
	fake := map[string]bool{}
	for i := range m.Layers {
		d := digest.FromBytes([]byte(strconv.Itoa(i)))
		fake[d.String()] = true
		m.Layers[i] = ocispec.Descriptor{MediaType: "application/vnd.dev.cosign.simplesigning.v1+json", Digest: d, Size: size,
			Annotations: map[string]string{"dev.cosignproject.cosign/signature": "MEUCIQ=="}}
	}
	manifest, err := json.Marshal(m)
	if err != nil {
		panic(err) // a fixed structure always marshals
	}
	zeros := make([]byte, 1<<20)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.Contains(r.URL.Path, "/manifests/sha256-") && strings.HasSuffix(r.URL.Path, ".sig") {
				w.Header().Set("Content-Type", ocispec.MediaTypeImageManifest)
				w.Header().Set("Content-Length", strconv.Itoa(len(manifest)))
				w.Header().Set("Docker-Content-Digest", digest.FromBytes(manifest).String())
				if r.Method == http.MethodGet {
					_, _ = w.Write(manifest)
				}
				return
			}
			_, blob, ok := strings.Cut(r.URL.Path, "/blobs/")
			switch {
			case ok && blob == m.Config.Digest.String():
				w.Header().Set("Content-Length", "2")
				_, _ = w.Write(config)
			case ok && fake[blob]:
				w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
				if r.Method != http.MethodGet {
					return
				}
				for left := size; left > 0 && r.Context().Err() == nil; left -= int64(len(zeros)) {
					if _, err := w.Write(zeros[:min(left, int64(len(zeros)))]); err != nil {
						return
					}
				}
			default:
				next.ServeHTTP(w, r)
			}
		})
	}
}

// Switch is a Wrap whose attack is turned on later, after the artifact
// under attack was published through the honest registry.
type Switch struct {
	next   http.Handler
	attack atomic.Pointer[http.Handler]
}

// Wrap is for Options.Wrap.
func (s *Switch) Wrap(next http.Handler) http.Handler {
	s.next = next
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := s.attack.Load(); h != nil {
			(*h).ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Set turns attack on (nil: honest again).
func (s *Switch) Set(attack func(http.Handler) http.Handler) {
	if attack == nil {
		s.attack.Store(nil)
		return
	}
	h := attack(s.next)
	s.attack.Store(&h)
}
