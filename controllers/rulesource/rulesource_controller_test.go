package rulesource

import (
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	digest "github.com/opencontainers/go-digest"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/internal/testenv"
	"github.com/falcops/falcops/oci"
)

// TestRuleSource runs the controller against a real API server (envtest)
// and a real registry with real signatures. The subtests share the API
// server; each has its own registry, namespace and manager.
func TestRuleSource(t *testing.T) {
	if os.Getenv("FALCOPS_TEST_LOG") != "" {
		ctrl.SetLogger(funcr.New(func(prefix, args string) { fmt.Fprintln(os.Stderr, prefix, args) }, funcr.Options{Verbosity: 1}))
	}
	s := &suite{env: testenv.Start(t)}
	s.key, s.other = newKeyPair(t), newKeyPair(t)

	t.Run("HappyPath", func(t *testing.T) { testHappyPath(t, s) })
	t.Run("OneRequestPerInterval", func(t *testing.T) { testOneRequestPerInterval(t, s) })
	t.Run("SupplyChain", func(t *testing.T) { testSupplyChain(t, s) })
	t.Run("Backfill", func(t *testing.T) { testBackfill(t, s) })
	t.Run("RegistryDown", func(t *testing.T) { testRegistryDown(t, s) })
	t.Run("MissingSecret", func(t *testing.T) { testMissingSecret(t, s) })
	t.Run("TagsNeverLowerVersions", func(t *testing.T) { testTagsNeverLowerVersions(t, s) })
	t.Run("CrossRepositoryCopy", func(t *testing.T) { testCrossRepositoryCopy(t, s) })
	t.Run("PrivateRegistry", func(t *testing.T) { testPrivateRegistry(t, s) })
	t.Run("InlineKeyAndInsecureRemote", func(t *testing.T) { testInlineKeyAndInsecureRemote(t, s) })
	t.Run("HostileRegistry", func(t *testing.T) { testHostileRegistry(t, s) })
}

// testHappyPath: a signed release is listed with its digest and engine
// requirement; a newer release is listed first.
func testHappyPath(t *testing.T, s *suite) {
	f := newFixture(t, s, fixtureOptions{})
	d100 := f.publish("1.0.0", "0.40.0", "", publishOptions{key: &s.key})
	name := f.createRuleSource(ruleSourceOptions{follow: "1", interval: time.Second})

	f.eventually(name, waitTimeout, func(c *assert.CollectT, rs *falcopsv1alpha1.RuleSource) {
		ready(c, rs)
		want := falcopsv1alpha1.RulesetVersion{Version: "1.0.0", Digest: d100.String(), EngineVersion: "0.40.0"}
		if assert.NotNil(c, rs.Status.Latest) {
			assert.Equal(c, want, withoutTime(*rs.Status.Latest))
		}
		if assert.Len(c, rs.Status.Versions, 1) {
			assert.Equal(c, want, withoutTime(rs.Status.Versions[0]))
			assert.False(c, rs.Status.Versions[0].VerifiedAt.IsZero(), "verifiedAt")
		}
		assert.Nil(c, rs.Status.Rejected)
	})

	d110 := f.publish("1.1.0", "0.41.0", "", publishOptions{key: &s.key})
	f.eventually(name, waitTimeout, func(c *assert.CollectT, rs *falcopsv1alpha1.RuleSource) {
		ready(c, rs)
		if assert.Len(c, rs.Status.Versions, 2) {
			assert.Equal(c, falcopsv1alpha1.RulesetVersion{Version: "1.1.0", Digest: d110.String(), EngineVersion: "0.41.0"},
				withoutTime(rs.Status.Versions[0]))
			assert.Equal(c, vd("1.0.0", d100), versionsOf(rs)[1])
		}
		if assert.NotNil(c, rs.Status.Latest) {
			assert.Equal(c, d110.String(), rs.Status.Latest.Digest)
		}
	})
	assert.Equal(t, 1, f.events.count(name, falcopsv1alpha1.ReasonDigestResolved, "falco-rules 1.1.0 verified "+d110.String()))
	assert.Equal(t, 1, f.events.count(name, falcopsv1alpha1.ReasonDigestResolved, "falco-rules 1.0.0 verified "+d100.String()))
}

