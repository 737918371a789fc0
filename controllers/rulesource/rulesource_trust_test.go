package rulesource

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/oci"
	"github.com/falcops/falcops/oci/ocitest"
)

// testTagsNeverLowerVersions: the followed tag rolled back to an older
// signed digest, and the newest tags deleted, never remove a verified
// version (so no shoot moves down); the condition says why.
func testTagsNeverLowerVersions(t *testing.T, s *suite) {
	f := newFixture(t, s, fixtureOptions{})
	d100 := f.publish("1.0.0", "0.40.0", "", publishOptions{key: &s.key})
	d110 := f.publish("1.1.0", "0.40.0", "", publishOptions{key: &s.key})
	name := f.createRuleSource(ruleSourceOptions{follow: "1", interval: time.Second})
	both := []string{vd("1.1.0", d110), vd("1.0.0", d100)}
	f.eventually(name, waitTimeout, func(c *assert.CollectT, rs *falcopsv1alpha1.RuleSource) {
		ready(c, rs)
		assert.Equal(c, both, versionsOf(rs))
		assert.Equal(c, "1.1.0", rs.Status.Floor)
	})

	// The followed tag moved back to 1.0.0.
	require.NoError(t, f.pub.Tag(f.ctx, f.repo, d100, "1"))
	f.eventually(name, waitTimeout, func(c *assert.CollectT, rs *falcopsv1alpha1.RuleSource) {
		cond := condition(c, rs, falcopsv1alpha1.ResolvedCondition, metav1.ConditionTrue, falcopsv1alpha1.ReasonTagBelowFloor)
		if cond != nil {
			assert.Contains(c, cond.Message, "below the floor 1.1.0")
			assert.Contains(c, cond.Message, "spec.rollbackTo")
		}
		assert.Equal(c, both, versionsOf(rs), "1.1.0 stays listed")
	})

	// 1.1.0's tag is deleted and a spec change makes the controller build
	// the list from the tags again: 1.1.0 is verified again by digest.
	req, err := http.NewRequest(http.MethodDelete, "http://"+f.reg.Host+"/v2/falcops/"+testRuleset+"/manifests/1.1", nil)
	require.NoError(t, err)
	for _, tag := range []string{"1.1.0", "1.1", "latest"} {
		req.URL.Path = "/v2/falcops/" + testRuleset + "/manifests/" + tag
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		require.Equal(t, http.StatusAccepted, resp.StatusCode, "deleting tag %s", tag)
	}
	rs, err := f.get(name)
	require.NoError(t, err)
	rs.Spec.Interval = &metav1.Duration{Duration: 1100 * time.Millisecond}
	require.NoError(t, f.s.env.Client.Update(f.ctx, rs))
	f.eventually(name, waitTimeout, func(c *assert.CollectT, rs *falcopsv1alpha1.RuleSource) {
		assert.Equal(c, rs.Generation, rs.Status.ObservedGeneration, "the spec change was reconciled")
		assert.Equal(c, both, versionsOf(rs), "a deleted tag does not remove a verified version")
		assert.Equal(c, "1.1.0", rs.Status.Floor)
	})
}

