package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	"github.com/falcops/falcops/internal/admissiontest"
	"github.com/falcops/falcops/internal/sharedtest"
	"github.com/falcops/falcops/rules"
)

// concurrent is how many admission requests one burst sends at once.
const concurrent = 200

// benchCase is the request every burst sends: a shoot with a custom rules
// ConfigMap, a destination and a resource, so the validator reads the
// profile, the namespace, the ConfigMap and loads the rules.
const benchCase = "customrules/valid custom rule is allowed"

// BenchmarkAdmissionReal sends bursts of 200 concurrent requests (half to
// the mutator, half to the validator) over TLS on 127.0.0.1 to the real
// handlers, and reports the p99 latency and the peak heap. The custom
// rules load on top of the heartbeat ruleset.
func BenchmarkAdmissionReal(b *testing.B) {
	c := benchRequest(b)
	benchBursts(b, c.Request(b), realHandlers(caseOptions(b, c)))
}

// BenchmarkAdmissionRealFalcoRules is BenchmarkAdmissionReal with the
// custom rules loaded on top of upstream falco-rules 5.1.0: what a shoot
// on the standard rules costs.
func BenchmarkAdmissionRealFalcoRules(b *testing.B) {
	c := benchRequest(b)
	o := caseOptions(b, c)
	o.Base = upstreamBase(b)
	benchBursts(b, c.Request(b), realHandlers(o))
}

// BenchmarkAdmissionNoop is the baseline: the same server, requests and
// bursts, with a handler that allows everything.
func BenchmarkAdmissionNoop(b *testing.B) {
	noop := admission.HandlerFunc(func(context.Context, admission.Request) admission.Response { return admission.Allowed("") })
	benchBursts(b, benchRequest(b).Request(b), func(string) admission.Handler { return noop })
}

func benchRequest(b *testing.B) admissiontest.Case {
	for _, c := range admissiontest.Load(b) {
		if c.Title() == benchCase {
			return c
		}
	}
	b.Fatalf("no case %q", benchCase)
	return admissiontest.Case{}
}

func realHandlers(o *Options) func(path string) admission.Handler {
	return func(path string) admission.Handler {
		if path == MutatePath {
			return Mutator{o}
		}
		return Validator{o}
	}
}

