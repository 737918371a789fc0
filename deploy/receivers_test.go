package deploy_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	configv1alpha1 "github.com/falcops/falcops/api/config/v1alpha1"
	"github.com/falcops/falcops/deploy"
	"github.com/falcops/falcops/secrets"
)

// event is the payload falcosidekick receives from Falco, with its
// customfields added to output_fields as falcosidekick adds them.
var event = map[string]any{"uuid": "5d6f", "output": "Shell in container (user=root)", "priority": "Warning", "rule": "Terminal shell in container",
	"time": "2026-12-03T08:00:00Z", "source": "syscall", "hostname": "node-1", "tags": []any{"shell"},
	"output_fields": map[string]any{"proc.name": "bash", "cluster_id": "landscape/shoot--p--prod"}}

// sidekickConfig renders the scenario and returns falcosidekick's
// configuration as its init container leaves it (token in place).
func sidekickConfig(t *testing.T, in deploy.Inputs, token string) map[string]any {
	objs, err := deploy.Render(in)
	require.NoError(t, err)
	for _, o := range objs {
		if s, ok := o.(*corev1.Secret); ok && s.Name == "falcosidekick" {
			data, err := secrets.SubstituteToken(s.Data["config.yaml"], []byte(token))
			require.NoError(t, err)
			var cfg map[string]any
			require.NoError(t, yaml.Unmarshal(data, &cfg))
			return cfg
		}
	}
	t.Fatal("no falcosidekick configuration rendered")
	return nil
}

// post sends body as falcosidekick's HTTP outputs do: JSON, the output's
// custom headers, its certificate check.
func post(t *testing.T, method, target string, out map[string]any, roots *x509.CertPool, body any, set func(*http.Request)) *http.Response {
	data, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(context.Background(), method, target, bytes.NewReader(data))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if h, ok := out["customheaders"].(map[string]any); ok {
		for k, v := range h {
			req.Header.Set(k, v.(string))
		}
	}
	if set != nil {
		set(req)
	}
	check, _ := out["checkcert"].(bool)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, InsecureSkipVerify: !check, MinVersion: tls.VersionTLS12}}} //nolint:gosec // as falcosidekick with checkcert: false
	resp, err := c.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

// receiver is an HTTPS server on 127.0.0.1 that records what it accepts;
// check refuses a request with a status and a reason.
type receiver struct {
	*httptest.Server
	got []map[string]any
}

func newReceiver(t *testing.T, check func(*http.Request, map[string]any) (int, string)) *receiver {
	r := &receiver{}
	r.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var body map[string]any
		if err := json.NewDecoder(http.MaxBytesReader(w, req.Body, 1<<20)).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if code, why := check(req, body); code != 0 {
			http.Error(w, why, code)
			return
		}
		r.got = append(r.got, body)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(r.Close)
	return r
}

func roots(s *httptest.Server) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(s.Certificate())
	return p
}

