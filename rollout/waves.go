package rollout

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
)

// Waves assigns shoots to the waves of a policy.
type Waves struct {
	waves     []falcopsv1alpha1.Wave
	selectors []labels.Selector
}

// NewWaves prepares the policy's waves; nil or no waves means one wave
// named "all".
func NewWaves(p *falcopsv1alpha1.RolloutPolicy) (*Waves, error) {
	w := &Waves{}
	if p != nil {
		w.waves = p.Spec.Waves
	}
	if len(w.waves) == 0 {
		w.waves = []falcopsv1alpha1.Wave{{Name: "all"}}
	}
	for _, wave := range w.waves {
		var sel labels.Selector
		if wave.Selector != nil {
			s, err := metav1.LabelSelectorAsSelector(wave.Selector)
			if err != nil {
				return nil, fmt.Errorf("wave %s: %w", wave.Name, err)
			}
			sel = s
		}
		w.selectors = append(w.selectors, sel)
	}
	return w, nil
}

// Len is the number of waves.
func (w *Waves) Len() int { return len(w.waves) }

// Name of wave i.
func (w *Waves) Name(i int) string { return w.waves[i].Name }

// Of returns the wave index of a shoot: the first wave whose selector
// matches; else, by a stable hash of namespace/name into 100 buckets, the
// first percent wave whose cumulative share covers the bucket; else the
// last wave.
func (w *Waves) Of(namespace, name string, lbls map[string]string) int {
	set := labels.Set(lbls)
	for i, s := range w.selectors {
		if s != nil && s.Matches(set) {
			return i
		}
	}
	sum := sha256.Sum256([]byte(namespace + "/" + name))
	bucket := int(binary.BigEndian.Uint64(sum[:8]) % 100)
	cum := 0
	for i, wave := range w.waves {
		if w.selectors[i] != nil || wave.Percent == nil {
			continue
		}
		cum += int(*wave.Percent)
		if bucket < cum {
			return i
		}
	}
	return len(w.waves) - 1
}

// Revision names the rollout inputs: the profiles (name and generation)
// and every RuleSource's verified digests. Any change starts a new rollout.
func Revision(profiles []profilev1alpha1.FalcoProfile, sources []falcopsv1alpha1.RuleSource) string {
	var parts []string
	for _, p := range profiles {
		parts = append(parts, fmt.Sprintf("p:%s:%d", p.Name, p.Generation))
	}
	for _, s := range sources {
		ds := make([]string, 0, len(s.Status.Versions))
		for _, v := range s.Status.Versions {
			ds = append(ds, v.Digest)
		}
		slices.Sort(ds)
		parts = append(parts, fmt.Sprintf("s:%s:%s:%s", s.Name, s.Spec.Ruleset, strings.Join(ds, ",")))
	}
	slices.Sort(parts)
	sum := sha256.Sum256([]byte(strings.Join(parts, "\n")))
	return hex.EncodeToString(sum[:6])
}
