// Package rules loads Falco rules files the way Falco's rule loader reads
// them and validates them without a Falco binary: items with positions,
// append and override semantics, exceptions compiled into conditions, list and
// macro resolution, field and event-type checks, and Falco's warnings. Every
// finding carries the file, line and column it applies to.
//
// Subpackages: condition (filter grammar, AST, printer) and fields (the field
// catalog per event source).
package rules
