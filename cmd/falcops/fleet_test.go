package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/fleet"
	"github.com/falcops/falcops/internal/testenv"
)

// TestFleetCommand lists a garden in a real API server: the summary the
// command prints (golden) and its JSON agree with the objects; a bad
// kubeconfig is an environment error.
func TestFleetCommand(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	env.WriteKubeconfig(t, kubeconfig)
	for _, ns := range []string{"garden-a", "garden-b"} {
		require.NoError(t, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	}
	for _, r := range []falcopsv1alpha1.ShootRollout{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "garden-a", Name: "prod"}, Status: falcopsv1alpha1.ShootRolloutStatus{FalcoVersion: "0.43.0", Reason: falcopsv1alpha1.ReasonUpToDate,
			Rulesets: []falcopsv1alpha1.RulesetPin{{Name: "falco-rules", Version: "5.1.0"}}}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "garden-b", Name: "eu"}, Status: falcopsv1alpha1.ShootRolloutStatus{FalcoVersion: "0.42.1",
			Reason: falcopsv1alpha1.ReasonWaitingForMaintenanceWindow, Message: "waits for its maintenance window 22:00-23:00 UTC",
			Rulesets: []falcopsv1alpha1.RulesetPin{{Name: "falco-rules", Version: "5.0.0"}}}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "garden-b", Name: "old"}, Status: falcopsv1alpha1.ShootRolloutStatus{FalcoVersion: "0.41.3",
			Reason: falcopsv1alpha1.ReasonNoCompatibleRuleset, Message: "no verified falco-rules version is compatible with Falco 0.41.3"}},
	} {
		require.NoError(t, env.Client.Create(ctx, &r))
	}
	src := &falcopsv1alpha1.RuleSource{ObjectMeta: metav1.ObjectMeta{Name: "falco-rules"},
		Spec: falcopsv1alpha1.RuleSourceSpec{Ruleset: "falco-rules", Repository: "registry.example/falco-rules", Follow: "5",
			Verify: falcopsv1alpha1.VerifySpec{PublicKey: "-----BEGIN PUBLIC KEY-----"}}}
	require.NoError(t, env.Client.Create(ctx, src))
	src.Status.Latest = &falcopsv1alpha1.RulesetVersion{Version: "5.1.0", Digest: "sha256:" + zeros(64), VerifiedAt: metav1.Now()}
	src.Status.Conditions = []metav1.Condition{{Type: falcopsv1alpha1.ReadyCondition, Status: metav1.ConditionTrue, Reason: "Succeeded", LastTransitionTime: metav1.Now()}}
	require.NoError(t, env.Client.Status().Update(ctx, src))

	expires := "2027-02-28T23:59:59Z"
	require.NoError(t, env.Client.Create(ctx, &profilev1alpha1.FalcoProfile{ObjectMeta: metav1.ObjectMeta{Name: "falco"}, Spec: profilev1alpha1.Spec{
		Versions: profilev1alpha1.Versions{Falco: []profilev1alpha1.FalcoVersion{
			{Version: "0.42.1", Classification: "deprecated", ExpirationDate: &expires, RulesVersion: "5.0.0"},
			{Version: "0.43.0", Classification: "supported", RulesVersion: "5.0.0"},
			{Version: "0.44.1", Classification: "preview", RulesVersion: "5.0.0"}}}}}))

	code, out, errOut := runCLI(t, "fleet", "--kubeconfig", kubeconfig)
	require.Equal(t, exitOK, code, errOut)
	golden(t, "fleet.txt", out)

	code, out, errOut = runCLI(t, "fleet", "--kubeconfig", kubeconfig, "-o", "json")
	require.Equal(t, exitOK, code, errOut)
	var s fleet.Summary
	require.NoError(t, json.Unmarshal([]byte(out), &s))
	assert.Equal(t, 3, s.Shoots)
	assert.Equal(t, 1, s.UpToDate)
	require.Len(t, s.Blocked, 1)
	assert.Equal(t, []string{"garden-b/old"}, s.Blocked[0].Examples)
	assert.Equal(t, []fleet.Count{{Value: "0.41.3", Shoots: 1}, {Value: "0.42.1", Shoots: 1, Classification: "deprecated", ExpirationDate: expires},
		{Value: "0.43.0", Shoots: 1, Classification: "supported"}, {Value: "0.44.1", Classification: "preview"}}, s.FalcoVersions)
	require.Len(t, s.Sources, 1)
	assert.Equal(t, "5.1.0", s.Sources[0].Latest)

	code, _, errOut = runCLI(t, "fleet", "--kubeconfig", filepath.Join(t.TempDir(), "missing"))
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "kubeconfig")
	code, _, _ = runCLI(t, "fleet", "--kubeconfig", kubeconfig, "-o", "yaml")
	assert.Equal(t, exitUsage, code)
}

func zeros(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '0'
	}
	return string(b)
}