// testCrossRepositoryCopy: another ruleset's signed artifact, with its
// signature, copied under our tags is refused (the signature names the
// other repository); another ruleset signed properly for our repository is
// refused too (the config names the other ruleset).
func testCrossRepositoryCopy(t *testing.T, s *suite) {
	f := newFixture(t, s, fixtureOptions{})
	d100 := f.publish("1.0.0", "0.40.0", "", publishOptions{key: &s.key})
	name := f.createRuleSource(ruleSourceOptions{follow: "1", interval: time.Second})
	f.eventually(name, waitTimeout, func(c *assert.CollectT, rs *falcopsv1alpha1.RuleSource) {
		ready(c, rs)
	})

	// other-rules 1.1.0, signed in its own repository, copied to ours.
	other := ocitest.RulesetArtifact(t, "other-rules", "1.1.0", "0.40.0", "")
	otherRepo := f.reg.Host + "/falcops/other-rules"
	_, err := f.pub.Publish(f.ctx, otherRepo, other, "1.1.0")
	require.NoError(t, err)
	require.NoError(t, f.pub.Sign(f.ctx, otherRepo+"@"+other.ManifestDigest.String(), s.key.sign))
	_, err = f.pub.Push(f.ctx, f.repo, other, "1.1.0")
	require.NoError(t, err)
	sigTag := oci.SignatureTag(other.ManifestDigest)
	sig, err := f.pub.Resolve(f.ctx, otherRepo+":"+sigTag)
	require.NoError(t, err)
	_, err = f.pub.Copy(f.ctx, otherRepo, f.repo, sig.Digest, sigTag)
	require.NoError(t, err)
	require.NoError(t, f.pub.Tag(f.ctx, f.repo, other.ManifestDigest, "1"))
	f.eventually(name, waitTimeout, func(c *assert.CollectT, rs *falcopsv1alpha1.RuleSource) {
		if assert.NotNil(c, rs.Status.Rejected) {
			assert.Equal(c, other.ManifestDigest.String(), rs.Status.Rejected.Digest)
			assert.Equal(c, falcopsv1alpha1.ReasonSignatureInvalid, rs.Status.Rejected.Reason)
			assert.Contains(c, rs.Status.Rejected.Message, "payload names repository")
		}
		assert.Equal(c, []string{vd("1.0.0", d100)}, versionsOf(rs))
	})

	// other-rules 1.2.0 pushed and signed in our repository: the
	// signature is valid for this repository, the artifact is not ours.
	foreign := ocitest.RulesetArtifact(t, "other-rules", "1.2.0", "0.40.0", "")
	_, err = f.pub.Push(f.ctx, f.repo, foreign, "1.2.0")
	require.NoError(t, err)
	f.sign(foreign.ManifestDigest, s.key)
	require.NoError(t, f.pub.Tag(f.ctx, f.repo, foreign.ManifestDigest, "1"))
	f.eventually(name, waitTimeout, func(c *assert.CollectT, rs *falcopsv1alpha1.RuleSource) {
		if assert.NotNil(c, rs.Status.Rejected) {
			assert.Equal(c, foreign.ManifestDigest.String(), rs.Status.Rejected.Digest)
			assert.Equal(c, falcopsv1alpha1.ReasonInvalidArtifact, rs.Status.Rejected.Reason)
			assert.Contains(c, rs.Status.Rejected.Message, `the artifact is ruleset "other-rules", not "`+testRuleset+`"`)
		}
		assert.Equal(c, []string{vd("1.0.0", d100)}, versionsOf(rs))
	})
}

// testPrivateRegistry: credentials from a labelled dockerconfigjson
// Secret reach a registry that requires them; without the label the
// controller does not read them and says so.
func testPrivateRegistry(t *testing.T, s *suite) {
	f := newFixture(t, s, fixtureOptions{user: "ci", password: "s3cret"})
	d100 := f.publish("1.0.0", "0.40.0", "", publishOptions{key: &s.key})
	creds := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "registry", Labels: map[string]string{falcopsv1alpha1.SecretLabel: "true"}},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: dockerConfig(f.reg.Host, "ci", "s3cret")},
	}
	require.NoError(t, f.s.env.Client.Create(f.ctx, creds))
	name := f.createRuleSource(ruleSourceOptions{follow: "1", interval: time.Second, edit: func(spec *falcopsv1alpha1.RuleSourceSpec) {
		spec.CredentialsSecretRef = &falcopsv1alpha1.LocalSecretReference{Name: "registry"}
	}})
	f.eventually(name, waitTimeout, func(c *assert.CollectT, rs *falcopsv1alpha1.RuleSource) {
		ready(c, rs)
		assert.Equal(c, []string{vd("1.0.0", d100)}, versionsOf(rs))
	})

	unlabelled := creds.DeepCopy()
	unlabelled.ObjectMeta = metav1.ObjectMeta{Namespace: f.ns, Name: "unlabelled"}
	require.NoError(t, f.s.env.Client.Create(f.ctx, unlabelled))
	stalled := f.createRuleSource(ruleSourceOptions{follow: "1", interval: time.Second, edit: func(spec *falcopsv1alpha1.RuleSourceSpec) {
		spec.CredentialsSecretRef = &falcopsv1alpha1.LocalSecretReference{Name: "unlabelled"}
	}})
	f.eventually(stalled, waitTimeout, func(c *assert.CollectT, rs *falcopsv1alpha1.RuleSource) {
		cond := condition(c, rs, falcopsv1alpha1.StalledCondition, metav1.ConditionTrue, falcopsv1alpha1.ReasonCredentialsInvalid)
		if cond != nil {
			assert.Contains(c, cond.Message, "must carry the label falcops.dev/secret=true")
		}
		assert.Empty(c, rs.Status.Versions)
	})

	anonymous := f.createRuleSource(ruleSourceOptions{follow: "1", interval: time.Second})
	f.eventually(anonymous, waitTimeout, func(c *assert.CollectT, rs *falcopsv1alpha1.RuleSource) {
		condition(c, rs, falcopsv1alpha1.ResolvedCondition, metav1.ConditionFalse, falcopsv1alpha1.ReasonRegistryUnavailable)
		assert.Empty(c, rs.Status.Versions, "no credentials, no versions")
	})
}

