package deploy

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	configv1alpha1 "github.com/falcops/falcops/api/config/v1alpha1"
	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
)

// The critical-components toleration Gardener gives system components;
// user tolerations are added to it, never replace it.
var criticalToleration = corev1.Toleration{Key: "node.gardener.cloud/critical-components-not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}

// The agent runs as this user (the image's nonroot user).
const agentUser = 65532

// AgentPort serves the agent's /healthz, /readyz and /metrics.
const AgentPort = 8090

// HeartbeatEvery is how often the agent emits the heartbeat marker.
const HeartbeatEvery = "1h"

func daemonSet(in Inputs, resources corev1.ResourceRequirements, rules corev1.VolumeSource) *appsv1.DaemonSet {
	version := *in.Config.FalcoVersion
	inline := in.Operator.Rules.Delivery == configv1alpha1.DeliveryInline
	heartbeat := in.Config.HeartbeatEvent != nil && *in.Config.HeartbeatEvent

	volumes, falcoMounts := falcoVolumes(in, rules)

	args := []string{"/usr/bin/falco", "--unbuffered", "-c", configDir + "/falco.yaml"}
	if !atLeast(version, noPrintK8s) {
		args = append(args, "-pk")
	}
	probe := func(delay int32) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(webserverPort)}},
			InitialDelaySeconds: delay, PeriodSeconds: 15, TimeoutSeconds: 5, FailureThreshold: 3}
	}
	falco := corev1.Container{
		Name: "falco", Image: in.FalcoImage, Args: args,
		Env: []corev1.EnvVar{
			{Name: "FALCO_HOSTNAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}},
			{Name: "FALCO_K8S_NODE_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}},
			{Name: "FALCO_VERSION", Value: version},
			{Name: "SKIP_DRIVER_LOADER", Value: "yes"},
		},
		Resources:                resources,
		SecurityContext:          &corev1.SecurityContext{Privileged: ptr(true)},
		LivenessProbe:            probe(60),
		ReadinessProbe:           probe(30),
		Ports:                    []corev1.ContainerPort{{Name: "web", ContainerPort: webserverPort, Protocol: corev1.ProtocolTCP}},
		VolumeMounts:             falcoMounts,
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
	}

	spec := corev1.PodSpec{
		PriorityClassName:            in.Operator.PriorityClassName,
		AutomountServiceAccountToken: ptr(false),
		NodeSelector:                 nodeSelector(in.Config),
		Tolerations:                  tolerations(in.Config),
		Containers:                   []corev1.Container{falco},
		Volumes:                      volumes,
		SecurityContext:              &corev1.PodSecurityContext{FSGroup: ptr(int64(agentUser))},
	}
	if !inline {
		volumes := []corev1.Volume{
			{Name: "falcoctl", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: FalcoctlSecret, DefaultMode: ptr(int32(0o440))}}},
			{Name: "agent-tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		}
		spec.Volumes = append(spec.Volumes, volumes...)
		spec.InitContainers = []corev1.Container{agent(in, "falcops-install", agentArgs(in, "install", false))}
		spec.Containers = append(spec.Containers, agent(in, "falcops-agent", agentArgs(in, "watch", heartbeat)))
	} else if heartbeat {
		spec.Containers = append(spec.Containers, agent(in, "falcops-agent", []string{"/falcops-agent", "heartbeat", "--heartbeat=" + HeartbeatEvery, "--addr=:8090"}))
	}
	labels := clone(selector)
	labels["networking.gardener.cloud/to-dns"] = "allowed"
	if !inline {
		labels["networking.gardener.cloud/to-public-networks"] = "allowed" // the registry
	}
	ds := &appsv1.DaemonSet{
		TypeMeta: typeMeta("DaemonSet"), ObjectMeta: meta("falco"),
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: clone(selector)},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: ptr(intstr.FromString("20%"))}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec},
		},
	}
	return ds
}

