package ruletest

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/falcops/falcops/rules/condition"
	"github.com/falcops/falcops/rules/fields"
)

// DefaultSource is the event source of a test event that names none.
const DefaultSource = "syscall"

// Event is a test event: an event source and the values of the fields the
// event has. A field that is not set is missing, as libsinsp's <NA>: every
// comparison on it is false and `exists` is false.
type Event struct {
	Source string
	fields map[string]*entry
}

type entry struct {
	t    ftype
	vals []value
}

// Special syscall fields whose libsinsp filter checks do not just compare one
// extracted value (sinsp_filtercheck_thread.cpp, sinsp_filtercheck_fd.cpp).
var (
	// ancestorFields compare every ancestor, from the parent up, when used
	// without an index (compare_full_aname and friends); index 0 is the
	// process itself.
	ancestorFields = map[string]string{
		"proc.aname":    "proc.name",
		"proc.apid":     "proc.pid",
		"proc.aexe":     "proc.exe",
		"proc.aexepath": "proc.exepath",
		"proc.acmdline": "proc.cmdline",
		"proc.aenv":     "proc.env",
	}
	// eitherSideFields match the client or the server side of a socket
	// (compare_ip, compare_net, compare_port).
	eitherSideFields = map[string][2]string{
		"fd.ip":    {"fd.cip", "fd.sip"},
		"fd.net":   {"fd.cip", "fd.sip"},
		"fd.port":  {"fd.cport", "fd.sport"},
		"fd.proto": {"fd.cport", "fd.sport"},
	}
	// networkFields yield the address of one side, compared with networks.
	networkFields = map[string]string{
		"fd.cnet": "fd.cip", "fd.snet": "fd.sip", "fd.lnet": "fd.lip", "fd.rnet": "fd.rip",
	}
	// noRHS and noTransformer are the fields flagged EPF_NO_RHS and
	// EPF_NO_TRANSFORMER in libsinsp.
	noRHS = map[string]bool{
		"evt.rawarg": true, "evt.around": true, "fd.ip": true, "fd.port": true, "fd.proto": true,
		"fd.net": true, "fd.cnet": true, "fd.snet": true, "fd.lnet": true, "fd.rnet": true,
		"fd.cip.name": true, "fd.sip.name": true, "fd.lip.name": true, "fd.rip.name": true,
		"proc.apid": true, "proc.aname": true, "proc.aexe": true, "proc.aexepath": true,
		"proc.acmdline": true, "proc.aenv": true, "fd.types": true,
	}
	noTransformer = map[string]bool{
		"evt.rawarg": true, "evt.around": true, "fd.ip": true, "fd.port": true, "fd.proto": true,
		"fd.net": true, "fd.cnet": true, "fd.snet": true, "fd.lnet": true, "fd.rnet": true,
		"fd.cip.name": true, "fd.sip.name": true, "fd.lip.name": true, "fd.rip.name": true,
		"proc.apid": true, "proc.aname": true, "proc.aexe": true, "proc.aexepath": true,
		"proc.acmdline": true, "proc.aenv": true,
	}
)

// fieldRef is a field resolved against the catalog of a source.
type fieldRef struct {
	name   string // catalog name, e.g. evt.arg for evt.arg.res
	arg    string
	hasArg bool
	key    string // canonical key: name or name[arg]
	info   fields.Field
	t      ftype
}

// multiValued reports whether a test event may give several values for the
// field: list fields, ancestor fields and either-side socket fields without
// an argument.
func (r fieldRef) multiValued(source string) bool {
	if r.t.list {
		return true
	}
	if source != DefaultSource || r.hasArg {
		return false
	}
	_, anc := ancestorFields[r.name]
	_, either := eitherSideFields[r.name]
	return anc || either
}

func canonicalKey(name, arg string, hasArg bool) string {
	if !hasArg {
		return name
	}
	return name + "[" + arg + "]"
}

// resolveField resolves a field as written in a condition or an event key
// (proc.name, evt.arg.res, evt.arg[res], proc.aname[2], proc.env[HOME]).
func resolveField(source string, f *condition.Field) (fieldRef, error) {
	info, dotted, ok := fields.Lookup(source, f.Name)
	if !ok {
		return fieldRef{}, fmt.Errorf("unknown field '%s' for source '%s'", f.Name, source)
	}
	if info.OutputOnly() {
		return fieldRef{}, fmt.Errorf("field '%s' can only be used in outputs", f.Name)
	}
	r := fieldRef{name: info.Name, arg: f.Arg, hasArg: f.HasArg, info: info}
	bracket := f.HasArg
	if dotted != "" {
		if f.HasArg {
			return fieldRef{}, fmt.Errorf("field '%s' already has the argument '%s' and cannot take another", f.Name, dotted)
		}
		r.arg, r.hasArg = dotted, true
	}
	switch {
	case info.Arg == fields.ArgNone && r.hasArg:
		return fieldRef{}, fmt.Errorf("field '%s' does not take an argument", info.Name)
	case info.Arg == fields.ArgRequired && !r.hasArg:
		return fieldRef{}, fmt.Errorf("field '%s' requires an argument, e.g. %s[...]", info.Name, info.Name)
	case r.hasArg && info.ArgIndex:
		if n, err := strconv.Atoi(r.arg); err == nil {
			r.arg = strconv.Itoa(n) // proc.aname[02] is proc.aname[2]
		} else if !info.ArgKey && bracket {
			// evt.arg[0] and evt.arg.fd, but not evt.arg[fd]
			return fieldRef{}, fmt.Errorf("field '%s' takes a numeric argument, not '%s'", info.Name, r.arg)
		}
	}
	t, err := typeOf(info.Type, info.List)
	if err != nil {
		return fieldRef{}, err
	}
	r.t = t
	r.key = canonicalKey(r.name, r.arg, r.hasArg)
	return r, nil
}

