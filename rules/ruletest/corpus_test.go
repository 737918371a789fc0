package ruletest

import (
	"path/filepath"
	"testing"

	"github.com/falcops/falcops/rules"

	"github.com/falcops/falcops/internal/sharedtest"
)

// upstreamDir returns the shared upstream rules folder; see package sharedtest.
func upstreamDir(t testing.TB) string { return sharedtest.UpstreamRules(t) }

// TestRuleTestUpstreamCorpus compiles every rule of every upstream release
// with the evaluator (no condition Falco loads may be rejected) and
// evaluates them on events, which must not panic.
func TestRuleTestUpstreamCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(upstreamDir(t), "*", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no upstream files: %v", err)
	}
	total := 0
	for _, f := range files {
		src, err := rules.ReadSource(f)
		if err != nil {
			t.Fatal(err)
		}
		s := NewSuite(rules.Load([]*rules.Source{src}, rules.Options{}))
		for _, err := range s.CompileErrors() {
			t.Errorf("%s: %v", f, err)
		}
		total += len(s.loaded)
		for _, source := range []string{"syscall", "k8s_audit", "aws_cloudtrail"} {
			ev, err := NewEvent(source)
			if err != nil {
				t.Fatal(err)
			}
			s.Fired(ev)
		}
		s.Fired(buildEvent(t, fv{"evt.type": "execve", "proc.name": "bash", "container.id": "abc",
			"fd.name": "/etc/shadow", "proc.aname": []string{"runc", "containerd-shim"}, "fd.sip": "10.0.0.1"}))
	}
	if total < 1000 {
		t.Errorf("only %d rules compiled", total)
	}
}

// TestRuleTestUpstreamRules runs events against rules of the upstream
// falco-rules 5.1.0, end to end through lists, macros and exceptions.
func TestRuleTestUpstreamRules(t *testing.T) {
	src, err := rules.ReadSource(filepath.Join(upstreamDir(t), "falco-rules-5.1.0", "falco_rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
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
		if r == nil || s.programs[r] == nil {
			t.Fatalf("rule %q not compiled", tc.rule)
		}
		ev := buildEvent(t, tc.ev)
		if got := s.programs[r].root.eval(ev); got != tc.want {
			t.Errorf("%s with %v: fired %v, want %v", tc.rule, tc.ev, got, tc.want)
		}
	}
}
