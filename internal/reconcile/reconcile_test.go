package reconcile

import (
	"errors"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/falcops/falcops/internal/conditions"
)

type obj struct {
	metav1.ObjectMeta
	conds []metav1.Condition
}

func (o *obj) GetConditions() []metav1.Condition  { return o.conds }
func (o *obj) SetConditions(c []metav1.Condition) { o.conds = c }

func TestSummarizeAndResult(t *testing.T) {
	boom := errors.New("registry said 503")
	cases := []struct {
		name        string
		err         error
		ready       metav1.ConditionStatus
		reason      string
		reconciling bool
		stalled     bool
		result      ctrl.Result
		returnsErr  bool
	}{
		{"success", nil, metav1.ConditionTrue, "Succeeded", false, false, ctrl.Result{RequeueAfter: time.Minute}, false},
		{"stalling", Stall("SignatureInvalid", "bad key"), metav1.ConditionFalse, "SignatureInvalid", false, true, ctrl.Result{}, false},
		{"waiting", Wait("WaitingForMaintenanceWindow", time.Hour, "window opens in %s", "1h"), metav1.ConditionFalse, "WaitingForMaintenanceWindow", true, false, ctrl.Result{RequeueAfter: time.Hour}, false},
		{"transient with reason", Retry("RegistryUnavailable", boom), metav1.ConditionFalse, "RegistryUnavailable", true, false, ctrl.Result{}, true},
		{"plain error", boom, metav1.ConditionFalse, "Failed", true, false, ctrl.Result{}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := &obj{}
			// Start from the opposite state so stale conditions must go.
			conditions.True(o, Reconciling, "Old", "old")
			conditions.True(o, Stalled, "Old", "old")
			Summarize(o, c.err, "Succeeded", "ok")
			r := conditions.Get(o, Ready)
			if r == nil || r.Status != c.ready || r.Reason != c.reason {
				t.Fatalf("Ready = %+v, want %s/%s", r, c.ready, c.reason)
			}
			if got := conditions.IsTrue(o, Reconciling); got != c.reconciling || (!got && conditions.Get(o, Reconciling) != nil) {
				t.Fatalf("Reconciling = %+v, want present=%v", conditions.Get(o, Reconciling), c.reconciling)
			}
			if got := conditions.IsTrue(o, Stalled); got != c.stalled || (!got && conditions.Get(o, Stalled) != nil) {
				t.Fatalf("Stalled = %+v, want present=%v", conditions.Get(o, Stalled), c.stalled)
			}
			res, err := Result(c.err, ctrl.Result{RequeueAfter: time.Minute})
			if res != c.result || (err != nil) != c.returnsErr {
				t.Fatalf("Result = %+v, %v; want %+v, error %v", res, err, c.result, c.returnsErr)
			}
			if err != nil && res.RequeueAfter != 0 {
				t.Fatal("a RequeueAfter together with an error is dropped by controller-runtime")
			}
		})
	}
}
