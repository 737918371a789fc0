package diag

// A go.yaml.in/yaml/v3 decoder error names a line inside its text, and
// numbers the lines of libyaml's parser errors from 0 but those of its
// scanner errors from 1; FromYAML reads both the same way.

import (
	"errors"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

var lineRe = regexp.MustCompile(`line (\d+): `)

// parserErrors are the problems libyaml's parser (not its scanner) reports;
// yaml.v3 gives their line 0-based.
var parserErrors = map[string]bool{
	"did not find expected <stream-start>":   true,
	"did not find expected <document start>": true,
	"did not find expected node content":     true,
	"did not find expected '-' indicator":    true,
	"did not find expected key":              true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found duplicate %YAML directive":        true,
	"found duplicate %TAG directive":         true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// FromYAML returns a YAML decoder error's message without the "yaml: " and "line N: "
// prefixes, and the 1-based line it names (0 when it names none). For a
// type error it describes the first problem.
func FromYAML(err error) (msg string, line int) {
	msg = strings.TrimPrefix(err.Error(), "yaml: ")
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	m := lineRe.FindStringSubmatchIndex(msg)
	if m == nil {
		return strings.TrimSpace(msg), 0
	}
	line, _ = strconv.Atoi(msg[m[2]:m[3]])
	msg = strings.TrimSpace(msg[:m[0]] + msg[m[1]:])
	if parserErrors[msg] {
		line++
	}
	return msg, line
}
