package deploy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/falcops/falcops/secrets"
)

// Sidekick is what falcosidekick needs; Render deploys it when an enabled
// destination other than stdout exists and Sidekick is set.
type Sidekick struct {
	// Image is the falcosidekick image (the profile's highest supported).
	Image string
	// Certs are the mTLS certificates (secrets.Ensure; the keys of package
	// secrets).
	Certs map[string][]byte
	// ClusterID is the cluster_id field of every event.
	ClusterID string
	// Destinations are the destinations' facts and secrets.
	Destinations Destinations
	// TokenRenewed is the renew timestamp gardener-resource-manager's token
	// requestor wrote on the seed's token Secret (SeedObjects): a new value
	// rolls falcosidekick, whose init container then reads the new token.
	TokenRenewed string
}

// The token requestor's names (Gardener's): the Secret in the seed, the
// ServiceAccount and token Secret it makes in the shoot.
const (
	TokenSecretSeed    = "shoot-access-falcosidekick"
	sidekickAccount    = "gardener-falcosidekick"
	annotationRenewed  = "falcops.io/token-renewed"
	valiPushPath       = "/vali/api/v1/push"
	otlpExportPath     = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"
	sidekickConfigDir  = "/etc/falcosidekick"
	sidekickTmplDir    = "/etc/falcosidekick-template"
	sidekickTokenDir   = "/var/run/secrets/falcosidekick"
	sidekickConfigFile = sidekickConfigDir + "/config.yaml"
)

// Ports of falcosidekick: Falco posts to sidekickPort over mTLS; the
// health and metrics port has no TLS.
const (
	sidekickPort      = 2801
	sidekickNoTLSPort = 2810
	sidekickURL       = "https://falcosidekick.kube-system.svc.cluster.local:2801"
	falcoCertsDir     = "/etc/falco/certs"
)

var sidekickLabels = map[string]string{"app.kubernetes.io/name": "falcosidekick", "app.kubernetes.io/instance": "falco"}

func sidekickOn(in Inputs) bool { return in.Sidekick != nil && NeedsSidekick(in.Config) }

// httpOutput is Falco's http_output: mTLS to falcosidekick when it runs.
func httpOutput(in Inputs) map[string]any {
	if !sidekickOn(in) {
		return map[string]any{"enabled": false}
	}
	return map[string]any{"enabled": true, "url": sidekickURL, "insecure": false, "mtls": true,
		"ca_cert": falcoCertsDir + "/" + secrets.KeyServerCA, "client_cert": falcoCertsDir + "/" + secrets.KeyClientCert,
		"client_key": falcoCertsDir + "/" + secrets.KeyClientKey}
}

// sidekickObjects are falcosidekick's Deployment, Service, configuration
// and certificates, the network policies between Falco and it, and
// Falco's client certificate.
func sidekickObjects(in Inputs) ([]runtime.Object, error) {
	s := in.Sidekick
	if s.Image == "" {
		return nil, fmt.Errorf("%w: the profile offers no supported falcosidekick version", ErrInputs)
	}
	for _, k := range []string{secrets.KeyServerCert, secrets.KeyServerKey, secrets.KeyClientCA, secrets.KeyClientCert, secrets.KeyClientKey, secrets.KeyServerCA} {
		if len(s.Certs[k]) == 0 {
			return nil, fmt.Errorf("%w: falcosidekick certificates: %s is missing", ErrInputs, k)
		}
	}
	outputs, err := SidekickOutputs(in.Config, in.Operator, s.Destinations)
	if err != nil {
		return nil, err
	}
	cfg := map[string]any{
		"listenport":   sidekickPort,
		"customfields": map[string]string{"cluster_id": s.ClusterID},
		"tlsserver": map[string]any{"deploy": true, "certfile": "/etc/certs/" + secrets.KeyServerCert, "keyfile": "/etc/certs/" + secrets.KeyServerKey,
			"mutualtls": true, "cacertfile": "/etc/certs/" + secrets.KeyClientCA, "notlsport": sidekickNoTLSPort, "notlspaths": []string{"/ping", "/metrics", "/healthz"}},
	}
	for k, v := range outputs {
		cfg[k] = v
	}
	config, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	certs := map[string][]byte{secrets.KeyServerCert: s.Certs[secrets.KeyServerCert], secrets.KeyServerKey: s.Certs[secrets.KeyServerKey], secrets.KeyClientCA: s.Certs[secrets.KeyClientCA]}
	// falcosidekick reads its configuration and certificates once: a change
	// rolls its two replicas (Falco, the client, is never restarted).
	sum := sha256.New()
	sum.Write(config)
	for _, k := range []string{secrets.KeyServerCert, secrets.KeyClientCA} {
		sum.Write(certs[k])
	}
	token := tokenNeeded(config)
	annotations := map[string]string{"checksum/falcosidekick": hex.EncodeToString(sum.Sum(nil))}
	if token {
		if in.Operator.Images.Agent == "" {
			return nil, fmt.Errorf("%w: falcosidekick needs its token put in by the falcops agent image (images.agent)", ErrInputs)
		}
		annotations[annotationRenewed] = s.TokenRenewed
	}
	objs := []runtime.Object{
		&corev1.Secret{TypeMeta: typeMeta("Secret"), ObjectMeta: meta("falcosidekick"), Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"config.yaml": config}},
		&corev1.Secret{TypeMeta: typeMeta("Secret"), ObjectMeta: meta("falcosidekick-certs"), Type: corev1.SecretTypeOpaque, Data: certs},
		&corev1.Secret{TypeMeta: typeMeta("Secret"), ObjectMeta: meta("falco-certs"), Type: corev1.SecretTypeOpaque, Data: map[string][]byte{
			secrets.KeyClientCert: s.Certs[secrets.KeyClientCert], secrets.KeyClientKey: s.Certs[secrets.KeyClientKey], secrets.KeyServerCA: s.Certs[secrets.KeyServerCA]}},
		sidekickService(),
		sidekickDeployment(s.Image, in.Operator.Images.Agent, token, annotations),
	}
	objs = append(objs, pushRBAC(outputs)...)
	return append(objs, networkPolicies()...), nil
}