// parseFieldKey parses an event key as a field reference.
func parseFieldKey(source, key string) (fieldRef, error) {
	e, n, err := condition.ParseField(key)
	f, ok := e.(*condition.Field)
	if err != nil || n != len(key) || !ok {
		return fieldRef{}, fmt.Errorf("'%s' is not a field name (e.g. proc.name, evt.arg.res, proc.aname[2], proc.env[HOME])", key)
	}
	return resolveField(source, f)
}

// NewEvent returns an empty event of a source ("" means syscall).
func NewEvent(source string) (*Event, error) {
	if source == "" {
		source = DefaultSource
	}
	if !fields.KnownSource(source) {
		return nil, fmt.Errorf("unknown event source '%s' (known: %s)", source, strings.Join(fields.Sources(), ", "))
	}
	return &Event{Source: source, fields: map[string]*entry{}}, nil
}

// Set gives a field its values. Only multi-valued fields (list fields, and
// proc.aname, proc.apid, proc.aexe, proc.aexepath, proc.acmdline, proc.aenv,
// fd.ip, fd.net, fd.port, fd.proto without argument) take more or fewer
// than one value. Each value must be valid for the field's type. Setting a
// field twice (also under another spelling, evt.arg.res and evt.arg[res])
// is an error.
func (e *Event) Set(field string, values ...string) error {
	r, err := parseFieldKey(e.Source, field)
	if err != nil {
		return err
	}
	if _, dup := e.fields[r.key]; dup {
		return fmt.Errorf("field '%s' is given twice", r.key)
	}
	if len(values) != 1 && !r.multiValued(e.Source) {
		return fmt.Errorf("field '%s' is single-valued in Falco: give one value, not a list", field)
	}
	if _, either := eitherSideFields[r.name]; either && !r.hasArg && len(values) > 2 {
		return fmt.Errorf("field '%s' takes at most two values: the client and the server side", field)
	}
	if r.name == "evt.type" && e.Source == DefaultSource && !fields.KnownEvent(values[0]) {
		return &ValueError{Index: 0, Err: fmt.Errorf("unknown event type '%s'", values[0])}
	}
	vt := r.t
	if _, anc := ancestorFields[r.name]; anc {
		vt.list = false
	}
	en := &entry{t: vt, vals: make([]value, len(values))}
	for i, s := range values {
		v, err := parseEventValue(vt, s)
		if err != nil {
			return &ValueError{Index: i, Err: fmt.Errorf("field '%s' (%s): %w", field, r.t.name, err)}
		}
		en.vals[i] = v
	}
	e.fields[r.key] = en
	return nil
}

// Fields lists the canonical names of the fields the event sets, sorted.
func (e *Event) Fields() []string {
	out := make([]string, 0, len(e.fields))
	for k := range e.fields {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ValueError is returned by Event.Set for a value that is not valid for the
// field; Index is the position of the value in the values given.
type ValueError struct {
	Index int
	Err   error
}

func (e *ValueError) Error() string { return e.Err.Error() }
func (e *ValueError) Unwrap() error { return e.Err }

// lookup is one place a field's values may come from: an event key and
// optionally one element of its values.
type lookup struct {
	key   string
	index int // -1: all values
}

// get returns the values of the first lookup the event has.
func (e *Event) get(ls []lookup) ([]value, bool) {
	for _, l := range ls {
		en, ok := e.fields[l.key]
		if !ok {
			continue
		}
		if l.index < 0 {
			return en.vals, true
		}
		if l.index < len(en.vals) {
			return en.vals[l.index : l.index+1], true
		}
	}
	return nil, false
}

// lookupsFor tells where the values of a field come from in a test event.
func lookupsFor(source string, r fieldRef) []lookup {
	ls := []lookup{{r.key, -1}}
	if source != DefaultSource {
		return ls
	}
	if self, ok := ancestorFields[r.name]; ok && r.hasArg {
		if n, err := strconv.Atoi(r.arg); err == nil {
			if n == 0 {
				ls = append(ls, lookup{self, -1})
			} else if n > 0 {
				ls = append(ls, lookup{r.name, n - 1})
			}
		}
	}
	if side, ok := networkFields[r.name]; ok {
		ls = append(ls, lookup{side, -1})
	}
	return ls
}

// ancestors returns the ancestor values of an ancestor field (parent first):
// the list given for the field, else the indexed keys field[1], field[2], ...
// up to the first missing one.
func (e *Event) ancestors(name string) []value {
	if en, ok := e.fields[name]; ok {
		return en.vals
	}
	var out []value
	for i := 1; ; i++ {
		en, ok := e.fields[name+"["+strconv.Itoa(i)+"]"]
		if !ok || len(en.vals) == 0 {
			return out
		}
		out = append(out, en.vals[0])
	}
}

// sides returns the values of an either-side socket field: the values given
// for it, else those of its client and server fields.
func (e *Event) sides(name string) []value {
	if en, ok := e.fields[name]; ok {
		return en.vals
	}
	var out []value
	for _, k := range eitherSideFields[name] {
		if en, ok := e.fields[k]; ok {
			out = append(out, en.vals...)
		}
	}
	return out
}
