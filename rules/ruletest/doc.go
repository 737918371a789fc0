// Package ruletest runs rule tests: test events (an event source and field
// values) and the rules that must and must not fire for them, read from
// rulesets/<name>/tests/*.yaml. Conditions are evaluated without Falco, on
// the condition with exceptions compiled in, each macro compiled once and
// shared by every reference (as rules.Ruleset.Expand would expand it, but in
// linear time and memory), with the operator and transformer semantics of
// libsinsp (filter_compare.cpp, sinsp_filtercheck.cpp, prefix_search.h,
// sinsp_filter_transformers/, sinsp_filtercheck_multivalue_transformer.cpp,
// and the custom comparisons of the thread and fd filter checks).
//
// Load reads test files, Run (or a Suite) evaluates them and explains each
// failed check (the first false part of the condition, with the event's
// values), and Compile / Eval evaluate one condition on one Event. A field the event does not set is
// missing, like Falco's <NA>: every comparison on it is false and `exists`
// is false, so `not proc.name = x` holds for it.
package ruletest
