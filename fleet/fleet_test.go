package fleet

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

func rollout(ns, name, falco, reason, msg string, upToDate bool, pins ...falcopsv1alpha1.RulesetPin) falcopsv1alpha1.ShootRollout {
	r := falcopsv1alpha1.ShootRollout{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Status: falcopsv1alpha1.ShootRolloutStatus{FalcoVersion: falco, Reason: reason, Message: msg, Rulesets: pins}}
	status := metav1.ConditionFalse
	if upToDate {
		status = metav1.ConditionTrue
	}
	r.Status.Conditions = []metav1.Condition{{Type: falcopsv1alpha1.UpToDateCondition, Status: status, Reason: reason}}
	return r
}

func pin(version string) falcopsv1alpha1.RulesetPin {
	return falcopsv1alpha1.RulesetPin{Name: "falco-rules", Version: version}
}

// fixture is a small landscape: shoots up to date, waiting for windows
// and waves, and blocked; a policy with two waves; a RuleSource that
// rejected a digest.
func fixture() Summary {
	rollouts := []falcopsv1alpha1.ShootRollout{
		rollout("garden-a", "prod", "0.43.0", falcopsv1alpha1.ReasonUpToDate, "", true, pin("5.1.0")),
		rollout("garden-a", "dev", "0.43.0", falcopsv1alpha1.ReasonUpToDate, "", true, pin("5.1.0")),
		rollout("garden-b", "eu", "0.42.1", falcopsv1alpha1.ReasonWaitingForMaintenanceWindow, "waits for its maintenance window 22:00-23:00 UTC", false, pin("5.0.0")),
		rollout("garden-b", "us", "0.42.1", falcopsv1alpha1.ReasonWaitingForWave, "wave rest opens after wave early", false, pin("5.0.0")),
		rollout("garden-c", "old", "0.41.3", falcopsv1alpha1.ReasonNoCompatibleRuleset, "no verified falco-rules version is compatible with Falco 0.41.3", false),
		rollout("garden-c", "new", "0.45.0", falcopsv1alpha1.ReasonDowngradeBlocked, "Falco 0.45.0 was removed; moving down needs --allow-forced-downgrade", false, pin("5.1.0")),
		rollout("garden-d", "fresh", "", falcopsv1alpha1.ReasonWaitingForMaintenanceWindow, "waits for its maintenance window 02:00-03:00 UTC", false),
	}
	sources := []falcopsv1alpha1.RuleSource{{
		ObjectMeta: metav1.ObjectMeta{Name: "falco-rules"},
		Spec:       falcopsv1alpha1.RuleSourceSpec{Ruleset: "falco-rules", Follow: "5"},
		Status: falcopsv1alpha1.RuleSourceStatus{Latest: &falcopsv1alpha1.RulesetVersion{Version: "5.1.0"},
			Conditions: []metav1.Condition{{Type: falcopsv1alpha1.ReadyCondition, Status: metav1.ConditionFalse, Message: "sha256:bad rejected: signature invalid"}},
			Rejected:   &falcopsv1alpha1.RejectedDigest{Digest: "sha256:bad", Reason: falcopsv1alpha1.ReasonSignatureInvalid, Message: "no valid signature"}},
	}, {
		ObjectMeta: metav1.ObjectMeta{Name: "heartbeat"},
		Spec:       falcopsv1alpha1.RuleSourceSpec{Ruleset: "heartbeat", Follow: "2"},
		Status: falcopsv1alpha1.RuleSourceStatus{Latest: &falcopsv1alpha1.RulesetVersion{Version: "2.0.0"},
			Conditions: []metav1.Condition{{Type: falcopsv1alpha1.ReadyCondition, Status: metav1.ConditionTrue}}},
	}}
	policies := []falcopsv1alpha1.RolloutPolicy{{
		ObjectMeta: metav1.ObjectMeta{Name: "default"},
		Status: falcopsv1alpha1.RolloutPolicyStatus{CurrentWave: "early", OpenWaves: 1, Waves: []falcopsv1alpha1.WaveStatus{
			{Name: "early", Shoots: 3, UpToDate: 2}, {Name: "rest", Shoots: 4, UpToDate: 0, Failed: 1}}},
	}, {
		// Its first wave completed; the second opens after the pause.
		ObjectMeta: metav1.ObjectMeta{Name: "paused"},
		Spec:       falcopsv1alpha1.RolloutPolicySpec{Pause: &metav1.Duration{Duration: time.Hour}},
		Status: falcopsv1alpha1.RolloutPolicyStatus{CurrentWave: "canary", OpenWaves: 1, Waves: []falcopsv1alpha1.WaveStatus{
			{Name: "canary", Shoots: 1, UpToDate: 1, CompletedAt: &metav1.Time{Time: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}},
			{Name: "rest", Shoots: 2}}},
	}}
	expires := "2027-02-28T23:59:59Z"
	profiles := []profilev1alpha1.FalcoProfile{{ObjectMeta: metav1.ObjectMeta{Name: "falco"}, Spec: profilev1alpha1.Spec{
		Versions: profilev1alpha1.Versions{Falco: []profilev1alpha1.FalcoVersion{
			{Version: "0.41.3", Classification: "deprecated", ExpirationDate: &expires},
			{Version: "0.42.1", Classification: "supported"}, {Version: "0.43.0", Classification: "supported"},
			{Version: "0.44.1", Classification: "preview"}}}}}}
	return Summarize(rollouts, sources, policies, profiles)
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "go test ./fleet/ -update")
	assert.Equal(t, string(want), string(got))
}