// falcoVolumes are the pod's volumes for Falco and Falco's mounts: its
// configuration, the rules, the custom rules, the shoot ConfigMaps and the
// host paths.
func falcoVolumes(in Inputs, rules corev1.VolumeSource) ([]corev1.Volume, []corev1.VolumeMount) {
	version := *in.Config.FalcoVersion
	inline := in.Operator.Rules.Delivery == configv1alpha1.DeliveryInline
	volumes := []corev1.Volume{
		{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "falco"}}}},
		{Name: "rules", VolumeSource: rules},
	}
	rulesMount := corev1.VolumeMount{Name: "rules", MountPath: rulesVolumeDir, ReadOnly: true}
	if inline {
		rulesMount.MountPath = RulesDir
	}
	falcoMounts := []corev1.VolumeMount{{Name: "config", MountPath: configDir, ReadOnly: true}, rulesMount}
	if len(in.Custom) > 0 {
		volumes = append(volumes, corev1.Volume{Name: "custom-rules", VolumeSource: corev1.VolumeSource{
			ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "falco-custom-rules"}}}})
		falcoMounts = append(falcoMounts, corev1.VolumeMount{Name: "custom-rules", MountPath: customRulesDir, ReadOnly: true})
	}
	for _, name := range shootConfigMaps(in.Config) {
		vol := "shoot-custom-rules-" + name
		// Optional: a missing ConfigMap must not keep Falco from starting.
		volumes = append(volumes, corev1.Volume{Name: vol, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: name}, Optional: ptr(true)}}})
		if inline { // no agent stages them: Falco reads them as they are
			falcoMounts = append(falcoMounts, corev1.VolumeMount{Name: vol, MountPath: shootRulesDir + "/" + name, ReadOnly: true})
		}
	}
	if sidekickOn(in) {
		volumes = append(volumes, corev1.Volume{Name: "falco-certs", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "falco-certs"}}})
		falcoMounts = append(falcoMounts, corev1.VolumeMount{Name: "falco-certs", MountPath: falcoCertsDir, ReadOnly: true})
	}
	hostVolumes, hostMounts := hostPaths(version)
	volumes = append(volumes, hostVolumes...)
	falcoMounts = append(falcoMounts, hostMounts...)

	return volumes, falcoMounts
}

// agentArgs are the agent's command line: everything it reads comes from
// mounts, so a pin change leaves the pod template as it is. The shoot's own
// rules ConfigMaps go to the agent, which stages the files that load into
// ShootTreeDir; custom rules load between them and the pinned set.
func agentArgs(in Inputs, cmd string, heartbeat bool) []string {
	args := []string{"/falcops-agent", cmd, "--config=" + falcoctlDir + "/falcoctl.yaml", "--rules=" + RulesDir,
		"--work=/tmp/falcops-agent", "--falcoctl=/usr/bin/falcoctl"}
	if names := shootConfigMaps(in.Config); len(names) > 0 {
		if len(in.Custom) > 0 {
			args = append(args, "--before="+customRulesDir)
		}
		for _, n := range names {
			args = append(args, "--shoot-rules="+agentShootDir+"/"+n)
		}
		args = append(args, "--shoot-tree="+ShootTreeDir)
	}
	if cmd == "watch" {
		args = append(args, "--addr=:8090")
		if heartbeat {
			args = append(args, "--heartbeat="+HeartbeatEvery)
		}
	}
	return args
}

