package rules

import (
	"strings"

	"github.com/falcops/falcops/rules/condition"
)

// EngineValueWarnings is the engine whose libsinsp (libs 0.18.0, Falco
// 0.39) warns about suspicious constant values (filter.cpp
// check_value_and_add_warnings); Falco reports them as
// LOAD_COMPILE_CONDITION warnings.
var EngineValueWarnings = Engine039

// valueWarnings are libsinsp's warnings about x's constant values: a
// regex a simpler operator could check, a value that is a field name
// (val() forgotten), a value that looks like a transformer.
func (c *compiler) valueWarnings(source string, x *condition.BinaryCheck) []string {
	if c.engine.Less(EngineValueWarnings) {
		return nil
	}
	var out []string
	regex := baseOperator(x.Op) == "regex"
	for v := range rightValues(x) {
		nospaces := v
		if strings.ContainsAny(v, " \t\n\r\v\f") {
			nospaces = strings.Join(strings.Fields(v), "")
		}
		if regex && regexCouldBeSimpler(v) {
			out = append(out, "regex check with '"+v+"' may be optimized with simpler operators such as '=', 'contains', 'startswith', 'endswith'")
		}
		if looksLikeField(nospaces) && c.isField(source, nospaces) {
			out = append(out, "'"+v+"' may be a valid field misused as a const string value")
		}
		if strings.HasSuffix(nospaces, ")") {
			for t, since := range transformerSince {
				if !c.engine.Less(since) && len(nospaces) >= len(t)+2 && strings.HasPrefix(nospaces, t+"(") {
					out = append(out, "'"+v+"' may be a valid field transformer misused as a const string value")
					break
				}
			}
		}
	}
	return out
}

// looksLikeField is a cheap test before isField: field names start with a
// lower-case letter and have a dot (paths and numbers do not qualify).
func looksLikeField(s string) bool {
	return s != "" && s[0] >= 'a' && s[0] <= 'z' && strings.IndexByte(s, '.') > 0
}

// isField reports whether s names a field of source, remembered per
// value: list items are checked once per load, not once per rule.
func (c *compiler) isField(source, s string) bool {
	bySource := c.fieldValues[source]
	if known, ok := bySource[s]; ok {
		return known
	}
	_, err := (&loader{engine: c.engine}).lookupField(source, s)
	if bySource == nil {
		if c.fieldValues == nil {
			c.fieldValues = map[string]map[string]bool{}
		}
		bySource = map[string]bool{}
		c.fieldValues[source] = bySource
	}
	bySource[s] = err == nil
	return err == nil
}

// regexCouldBeSimpler is libsinsp's heuristic: no regex special character
// but the implicit anchors and a leading or trailing ".*" / ".+" / ".?".
func regexCouldBeSimpler(v string) bool {
	const special, occurrence = ".+*?^$()[]{}|\\", "+*?"
	n := len(v)
	for i := 0; i < n; i++ {
		if (i == 0 && v[i] == '^') || (i == n-1 && v[i] == '$') {
			continue
		}
		if ((i == 0 && n > 1) || i == n-2) && v[i] == '.' && i+1 < n && strings.IndexByte(occurrence, v[i+1]) >= 0 {
			i++
			continue
		}
		if strings.IndexByte(special, v[i]) >= 0 {
			return false
		}
	}
	return true
}
