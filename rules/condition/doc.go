// Package condition parses Falco filter conditions into an AST with source
// offsets, prints an AST back to a condition that parses to the same tree, and
// walks trees. The grammar and error texts follow the libsinsp filter parser,
// including every operator and transformer Falco has ever accepted; which of
// them a given Falco version supports is decided by the caller (package rules
// checks them against the engine version).
//
// The files follow the parser's layers, as go/parser and cue do: token.go
// holds the operator tables, scan.go the lexer, parser.go the grammar, ast.go
// the tree and print.go the printer.
package condition