// TestReceiversAcceptRenderedConfig: for each HTTP destination, a
// receiver on 127.0.0.1 accepts the request falcosidekick would send with
// the rendered configuration (endpoint, path, method, headers, token,
// certificate check), and refuses one without the rendered credentials.
func TestReceiversAcceptRenderedConfig(t *testing.T) {
	const saToken = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzaWRla2ljayJ9.c2ln"
	scenarios := destinationCases(t)
	withSecret := func(name string, data map[string][]byte) deploy.Inputs {
		in := scenarios[name]
		sk := *in.Sidekick
		sk.Destinations.Secrets = map[string]map[string][]byte{"hook": data, "hec": data, "search": data}
		in.Sidekick = &sk
		return in
	}

	t.Run("custom", func(t *testing.T) {
		r := newReceiver(t, func(req *http.Request, body map[string]any) (int, string) {
			if req.Method != http.MethodPut || req.URL.Path != "/in" || req.Header.Get("X-Team") != "sec" {
				return http.StatusBadRequest, "method, path or header"
			}
			return 0, ""
		})
		cfg := sidekickConfig(t, withSecret("custom", map[string][]byte{"address": []byte(r.URL + "/in"), "method": []byte("PUT"),
			"customheaders": []byte("X-Team: sec\n")}), saToken)
		out := cfg["webhook"].(map[string]any)
		resp := post(t, out["method"].(string), out["address"].(string), out, roots(r.Server), event, nil)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		require.Len(t, r.got, 1)
		assert.Equal(t, "Terminal shell in container", r.got[0]["rule"])
	})

	t.Run("central", func(t *testing.T) {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
		r := newReceiver(t, func(req *http.Request, _ map[string]any) (int, string) {
			claims, err := secrets.VerifyJWT(strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer "), &key.PublicKey, time.Now()) //nolint:forbidigo // the ingestor checks against its own clock
			if err != nil || claims.ClusterIdentity(secrets.Central) != "prod-1234-garden" {
				return http.StatusUnauthorized, "token"
			}
			return 0, ""
		})
		in := scenarios["central"]
		op := *in.Operator
		op.Events.Central = &configv1alpha1.Central{URL: r.URL + "/events"}
		in.Operator = &op
		sk := *in.Sidekick
		sk.Destinations.CentralToken, err = secrets.MintJWT(secrets.Central, key, "prod-1234-garden", time.Now(), time.Hour) //nolint:forbidigo // verified against the real clock
		require.NoError(t, err)
		in.Sidekick = &sk
		out := sidekickConfig(t, in, saToken)["webhook"].(map[string]any)
		assert.Equal(t, true, out["checkcert"], "central verifies the ingestor's certificate")
		assert.Equal(t, http.StatusOK, post(t, http.MethodPost, out["address"].(string), out, roots(r.Server), event, nil).StatusCode)
		assert.Equal(t, http.StatusUnauthorized, post(t, http.MethodPost, out["address"].(string), map[string]any{"checkcert": true}, roots(r.Server), event, nil).StatusCode)
		require.Len(t, r.got, 1)
	})

	t.Run("splunk", func(t *testing.T) {
		r := newReceiver(t, func(req *http.Request, body map[string]any) (int, string) {
			if req.Header.Get("Authorization") != "Splunk hec-token" || req.URL.Path != "/services/collector/event" || body["sourcetype"] != "falcosidekick" {
				return http.StatusUnauthorized, "HEC token, path or sourcetype"
			}
			return 0, ""
		})
		out := sidekickConfig(t, withSecret("splunk", map[string][]byte{"host": []byte(r.URL + "/services/collector/event"), "token": []byte("hec-token"),
			"checkcert": []byte("false")}), saToken)["splunk"].(map[string]any)
		hec := func(req *http.Request) { req.Header.Set("Authorization", "Splunk "+out["token"].(string)) }
		body := map[string]any{"event": event, "sourcetype": "falcosidekick"}
		assert.Equal(t, http.StatusOK, post(t, http.MethodPost, out["host"].(string), out, roots(r.Server), body, hec).StatusCode)
		assert.Equal(t, http.StatusUnauthorized, post(t, http.MethodPost, out["host"].(string), out, roots(r.Server), body, nil).StatusCode)
		require.Len(t, r.got, 1)
	})

	t.Run("logging", func(t *testing.T) {
		r := newReceiver(t, func(req *http.Request, body map[string]any) (int, string) {
			streams, _ := body["streams"].([]any)
			if req.Header.Get("Authorization") != "Bearer "+saToken || req.URL.Path != "/vali/api/v1/push" || len(streams) != 1 {
				return http.StatusUnauthorized, "token, path or streams"
			}
			return 0, ""
		})
		out := sidekickConfig(t, scenarios["logging"], saToken)["loki"].(map[string]any)
		assert.Equal(t, "json", out["format"])
		line, err := json.Marshal(event)
		require.NoError(t, err)
		push := map[string]any{"streams": []any{map[string]any{"stream": map[string]string{"rule": "Terminal shell in container", "priority": "Warning", "source": "syscall"},
			"values": []any{[]string{"1796284800000000000", string(line)}}}}}
		// The endpoint stays as rendered; the host is the receiver's.
		assert.Equal(t, http.StatusOK, post(t, http.MethodPost, r.URL+out["endpoint"].(string), out, roots(r.Server), push, nil).StatusCode)
		assert.Equal(t, http.StatusUnauthorized, post(t, http.MethodPost, r.URL+out["endpoint"].(string), map[string]any{}, roots(r.Server), push, nil).StatusCode)
		require.Len(t, r.got, 1)
	})

	t.Run("opensearch", func(t *testing.T) {
		day := time.Now().UTC().Format("2006.01.02") //nolint:forbidigo // falcosidekick's daily index is today's
		r := newReceiver(t, func(req *http.Request, _ map[string]any) (int, string) {
			u, p, ok := req.BasicAuth()
			if !ok || u != "falco" || p != "pw" || req.URL.Path != "/events-"+day+"/_doc" {
				return http.StatusUnauthorized, "credentials or index"
			}
			return 0, ""
		})
		out := sidekickConfig(t, withSecret("opensearch", map[string][]byte{"hostport": []byte(r.URL), "index": []byte("events"),
			"username": []byte("falco"), "password": []byte("pw")}), saToken)["elasticsearch"].(map[string]any)
		index := out["index"].(string) + "-" + day
		auth := func(req *http.Request) { req.SetBasicAuth(out["username"].(string), out["password"].(string)) }
		assert.Equal(t, http.StatusOK, post(t, http.MethodPost, out["hostport"].(string)+"/"+index+"/_doc", out, roots(r.Server), event, auth).StatusCode)
		assert.Equal(t, http.StatusUnauthorized, post(t, http.MethodPost, out["hostport"].(string)+"/"+index+"/_doc", out, roots(r.Server), event, nil).StatusCode)
		require.Len(t, r.got, 1)
	})
}

// logs is an OTLP logs collector: the LogsService of the OpenTelemetry
// protocol module, served over TLS on 127.0.0.1.
type logs struct {
	collogspb.UnimplementedLogsServiceServer
	token string
	got   []*logspb.LogRecord
}

func (l *logs) Export(ctx context.Context, req *collogspb.ExportLogsServiceRequest) (*collogspb.ExportLogsServiceResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	if a := md.Get("authorization"); len(a) != 1 || a[0] != "Bearer "+l.token {
		return nil, errUnauthenticated
	}
	for _, rl := range req.GetResourceLogs() {
		for _, sl := range rl.GetScopeLogs() {
			l.got = append(l.got, sl.GetLogRecords()...)
		}
	}
	return &collogspb.ExportLogsServiceResponse{}, nil
}

var errUnauthenticated = errorString("unauthenticated")

type errorString string

func (e errorString) Error() string { return string(e) }

// TestOTLPCollectorAcceptsRenderedConfig: the rendered otlp.logs output
// (gRPC, the Authorization header from its headers setting with the
// service account's token in place, TLS without verification as Gardener
// renders it) exports a log record to a LogsService on 127.0.0.1; without
// the header it is refused.
func TestOTLPCollectorAcceptsRenderedConfig(t *testing.T) {
	const saToken = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJvdGxwIn0.c2ln"
	out := sidekickConfig(t, destinationCases(t)["otlp"], saToken)["otlp"].(map[string]any)["logs"].(map[string]any)
	require.Equal(t, "grpc", out["protocol"])

	certs, _, err := secrets.Ensure(nil, []string{"localhost"}, time.Now(), secrets.DefaultLifetimes) //nolint:forbidigo // TLS checks validity against the real clock
	require.NoError(t, err)
	pair, err := tls.X509KeyPair(certs[secrets.KeyServerCert], certs[secrets.KeyServerKey])
	require.NoError(t, err)
	collector := &logs{token: saToken}
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12})))
	collogspb.RegisterLogsServiceServer(srv, collector)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)

	// The rendered endpoint's path and TLS setting, the receiver's address.
	u, err := url.Parse(out["endpoint"].(string))
	require.NoError(t, err)
	assert.Equal(t, "/opentelemetry.proto.collector.logs.v1.LogsService/Export", u.Path, "the LogsService's Export method")
	check, _ := out["checkcert"].(bool)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{InsecureSkipVerify: !check, MinVersion: tls.VersionTLS12}))) //nolint:gosec // as falcosidekick with checkcert: false
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	md := metadata.MD{}
	for _, h := range strings.Split(out["headers"].(string), ",") {
		k, v, ok := strings.Cut(h, "=")
		require.True(t, ok, h)
		md.Append(strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v))
	}
	req := &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{ScopeLogs: []*logspb.ScopeLogs{{LogRecords: []*logspb.LogRecord{{
		TimeUnixNano: uint64(time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC).UnixNano()), SeverityText: "Warning",
		Body: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: event["output"].(string)}},
		Attributes: []*commonpb.KeyValue{{Key: "rule", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: event["rule"].(string)}}},
			{Key: "cluster_id", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: "landscape/shoot--p--prod"}}}},
	}}}}}}}
	client := collogspb.NewLogsServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = client.Export(metadata.NewOutgoingContext(ctx, md), req)
	require.NoError(t, err)
	_, err = client.Export(ctx, req)
	require.Error(t, err, "without the rendered header the collector refuses")
	require.Len(t, collector.got, 1)
	assert.Equal(t, "Shell in container (user=root)", collector.got[0].GetBody().GetStringValue())
}