// tokenNeeded reports whether the configuration asks for the service
// account's token (logging, otlp, a global default's
// <<.ServiceAccountToken>>).
func tokenNeeded(config []byte) bool { return bytes.Contains(config, []byte(saToken)) }

// pushRBAC lets falcosidekick's service account push to the shoot's Vali
// and OTLP collector, which authorize through the shoot's API server;
// nothing else.
func pushRBAC(outputs map[string]any) []runtime.Object {
	var paths []string
	if _, ok := outputs["loki"]; ok && pushesTo(outputs["loki"], "endpoint", valiPushPath) {
		paths = append(paths, valiPushPath)
	}
	if o, ok := outputs["otlp"].(map[string]any); ok && pushesTo(o["logs"], "endpoint", otlpExportPath) {
		paths = append(paths, otlpExportPath)
	}
	if len(paths) == 0 {
		return nil
	}
	name := "extensions.gardener.cloud:shoot-falco-service:falcosidekick"
	m := metav1.ObjectMeta{Name: name, Labels: clone(sidekickLabels)}
	return []runtime.Object{
		&rbacv1.ClusterRole{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"}, ObjectMeta: m,
			Rules: []rbacv1.PolicyRule{{NonResourceURLs: paths, Verbs: []string{"create"}}}},
		&rbacv1.ClusterRoleBinding{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"}, ObjectMeta: m,
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: name},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: sidekickAccount, Namespace: Namespace}}},
	}
}

// pushesTo reports whether the output's key ends with path and uses the
// service account's token.
func pushesTo(output any, key, path string) bool {
	m, ok := output.(map[string]any)
	if !ok {
		return false
	}
	v, _ := m[key].(string)
	b, _ := yaml.Marshal(m)
	return strings.HasSuffix(v, path) && tokenNeeded(b)
}

func sidekickMeta(name string) metav1.ObjectMeta {
	m := meta(name)
	m.Labels = clone(sidekickLabels)
	return m
}

func sidekickService() *corev1.Service {
	return &corev1.Service{TypeMeta: typeMeta("Service"), ObjectMeta: sidekickMeta("falcosidekick"), Spec: corev1.ServiceSpec{
		Selector: clone(sidekickLabels),
		Ports: []corev1.ServicePort{
			{Name: "http", Port: sidekickPort, TargetPort: intstr.FromInt32(sidekickPort), Protocol: corev1.ProtocolTCP},
			{Name: "http-notls", Port: sidekickNoTLSPort, TargetPort: intstr.FromInt32(sidekickNoTLSPort), Protocol: corev1.ProtocolTCP},
		}}}
}

