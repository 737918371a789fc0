// Package reconcile is the controller kit every falcops reconciler shares:
//
//   - the three kinds of reconcile outcome and the one function, Summarize,
//     that maps them to the kstatus conditions (Ready, Reconciling,
//     Stalled) and to what Reconcile returns:
//   - *Stalling, and any domain error with a Reason() method (such as
//     *rollout.Blocked): only a change of the spec or the data can fix it;
//     Stalled, not ready, no requeue;
//   - *Waiting: a dependency or a time window; Reconciling, requeued after
//     a delay, no error;
//   - any other error: transient; returned so the rate limiter backs off;
//   - the small condition helpers (set one condition, read one).
//
// It never returns a RequeueAfter together with an error: controller-runtime
// drops the result in that case.
package reconcile
