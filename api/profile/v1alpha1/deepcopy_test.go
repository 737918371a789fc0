package v1alpha1

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func ptr(s string) *string { return &s }

func filled() *FalcoProfile {
	return &FalcoProfile{
		TypeMeta:   metav1.TypeMeta{APIVersion: SchemeGroupVersion.String(), Kind: Kind},
		ObjectMeta: metav1.ObjectMeta{Name: "falco", Labels: map[string]string{"a": "b"}},
		Spec: Spec{
			Versions: Versions{
				Falco:         []FalcoVersion{{Classification: "deprecated", ExpirationDate: ptr("2026-07-31T23:59:59Z"), Version: "0.42.1", RulesVersion: "5.0.0", EngineVersion: "0.57.0"}},
				Falcosidekick: []FalcosidekickVersion{{Classification: "supported", ExpirationDate: ptr("2027-01-01T00:00:00Z"), Version: "2.32.0"}},
				Falcoctl:      []FalcoctlVersion{{Classification: "supported", ExpirationDate: ptr("2027-01-01T00:00:00Z"), Version: "0.13.0"}},
			},
			Images: Images{
				Falco:         []ImageSpec{{Version: "0.42.1", Repository: "falcosecurity/falco", Tag: "0.42.1"}},
				Falcosidekick: []ImageSpec{{Version: "2.32.0", Repository: "falcosecurity/falcosidekick", Tag: "2.32.0"}},
				Falcoctl:      []ImageSpec{{Version: "0.13.0", Repository: "falcosecurity/falcoctl", Tag: "0.13.0"}},
			},
		},
	}
}

// TestDeepCopyIndependent changes every pointer, slice and map of a
// (generated) copy and requires the original to be unchanged.
func TestDeepCopyIndependent(t *testing.T) {
	orig := filled()
	c := orig.DeepCopy()
	require.Equal(t, orig, c, "copy differs")
	c.Labels["a"] = "changed"
	*c.Spec.Versions.Falco[0].ExpirationDate = "changed"
	*c.Spec.Versions.Falcosidekick[0].ExpirationDate = "changed"
	*c.Spec.Versions.Falcoctl[0].ExpirationDate = "changed"
	c.Spec.Versions.Falco[0].EngineVersion = "changed"
	c.Spec.Images.Falco[0].Tag = "changed"
	c.Spec.Images.Falcosidekick[0].Tag = "changed"
	c.Spec.Images.Falcoctl[0].Tag = "changed"
	assert.Equal(t, filled(), orig, "changing the copy changed the original")

	list := &FalcoProfileList{Items: []FalcoProfile{*filled()}}
	lc := list.DeepCopyObject().(*FalcoProfileList)
	*lc.Items[0].Spec.Versions.Falco[0].ExpirationDate = "changed"
	assert.NotEqual(t, "changed", *list.Items[0].Spec.Versions.Falco[0].ExpirationDate, "list copy shares items")
	var nilProfile *FalcoProfile
	assert.Nil(t, nilProfile.DeepCopy(), "nil copy")
}

func TestScheme(t *testing.T) {
	s := runtime.NewScheme()
	require.NoError(t, AddToScheme(s))
	gvks, _, err := s.ObjectKinds(&FalcoProfile{})
	require.NoError(t, err)
	require.Len(t, gvks, 1)
	assert.Equal(t, "falco.gardener.cloud", gvks[0].Group)
	assert.Equal(t, "v1alpha1", gvks[0].Version)
	assert.Equal(t, "FalcoProfile", gvks[0].Kind)
}

// TestJSONTags pins the wire names (Gardener's, plus engineVersion).
func TestJSONTags(t *testing.T) {
	data, err := json.Marshal(filled().Spec)
	require.NoError(t, err)
	want := `{"versions":{"falco":[{"classification":"deprecated","expirationDate":"2026-07-31T23:59:59Z","version":"0.42.1","rulesVersion":"5.0.0","engineVersion":"0.57.0"}],` +
		`"falcosidekick":[{"classification":"supported","expirationDate":"2027-01-01T00:00:00Z","version":"2.32.0"}],` +
		`"falcoctl":[{"classification":"supported","expirationDate":"2027-01-01T00:00:00Z","version":"0.13.0"}]},` +
		`"images":{"falco":[{"version":"0.42.1","repository":"falcosecurity/falco","tag":"0.42.1"}],` +
		`"falcosidekick":[{"version":"2.32.0","repository":"falcosecurity/falcosidekick","tag":"2.32.0"}],` +
		`"falcoctl":[{"version":"0.13.0","repository":"falcosecurity/falcoctl","tag":"0.13.0"}]}}`
	assert.Equal(t, want, string(data))
	v, err := json.Marshal(FalcoVersion{Version: "0.42.1"})
	require.NoError(t, err)
	assert.Equal(t, `{"classification":"","version":"0.42.1","rulesVersion":""}`, string(v), "omitempty")
}
