package fields

import (
	_ "embed"
	"sort"
	"strconv"
	"strings"
	"sync"
)

//go:embed events.tsv
var eventsTSV string

type eventTable struct {
	codes map[string]int // event type name -> number of event codes
	args  map[string]bool
	all   int
	names []string
}

var (
	evOnce sync.Once
	ev     eventTable
)

func loadEvents() *eventTable {
	evOnce.Do(func() { ev = parseEvents(eventsTSV) })
	return &ev
}

func parseEvents(data string) eventTable {
	t := eventTable{codes: map[string]int{}, args: map[string]bool{}}
	for _, line := range strings.Split(data, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "\t")
		if !ok {
			panic("fields: bad events line: " + line)
		}
		switch k {
		case "@arg":
			for _, a := range strings.Fields(v) {
				t.args[a] = true
			}
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			panic("fields: bad events line: " + line)
		}
		if k == "@all" {
			t.all = n
			continue
		}
		t.codes[k] = n
		t.names = append(t.names, k)
	}
	sort.Strings(t.names)
	return t
}

// EventCodes returns how many kernel event codes (enter + exit, all versions)
// carry this syscall event type name, 0 when unknown. Syscalls without a
// dedicated event map to the 2 generic codes, plugin async events (container,
// container_removed, k8s) to their table codes or the async code, as libs does.
// "syscall" is a known name that maps to no code.
func EventCodes(name string) int {
	return loadEvents().codes[name]
}

// KnownEvent reports whether evt.type accepts this name (libs event table,
// syscall names and the async events of the container/k8smeta plugins).
func KnownEvent(name string) bool {
	_, ok := loadEvents().codes[name]
	return ok
}

// AllEventCodes is the total number of event codes (the size of the universe), for complements.
func AllEventCodes() int {
	return loadEvents().all
}

// EventNames lists all known event type names, sorted.
func EventNames() []string {
	return append([]string(nil), loadEvents().names...)
}

// IsEventArg reports whether name is the name of an event parameter in the
// libs event table, as used by evt.arg.<name> and evt.rawarg.<name>.
func IsEventArg(name string) bool {
	return loadEvents().args[name]
}
