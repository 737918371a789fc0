// Package sharedtest is the test support every package may use, whatever
// its layer (it imports only the standard library): the repository root,
// the shared folder beside it (../shared: every upstream Falco rules
// release, Gardener's reference files), the skip-or-fail rule for missing
// prerequisites, and file fixtures. A user's clone has no shared/: tests
// then skip, unless FALCOPS_REQUIRE_SHARED=1 (set by .ci/run), which makes
// them fail. Import it from _test.go files only.
package sharedtest
