package ruletest

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/internal/sharedtest"
	"github.com/falcops/falcops/rules"
)

// TestRuleTestUpstreamCorpus compiles every rule of every upstream release
// with the evaluator (no condition Falco loads may be rejected) and
// evaluates them on events, which must not panic.
func TestRuleTestUpstreamCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(sharedtest.UpstreamRules(t), "*", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no upstream files")
	total := 0
	for _, f := range files {
		src, err := rules.ReadSource(f)
		require.NoError(t, err)
		s := NewSuite(rules.Load([]*rules.Source{src}, rules.Options{}))
		assert.Empty(t, s.CompileErrors(), f)
		total += len(s.loaded)
		for _, source := range []string{"syscall", "k8s_audit", "aws_cloudtrail"} {
			ev, err := NewEvent(source)
			require.NoError(t, err)
			s.Fired(ev)
		}
		s.Fired(buildEvent(t, fv{"evt.type": "execve", "proc.name": "bash", "container.id": "abc",
			"fd.name": "/etc/shadow", "proc.aname": []string{"runc", "containerd-shim"}, "fd.sip": "10.0.0.1"}))
	}
	assert.GreaterOrEqual(t, total, 1000, "rules compiled")
}

// TestRuleTestUpstreamRules runs events against rules of the upstream
// falco-rules 5.1.0, end to end through lists, macros and exceptions.
func TestRuleTestUpstreamRules(t *testing.T) {
	src, err := rules.ReadSource(filepath.Join(sharedtest.UpstreamRules(t), "falco-rules-5.1.0", "falco_rules.yaml"))
	require.NoError(t, err)
	rs := rules.Load([]*rules.Source{src}, rules.Options{})
	s := NewSuite(rs)
	shell := fv{"evt.type": "execve", "container.id": "3ad7f0c2b1e4", "proc.name": "bash", "proc.tty": "34816", "proc.pname": "runc"}
	read := fv{"evt.type": "openat", "evt.is_open_read": "true", "fd.typechar": "f", "fd.num": "3", "fd.name": "/etc/shadow",
		"fd.directory": "/etc", "proc.name": "cat", "proc.pname": "bash", "proc.cmdline": "cat /etc/shadow"}
	with := func(base fv, k, v string) fv {
		out := fv{}
		for kk, vv := range base {
			out[kk] = vv
		}
		out[k] = v
		return out
	}
	tests := []struct {
		rule string
		ev   fv
		want bool
	}{
		{"Terminal shell in container", shell, true},
		{"Terminal shell in container", with(shell, "proc.tty", "0"), false},
		{"Terminal shell in container", with(shell, "proc.pname", "python3"), false},
		{"Terminal shell in container", with(shell, "container.id", "host"), false},
		{"Read sensitive file untrusted", read, true},
		{"Read sensitive file untrusted", with(read, "fd.name", "/etc/hosts"), false},
		{"Read sensitive file untrusted", with(read, "proc.name", "sshd"), false},
		// a list item written '"(systemd)"': the quotes are YAML-escaped condition quotes
		{"Read sensitive file untrusted", with(read, "proc.name", "(systemd)"), false},
	}
	for _, tc := range tests {
		r := rs.Rule(tc.rule)
		require.NotNil(t, r, "rule %q", tc.rule)
		require.NotNil(t, s.programs[r], "rule %q not compiled", tc.rule)
		ev := buildEvent(t, tc.ev)
		assert.Equal(t, tc.want, s.programs[r].eval(ev), "%s with %v: fired", tc.rule, tc.ev)
	}
}
