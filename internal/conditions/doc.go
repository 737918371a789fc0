// Package conditions has the few condition helpers every falcops kind
// shares: set one condition, read one, and the kstatus trio (Ready,
// Reconciling, Stalled) kept consistent.
package conditions
