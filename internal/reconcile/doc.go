// Package reconcile has the three kinds of reconcile outcome and the one
// function that maps them to kstatus conditions and a ctrl.Result:
//
//   - *Stalling: only a change of the spec or the data can fix it; Stalled,
//     not ready, no requeue;
//   - *Waiting: a dependency or a time window; Reconciling, requeued after
//     a delay, no error;
//   - any other error: transient; returned so the rate limiter backs off.
//
// It never returns a RequeueAfter together with an error: controller-runtime
// drops the result in that case.
package reconcile
