package v1alpha1

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
)

// A span is one value in a providerConfig, found by walk.
type span struct {
	// path is the value's path in the notation of Decode's errors
	// (nodeSelector["a"]); flat is the one sigs.k8s.io/json reports
	// (nodeSelector.a).
	path, flat string
	// kind is the value's JSON kind, as jsonKind names it.
	kind string
	// start and end are byte offsets: end is just past the value, start
	// just past the token before it (so it may include a ':' and blanks).
	start, end int64
}

// walk reads data along FalcoServiceConfig's type, only to name places:
// checking is sigs.k8s.io/json's job. It calls visit for every value, a
// value after everything inside it, and stops at the first for which visit
// returns true. Malformed JSON is an error naming the path of the value it
// is in, and so is data after the object.
func walk(data []byte, visit func(span) bool) (span, bool, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // a number too large for float64 is a value here, not an error
	w := &walker{dec: dec, visit: visit}
	if done, err := w.value(reflect.TypeFor[FalcoServiceConfig](), "", ""); done || err != nil {
		return w.found, done, err
	}
	if _, err := w.dec.Token(); !errors.Is(err, io.EOF) {
		return span{}, false, errors.New(msgTrailing)
	}
	return span{}, false, nil
}

type walker struct {
	dec   *json.Decoder
	visit func(span) bool
	found span
}

// value reads the next value, whose Go type is t (nil for an unknown
// field), and reports whether visit stopped the walk in it.
func (w *walker) value(t reflect.Type, path, flat string) (bool, error) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	start := w.dec.InputOffset()
	tok, err := w.dec.Token()
	if err != nil {
		return false, syntaxError(path, err)
	}
	switch tok {
	case json.Delim('{'):
		for w.dec.More() {
			tok, err := w.dec.Token()
			if err != nil {
				return false, syntaxError(path, err)
			}
			key, _ := tok.(string) // json.Decoder has checked that keys are strings
			childType, childPath := member(t, path, key)
			if done, err := w.value(childType, childPath, joinKey(flat, key)); done || err != nil {
				return done, err
			}
		}
	case json.Delim('['):
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; w.dec.More(); i++ {
			if done, err := w.value(elem, index(path, i), index(flat, i)); done || err != nil {
				return done, err
			}
		}
	}
	if _, ok := tok.(json.Delim); ok {
		if _, err := w.dec.Token(); err != nil { // the closing bracket
			return false, syntaxError(path, err)
		}
	}
	s := span{path: path, flat: flat, kind: jsonKind(tok), start: start, end: w.dec.InputOffset()}
	if w.visit(s) {
		w.found = s
		return true, nil
	}
	return false, nil
}

// member returns the type and path of member key of an object of type t:
// a map entry or a struct field.
func member(t reflect.Type, path, key string) (reflect.Type, string) {
	if t != nil && t.Kind() == reflect.Map {
		return t.Elem(), path + "[" + strconv.Quote(key) + "]"
	}
	return fieldType(t, key), joinKey(path, key)
}

// fieldType returns the type of the field of struct t whose JSON name is
// exactly key, or nil (an unknown field, or t is not a struct).
func fieldType(t reflect.Type, key string) reflect.Type {
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if !f.IsExported() || tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		if name == key {
			return f.Type
		}
	}
	return nil
}

// joinKey appends a field name to a path.
func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// index appends a list index to a path.
func index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}