func sidekickDeployment(image, agentImage string, token bool, annotations map[string]string) *appsv1.Deployment {
	labels := clone(sidekickLabels)
	labels["networking.gardener.cloud/to-dns"] = "allowed"
	labels["networking.gardener.cloud/to-public-networks"] = "allowed"
	spread := func(key string, weight int32) corev1.WeightedPodAffinityTerm {
		return corev1.WeightedPodAffinityTerm{Weight: weight, PodAffinityTerm: corev1.PodAffinityTerm{
			TopologyKey: key, LabelSelector: &metav1.LabelSelector{MatchLabels: clone(sidekickLabels)}}}
	}
	probe := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ping", Port: intstr.FromInt32(sidekickNoTLSPort)}},
		PeriodSeconds: 10, TimeoutSeconds: 5, FailureThreshold: 3}
	d := &appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}, ObjectMeta: sidekickMeta("falcosidekick"),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr(int32(2)),
			Selector: &metav1.LabelSelector{MatchLabels: clone(sidekickLabels)},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: annotations},
				Spec: corev1.PodSpec{
					AutomountServiceAccountToken: ptr(false),
					Affinity: &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{
						spread("topology.kubernetes.io/zone", 100), spread("kubernetes.io/hostname", 50)}}},
					SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr(true), RunAsUser: ptr(int64(1234))},
					Containers: []corev1.Container{{
						Name: "falcosidekick", Image: image, Args: []string{"-c", "/etc/falcosidekick/config.yaml"},
						Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: sidekickPort, Protocol: corev1.ProtocolTCP},
							{Name: "http-notls", ContainerPort: sidekickNoTLSPort, Protocol: corev1.ProtocolTCP}},
						LivenessProbe: probe, ReadinessProbe: probe,
						Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("20m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
							Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")}},
						SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr(false), ReadOnlyRootFilesystem: ptr(true),
							Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
						VolumeMounts: []corev1.VolumeMount{{Name: "config", MountPath: sidekickConfigDir, ReadOnly: true}, {Name: "certs", MountPath: "/etc/certs", ReadOnly: true}},
					}},
					Volumes: []corev1.Volume{
						{Name: "config", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "falcosidekick"}}},
						{Name: "certs", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "falcosidekick-certs"}}},
					},
				},
			},
		}}
	if token {
		withToken(&d.Spec.Template.Spec, agentImage)
	}
	return d
}

// withToken has an init container put the service account's token into
// falcosidekick's configuration (it reads the file once, at start; a
// renewed token rolls the Deployment through annotationRenewed). The
// token Secret is gardener-resource-manager's, kept in the shoot by its
// token requestor; the pod mounts no service-account token of its own.
func withToken(p *corev1.PodSpec, agentImage string) {
	p.Volumes[0] = corev1.Volume{Name: "config", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory, SizeLimit: ptr(resource.MustParse("1Mi"))}}}
	p.Volumes = append(p.Volumes,
		corev1.Volume{Name: "config-template", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "falcosidekick"}}},
		corev1.Volume{Name: "token", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: sidekickAccount,
			Items: []corev1.KeyToPath{{Key: "token", Path: "token"}}}}})
	p.InitContainers = []corev1.Container{{
		Name: "token", Image: agentImage,
		Command: []string{"/falcops-agent", "sidekick-config", "--template", sidekickTmplDir + "/config.yaml",
			"--token", sidekickTokenDir + "/token", "--out", sidekickConfigFile},
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("16Mi")},
			Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")}},
		SecurityContext: p.Containers[0].SecurityContext.DeepCopy(),
		VolumeMounts: []corev1.VolumeMount{{Name: "config", MountPath: sidekickConfigDir}, {Name: "config-template", MountPath: sidekickTmplDir, ReadOnly: true},
			{Name: "token", MountPath: sidekickTokenDir, ReadOnly: true}},
	}}
}

// networkPolicies let Falco reach falcosidekick's mTLS port, and only Falco.
func networkPolicies() []runtime.Object {
	tcp := corev1.ProtocolTCP
	port := []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: ptr(intstr.FromInt32(sidekickPort))}}
	return []runtime.Object{
		&networkingv1.NetworkPolicy{TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"}, ObjectMeta: meta("gardener.cloud--allow-to-falcosidekick"),
			Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: clone(selector)}, PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
				Egress: []networkingv1.NetworkPolicyEgressRule{{Ports: port, To: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: clone(sidekickLabels)}}}}}}},
		&networkingv1.NetworkPolicy{TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"}, ObjectMeta: meta("gardener.cloud--allow-falcosidekick-ingress"),
			Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: clone(sidekickLabels)}, PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
				Ingress: []networkingv1.NetworkPolicyIngressRule{{Ports: port, From: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: clone(selector)}}}}}}},
	}
}