// testOneRequestPerInterval: once the digest is known, a steady registry
// sees one HEAD per interval and nothing else, and the status is not
// written.
func testOneRequestPerInterval(t *testing.T, s *suite) {
	f := newFixture(t, s, fixtureOptions{})
	f.publish("1.0.0", "0.40.0", "", publishOptions{key: &s.key})
	name := f.createRuleSource(ruleSourceOptions{follow: "1", interval: time.Second})
	rs := f.eventually(name, waitTimeout, func(c *assert.CollectT, rs *falcopsv1alpha1.RuleSource) {
		ready(c, rs)
		assert.Len(c, rs.Status.Versions, 1)
	})

	const intervals = 5
	heads, all := f.reg.RequestsOf("HEAD manifests"), f.reg.Requests()
	metricHeads := testutil.ToFloat64(registryRequests.WithLabelValues("HEAD", "200"))
	time.Sleep(intervals*time.Second + 500*time.Millisecond)
	heads, all = f.reg.RequestsOf("HEAD manifests")-heads, f.reg.Requests()-all
	metricHeads = testutil.ToFloat64(registryRequests.WithLabelValues("HEAD", "200")) - metricHeads

	t.Logf("%d HEADs, %d requests in %d intervals", heads, all, intervals)
	assert.GreaterOrEqual(t, heads, int64(intervals-1), "the tag is polled every interval")
	assert.LessOrEqual(t, heads, int64(intervals+1), "at most one HEAD per interval")
	assert.Equal(t, heads, all, "nothing but HEADs: no GETs of manifests, blobs or tags")
	assert.InDelta(t, float64(heads), metricHeads, 1, "falcops_registry_requests_total{verb=HEAD,code=200}")

	after, err := f.get(name)
	require.NoError(t, err)
	assert.Equal(t, rs.ResourceVersion, after.ResourceVersion, "polls that change nothing write nothing")
}

