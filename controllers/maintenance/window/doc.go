// Package window parses and evaluates a Shoot's maintenance time window,
// Gardener's spec.maintenance.timeWindow {begin, end} in the format
// HHMMSS+HHMM (such as 220000+0100). It is pure: callers pass the time, so
// there is no clock in here.
package window