func agent(in Inputs, name string, args []string) corev1.Container {
	c := corev1.Container{
		Name: name, Image: in.Operator.Images.Agent, Command: args,
		// falcoctl's cosign keeps its TUF cache under $HOME and TUF_ROOT.
		Env: []corev1.EnvVar{{Name: "HOME", Value: "/tmp"}, {Name: "TUF_ROOT", Value: "/tmp/tuf"}},
		SecurityContext: &corev1.SecurityContext{
			RunAsUser: ptr(int64(agentUser)), RunAsGroup: ptr(int64(agentUser)), RunAsNonRoot: ptr(true),
			ReadOnlyRootFilesystem: ptr(true), AllowPrivilegeEscalation: ptr(false),
			Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("32Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
		},
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
	}
	if in.Operator.Rules.Delivery != configv1alpha1.DeliveryInline {
		c.VolumeMounts = []corev1.VolumeMount{
			{Name: "falcoctl", MountPath: falcoctlDir, ReadOnly: true},
			{Name: "rules", MountPath: rulesVolumeDir},
			{Name: "agent-tmp", MountPath: "/tmp"},
		}
		if names := shootConfigMaps(in.Config); len(names) > 0 {
			if len(in.Custom) > 0 {
				c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "custom-rules", MountPath: customRulesDir, ReadOnly: true})
			}
			for _, n := range names {
				c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "shoot-custom-rules-" + n, MountPath: agentShootDir + "/" + n, ReadOnly: true})
			}
		}
	}
	if name == "falcops-agent" {
		get := func(path string) *corev1.Probe {
			return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromInt32(AgentPort)}},
				PeriodSeconds: 10, TimeoutSeconds: 5, FailureThreshold: 3}
		}
		c.Ports = []corev1.ContainerPort{{Name: "agent", ContainerPort: AgentPort, Protocol: corev1.ProtocolTCP}}
		c.LivenessProbe, c.ReadinessProbe = get("/healthz"), get("/readyz")
		if in.Operator.Rules.Delivery == configv1alpha1.DeliveryInline {
			c.ReadinessProbe = get("/healthz") // only the heartbeat: no pins to be ready for
		}
	}
	return c
}

// hostPaths are what modern_ebpf and the container plugin read from the
// node (read-only except /lib/modules).
func hostPaths(version string) ([]corev1.Volume, []corev1.VolumeMount) {
	type hp struct {
		name, path, mount string
		rw                bool
		socket            bool
	}
	list := []hp{
		{name: "proc-fs", path: "/proc", mount: "/host/proc"},
		{name: "boot-fs", path: "/boot", mount: "/host/boot"},
		{name: "lib-modules", path: "/lib/modules", mount: "/host/lib/modules", rw: true},
		{name: "usr-fs", path: "/usr", mount: "/host/usr"},
		{name: "etc-fs", path: "/etc", mount: "/host/etc"},
		{name: "sys-kernel", path: "/sys/kernel", mount: "/sys/kernel"},
	}
	if atLeast(version, containerPlugin) {
		names := []string{"containerd-socket", "k3s-socket", "host-containerd-socket", "crio-socket", "docker-socket", "podman-socket"}
		for i, s := range sockets {
			list = append(list, hp{name: names[i], path: s.path, mount: "/host" + s.path, socket: true})
		}
	} else {
		list = append(list, hp{name: "containerd-socket", path: "/run/containerd/containerd.sock", mount: "/host/run/containerd/containerd.sock", socket: true})
	}
	var vols []corev1.Volume
	var mounts []corev1.VolumeMount
	for _, h := range list {
		src := &corev1.HostPathVolumeSource{Path: h.path}
		if h.socket {
			src.Type = ptr(corev1.HostPathUnset) // a runtime this node lacks is fine
		}
		vols = append(vols, corev1.Volume{Name: h.name, VolumeSource: corev1.VolumeSource{HostPath: src}})
		mounts = append(mounts, corev1.VolumeMount{Name: h.name, MountPath: h.mount, ReadOnly: !h.rw})
	}
	return vols, mounts
}

func nodeSelector(c *servicev1alpha1.FalcoServiceConfig) map[string]string {
	if c.NodeSelector == nil || len(*c.NodeSelector) == 0 {
		return nil
	}
	return clone(*c.NodeSelector)
}

// tolerations are the critical-components toleration and the user's,
// each once.
func tolerations(c *servicev1alpha1.FalcoServiceConfig) []corev1.Toleration {
	out := []corev1.Toleration{criticalToleration}
	if c.Tolerations == nil {
		return out
	}
	for _, t := range *c.Tolerations {
		k := corev1.Toleration{Key: t.Key, Operator: corev1.TolerationOperator(t.Operator), Value: t.Value,
			Effect: corev1.TaintEffect(t.Effect), TolerationSeconds: t.TolerationSeconds}
		dup := false
		for _, o := range out {
			if o.MatchToleration(&k) && ptrEqual(o.TolerationSeconds, k.TolerationSeconds) {
				dup = true
			}
		}
		if !dup {
			out = append(out, k)
		}
	}
	return out
}

func ptrEqual(a, b *int64) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}
