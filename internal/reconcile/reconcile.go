package reconcile

import (
	"errors"
	"fmt"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
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

// blocker is a domain error that names its condition reason (such as
// *rollout.Blocked): a decision that only a change of the spec or the data
// can unblock, so it stalls like *Stalling.
type blocker interface {
	error
	Reason() string
}

// Success is what a reconcile without error reports.
type Success struct {
	// Reason and Message of the Ready condition.
	Reason, Message string
	// Result is what Reconcile returns (a polling kind's next interval).
	Result ctrl.Result
}

// Outcome is what Summarize decided.
type Outcome struct {
	// Reason and Message of the Ready condition.
	Reason, Message string
	// Ready is true on success.
	Ready bool
	// Stalled is true for a *Stalling error or a domain error with a
	// Reason.
	Stalled bool
	// Result and Err are what Reconcile returns.
	Result ctrl.Result
	Err    error
}

// Summarize is the one mapping of the error a reconcile ended with: it
// sets Ready, Reconciling and Stalled on o, and says what Reconcile
// returns. nil is success.
func Summarize(o Object, err error, ok Success) Outcome {
	out := summarize(o, err, ok)
	out.Message = Cut(out.Message)
	return out
}

func summarize(o Object, err error, ok Success) Outcome {
	var stall *Stalling
	var wait *Waiting
	var retry *Transient
	var domain blocker
	switch {
	case err == nil:
		MarkTrue(o, falcopsv1alpha1.ReadyCondition, ok.Reason, ok.Message)
		DeleteCondition(o, falcopsv1alpha1.ReconcilingCondition)
		DeleteCondition(o, falcopsv1alpha1.StalledCondition)
		return Outcome{Reason: ok.Reason, Message: ok.Message, Ready: true, Result: ok.Result}
	case errors.As(err, &stall):
		return stalled(o, stall.Reason, err.Error())
	case errors.As(err, &wait):
		MarkFalse(o, falcopsv1alpha1.ReadyCondition, wait.Reason, wait.Message)
		MarkTrue(o, falcopsv1alpha1.ReconcilingCondition, wait.Reason, wait.Message)
		DeleteCondition(o, falcopsv1alpha1.StalledCondition)
		return Outcome{Reason: wait.Reason, Message: wait.Message, Result: ctrl.Result{RequeueAfter: wait.RequeueAfter}}
	case errors.As(err, &retry):
		return transient(o, retry.Reason, err)
	case errors.As(err, &domain):
		return stalled(o, domain.Reason(), err.Error())
	default:
		return transient(o, falcopsv1alpha1.ReasonFailed, err)
	}
}

// stalled: no requeue, the next change of the spec or the data wakes it.
func stalled(o Object, reason, message string) Outcome {
	MarkFalse(o, falcopsv1alpha1.ReadyCondition, reason, message)
	MarkTrue(o, falcopsv1alpha1.StalledCondition, reason, message)
	DeleteCondition(o, falcopsv1alpha1.ReconcilingCondition)
	return Outcome{Reason: reason, Message: message, Stalled: true}
}

// transient: the error is returned, so the rate limiter backs off.
func transient(o Object, reason string, err error) Outcome {
	MarkFalse(o, falcopsv1alpha1.ReadyCondition, reason, err.Error())
	MarkTrue(o, falcopsv1alpha1.ReconcilingCondition, reason, "retrying: "+err.Error())
	DeleteCondition(o, falcopsv1alpha1.StalledCondition)
	return Outcome{Reason: reason, Message: err.Error(), Err: err}
}
