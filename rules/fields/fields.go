package fields

import (
	_ "embed"
	"sort"
	"strings"
	"sync"
)

// ArgMode tells whether a field takes an argument.
type ArgMode uint8

const (
	ArgNone     ArgMode = iota // the field takes no argument
	ArgAllowed                 // an argument is optional: proc.aname or proc.aname[2]
	ArgRequired                // an argument is required: evt.arg[0], proc.env[HOME] style
)

// Field describes one filter field of an event source.
type Field struct {
	Name       string  // e.g. "proc.aname", "evt.arg"
	Type       string  // libs type in lower case without PT_: "charbuf", "uint64", "ipaddr", ...
	Arg        ArgMode // whether an argument is accepted
	ArgIndex   bool    // the argument is numeric (EPF_ARG_INDEX)
	ArgKey     bool    // the argument is a string key (EPF_ARG_KEY)
	DottedArg  bool    // the argument may also be written after a dot: evt.arg.fd
	List       bool    // multi-valued field, usable with `intersects`
	Deprecated bool
	Since      string // lowest Falco engine version with the field, "" if always (>= 0.26.0) or unknown
	Until      string // first Falco engine version without the field, "" if still present
	Desc       string // one short line

	noBracket  bool // the argument can only be written after a dot
	filterOnly bool // EPF_FILTER_ONLY: not usable in outputs
	outputOnly bool // EPF_PRINT_ONLY or a Falco output placeholder: not usable in conditions
}

// BracketArg reports whether the argument may be written as name[arg].
// It is false for fields that take no argument and for dot-only fields
// such as thread.cgroup.cpu or evt.type.is.open.
func (f Field) BracketArg() bool { return f.Arg != ArgNone && !f.noBracket }

// FilterOnly reports whether the field can only be used in conditions (e.g. fd.ip).
func (f Field) FilterOnly() bool { return f.filterOnly }

// OutputOnly reports whether the field can only be used in outputs
// (e.g. evt.outputtime, the %container.info placeholder).
func (f Field) OutputOnly() bool { return f.outputOnly }

const (
	srcAll     = "*"       // rows for every source
	srcPlugins = "plugins" // rows for every plugin source (all but syscall)
	srcSyscall = "syscall"
)

//go:embed fields.tsv
var fieldsTSV string

type catalog struct {
	bySource map[string]map[string]*Field
	sources  []string
}

var (
	catOnce sync.Once
	cat     catalog
)

func load() *catalog {
	catOnce.Do(func() { cat = parseFields(fieldsTSV) })
	return &cat
}

// parseFields reads the tab-separated catalog; see the header of fields.tsv.
func parseFields(data string) catalog {
	type row struct {
		src string
		f   *Field
	}
	var rows []row
	srcSet := map[string]bool{}
	for len(data) > 0 {
		var line string
		if i := strings.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, ""
		}
		if line == "" || line[0] == '#' {
			continue
		}
		col := strings.Split(line, "\t")
		if len(col) != 7 {
			panic("fields: bad catalog line: " + line)
		}
		f := &Field{Name: col[1], Type: col[2], Since: dash(col[4]), Until: dash(col[5]), Desc: dash(col[6])}
		for _, c := range dash(col[3]) {
			switch c {
			case 'a':
				f.Arg = ArgAllowed
			case 'r':
				f.Arg = ArgRequired
			case 'i':
				f.ArgIndex = true
			case 'k':
				f.ArgKey = true
			case 'd':
				f.DottedArg = true
			case 'b':
				f.noBracket = true
			case 'l':
				f.List = true
			case 'x':
				f.Deprecated = true
			case 'f':
				f.filterOnly = true
			case 'p':
				f.outputOnly = true
			default:
				panic("fields: bad flag in line: " + line)
			}
		}
		rows = append(rows, row{col[0], f})
		if col[0] != srcAll && col[0] != srcPlugins {
			srcSet[col[0]] = true
		}
	}
	c := catalog{bySource: make(map[string]map[string]*Field, len(srcSet))}
	for s := range srcSet {
		c.sources = append(c.sources, s)
		c.bySource[s] = map[string]*Field{}
	}
	sort.Strings(c.sources)
	for _, r := range rows {
		for _, s := range c.sources {
			if r.src == s || r.src == srcAll || (r.src == srcPlugins && s != srcSyscall) {
				c.bySource[s][r.f.Name] = r.f
			}
		}
	}
	return c
}

func dash(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

// Sources lists the known event sources, sorted.
func Sources() []string {
	return append([]string(nil), load().sources...)
}

// KnownSource reports whether a source name is known.
func KnownSource(source string) bool {
	_, ok := load().bySource[source]
	return ok
}

// Lookup finds a field as written in a condition without its bracket argument.
// An exact name wins; otherwise the longest prefix (cut at a dot) naming a field
// that accepts a dotted argument matches, and the rest is returned as dottedArg:
// Lookup("syscall", "evt.arg.flags") gives evt.arg and "flags".
func Lookup(source, name string) (f Field, dottedArg string, ok bool) {
	m := load().bySource[source]
	if m == nil {
		return Field{}, "", false
	}
	if p := m[name]; p != nil {
		return *p, "", true
	}
	for i := strings.LastIndexByte(name, '.'); i > 0; i = strings.LastIndexByte(name[:i], '.') {
		if p := m[name[:i]]; p != nil && p.DottedArg && i+1 < len(name) {
			return *p, name[i+1:], true
		}
	}
	return Field{}, "", false
}

// Fields returns every field of a source, sorted by name (nil for an unknown source).
func Fields(source string) []Field {
	m := load().bySource[source]
	if m == nil {
		return nil
	}
	out := make([]Field, 0, len(m))
	for _, f := range m {
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
