package v1alpha1

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
)

// GroupName is the API group of FalcoServiceConfig.
const GroupName = "falco.extensions.gardener.cloud"

// Kind is the kind of a FalcoServiceConfig document.
const Kind = "FalcoServiceConfig"

// GroupVersion is an API group and version. It mirrors apimachinery's
// schema.GroupVersion (String gives the same apiVersion) so that this
// package stays stdlib-only: FalcoServiceConfig is never registered in a
// runtime.Scheme.
//
// +kubebuilder:object:generate=false
type GroupVersion struct {
	Group   string
	Version string
}

// String returns the apiVersion, group/version.
func (gv GroupVersion) String() string {
	return gv.Group + "/" + gv.Version
}

// SchemeGroupVersion is the group and version of FalcoServiceConfig; its
// String is the apiVersion a providerConfig must carry.
var SchemeGroupVersion = GroupVersion{Group: GroupName, Version: "v1alpha1"}

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
// A Shoot's providerConfig reaches clients as JSON from the API server, so
// Decode takes JSON only.
func Decode(data []byte) (*FalcoServiceConfig, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("providerConfig is empty")
	}
	if err := checkFields(data); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	cfg := &FalcoServiceConfig{}
	if err := dec.Decode(cfg); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return nil, fmt.Errorf("field %q: cannot decode JSON %s into %s", typeErr.Field, typeErr.Value, typeErr.Type)
		}
		return nil, fmt.Errorf("invalid providerConfig: %w", err)
	}
	if want := SchemeGroupVersion.String(); cfg.APIVersion != want {
		return nil, fmt.Errorf("field \"apiVersion\": got %q, want %q", cfg.APIVersion, want)
	}
	if cfg.Kind != Kind {
		return nil, fmt.Errorf("field \"kind\": got %q, want %q", cfg.Kind, Kind)
	}
	return cfg, nil
}

// Encode encodes cfg as JSON. An empty apiVersion or kind is filled in (in
// the output only); a different one is an error. Absent fields stay
// absent.
func Encode(cfg *FalcoServiceConfig) ([]byte, error) {
	if cfg == nil {
		return nil, errors.New("cannot encode a nil FalcoServiceConfig")
	}
	out := *cfg // shallow: only the two strings change
	if want := SchemeGroupVersion.String(); out.APIVersion == "" {
		out.APIVersion = want
	} else if out.APIVersion != want {
		return nil, fmt.Errorf("field \"apiVersion\": got %q, want %q", out.APIVersion, want)
	}
	if out.Kind == "" {
		out.Kind = Kind
	} else if out.Kind != Kind {
		return nil, fmt.Errorf("field \"kind\": got %q, want %q", out.Kind, Kind)
	}
	return json.Marshal(&out)
}

// checkFields walks data's tokens along FalcoServiceConfig's type and
// rejects what encoding/json would let through: field names that match
// only case-insensitively, unknown fields and duplicate fields. It also
// reports values of the wrong JSON kind. Every error names the field's full
// path, such as destinations[1].enabled. What it cannot see (a number out of
// range) is left to json.Decoder.
func checkFields(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return syntaxError("", err)
	}
	if tok != json.Delim('{') {
		return fmt.Errorf("providerConfig is not a JSON object but %s", jsonKind(tok))
	}
	if err := checkObject(dec, reflect.TypeFor[FalcoServiceConfig](), ""); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("invalid providerConfig: data after the JSON object")
	}
	return nil
}

// checkValue checks the next JSON value against type t.
func checkValue(dec *json.Decoder, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	tok, err := dec.Token()
	if err != nil {
		return syntaxError(path, err)
	}
	switch {
	case tok == json.Delim('{') && t.Kind() == reflect.Struct:
		return checkObject(dec, t, path)
	case tok == json.Delim('{') && t.Kind() == reflect.Map:
		seen := map[string]bool{}
		for dec.More() {
			key, err := nextKey(dec, path)
			if err != nil {
				return err
			}
			p := path + "[" + strconv.Quote(key) + "]"
			if seen[key] {
				return fmt.Errorf("duplicate field %q", p)
			}
			seen[key] = true
			if err := checkValue(dec, t.Elem(), p); err != nil {
				return err
			}
		}
	case tok == json.Delim('[') && t.Kind() == reflect.Slice:
		for i := 0; dec.More(); i++ {
			if err := checkValue(dec, t.Elem(), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	case tok == nil:
		return nil // null leaves any field at its zero value, as in encoding/json
	default:
		if got, want := jsonKind(tok), goKind(t); got != want {
			return fmt.Errorf("field %q: got %s, want %s", path, got, want)
		}
		return nil // a scalar of the right kind; its range is json.Decoder's job
	}
	return closing(dec, path)
}

// checkObject checks the members of an object whose '{' was read.
func checkObject(dec *json.Decoder, t reflect.Type, path string) error {
	fields := jsonFields(t)
	seen := map[string]bool{}
	for dec.More() {
		key, err := nextKey(dec, path)
		if err != nil {
			return err
		}
		p := key
		if path != "" {
			p = path + "." + key
		}
		ft, ok := fields[key]
		if !ok {
			if path == "" && removedFields[key] {
				return fmt.Errorf("unknown field %q (removed from FalcoServiceConfig by Gardener PR #277)", p)
			}
			return fmt.Errorf("unknown field %q", p)
		}
		if seen[key] {
			return fmt.Errorf("duplicate field %q", p)
		}
		seen[key] = true
		if err := checkValue(dec, ft, p); err != nil {
			return err
		}
	}
	return closing(dec, path)
}

// closing reads the delimiter that closes the object or array at path.
func closing(dec *json.Decoder, path string) error {
	if _, err := dec.Token(); err != nil {
		return syntaxError(path, err)
	}
	return nil
}

// syntaxError describes malformed JSON at path.
func syntaxError(path string, err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	if path == "" {
		return fmt.Errorf("invalid providerConfig: %w", err)
	}
	return fmt.Errorf("invalid providerConfig at %q: %w", path, err)
}

func nextKey(dec *json.Decoder, path string) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", syntaxError(path, err)
	}
	key, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("invalid providerConfig at %q: object key %v is not a string", path, tok)
	}
	return key, nil
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

// jsonFields maps the exact JSON names of struct t's fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		fields[name] = f.Type
	}
	return fields
}
