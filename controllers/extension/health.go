package extension

import (
	"context"
	"fmt"
	"strings"

	gardencorev1beta1 "github.com/gardener/gardener/pkg/apis/core/v1beta1"
	extensionsv1alpha1 "github.com/gardener/gardener/pkg/apis/extensions/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/falcops/falcops/deploy"
)

// ConditionSystemComponentsHealthy is Gardener's health condition of the
// extension.
const ConditionSystemComponentsHealthy = "ShootSystemComponentsHealthy"

// Health checks Falco in a shoot: the DaemonSet's rollout and readiness,
// and each pod's agent (not ready means it refused the pins or could not
// install them; its log names the digest and the reason).
type Health struct {
	// ShootClient returns a client of the shoot of a seed namespace.
	ShootClient func(ctx context.Context, namespace string) (client.Client, error)
}

// Check returns the condition's status, reason and message.
func (h *Health) Check(ctx context.Context, namespace string) (gardencorev1beta1.ConditionStatus, string, string) {
	c, err := h.ShootClient(ctx, namespace)
	if err != nil {
		return gardencorev1beta1.ConditionUnknown, "ShootUnreachable", err.Error()
	}
	ds := &appsv1.DaemonSet{}
	switch err := c.Get(ctx, client.ObjectKey{Namespace: deploy.Namespace, Name: "falco"}, ds); {
	case apierrors.IsNotFound(err):
		return gardencorev1beta1.ConditionFalse, "DaemonSetMissing", "DaemonSet kube-system/falco does not exist (yet)"
	case err != nil:
		return gardencorev1beta1.ConditionUnknown, "ShootUnreachable", err.Error()
	}
	st := ds.Status
	if st.ObservedGeneration < ds.Generation || st.UpdatedNumberScheduled < st.DesiredNumberScheduled {
		return gardencorev1beta1.ConditionProgressing, "DaemonSetRollingOut",
			fmt.Sprintf("DaemonSet falco is rolling out: %d of %d pods updated", st.UpdatedNumberScheduled, st.DesiredNumberScheduled)
	}
	var pods corev1.PodList
	if err := c.List(ctx, &pods, client.InNamespace(deploy.Namespace), client.MatchingLabels(ds.Spec.Selector.MatchLabels)); err != nil {
		return gardencorev1beta1.ConditionUnknown, "ShootUnreachable", err.Error()
	}
	var refusing []string
	for _, p := range pods.Items {
		for _, cs := range p.Status.ContainerStatuses {
			if cs.Name == "falcops-agent" && !cs.Ready {
				refusing = append(refusing, p.Name+" on "+p.Spec.NodeName)
			}
			if cs.Name == "falco" && !cs.Ready {
				if reason, msg, ok := falcoError(cs); ok {
					return gardencorev1beta1.ConditionFalse, reason, fmt.Sprintf("Falco in %s on %s: %s", p.Name, p.Spec.NodeName, msg)
				}
			}
		}
	}
	if reason, msg, ok := mountError(ctx, c, pods.Items); ok {
		return gardencorev1beta1.ConditionFalse, reason, msg
	}
	if len(refusing) > 0 {
		return gardencorev1beta1.ConditionFalse, "RulesRefused", fmt.Sprintf(
			"the falcops agent is not ready in %s: it refused the pinned rules or could not install them (its log names the digest and why); Falco keeps its running rules",
			strings.Join(refusing, ", "))
	}
	if st.NumberReady < st.DesiredNumberScheduled {
		return gardencorev1beta1.ConditionFalse, "DaemonSetUnhealthy",
			fmt.Sprintf("DaemonSet falco has %d of %d pods ready", st.NumberReady, st.DesiredNumberScheduled)
	}
	return gardencorev1beta1.ConditionTrue, "DaemonSetHealthy", fmt.Sprintf("DaemonSet falco has %d of %d pods ready", st.NumberReady, st.DesiredNumberScheduled)
}

// checkHealth writes the health condition into the Extension's status.
func (r *Reconciler) checkHealth(ctx context.Context, ext *extensionsv1alpha1.Extension) error {
	status, reason, msg := r.Health.Check(ctx, ext.Namespace)
	patch := client.MergeFrom(ext.DeepCopy())
	now := metav1.NewTime(r.Clock.Now())
	cond := gardencorev1beta1.Condition{Type: ConditionSystemComponentsHealthy, Status: status, Reason: reason, Message: msg,
		LastTransitionTime: now, LastUpdateTime: now}
	found := false
	for i, c := range ext.Status.Conditions {
		if c.Type == cond.Type {
			if c.Status == cond.Status {
				cond.LastTransitionTime = c.LastTransitionTime
			}
			ext.Status.Conditions[i], found = cond, true
		}
	}
	if !found {
		ext.Status.Conditions = append(ext.Status.Conditions, cond)
	}
	return client.IgnoreNotFound(r.Client.Status().Patch(ctx, ext, patch))
}

// falcoErrors are the texts of Falco's own errors, as Gardener's health
// check names them, found in the last log lines kubelet keeps as the
// container's termination message (terminationMessagePolicy
// FallbackToLogsOnError).
var falcoErrors = []struct{ reason, match, text string }{
	{"FalcoRulesMisconfigured", "LOAD_ERR", "Falco rules misconfigured"},
	{"FalcoRuleValidationError", "rule validation", "Falco rule validation error"},
	{"FalcoYAMLSyntaxError", "yaml-cpp", "Falco YAML syntax error"},
}

func falcoError(cs corev1.ContainerStatus) (reason, msg string, ok bool) {
	t := cs.LastTerminationState.Terminated
	if t == nil || t.ExitCode == 0 {
		return "", "", false
	}
	for _, e := range falcoErrors {
		if strings.Contains(strings.ToLower(t.Message), strings.ToLower(e.match)) {
			return e.reason, e.text + ": " + lastLine(t.Message), true
		}
	}
	return "FalcoCrashing", fmt.Sprintf("Falco exited with code %d: %s", t.ExitCode, lastLine(t.Message)), true
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	l := lines[len(lines)-1]
	if len(l) > 512 {
		l = l[:512] + "..."
	}
	return l
}

// mountError finds a FailedMount event of a Falco pod (a missing or
// broken ConfigMap or Secret volume).
func mountError(ctx context.Context, c client.Client, pods []corev1.Pod) (reason, msg string, ok bool) {
	var events corev1.EventList
	if err := c.List(ctx, &events, client.InNamespace(deploy.Namespace)); err != nil {
		return "", "", false
	}
	names := map[string]bool{}
	for _, p := range pods {
		names[p.Name] = true
	}
	for _, e := range events.Items {
		if e.Reason == "FailedMount" && e.InvolvedObject.Kind == "Pod" && names[e.InvolvedObject.Name] {
			return "FalcoConfigMapMountError", "Falco ConfigMap mount error in " + e.InvolvedObject.Name + ": " + e.Message, true
		}
	}
	return "", "", false
}
