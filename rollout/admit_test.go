package rollout

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/shoot"
)

func TestAdmit(t *testing.T) {
	// now is 12:00 UTC.
	open := shoot.TimeWindow{Begin: "110000+0000", End: "130000+0000"}
	closed := shoot.TimeWindow{Begin: "150000+0000", End: "160000+0000"}
	auto := Decision{Version: "0.43.0", Reason: falcopsv1alpha1.ReasonAutoUpdate, Message: "0.43.0 is supported", Changed: true}
	forced := Decision{Version: "0.42.1", Reason: falcopsv1alpha1.ReasonForcedExpired, Message: "0.41.3 expired", Forced: true, Changed: true}
	first := Decision{Version: "0.42.1", Reason: falcopsv1alpha1.ReasonFirstPin, Message: "first pin of falco-rules", FirstPin: true, Changed: true}
	policy := func(mutate ...func(*falcopsv1alpha1.RolloutPolicy)) *falcopsv1alpha1.RolloutPolicy {
		p := &falcopsv1alpha1.RolloutPolicy{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
		p.Status.Revision, p.Status.OpenWaves = "rev1", 1
		for _, m := range mutate {
			m(p)
		}
		return p
	}
	paused := func(p *falcopsv1alpha1.RolloutPolicy) { p.Spec.Paused = true }
	tooManyFailed := func(p *falcopsv1alpha1.RolloutPolicy) {
		p.Status.Conditions = []metav1.Condition{{Type: falcopsv1alpha1.HaltedCondition, Status: metav1.ConditionTrue,
			Reason: falcopsv1alpha1.ReasonTooManyFailed, Message: "2 shoots report a failed last operation"}}
	}
	cases := []struct {
		name     string
		decision Decision
		window   shoot.TimeWindow
		maintain bool
		at       Position
		want     Admission
	}{
		{name: "no policy, no window", decision: auto,
			want: Admission{Admitted: true, Reason: falcopsv1alpha1.ReasonAutoUpdate, Message: "0.43.0 is supported"}},
		{name: "inside the window", decision: auto, window: open, at: Position{Policy: policy(), Revision: "rev1", WaveName: "one"},
			want: Admission{Admitted: true, Reason: falcopsv1alpha1.ReasonAutoUpdate, Message: "0.43.0 is supported"}},
		{name: "outside the window", decision: auto, window: closed,
			want: Admission{Reason: falcopsv1alpha1.ReasonWaitingForMaintenanceWindow, RequeueAfter: 3*time.Hour + time.Second,
				Message: "Falco 0.42.1 -> 0.43.0; waiting for the maintenance window 15:00-16:00 +00:00 (opens in 3h0m0s)"}},
		{name: "an unparsable window is open, and says so", decision: auto, window: shoot.TimeWindow{Begin: "22:00", End: "23:00"},
			want: Admission{Admitted: true, Reason: falcopsv1alpha1.ReasonAutoUpdate,
				Message: `0.43.0 is supported (maintenance window ignored: maintenance time window begin "22:00" is not in the format HHMMSS+HHMM (such as 220000+0100))`}},
		{name: "forced goes outside the window, through a halt and a closed wave", decision: forced, window: closed,
			at:   Position{Policy: policy(paused), Revision: "rev2", Wave: 2, WaveName: "three"},
			want: Admission{Admitted: true, Reason: falcopsv1alpha1.ReasonForcedExpired, Message: "0.41.3 expired"}},
		{name: "paused halts", decision: auto, window: open, at: Position{Policy: policy(paused), Revision: "rev1", WaveName: "one"},
			want: Admission{Reason: falcopsv1alpha1.ReasonRolloutHalted, Message: "RolloutPolicy default is halted: spec.paused is true"}},
		{name: "the halt rule halts", decision: auto, window: open, at: Position{Policy: policy(tooManyFailed), Revision: "rev1", WaveName: "one"},
			want: Admission{Reason: falcopsv1alpha1.ReasonRolloutHalted,
				Message: "RolloutPolicy default is halted: 2 shoots report a failed last operation"}},
		{name: "a halt stops the maintain operation too", decision: auto, maintain: true, at: Position{Policy: policy(paused), Revision: "rev1"},
			want: Admission{Reason: falcopsv1alpha1.ReasonRolloutHalted, Message: "RolloutPolicy default is halted: spec.paused is true"}},
		{name: "maintain skips the wave and the window", decision: auto, window: closed, maintain: true,
			at: Position{Policy: policy(), Revision: "rev2", Wave: 1, WaveName: "two"},
			want: Admission{Admitted: true, Reason: falcopsv1alpha1.ReasonMaintainOperation,
				Message: "the gardener.cloud/operation=maintain annotation asks for maintenance now; 0.43.0 is supported"}},
		{name: "a first pin skips the wave and the window", decision: first, window: closed,
			at:   Position{Policy: policy(), Revision: "rev2", Wave: 1, WaveName: "two"},
			want: Admission{Admitted: true, Reason: falcopsv1alpha1.ReasonFirstPin, Message: "first pin of falco-rules"}},
		{name: "a halt stops a first pin", decision: first, at: Position{Policy: policy(paused), Revision: "rev1"},
			want: Admission{Reason: falcopsv1alpha1.ReasonRolloutHalted, Message: "RolloutPolicy default is halted: spec.paused is true"}},
		{name: "a later wave waits", decision: auto, window: open, at: Position{Policy: policy(), Revision: "rev1", Wave: 1, WaveName: "two"},
			want: Admission{Reason: falcopsv1alpha1.ReasonWaitingForWave,
				Message: "wave two opens after the waves before it are done (RolloutPolicy default: 1 of its waves open for revision rev1)"}},
		{name: "a new revision waits for the policy", decision: auto, window: open, at: Position{Policy: policy(), Revision: "rev2", WaveName: "one"},
			want: Admission{Reason: falcopsv1alpha1.ReasonWaitingForWave,
				Message: "wave one opens after the waves before it are done (RolloutPolicy default: 0 of its waves open for revision rev2)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := &shoot.View{Falco: &shoot.FalcoConfig{Version: "0.42.1"}, Window: c.window, Maintain: c.maintain}
			assert.Equal(t, c.want, Admit(c.decision, v, c.at, now))
		})
	}
}