// testSupplyChain: an unsigned digest, a digest signed with another key and
// a signature that claims another digest are never listed; status says
// why; a correctly signed digest after them is accepted.
func testSupplyChain(t *testing.T, s *suite) {
	// Long: one RuleSource stepped through each kind of bad digest in turn.
	f := newFixture(t, s, fixtureOptions{})
	dA := f.publish("1.0.0", "0.40.0", "", publishOptions{key: &s.key})
	name := f.createRuleSource(ruleSourceOptions{follow: "1", interval: time.Second})
	var mu sync.Mutex
	refused := map[string]bool{}
	refuse := func(d digest.Digest) {
		mu.Lock()
		defer mu.Unlock()
		refused[d.String()] = true
	}
	f.never(name, func(d string) bool {
		mu.Lock()
		defer mu.Unlock()
		return refused[d]
	})
	f.eventually(name, waitTimeout, func(c *assert.CollectT, rs *falcopsv1alpha1.RuleSource) {
		ready(c, rs)
		assert.Equal(c, []string{vd("1.0.0", dA)}, versionsOf(rs))
	})
	failures := func() float64 { return testutil.ToFloat64(verificationFailures.WithLabelValues(name)) }

	rejected := func(d digest.Digest, reason string, why string) *falcopsv1alpha1.RuleSource {
		t.Helper()
		return f.eventually(name, waitTimeout, func(c *assert.CollectT, rs *falcopsv1alpha1.RuleSource) {
			if assert.NotNil(c, rs.Status.Rejected) {
				assert.Equal(c, d.String(), rs.Status.Rejected.Digest)
				assert.Equal(c, reason, rs.Status.Rejected.Reason)
				assert.Contains(c, rs.Status.Rejected.Message, why)
				assert.False(c, rs.Status.Rejected.Since.IsZero())
			}
			if v := condition(c, rs, falcopsv1alpha1.VerifiedCondition, metav1.ConditionFalse, reason); v != nil {
				assert.Contains(c, v.Message, d.String())
				assert.Contains(c, v.Message, why)
			}
			condition(c, rs, falcopsv1alpha1.ReadyCondition, metav1.ConditionFalse, reason)
			condition(c, rs, falcopsv1alpha1.ResolvedCondition, metav1.ConditionTrue, falcopsv1alpha1.ReasonDigestResolved)
			// The last good versions stay.
			assert.Equal(c, []string{vd("1.0.0", dA)}, versionsOf(rs))
			if assert.NotNil(c, rs.Status.Latest) {
				assert.Equal(c, dA.String(), rs.Status.Latest.Digest)
			}
		})
	}

	// (a) Unsigned.
	before := failures()
	dB := f.publish("1.1.0", "0.40.0", "", publishOptions{beforeTags: refuse})
	rs := rejected(dB, falcopsv1alpha1.ReasonSignatureInvalid, "no signatures")
	// Re-checked every interval (the publisher may sign late), without a
	// status write or a new event each time.
	time.Sleep(2500 * time.Millisecond)
	assert.GreaterOrEqual(t, failures()-before, 3.0, "the rejected digest is verified again each interval")
	again, err := f.get(name)
	require.NoError(t, err)
	assert.Equal(t, rs.ResourceVersion, again.ResourceVersion, "re-checking the same rejected digest writes nothing")
	assert.Equal(t, 1, f.events.count(name, falcopsv1alpha1.ReasonSignatureInvalid, dB.String()), "one event per rejected digest")

	// (b) Signed with another key.
	dC := f.publish("1.2.0", "0.40.0", "", publishOptions{key: &s.other, beforeTags: refuse})
	rejected(dC, falcopsv1alpha1.ReasonSignatureInvalid, "no signature verifies")

	// (c) A valid signature of dA copied to dD's signature tag: the key
	// matches, the payload claims dA.
	dD := f.publish("1.3.0", "0.40.0", "", publishOptions{beforeTags: func(d digest.Digest) {
		refuse(d)
		sig, err := f.pub.Resolve(f.ctx, f.repo+":"+oci.SignatureTag(dA))
		require.NoError(t, err)
		require.NoError(t, f.pub.Tag(f.ctx, f.repo, sig.Digest, oci.SignatureTag(d)))
	}})
	rejected(dD, falcopsv1alpha1.ReasonSignatureInvalid, `payload names digest "`+dA.String()+`"`)

	// (d) Signed, but not a rules artifact.
	asset, err := artifacts.PackageAsset(testRuleset, "1.3.1", map[string][]byte{"profile.yaml": []byte("a: b\n")}, artifacts.PackageOptions{})
	require.NoError(t, err)
	dAsset := f.release(asset, "1.3.1", publishOptions{key: &s.key, beforeTags: refuse})
	rejected(dAsset, falcopsv1alpha1.ReasonInvalidArtifact, "not a falcoctl rulesfile artifact")

	// A correctly signed release is accepted.
	dE := f.publish("1.4.0", "0.40.0", "", publishOptions{key: &s.key})
	f.eventually(name, waitTimeout, func(c *assert.CollectT, rs *falcopsv1alpha1.RuleSource) {
		ready(c, rs)
		assert.Equal(c, []string{vd("1.4.0", dE), vd("1.0.0", dA)}, versionsOf(rs))
		if assert.NotNil(c, rs.Status.Latest) {
			assert.Equal(c, dE.String(), rs.Status.Latest.Digest)
		}
		// The last refusal stays on record.
		if assert.NotNil(c, rs.Status.Rejected) {
			assert.Equal(c, dAsset.String(), rs.Status.Rejected.Digest)
		}
	})
	for _, d := range []digest.Digest{dB, dC, dD} {
		assert.Equal(t, 1, f.events.count(name, falcopsv1alpha1.ReasonSignatureInvalid, d.String()), "event for %s", d)
	}
	assert.Equal(t, 1, f.events.count(name, falcopsv1alpha1.ReasonInvalidArtifact, dAsset.String()))
}

