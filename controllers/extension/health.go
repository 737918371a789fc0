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
		}
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
