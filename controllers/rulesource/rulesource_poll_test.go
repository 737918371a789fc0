package rulesource

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
)

func TestBackoff(t *testing.T) {
	for _, c := range []struct {
		failures int
		interval time.Duration
		want     time.Duration
	}{
		{failures: 0, interval: time.Minute, want: 2 * time.Second},
		{failures: 1, interval: time.Minute, want: 2 * time.Second},
		{failures: 2, interval: time.Minute, want: 4 * time.Second},
		{failures: 3, interval: time.Minute, want: 8 * time.Second},
		{failures: 5, interval: time.Minute, want: 32 * time.Second},
		{failures: 6, interval: time.Minute, want: time.Minute},
		{failures: 1000, interval: time.Minute, want: time.Minute},
		{failures: 1, interval: time.Second, want: time.Second},
		{failures: 2, interval: 3 * time.Second, want: 3 * time.Second},
	} {
		t.Run(fmt.Sprintf("%d/%v", c.failures, c.interval), func(t *testing.T) {
			assert.Equal(t, c.want, Backoff(c.failures, c.interval))
		})
	}
}

func TestJitterUpTo(t *testing.T) {
	const d = 10 * time.Second
	jitter := JitterUpTo(DefaultJitter)
	seen := map[time.Duration]bool{}
	for range 1000 {
		j := jitter(d)
		require.GreaterOrEqual(t, j, d)
		require.Less(t, j, d+d/10)
		seen[j] = true
	}
	assert.Greater(t, len(seen), 100, "jitter is random")
	assert.Equal(t, time.Duration(0), jitter(0))
	assert.Equal(t, d, JitterUpTo(0)(d), "no jitter")
	assert.Equal(t, d, JitterUpTo(-1)(d), "no jitter")
}

func TestSelectTags(t *testing.T) {
	tags := []string{
		"latest", "1", "1.0", "1.1", "2", "2.0",
		"0.9.0", "1.0.0", "1.0.1", "1.1.0", "1.10.0", "1.2.0-rc.1", "2.0.0", "10.0.0",
		"sha256-abc.sig", "v1.3.0", "1.3", "01.4.0",
	}
	for _, c := range []struct {
		follow string
		n      int
		want   []string
	}{
		{"latest", 10, []string{"10.0.0", "2.0.0", "1.10.0", "1.1.0", "1.0.1", "1.0.0", "0.9.0"}},
		{"latest", 2, []string{"10.0.0", "2.0.0"}},
		{"1", 10, []string{"1.10.0", "1.1.0", "1.0.1", "1.0.0"}},
		{"1", 3, []string{"1.10.0", "1.1.0", "1.0.1"}},
		{"1.0", 10, []string{"1.0.1", "1.0.0"}},
		{"1.1", 10, []string{"1.1.0"}},
		{"10", 10, []string{"10.0.0"}},
		{"3", 10, []string{}},
	} {
		t.Run(c.follow+"/"+fmt.Sprint(c.n), func(t *testing.T) {
			assert.Equal(t, c.want, SelectTags(tags, c.follow, c.n))
		})
	}
}

func TestAddVersion(t *testing.T) {
	v := func(version, d string) falcopsv1alpha1.RulesetVersion {
		return falcopsv1alpha1.RulesetVersion{Version: version, Digest: d}
	}
	names := func(l []falcopsv1alpha1.RulesetVersion) []string {
		var out []string
		for _, x := range l {
			out = append(out, x.Version+"@"+x.Digest)
		}
		return out
	}
	var l []falcopsv1alpha1.RulesetVersion
	l = addVersion(l, v("1.0.0", "a"), 3)
	l = addVersion(l, v("1.10.0", "c"), 3)
	l = addVersion(l, v("1.2.0", "b"), 3)
	assert.Equal(t, []string{"1.10.0@c", "1.2.0@b", "1.0.0@a"}, names(l), "newest first by semver, not by string")
	l = addVersion(l, v("2.0.0", "d"), 3)
	assert.Equal(t, []string{"2.0.0@d", "1.10.0@c", "1.2.0@b"}, names(l), "bounded by history")
	l2 := addVersion(l, v("1.2.0", "e"), 3)
	assert.Equal(t, []string{"2.0.0@d", "1.10.0@c", "1.2.0@e"}, names(l2), "a version's new digest replaces it")
	assert.Equal(t, []string{"2.0.0@d", "1.10.0@c", "1.2.0@b"}, names(l), "the input is not modified")
}
