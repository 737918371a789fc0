package reconcile

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
)

type obj struct {
	metav1.ObjectMeta
	conds []metav1.Condition
}

func (o *obj) GetConditions() []metav1.Condition  { return o.conds }
func (o *obj) SetConditions(c []metav1.Condition) { o.conds = c }

// domainError stands for a domain package's error that names its reason.
type domainError struct{ reason, msg string }

func (e *domainError) Error() string  { return e.msg }
func (e *domainError) Reason() string { return e.reason }

func TestSummarize(t *testing.T) {
	boom := errors.New("registry said 503")
	ok := Success{Reason: "Succeeded", Message: "ok", Result: ctrl.Result{RequeueAfter: time.Minute}}
	cases := []struct {
		name        string
		err         error
		ready       metav1.ConditionStatus
		reason      string
		message     string
		reconciling bool
		stalled     bool
		result      ctrl.Result
		returnsErr  bool
	}{
		{"success", nil, metav1.ConditionTrue, "Succeeded", "ok", false, false, ctrl.Result{RequeueAfter: time.Minute}, false},
		{"stalling", Stall("SignatureInvalid", "bad key"), metav1.ConditionFalse, "SignatureInvalid", "bad key", false, true, ctrl.Result{}, false},
		{"domain error with a reason", fmt.Errorf("wrapped: %w", &domainError{"DowngradeBlocked", "no higher version"}),
			metav1.ConditionFalse, "DowngradeBlocked", "wrapped: no higher version", false, true, ctrl.Result{}, false},
		{"waiting", Wait("WaitingForMaintenanceWindow", time.Hour, "window opens in %s", "1h"), metav1.ConditionFalse,
			"WaitingForMaintenanceWindow", "window opens in 1h", true, false, ctrl.Result{RequeueAfter: time.Hour}, false},
		{"transient with reason", Retry("RegistryUnavailable", boom), metav1.ConditionFalse, "RegistryUnavailable", boom.Error(), true, false, ctrl.Result{}, true},
		{"plain error", boom, metav1.ConditionFalse, falcopsv1alpha1.ReasonFailed, boom.Error(), true, false, ctrl.Result{}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := &obj{}
			// Start from the opposite state so stale conditions must go.
			MarkTrue(o, falcopsv1alpha1.ReconcilingCondition, "Old", "old")
			MarkTrue(o, falcopsv1alpha1.StalledCondition, "Old", "old")
			out := Summarize(o, c.err, ok)

			r := GetCondition(o, falcopsv1alpha1.ReadyCondition)
			require.NotNil(t, r)
			assert.Equal(t, c.ready, r.Status)
			assert.Equal(t, c.reason, r.Reason)
			assert.Equal(t, c.message, r.Message)
			assert.Equal(t, c.reason, out.Reason)
			assert.Equal(t, c.message, out.Message)
			assert.Equal(t, c.err == nil, out.Ready)
			assert.Equal(t, c.stalled, out.Stalled)
			for typ, want := range map[string]bool{falcopsv1alpha1.ReconcilingCondition: c.reconciling, falcopsv1alpha1.StalledCondition: c.stalled} {
				if want {
					assert.True(t, IsTrue(o, typ), "%s", typ)
				} else {
					assert.Nil(t, GetCondition(o, typ), "%s must be absent unless True", typ)
				}
			}

			assert.Equal(t, c.result, out.Result)
			if c.returnsErr {
				assert.Equal(t, c.err, out.Err)
			} else {
				assert.NoError(t, out.Err)
			}
			if out.Err != nil {
				assert.Zero(t, out.Result.RequeueAfter, "a RequeueAfter together with an error is dropped by controller-runtime")
			}
		})
	}
}

func TestConditions(t *testing.T) {
	o := &obj{ObjectMeta: metav1.ObjectMeta{Generation: 4}}
	InitUnknown(o, "Resolved", "Progressing", "not yet")
	c := GetCondition(o, "Resolved")
	require.NotNil(t, c)
	assert.Equal(t, metav1.ConditionUnknown, c.Status)
	assert.Equal(t, int64(4), c.ObservedGeneration)

	MarkTrue(o, "Resolved", "DigestResolved", "resolved")
	InitUnknown(o, "Resolved", "Progressing", "not yet")
	assert.True(t, IsTrue(o, "Resolved"), "InitUnknown leaves a set condition alone")
	since := GetCondition(o, "Resolved").LastTransitionTime

	MarkTrue(o, "Resolved", "DigestResolved", "resolved again")
	assert.Equal(t, since, GetCondition(o, "Resolved").LastTransitionTime, "the transition time changes only with the status")
	assert.Equal(t, "resolved again", GetCondition(o, "Resolved").Message)

	MarkFalse(o, "Resolved", "TagNotFound", "gone")
	assert.False(t, IsTrue(o, "Resolved"))
	DeleteCondition(o, "Resolved")
	assert.Nil(t, GetCondition(o, "Resolved"))
	assert.Empty(t, o.GetConditions())
}

func TestCut(t *testing.T) {
	short := strings.Repeat("a", MaxMessage)
	assert.Equal(t, short, Cut(short))
	long := strings.Repeat("é", MaxMessage) // two bytes each
	got := Cut(long)
	assert.LessOrEqual(t, len(got), MaxMessage)
	assert.True(t, utf8.ValidString(got), "cut on a rune boundary")
	assert.True(t, strings.HasPrefix(long, strings.TrimSuffix(got, got[strings.LastIndex(got, " ... ("):])))
	assert.Regexp(t, `é ... \(\d+ bytes cut\)$`, got)
	obj := &falcopsv1alpha1.RuleSource{}
	SetCondition(obj, falcopsv1alpha1.ReadyCondition, "False", "Failed", long)
	assert.Equal(t, got, GetCondition(obj, falcopsv1alpha1.ReadyCondition).Message)
}