// TestSummary: the counts, groups and order the fleet shows, as text and
// JSON (goldens).
func TestSummary(t *testing.T) {
	s := fixture()
	assert.Equal(t, 7, s.Shoots)
	assert.Equal(t, 2, s.UpToDate)
	assert.Equal(t, []Count{{"0.41.3", 1, "deprecated", "2027-02-28T23:59:59Z"}, {"0.42.1", 2, "supported", ""}, {"0.43.0", 2, "supported", ""},
		{"0.44.1", 0, "preview", ""}, {"0.45.0", 1, "", ""}, {"", 1, "", ""}}, s.FalcoVersions, "profile versions no shoot runs count 0")
	require.Len(t, s.Waiting, 2)
	assert.Equal(t, Group{Reason: falcopsv1alpha1.ReasonWaitingForMaintenanceWindow, Message: "waits for its maintenance window 22:00-23:00 UTC",
		Shoots: 2, Examples: []string{"garden-b/eu", "garden-d/fresh"}}, s.Waiting[0], "most shoots first")
	require.Len(t, s.Blocked, 2)
	assert.Equal(t, falcopsv1alpha1.ReasonDowngradeBlocked, s.Blocked[0].Reason, "same count: by reason")
	var text bytes.Buffer
	require.NoError(t, s.WriteText(&text))
	golden(t, "summary.txt", text.Bytes())
	data, err := json.MarshalIndent(s, "", "  ")
	require.NoError(t, err)
	golden(t, "summary.json", append(data, '\n'))
}

// TestEmpty: an empty landscape is a summary of empty lists, never null.
func TestEmpty(t *testing.T) {
	data, err := json.Marshal(Summarize(nil, nil, nil, nil))
	require.NoError(t, err)
	assert.JSONEq(t, `{"shoots":0,"upToDate":0,"falcoVersions":[],"rulesets":[],"waves":[],"blocked":[],"waiting":[],"sources":[]}`, string(data))
}

// TestExamplesAreBounded: a group names at most Examples shoots.
func TestExamplesAreBounded(t *testing.T) {
	var rs []falcopsv1alpha1.ShootRollout
	for _, n := range []string{"g", "f", "e", "d", "c", "b", "a"} {
		rs = append(rs, rollout("garden-x", n, "0.43.0", falcopsv1alpha1.ReasonWaitingForWave, "m", false))
	}
	s := Summarize(rs, nil, nil, nil)
	require.Len(t, s.Waiting, 1)
	assert.Equal(t, 7, s.Waiting[0].Shoots)
	assert.Equal(t, []string{"garden-x/a", "garden-x/b", "garden-x/c", "garden-x/d", "garden-x/e"}, s.Waiting[0].Examples)
}