// testBackfill: the first poll lists the newest `history` releases of the
// followed line, verified like the followed tag; a spec change rebuilds
// the list for the new line.
func testBackfill(t *testing.T, s *suite) {
	f := newFixture(t, s, fixtureOptions{})
	signed := publishOptions{key: &s.key}
	d090 := f.publish("0.9.0", "0.38.0", "", signed)
	d100 := f.publish("1.0.0", "0.39.0", "", signed)
	d101 := f.publish("1.0.1", "0.39.0", "", signed)
	d102 := f.publish("1.0.2", "0.39.0", "", publishOptions{}) // unsigned
	d110 := f.publish("1.1.0", "0.40.0", "", signed)
	d200 := f.publish("2.0.0", "0.41.0", "", signed)
	name := f.createRuleSource(ruleSourceOptions{follow: "1", interval: time.Second, history: 3})
	f.never(name, func(d string) bool { return d == d102.String() })

	// The newest three of line 1 are 1.1.0, 1.0.2 (refused) and 1.0.1.
	f.eventually(name, waitTimeout, func(c *assert.CollectT, rs *falcopsv1alpha1.RuleSource) {
		ready(c, rs)
		assert.Equal(c, []string{vd("1.1.0", d110), vd("1.0.1", d101)}, versionsOf(rs))
		if assert.NotNil(c, rs.Status.Latest) {
			assert.Equal(c, d110.String(), rs.Status.Latest.Digest)
		}
		if assert.NotNil(c, rs.Status.Rejected) {
			assert.Equal(c, d102.String(), rs.Status.Rejected.Digest)
			assert.Equal(c, falcopsv1alpha1.ReasonSignatureInvalid, rs.Status.Rejected.Reason)
		}
	})

	// Another line: the list is rebuilt for it.
	patchSpec(t, f, name, func(rs *falcopsv1alpha1.RuleSource) { rs.Spec.Follow = "2" })
	f.eventually(name, waitTimeout, func(c *assert.CollectT, rs *falcopsv1alpha1.RuleSource) {
		ready(c, rs)
		assert.EqualValues(c, 2, rs.Status.ObservedGeneration)
		assert.Equal(c, []string{vd("2.0.0", d200)}, versionsOf(rs))
		if assert.NotNil(c, rs.Status.Latest) {
			assert.Equal(c, falcopsv1alpha1.RulesetVersion{Version: "2.0.0", Digest: d200.String(), EngineVersion: "0.41.0"},
				withoutTime(*rs.Status.Latest))
		}
	})

	// Everything, newest first.
	patchSpec(t, f, name, func(rs *falcopsv1alpha1.RuleSource) { rs.Spec.Follow = "latest"; rs.Spec.History = nil })
	f.eventually(name, waitTimeout, func(c *assert.CollectT, rs *falcopsv1alpha1.RuleSource) {
		ready(c, rs)
		assert.EqualValues(c, 3, rs.Status.ObservedGeneration)
		assert.Equal(c, []string{vd("2.0.0", d200), vd("1.1.0", d110), vd("1.0.1", d101), vd("1.0.0", d100), vd("0.9.0", d090)},
			versionsOf(rs))
	})
}

// testRegistryDown: while the registry is gone the verified versions stay
// and the RuleSource says why it is not ready; it recovers within one
// interval of the registry's return.
func testRegistryDown(t *testing.T, s *suite) {
	const interval = 3 * time.Second
	f := newFixture(t, s, fixtureOptions{})
	d100 := f.publish("1.0.0", "0.40.0", "", publishOptions{key: &s.key})
	name := f.createRuleSource(ruleSourceOptions{follow: "1", interval: interval})
	want := []string{vd("1.0.0", d100)}
	f.eventually(name, waitTimeout, func(c *assert.CollectT, rs *falcopsv1alpha1.RuleSource) {
		ready(c, rs)
		assert.Equal(c, want, versionsOf(rs))
	})

	f.reg.Stop()
	f.eventually(name, interval+5*time.Second, func(c *assert.CollectT, rs *falcopsv1alpha1.RuleSource) {
		condition(c, rs, falcopsv1alpha1.ResolvedCondition, metav1.ConditionFalse, falcopsv1alpha1.ReasonRegistryUnavailable)
		condition(c, rs, falcopsv1alpha1.ReadyCondition, metav1.ConditionFalse, falcopsv1alpha1.ReasonRegistryUnavailable)
		condition(c, rs, falcopsv1alpha1.ReconcilingCondition, metav1.ConditionTrue, falcopsv1alpha1.ReasonRegistryUnavailable)
		// The last good status stays.
		condition(c, rs, falcopsv1alpha1.VerifiedCondition, metav1.ConditionTrue, falcopsv1alpha1.ReasonSignatureVerified)
		assert.Equal(c, want, versionsOf(rs))
		if assert.NotNil(c, rs.Status.Latest) {
			assert.Equal(c, d100.String(), rs.Status.Latest.Digest)
		}
	})
	// A few failed polls: the backoff grows to the interval.
	time.Sleep(interval)

	f.reg.Start(t)
	back := time.Now()
	f.eventually(name, interval+5*time.Second, func(c *assert.CollectT, rs *falcopsv1alpha1.RuleSource) {
		ready(c, rs)
		assert.Equal(c, want, versionsOf(rs))
	})
	took := time.Since(back)
	t.Logf("ready again %v after the registry returned", took)
	assert.LessOrEqual(t, took, interval+2*time.Second, "recovery within one interval (+ slack)")
	assert.Equal(t, 1, f.events.count(name, falcopsv1alpha1.ReasonRegistryUnavailable, ""), "one event per outage, not per poll")
}