// testInlineKeyAndInsecureRemote: the public key may be inline; plain
// HTTP to a registry that is not on loopback needs spec.allowInsecureRemote.
func testInlineKeyAndInsecureRemote(t *testing.T, s *suite) {
	f := newFixture(t, s, fixtureOptions{noSecret: true})
	d100 := f.publish("1.0.0", "0.40.0", "", publishOptions{key: &s.key})
	inline := f.createRuleSource(ruleSourceOptions{follow: "1", interval: time.Second, edit: func(spec *falcopsv1alpha1.RuleSourceSpec) {
		spec.Verify = falcopsv1alpha1.VerifySpec{PublicKey: string(s.key.pub)}
	}})
	f.eventually(inline, waitTimeout, func(c *assert.CollectT, rs *falcopsv1alpha1.RuleSource) {
		ready(c, rs)
		assert.Equal(c, []string{vd("1.0.0", d100)}, versionsOf(rs))
		if v := condition(c, rs, falcopsv1alpha1.VerifiedCondition, metav1.ConditionTrue, falcopsv1alpha1.ReasonSignatureVerified); v != nil {
			assert.Contains(c, v.Message, "spec.verify.publicKey")
		}
	})

	remote := f.createRuleSource(ruleSourceOptions{follow: "1", interval: time.Second, edit: func(spec *falcopsv1alpha1.RuleSourceSpec) {
		spec.Verify = falcopsv1alpha1.VerifySpec{PublicKey: string(s.key.pub)}
		spec.Repository = "registry.example.com/falcops/" + testRuleset
	}})
	f.eventually(remote, waitTimeout, func(c *assert.CollectT, rs *falcopsv1alpha1.RuleSource) {
		cond := condition(c, rs, falcopsv1alpha1.StalledCondition, metav1.ConditionTrue, falcopsv1alpha1.ReasonInvalidSpec)
		if cond != nil {
			assert.Contains(c, cond.Message, "spec.allowInsecureRemote")
		}
	})

	// Both key sources at once is refused by the API server.
	both := &falcopsv1alpha1.RuleSource{ObjectMeta: metav1.ObjectMeta{GenerateName: "both-"},
		Spec: falcopsv1alpha1.RuleSourceSpec{Ruleset: testRuleset, Repository: f.repo,
			Verify: falcopsv1alpha1.VerifySpec{PublicKey: string(s.key.pub), SecretRef: &falcopsv1alpha1.SecretReference{Name: "x"}}}}
	err := f.s.env.Client.Create(f.ctx, both)
	require.ErrorContains(t, err, "give exactly one of secretRef and publicKey")
	_ = client.IgnoreNotFound(f.s.env.Client.Delete(f.ctx, both))
}