// upstreamBase is Options.Base serving upstream falco-rules 5.1.0.
func upstreamBase(b *testing.B) func(context.Context, []string, []servicev1alpha1.PinnedRuleset) ([]*rules.Source, error) {
	data, err := os.ReadFile(filepath.Join(sharedtest.UpstreamRules(b), "falco-rules-5.1.0", "falco_rules.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	return func(context.Context, []string, []servicev1alpha1.PinnedRuleset) ([]*rules.Source, error) {
		return []*rules.Source{{Name: "falco_rules.yaml", Data: data}}, nil
	}
}

func benchBursts(b *testing.B, req admission.Request, handler func(path string) admission.Handler) {
	mux := http.NewServeMux()
	for _, p := range []string{MutatePath, ValidatePath} {
		mux.Handle(p, &webhook.Admission{Handler: handler(p)})
	}
	srv := httptest.NewUnstartedServer(mux)
	// HTTP/1.1, one connection per concurrent request: over HTTP/2 all 200
	// share one connection, and the baseline's p99 swung 20x between runs.
	srv.EnableHTTP2 = false
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes cut off by Close
	srv.StartTLS()
	defer srv.Close()
	client := srv.Client()
	client.Timeout = 30 * time.Second
	// Keep every connection between bursts: a new TLS handshake is not
	// what is measured.
	tr := client.Transport.(*http.Transport)
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = concurrent, concurrent
	body, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request:  &req.AdmissionRequest,
	})
	if err != nil {
		b.Fatal(err)
	}
	burst := func() []time.Duration {
		lat := make([]time.Duration, concurrent)
		errs := make(chan error, concurrent)
		var wg sync.WaitGroup
		for i := range concurrent {
			path := MutatePath
			if i%2 == 1 {
				path = ValidatePath
			}
			wg.Go(func() {
				start := time.Now()
				if err := post(client, srv.URL+path, body); err != nil {
					errs <- err
				}
				lat[i] = time.Since(start)
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		return lat
	}
	burst() // connections and TLS handshakes are not what is measured
	stop := make(chan struct{})
	peak := make(chan uint64)
	go samplePeakHeap(stop, peak)
	var all []time.Duration
	b.ResetTimer()
	for range b.N {
		all = append(all, burst()...)
	}
	b.StopTimer()
	close(stop)
	slices.Sort(all)
	b.ReportMetric(float64(all[len(all)*99/100]), "p99-ns")
	b.ReportMetric(float64(all[len(all)/2]), "p50-ns")
	b.ReportMetric(float64(all[len(all)*9/10]), "p90-ns")
	b.ReportMetric(float64(all[len(all)-1]), "max-ns")
	b.ReportMetric(float64(<-peak)/(1<<20), "peak-heap-MiB")
}

// post sends one AdmissionReview and fails unless it is allowed.
func post(c *http.Client, url string, body []byte) error {
	res, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer func() { _ = res.Body.Close() }()
	data, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return err
	}
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(data, &review); err != nil || review.Response == nil || !review.Response.Allowed {
		return fmt.Errorf("%s: not allowed: %s", url, data)
	}
	return nil
}

// samplePeakHeap sends the most heap in live and unswept objects seen
// until stop closes.
func samplePeakHeap(stop <-chan struct{}, peak chan<- uint64) {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var most uint64
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for {
		metrics.Read(s)
		most = max(most, s[0].Value.Uint64())
		select {
		case <-stop:
			peak <- most
			return
		case <-t.C:
		}
	}
}

// BenchmarkCustomRules1MiB validates a shoot whose custom rules ConfigMap
// holds 1 MiB of rules, loaded on top of upstream falco-rules 5.1.0 at the
// shoot's engine: the validator's whole path (profile, ConfigMap read,
// limits, static load). make bench-admission requires under 1 s per op.
func BenchmarkCustomRules1MiB(b *testing.B) {
	cm := &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: "falco-team-rules", Namespace: "garden-team"}, Data: rulesOf(1<<20, 4)}
	size := 0
	for _, d := range cm.Data {
		size += len(d)
	}
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(cm)
	if err != nil {
		b.Fatal(err)
	}
	c := admissiontest.Case{Name: "1 MiB", Webhook: "validate", Garden: []map[string]any{u},
		Object: admissiontest.State{
			Config: map[string]any{"falcoVersion": "0.42.1", "rules": map[string]any{"standard": []any{"falco-rules"},
				"custom": []any{map[string]any{"resourceName": "team-rules"}}}, "destinations": []any{map[string]any{"name": "logging"}}},
			Resources: []map[string]any{{"name": "team-rules", "resourceRef": map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "name": "falco-team-rules"}}},
		}}
	o := caseOptions(b, c)
	o.Base = upstreamBase(b)
	req := c.Request(b)
	v := Validator{o}
	b.SetBytes(int64(size))
	b.ResetTimer()
	for range b.N {
		if res := v.Handle(b.Context(), req); !res.Allowed {
			b.Fatalf("%d bytes of custom rules refused: %s", size, res.Result.Message)
		}
	}
}

// rulesOf returns files rules files of size bytes in all, each rule
// using falco-rules' macros and lists.
func rulesOf(size, files int) map[string]string {
	out := map[string]string{}
	per := size / files
	n := 0
	for f := range files {
		var sb strings.Builder
		for {
			r := fmt.Sprintf(`- rule: Team rule %d
  desc: a shell in a container, team rule %d
  condition: spawned_process and container and proc.name in (shell_binaries) and proc.pname = team-%d and not user.name in (root, team)
  output: shell %%proc.name in %%container.id by %%user.name (rule %d)
  priority: WARNING
  tags: [team, shell]
`, n, n, n, n)
			if sb.Len()+len(r) > per {
				break
			}
			sb.WriteString(r)
			n++
		}
		out[fmt.Sprintf("team_%d_rules.yaml", f)] = sb.String()
	}
	return out
}
