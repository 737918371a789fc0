package reconcile

import (
	"errors"
	"fmt"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/falcops/falcops/internal/conditions"
)

// Condition types of the kstatus trio (equal to api/v1alpha1's).
const (
	Ready       = "Ready"
	Reconciling = "Reconciling"
	Stalled     = "Stalled"
)

// Stalling is an error only a spec or data change can fix.
type Stalling struct {
	Reason string
	Err    error
}

func (e *Stalling) Error() string { return e.Err.Error() }
func (e *Stalling) Unwrap() error { return e.Err }

// Stall returns a *Stalling error.
func Stall(reason string, format string, args ...any) error {
	return &Stalling{Reason: reason, Err: fmt.Errorf(format, args...)}
}

// Waiting means progress waits for something outside (a dependency, a
// maintenance window, a rollout wave); reconcile again after RequeueAfter
// (0: only when an event arrives).
type Waiting struct {
	Reason       string
	Message      string
	RequeueAfter time.Duration
}

func (e *Waiting) Error() string { return e.Message }

// Wait returns a *Waiting error.
func Wait(reason string, after time.Duration, format string, args ...any) error {
	return &Waiting{Reason: reason, Message: fmt.Sprintf(format, args...), RequeueAfter: after}
}

// Transient is a retryable error with a condition reason.
type Transient struct {
	Reason string
	Err    error
}

func (e *Transient) Error() string { return e.Err.Error() }
func (e *Transient) Unwrap() error { return e.Err }

// Retry returns a *Transient error.
func Retry(reason string, err error) error { return &Transient{Reason: reason, Err: err} }

// Outcome is what Summarize decided.
type Outcome struct {
	// Reason and Message of the Ready condition.
	Reason, Message string
	// Ready is true on success.
	Ready bool
	// Stalled is true for a *Stalling error.
	Stalled bool
}

// Summarize sets Ready, Reconciling and Stalled on o from the reconcile
// error: nil is success (Ready True with okReason and okMessage).
func Summarize(o conditions.Object, err error, okReason, okMessage string) Outcome {
	var stall *Stalling
	var wait *Waiting
	var retry *Transient
	switch {
	case err == nil:
		conditions.True(o, Ready, okReason, okMessage)
		conditions.Delete(o, Reconciling)
		conditions.Delete(o, Stalled)
		return Outcome{Reason: okReason, Message: okMessage, Ready: true}
	case errors.As(err, &stall):
		conditions.False(o, Ready, stall.Reason, err.Error())
		conditions.True(o, Stalled, stall.Reason, err.Error())
		conditions.Delete(o, Reconciling)
		return Outcome{Reason: stall.Reason, Message: err.Error(), Stalled: true}
	case errors.As(err, &wait):
		conditions.False(o, Ready, wait.Reason, wait.Message)
		conditions.True(o, Reconciling, wait.Reason, wait.Message)
		conditions.Delete(o, Stalled)
		return Outcome{Reason: wait.Reason, Message: wait.Message}
	default:
		reason := "Failed"
		if errors.As(err, &retry) {
			reason = retry.Reason
		}
		conditions.False(o, Ready, reason, err.Error())
		conditions.True(o, Reconciling, reason, "retrying: "+err.Error())
		conditions.Delete(o, Stalled)
		return Outcome{Reason: reason, Message: err.Error()}
	}
}

// Result maps the reconcile error to what Reconcile returns. success is
// returned when err is nil (a polling kind's next interval).
func Result(err error, success ctrl.Result) (ctrl.Result, error) {
	var stall *Stalling
	var wait *Waiting
	switch {
	case err == nil:
		return success, nil
	case errors.As(err, &stall):
		return ctrl.Result{}, nil
	case errors.As(err, &wait):
		return ctrl.Result{RequeueAfter: wait.RequeueAfter}, nil
	default:
		return ctrl.Result{}, err
	}
}
