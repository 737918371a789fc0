package v1alpha1

import (
	"encoding/json"
	"reflect"
	"testing"

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

// TestDeepCopyIndependent changes every pointer, slice and map of a copy and
// requires the original to be unchanged.
func TestDeepCopyIndependent(t *testing.T) {
	orig := filled()
	c := orig.DeepCopy()
	if !reflect.DeepEqual(orig, c) {
		t.Fatal("copy differs")
	}
	c.Labels["a"] = "changed"
	*c.Spec.Versions.Falco[0].ExpirationDate = "changed"
	*c.Spec.Versions.Falcosidekick[0].ExpirationDate = "changed"
	*c.Spec.Versions.Falcoctl[0].ExpirationDate = "changed"
	c.Spec.Versions.Falco[0].EngineVersion = "changed"
	c.Spec.Images.Falco[0].Tag = "changed"
	c.Spec.Images.Falcosidekick[0].Tag = "changed"
	c.Spec.Images.Falcoctl[0].Tag = "changed"
	if !reflect.DeepEqual(orig, filled()) {
		t.Errorf("changing the copy changed the original: %+v", orig)
	}

	list := &FalcoProfileList{Items: []FalcoProfile{*filled()}}
	lc := list.DeepCopyObject().(*FalcoProfileList)
	*lc.Items[0].Spec.Versions.Falco[0].ExpirationDate = "changed"
	if *list.Items[0].Spec.Versions.Falco[0].ExpirationDate == "changed" {
		t.Error("list copy shares items")
	}
	var nilProfile *FalcoProfile
	if nilProfile.DeepCopy() != nil {
		t.Error("nil copy")
	}
}

func TestScheme(t *testing.T) {
	s := runtime.NewScheme()
	if err := AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	gvks, _, err := s.ObjectKinds(&FalcoProfile{})
	if err != nil || len(gvks) != 1 || gvks[0].Group != "falco.gardener.cloud" || gvks[0].Version != "v1alpha1" || gvks[0].Kind != "FalcoProfile" {
		t.Errorf("kinds %v, %v", gvks, err)
	}
}

// TestJSONTags pins the wire names (Gardener's, plus engineVersion).
func TestJSONTags(t *testing.T) {
	data, err := json.Marshal(filled().Spec)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"versions":{"falco":[{"classification":"deprecated","expirationDate":"2026-07-31T23:59:59Z","version":"0.42.1","rulesVersion":"5.0.0","engineVersion":"0.57.0"}],` +
		`"falcosidekick":[{"classification":"supported","expirationDate":"2027-01-01T00:00:00Z","version":"2.32.0"}],` +
		`"falcoctl":[{"classification":"supported","expirationDate":"2027-01-01T00:00:00Z","version":"0.13.0"}]},` +
		`"images":{"falco":[{"version":"0.42.1","repository":"falcosecurity/falco","tag":"0.42.1"}],` +
		`"falcosidekick":[{"version":"2.32.0","repository":"falcosecurity/falcosidekick","tag":"2.32.0"}],` +
		`"falcoctl":[{"version":"0.13.0","repository":"falcosecurity/falcoctl","tag":"0.13.0"}]}}`
	if string(data) != want {
		t.Errorf("got  %s\nwant %s", data, want)
	}
	v, _ := json.Marshal(FalcoVersion{Version: "0.42.1"})
	if string(v) != `{"classification":"","version":"0.42.1","rulesVersion":""}` {
		t.Errorf("omitempty: %s", v)
	}
}