// testMissingSecret: without the key the RuleSource stalls and polls
// nothing; the Secret watch wakes it when the key appears.
func testMissingSecret(t *testing.T, s *suite) {
	f := newFixture(t, s, fixtureOptions{noSecret: true})
	d100 := f.publish("1.0.0", "0.40.0", "", publishOptions{key: &s.key})
	published := f.reg.Requests()
	name := f.createRuleSource(ruleSourceOptions{follow: "1", interval: time.Second})

	stalled := func(why string) {
		t.Helper()
		f.eventually(name, waitTimeout, func(c *assert.CollectT, rs *falcopsv1alpha1.RuleSource) {
			if st := condition(c, rs, falcopsv1alpha1.StalledCondition, metav1.ConditionTrue, falcopsv1alpha1.ReasonKeyMissing); st != nil {
				assert.Contains(c, st.Message, why)
			}
			condition(c, rs, falcopsv1alpha1.ReadyCondition, metav1.ConditionFalse, falcopsv1alpha1.ReasonKeyMissing)
			condition(c, rs, falcopsv1alpha1.VerifiedCondition, metav1.ConditionFalse, falcopsv1alpha1.ReasonKeyMissing)
			condition(c, rs, falcopsv1alpha1.ResolvedCondition, metav1.ConditionUnknown, falcopsv1alpha1.ReasonProgressing)
			assert.Empty(c, rs.Status.Versions)
		})
	}
	stalled("not found")
	assert.Equal(t, published, f.reg.Requests(), "no registry request without a key")

	// A Secret without the key, then one with a broken key.
	f.setSecret(map[string][]byte{"other.pub": s.key.pub})
	stalled(`has no key "cosign.pub"`)
	f.setSecret(map[string][]byte{DefaultKey: []byte("not a key")})
	stalled("not PEM-encoded")

	// The key: ready without waiting for any interval (a stall does not
	// requeue; the Secret watch wakes it).
	f.setSecret(map[string][]byte{DefaultKey: s.key.pub})
	f.eventually(name, waitTimeout, func(c *assert.CollectT, rs *falcopsv1alpha1.RuleSource) {
		ready(c, rs)
		assert.Equal(c, []string{vd("1.0.0", d100)}, versionsOf(rs))
	})
	assert.Equal(t, 3, f.events.count(name, falcopsv1alpha1.ReasonKeyMissing, ""), "one event per stall")
}

// patchSpec changes a RuleSource's spec.
func patchSpec(t *testing.T, f *fixture, name string, change func(*falcopsv1alpha1.RuleSource)) {
	t.Helper()
	rs, err := f.get(name)
	require.NoError(t, err)
	orig := rs.DeepCopy()
	change(rs)
	require.NoError(t, f.s.env.Client.Patch(f.ctx, rs, client.MergeFrom(orig)))
}

func withoutTime(v falcopsv1alpha1.RulesetVersion) falcopsv1alpha1.RulesetVersion {
	v.VerifiedAt = metav1.Time{}
	return v
}
