package rules

import (
	"strings"

	"github.com/falcops/falcops/rules/condition"
)

var EngineValueWarnings = Engine039

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

func looksLikeField(s string) bool {
	return s != "" && s[0] >= 'a' && s[0] <= 'z' && strings.IndexByte(s, '.') > 0
}

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
