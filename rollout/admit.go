package rollout

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"

	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/shoot"
)

// Position is where a shoot stands in the fleet's rollout.
type Position struct {
	// Policy orders changes in waves; nil when there is none (one wave,
	// always open).
	Policy *falcopsv1alpha1.RolloutPolicy
	// Revision names the inputs the decision was made from.
	Revision string
	// Wave is the index of the shoot's wave in Policy, WaveName its name.
	Wave     int
	WaveName string
}

// Admission says whether a change may be applied now.
type Admission struct {
	// Admitted is true when the change may be applied now.
	Admitted bool
	// Reason and Message say why: for an admitted change, the reason of
	// the change (the decision's, or MaintainOperation); otherwise what it
	// waits for (RolloutHalted, WaitingForWave,
	// WaitingForMaintenanceWindow).
	Reason, Message string
	// RequeueAfter is, when not admitted, when to look again (0: when an
	// event arrives).
	RequeueAfter time.Duration
}

// Admit says whether the change d to the shoot v may be applied at now:
// forced moves go at once; a halted rollout stops everything else; a first
// pin (FirstPin) and the maintain operation skip the wave and the window;
// everything else waits for its wave and its window.
func Admit(d Decision, v *shoot.View, at Position, now time.Time) Admission {
	if d.Forced {
		return admit(d.Reason, d.Message)
	}
	policy := at.Policy
	if policy != nil && (policy.Spec.Paused || meta.IsStatusConditionTrue(policy.Status.Conditions, falcopsv1alpha1.HaltedCondition)) {
		return wait(falcopsv1alpha1.ReasonRolloutHalted, 0, "RolloutPolicy %s is halted: %s", policy.Name, haltMessage(policy))
	}
	if d.FirstPin {
		return admit(d.Reason, d.Message)
	}
	if v.Maintain {
		return admit(falcopsv1alpha1.ReasonMaintainOperation,
			"the gardener.cloud/operation=maintain annotation asks for maintenance now; "+d.Message)
	}
	if policy != nil && (policy.Status.Revision != at.Revision || int(policy.Status.OpenWaves) <= at.Wave) {
		return wait(falcopsv1alpha1.ReasonWaitingForWave, 0,
			"wave %s opens after the waves before it are done (RolloutPolicy %s: %d of its waves open for revision %s)",
			at.WaveName, policy.Name, openFor(policy, at.Revision), at.Revision)
	}
	w, err := ParseWindow(v.Window.Begin, v.Window.End)
	if err != nil {
		// Gardener treats an unparsable window as always open; so do we,
		// and say so.
		return admit(d.Reason, fmt.Sprintf("%s (maintenance window ignored: %v)", d.Message, err))
	}
	if !w.Contains(now) {
		next := w.Next(now)
		return wait(falcopsv1alpha1.ReasonWaitingForMaintenanceWindow, next+time.Second,
			"%s; waiting for the maintenance window %s (opens in %s)", Describe(v.Falco, d), w, next.Round(time.Second))
	}
	return admit(d.Reason, d.Message)
}

func admit(reason, message string) Admission {
	return Admission{Admitted: true, Reason: reason, Message: message}
}

func wait(reason string, after time.Duration, format string, args ...any) Admission {
	return Admission{Reason: reason, Message: fmt.Sprintf(format, args...), RequeueAfter: after}
}

// openFor is the number of waves the policy opened for revision.
func openFor(p *falcopsv1alpha1.RolloutPolicy, revision string) int32 {
	if p.Status.Revision != revision {
		return 0
	}
	return p.Status.OpenWaves
}

func haltMessage(p *falcopsv1alpha1.RolloutPolicy) string {
	if p.Spec.Paused {
		return "spec.paused is true"
	}
	if c := meta.FindStatusCondition(p.Status.Conditions, falcopsv1alpha1.HaltedCondition); c != nil {
		return c.Message
	}
	return "halted"
}
