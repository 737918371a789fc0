package dashboard

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"sync"
	"time"

	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/fleet"
)

// Prefix is the path under which the dashboard is served; RBAC grants it
// as the non-resource URLs /dashboard and /dashboard/*.
const Prefix = "/dashboard/"

// Debounce is how long a live update waits after a change for more
// changes, so that a wave of status writes is one update.
const Debounce = 300 * time.Millisecond

//go:embed assets
var assets embed.FS

var pageTemplates = template.Must(template.New("").Funcs(template.FuncMap{
	"ago":      ago,
	"percent":  percent,
	"shoot":    shootLink,
	"subtract": func(a, b int) int { return a - b },
}).ParseFS(assets, "assets/*.html"))

// Server serves the dashboard from a cache-backed reader.
type Server struct {
	reader  client.Reader
	now     func() time.Time
	recent  recent
	changes broadcast
}

// New returns a dashboard reading from reader, which should be the
// controller's cache (each view lists every ShootRollout), with the time
// from clk.
func New(reader client.Reader, clk clock.PassiveClock) *Server {
	return &Server{reader: reader, now: clk.Now}
}

// Watch subscribes to the cache's informers, so that live pages update on
// every change and recent transitions are recorded.
func (s *Server) Watch(ctx context.Context, informers cache.Informers) error {
	fire := func(any) { s.changes.fire() }
	for _, obj := range []client.Object{&falcopsv1alpha1.RuleSource{}, &falcopsv1alpha1.RolloutPolicy{}, &profilev1alpha1.FalcoProfile{}} {
		inf, err := informers.GetInformer(ctx, obj)
		if err != nil {
			return err
		}
		if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{AddFunc: fire, UpdateFunc: func(_, _ any) { s.changes.fire() }, DeleteFunc: fire}); err != nil {
			return err
		}
	}
	inf, err := informers.GetInformer(ctx, &falcopsv1alpha1.ShootRollout{})
	if err != nil {
		return err
	}
	_, err = inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{AddFunc: fire, DeleteFunc: fire,
		UpdateFunc: func(oldObj, newObj any) {
			old, ok1 := oldObj.(*falcopsv1alpha1.ShootRollout)
			cur, ok2 := newObj.(*falcopsv1alpha1.ShootRollout)
			if ok1 && ok2 {
				if t, ok := transition(old, cur, s.now()); ok {
					s.recent.add(t)
				}
			}
			s.changes.fire()
		}})
	return err
}

// Summary sums up the cached objects. The lists share the cache's objects
// (no deep copy): fleet only reads them.
func (s *Server) Summary(ctx context.Context) (fleet.Summary, error) {
	var rollouts falcopsv1alpha1.ShootRolloutList
	var sources falcopsv1alpha1.RuleSourceList
	var policies falcopsv1alpha1.RolloutPolicyList
	var profiles profilev1alpha1.FalcoProfileList
	for _, l := range []client.ObjectList{&rollouts, &sources, &policies, &profiles} {
		if err := s.reader.List(ctx, l, client.UnsafeDisableDeepCopy); err != nil {
			return fleet.Summary{}, err
		}
	}
	return fleet.Summarize(rollouts.Items, sources.Items, policies.Items, profiles.Items), nil
}

// view is what the templates render.
type view struct {
	Summary fleet.Summary
	// Blocked and Waiting are the shoots of all their groups.
	Blocked, Waiting int
	Charts           []Chart
	Recent           []Transition
	Now              time.Time
}

func (s *Server) view(ctx context.Context) (view, error) {
	sum, err := s.Summary(ctx)
	if err != nil {
		return view{}, err
	}
	return view{Summary: sum, Blocked: shoots(sum.Blocked), Waiting: shoots(sum.Waiting), Charts: charts(sum), Recent: s.recent.list(), Now: s.now()}, nil
}

func shoots(groups []fleet.Group) int {
	n := 0
	for _, g := range groups {
		n += g.Shoots
	}
	return n
}

// Handler serves the page, its fragment and live updates, the summary as
// JSON, one ShootRollout per page and the page's assets. Only GET and
// HEAD are served: the dashboard changes nothing.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, Prefix, http.StatusFound) })
	mux.HandleFunc("GET "+Prefix+"{$}", s.render("page.html"))
	mux.HandleFunc("GET "+Prefix+"fragment", s.render("fleet"))
	mux.HandleFunc("GET "+Prefix+"updates", s.updates)
	mux.HandleFunc("GET "+Prefix+"summary.json", s.summaryJSON)
	mux.HandleFunc("GET "+Prefix+"shootrollouts/{namespace}/{name}", s.shootRollout)
	mux.Handle("GET "+Prefix+"assets/", http.StripPrefix(Prefix, http.FileServerFS(assets)))
	return headers(mux)
}

// headers sets the headers of every answer: no framing, no inline script,
// no sniffing, no caching of live data.
func headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; script-src 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if !strings.HasPrefix(r.URL.Path, Prefix+"assets/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) render(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := s.view(r.Context())
		if err != nil {
			http.Error(w, "reading the cache: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		var buf bytes.Buffer
		if err := pageTemplates.ExecuteTemplate(&buf, name, v); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(buf.Bytes())
	}
}

func (s *Server) summaryJSON(w http.ResponseWriter, r *http.Request) {
	sum, err := s.Summary(r.Context())
	if err != nil {
		http.Error(w, "reading the cache: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(sum)
}

func (s *Server) shootRollout(w http.ResponseWriter, r *http.Request) {
	sr := &falcopsv1alpha1.ShootRollout{}
	key := client.ObjectKey{Namespace: r.PathValue("namespace"), Name: r.PathValue("name")}
	if err := s.reader.Get(r.Context(), key, sr); err != nil {
		http.Error(w, fmt.Sprintf("ShootRollout %s: %v", key, err), http.StatusNotFound)
		return
	}
	var buf bytes.Buffer
	if err := pageTemplates.ExecuteTemplate(&buf, "shootrollout.html", struct {
		R   *falcopsv1alpha1.ShootRollout
		Now time.Time
	}{sr, s.now()}); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

// updates streams the rendered fleet fragment as server-sent events: one
// at once, then one after each change (debounced) that alters it, and a
// comment every 15 s that keeps proxies from closing the stream.
func (s *Server) updates(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	ctx := r.Context()
	keepAlive := time.NewTicker(15 * time.Second)
	defer keepAlive.Stop()
	var last []byte
	for {
		changed := s.changes.wait()
		v, err := s.view(ctx)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := pageTemplates.ExecuteTemplate(&buf, "fleet", v); err != nil {
			return
		}
		if !bytes.Equal(buf.Bytes(), last) {
			last = buf.Bytes()
			if _, err := fmt.Fprintf(w, "retry: 2000\nevent: fleet\n%s\n", dataLines(last)); err != nil {
				return
			}
			flusher.Flush()
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
			select {
			case <-ctx.Done():
				return
			case <-time.After(Debounce):
			}
		case <-keepAlive.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			flusher.Flush()
		}
	}
}

// dataLines frames b as the data lines of one event.
func dataLines(b []byte) string {
	var sb strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		sb.WriteString("data: ")
		sb.WriteString(line)
		sb.WriteByte('\n')
	}
	return sb.String()
}

// broadcast wakes every waiter once per fire.
type broadcast struct {
	mu sync.Mutex
	ch chan struct{}
}

func (b *broadcast) wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch == nil {
		b.ch = make(chan struct{})
	}
	return b.ch
}

func (b *broadcast) fire() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch != nil {
		close(b.ch)
		b.ch = nil
	}
}
