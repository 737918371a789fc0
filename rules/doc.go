// Package rules loads Falco rules files the way Falco's rule loader reads
// them and validates them without a Falco binary: items with positions,
// append and override semantics, exceptions compiled into conditions, list and
// macro resolution, field and event-type checks, and Falco's warnings. Every
// finding carries the file, line and column it applies to.
//
// The loader runs in layers: reader.go and reader_rule.go read the items
// (through the YAML node accessors of yamlnode.go), collector.go applies
// appends and overrides, compile.go links lists, macros and rules, and
// check.go checks fields, operators, values and outputs (whose %field
// grammar output.go reads).
//
// Subpackages: condition (filter grammar, AST, printer), fields (the field
// catalog per event source), diff (semantic diff of two rulesets) and
// ruletest (rule tests: events evaluated against the rules).
package rules
