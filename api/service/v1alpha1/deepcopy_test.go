package v1alpha1

import (
	"encoding/json"
	"reflect"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fill sets every field reachable from v to a non-zero value: pointers are
// allocated, slices and maps get two entries. A field added to types.go is
// filled without touching this test.
func fill(t *testing.T, v reflect.Value, n *int) {
	t.Helper()
	*n++
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, v.Elem(), n)
	case reflect.Struct:
		for i := range v.NumField() {
			fill(t, v.Field(i), n)
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range v.Len() {
			fill(t, v.Index(i), n)
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		for range 2 {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(t, k, n)
			fill(t, e, n)
			v.SetMapIndex(k, e)
		}
	case reflect.String:
		v.SetString("s" + strconv.Itoa(*n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(*n))
	default:
		require.FailNow(t, "fill: add a case for "+v.Type().String())
	}
}

// shared reports the first path at which a and b share memory.
func shared(a, b reflect.Value, path string) string {
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() {
			return ""
		}
		if a.Pointer() == b.Pointer() {
			return path
		}
		return shared(a.Elem(), b.Elem(), "(*"+path+")")
	case reflect.Struct:
		for i := range a.NumField() {
			if p := shared(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); p != "" {
				return p
			}
		}
	case reflect.Slice:
		if a.Len() > 0 && a.Pointer() == b.Pointer() {
			return path
		}
		for i := range a.Len() {
			if p := shared(a.Index(i), b.Index(i), path+"["+strconv.Itoa(i)+"]"); p != "" {
				return p
			}
		}
	case reflect.Map:
		if !a.IsNil() && a.Pointer() == b.Pointer() {
			return path
		}
	}
	return ""
}

// TestDeepCopyIndependent checks the generated deep copy on a config with
// every field set: equal to the original, sharing no memory with it, and
// nil and empty lists kept apart.
func TestDeepCopyIndependent(t *testing.T) {
	in := &FalcoServiceConfig{}
	fill(t, reflect.ValueOf(in).Elem(), new(int))

	out := in.DeepCopy()
	require.Equal(t, in, out)
	require.Empty(t, shared(reflect.ValueOf(in), reflect.ValueOf(out), "cfg"), "DeepCopy shares memory")

	// Changing the copy leaves the original alone.
	before, err := json.Marshal(in)
	require.NoError(t, err)
	*out.FalcoVersion = "changed"
	(*out.NodeSelector)["new"] = "x"
	(*out.Tolerations)[0].Key = "changed"
	*(*out.Tolerations)[0].TolerationSeconds = -1
	*out.FalcoConfig.Resources.Requests.CPU = "changed"
	(*out.Rules.StandardRules)[0] = "changed"
	(*out.Rules.CustomRules)[0].ResourceName = "changed"
	out.Rules.Pinned[0].Ref = "changed"
	*(*out.Destinations)[1].Enabled = false
	after, err := json.Marshal(in)
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after), "changing the copy changed the original")

	// nil and empty are kept apart.
	assert.Nil(t, (*FalcoServiceConfig)(nil).DeepCopy())
	empty := []string{}
	c := (&FalcoServiceConfig{Rules: &Rules{StandardRules: &empty, Pinned: []PinnedRuleset{}}}).DeepCopy()
	if assert.NotNil(t, c.Rules.StandardRules, "DeepCopy turned an empty list into nil") {
		assert.NotNil(t, *c.Rules.StandardRules, "DeepCopy turned an empty list into nil")
	}
	assert.NotNil(t, c.Rules.Pinned, "DeepCopy turned an empty list into nil")
	assert.Nil(t, c.FalcoConfig, "DeepCopy turned nil into non-nil")
	assert.Nil(t, c.Destinations, "DeepCopy turned nil into non-nil")
	assert.Nil(t, c.Rules.CustomRules, "DeepCopy turned nil into non-nil")
}
