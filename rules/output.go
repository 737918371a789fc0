package rules

import "strings"

// OutputScanner reads the %field references of a Falco output format the way
// Falco's formatter does: a leading '*' is not part of the format, and each
// '%' is followed by optional width digits and then a field. What a field is
// (the longest known field, or whatever parses as one) is the caller's
// choice; it tells the scanner with Skip how many bytes the field took.
//
//	for sc := NewOutputScanner(s); sc.Next(); {
//		n := fieldLen(s[sc.Field():])
//		sc.Skip(n)
//	}
type OutputScanner struct {
	s              string
	next           int // where the search for the next '%' starts
	percent, field int
}

// NewOutputScanner returns a scanner over the output format s.
func NewOutputScanner(s string) *OutputScanner {
	sc := &OutputScanner{s: s}
	if strings.HasPrefix(s, "*") {
		sc.next = 1
	}
	return sc
}

// Next advances to the next '%' and reports whether there is one. Without a
// Skip the search continues right after the current '%'.
func (sc *OutputScanner) Next() bool {
	if sc.next >= len(sc.s) {
		return false
	}
	i := strings.IndexByte(sc.s[sc.next:], '%')
	if i < 0 {
		sc.next = len(sc.s)
		return false
	}
	sc.percent = sc.next + i
	sc.field = sc.percent + 1
	for sc.field < len(sc.s) && sc.s[sc.field] >= '0' && sc.s[sc.field] <= '9' {
		sc.field++
	}
	sc.next = sc.percent + 1
	return true
}

// Percent is the offset of the current '%'.
func (sc *OutputScanner) Percent() int { return sc.percent }

// Field is the offset of the current reference's field, after the width
// digits; it is the length of the format when the format ends first.
func (sc *OutputScanner) Field() int { return sc.field }

// Skip continues the scan after the first n bytes of the current field.
func (sc *OutputScanner) Skip(n int) { sc.next = sc.field + n }
