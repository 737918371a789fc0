package v1alpha1

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"

	kjson "sigs.k8s.io/json"
)

// The texts of Decode's and Encode's errors. Users read them in conditions
// and events and tests match on them, so they are API: decode_test.go pins
// every one. Unknown and duplicate fields keep sigs.k8s.io/json's own texts
// (unknown field "p", duplicate field "p"), which are what apimachinery's
// strict decoding, and so Gardener, reports; only their path is rewritten.
//
// A path names a field as all these texts do: fields joined by ".", list
// indices and map keys in brackets, such as destinations[1].enabled or
// nodeSelector["a"].
const (
	msgEmpty      = "providerConfig is empty"
	msgNotObject  = "providerConfig is not a JSON object but %s"
	msgInvalid    = "invalid providerConfig: %w"
	msgInvalidAt  = "invalid providerConfig at %q: %w"
	msgTrailing   = "invalid providerConfig: data after the JSON object"
	msgRemoved    = "%w (removed from FalcoServiceConfig by Gardener PR #277)"
	msgWrongKind  = "field %q: got %s, want %s"
	msgOutOfRange = "field %q: cannot decode JSON %s into %s"
	msgWrongValue = "field %q: got %q, want %q"
	msgEncodeNil  = "cannot encode a nil FalcoServiceConfig"
)

// removedFields are the top-level fields Gardener PR #277 removed from
// FalcoServiceConfig; Decode names them in its error.
var removedFields = map[string]bool{"resources": true, "falcoCtl": true, "gardener": true, "webhook": true}

// Decode decodes a providerConfig strictly, as Gardener's admission
// webhooks do:
//   - data must be one JSON object (nil, empty data and null are errors;
//     the caller checks whether a providerConfig is present at all);
//   - field names match exactly (case-sensitively), and unknown or
//     duplicate fields are errors naming the field's path, such as
//     rules.custom[0].configMap;
//   - apiVersion must be falco.extensions.gardener.cloud/v1alpha1 and kind
//     FalcoServiceConfig.
//
// sigs.k8s.io/json does the strict decoding, the library apimachinery's
// strict decoding is built on. A Shoot's providerConfig reaches clients as
// JSON from the API server, so Decode takes JSON only.
func Decode(data []byte) (*FalcoServiceConfig, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New(msgEmpty)
	}
	if err := requireObject(data); err != nil {
		return nil, err
	}
	cfg := &FalcoServiceConfig{}
	strict, err := kjson.UnmarshalStrict(data, cfg)
	if err != nil {
		return nil, decodeError(data, err)
	}
	if len(strict) > 0 {
		// The first in document order, as a reader fixes them.
		return nil, strictError(data, strict[0])
	}
	if err := checkTypeMeta(cfg.APIVersion, cfg.Kind); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Encode encodes cfg as JSON. An empty apiVersion or kind is filled in (in
// the output only); a different one is an error. Absent fields stay
// absent.
func Encode(cfg *FalcoServiceConfig) ([]byte, error) {
	if cfg == nil {
		return nil, errors.New(msgEncodeNil)
	}
	out := *cfg // shallow: only the two strings change
	if out.APIVersion == "" {
		out.APIVersion = SchemeGroupVersion.String()
	}
	if out.Kind == "" {
		out.Kind = Kind
	}
	if err := checkTypeMeta(out.APIVersion, out.Kind); err != nil {
		return nil, err
	}
	return json.Marshal(&out)
}

// checkTypeMeta requires FalcoServiceConfig's apiVersion and kind.
func checkTypeMeta(apiVersion, kind string) error {
	if want := SchemeGroupVersion.String(); apiVersion != want {
		return fmt.Errorf(msgWrongValue, "apiVersion", apiVersion, want)
	}
	if kind != Kind {
		return fmt.Errorf(msgWrongValue, "kind", kind, Kind)
	}
	return nil
}

// requireObject rejects data that does not start a JSON object: null, for
// one, would decode into an empty config without complaint.
func requireObject(data []byte) error {
	tok, err := json.NewDecoder(bytes.NewReader(data)).Token()
	if err != nil {
		return syntaxError("", err)
	}
	if tok != json.Delim('{') {
		return fmt.Errorf(msgNotObject, jsonKind(tok))
	}
	return nil
}

// decodeError explains an error of sigs.k8s.io/json with the path of the
// value it concerns, which the library does not give: its syntax errors
// have none, and its type errors leave out list indices and map keys.
func decodeError(data []byte, err error) error {
	if isSyntax, _ := kjson.SyntaxErrorOffset(err); isSyntax {
		if _, _, werr := walk(data, func(span) bool { return false }); werr != nil {
			return werr
		}
		return fmt.Errorf(msgInvalid, err) // not reached: walk finds what the library found
	}
	var typeErr *json.UnmarshalTypeError
	if !errors.As(err, &typeErr) {
		return fmt.Errorf(msgInvalid, err)
	}
	// Offset is just past the offending literal or opening bracket, so the
	// innermost value that ends at or after it and starts before it is the
	// offending one.
	s, ok, _ := walk(data, func(s span) bool { return s.start < typeErr.Offset && typeErr.Offset <= s.end })
	if !ok {
		s = span{path: typeErr.Field, kind: "a value"}
	}
	if want := goKind(typeErr.Type); s.kind != want {
		return fmt.Errorf(msgWrongKind, s.path, s.kind, want)
	}
	// The right kind but not representable, such as 1.5 for an integer.
	return fmt.Errorf(msgOutOfRange, s.path, typeErr.Value, typeErr.Type)
}

// strictError rewrites the path of an unknown or duplicate field error into
// the notation of the texts above (sigs.k8s.io/json writes a map key like a
// field: nodeSelector.a) and names the fields Gardener removed.
func strictError(data []byte, err error) error {
	var fieldErr kjson.FieldError
	if !errors.As(err, &fieldErr) {
		return err
	}
	flat := fieldErr.FieldPath()
	if s, ok, _ := walk(data, func(s span) bool { return s.flat == flat }); ok {
		fieldErr.SetFieldPath(s.path)
	}
	if removedFields[flat] {
		return fmt.Errorf(msgRemoved, fieldErr)
	}
	return fieldErr
}

// syntaxError describes malformed JSON inside the value at path.
func syntaxError(path string, err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	if path == "" {
		return fmt.Errorf(msgInvalid, err)
	}
	return fmt.Errorf(msgInvalidAt, path, err)
}

// jsonKind describes the JSON value that starts with tok.
func jsonKind(tok json.Token) string {
	switch tok.(type) {
	case json.Delim:
		if tok == json.Delim('[') {
			return "an array"
		}
		return "an object"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64, json.Number:
		return "a number"
	}
	return "null"
}

// goKind describes the JSON value that decodes into t.
func goKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	}
	return t.String()
}
