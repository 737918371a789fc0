package diff

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/diag"
	"github.com/falcops/falcops/internal/sharedtest"
	"github.com/falcops/falcops/rules"
)

// edit changes a rules file's text; it fails the test when its anchor is
// not where it expects.
type edit func(t *testing.T, s string) string

// replace replaces old, which must occur exactly once.
func replace(old, new string) edit {
	return func(t *testing.T, s string) string {
		t.Helper()
		require.Equal(t, 1, strings.Count(s, old), "replace: occurrences of %q", old)
		return strings.Replace(s, old, new, 1)
	}
}

// replaceAll replaces every occurrence of old (at least one), e.g. a name.
func replaceAll(old, new string) edit {
	return func(t *testing.T, s string) string {
		t.Helper()
		require.True(t, strings.Contains(s, old), "replaceAll: %q does not occur", old)
		return strings.ReplaceAll(s, old, new)
	}
}

// itemBounds finds the item whose first line is header: from that line to
// the next top-level item or comment.
func itemBounds(t *testing.T, s, header string) (start, end int) {
	t.Helper()
	require.Equal(t, 1, strings.Count(s, "\n"+header+"\n"), "item %q not found exactly once", header)
	start = strings.Index(s, "\n"+header+"\n")
	start++
	end = len(s)
	off := start + len(header) + 1
	for off < len(s) {
		nl := strings.IndexByte(s[off:], '\n')
		line := s[off:]
		if nl >= 0 {
			line = s[off : off+nl]
		}
		if strings.HasPrefix(line, "- ") || strings.HasPrefix(line, "#") {
			end = off
			break
		}
		if nl < 0 {
			break
		}
		off += nl + 1
	}
	return start, end
}

// removeItem removes the item whose first line is header.
func removeItem(header string) edit {
	return func(t *testing.T, s string) string {
		t.Helper()
		start, end := itemBounds(t, s, header)
		return s[:start] + s[end:]
	}
}

// moveItem moves the item whose first line is header before the item whose
// first line is before, or to the end of the file if before is empty.
func moveItem(header, before string) edit {
	return func(t *testing.T, s string) string {
		t.Helper()
		start, end := itemBounds(t, s, header)
		block := s[start:end]
		if !strings.HasSuffix(block, "\n\n") {
			block += "\n"
		}
		s = s[:start] + s[end:]
		if before == "" {
			return s + "\n" + block
		}
		i := strings.Index(s, "\n"+before+"\n")
		require.GreaterOrEqual(t, i, 0, "moveItem: %q not found", before)
		return s[:i+1] + block + s[i+1:]
	}
}

// insertBefore inserts text before the line anchor (exactly once).
func insertBefore(anchor, text string) edit {
	return func(t *testing.T, s string) string {
		t.Helper()
		return replace("\n"+anchor+"\n", "\n"+text+anchor+"\n")(t, s)
	}
}

func appendText(text string) edit {
	return func(_ *testing.T, s string) string { return s + "\n" + text }
}

// want is one change a case expects.
type want struct {
	kind   Kind
	name   string
	change string
	bump   Bump
	reason string // substring of the reason
}

type diffCase struct {
	name  string
	setup []edit // applied to both sides
	edit  []edit // the one change, applied to the new side
	// required is the report's required bump; changes must all be present.
	// No changes at all are expected when changes is empty.
	required Bump
	changes  []want
}

const (
	terminalShell  = "- rule: Terminal shell in container"
	packetSocket   = "- rule: Packet socket created in container"
	tsTags         = "  tags: [maturity_stable, container, shell, mitre_execution, T1059]\n"
	tsPriority     = "  output: A shell was spawned in a container with an attached terminal | evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty exe_flags=%evt.arg.flags\n  priority: NOTICE\n"
	tsCondition    = "    spawned_process\n    and container\n    and shell_procs\n    and proc.tty != 0\n    and container_entrypoint\n    and not user_expected_terminal_shell_in_container_conditions\n"
	exceptionsYAML = `  exceptions:
    - name: known_shell_images
      fields: [proc.name, container.image.repository]
      comps: [=, =]
      values:
        - [bash, docker.io/library/busybox]
    - name: known_parents
      fields: proc.pname
      comps: in
      values: [tini, dumb-init]
`
	newRule = `- rule: Shell history deleted
  desc: A shell history file was truncated.
  condition: spawned_process and proc.name = shred and proc.args contains bash_history
  output: Shell history deleted (command=%proc.cmdline file=%fd.name)
  priority: WARNING
  tags: [maturity_sandbox, host, filesystem]
`
)

// withExceptions adds exceptions to "Terminal shell in container".
var withExceptions = replace(tsTags, tsTags+exceptionsYAML)

var diffCases = []diffCase{
	// requirements
	{name: "engine raised", edit: []edit{replace("- required_engine_version: 0.57.0", "- required_engine_version: 0.58.0")},
		required: Major, changes: []want{{KindRequirement, "required_engine_version", ChangeRaised, Major, "floating major tag"}}},
	{name: "engine lowered", edit: []edit{replace("- required_engine_version: 0.57.0", "- required_engine_version: 0.50.0")},
		required: Patch, changes: []want{{KindRequirement, "required_engine_version", ChangeLowered, Patch, "lowered from 0.57.0 to 0.50.0"}}},
	{name: "engine written as an integer is the same version", edit: []edit{replace("- required_engine_version: 0.57.0", "- required_engine_version: 57")},
		required: None},
	{name: "plugin requirement raised", edit: []edit{replace("      version: 0.4.0", "      version: 0.5.0")},
		required: Major, changes: []want{{KindPlugin, "container", ChangeRaised, Major, "raised from 0.4.0 to 0.5.0"}}},
	{name: "plugin requirement lowered", edit: []edit{replace("      version: 0.4.0", "      version: 0.3.1")},
		required: Patch, changes: []want{{KindPlugin, "container", ChangeLowered, Patch, "lowered from 0.4.0 to 0.3.1"}}},
	{name: "plugin alternative added", edit: []edit{replace("      version: 0.4.0\n", "      version: 0.4.0\n      alternatives:\n        - name: container-ng\n          version: 1.0.0\n")},
		required: Patch, changes: []want{{KindPlugin, "container", ChangeAlternativeAdded, Patch, "container-ng 1.0.0 added as an alternative"}}},
	{name: "plugin alternative removed",
		setup:    []edit{replace("      version: 0.4.0\n", "      version: 0.4.0\n      alternatives:\n        - name: container-ng\n          version: 1.0.0\n")},
		edit:     []edit{replace("      alternatives:\n        - name: container-ng\n          version: 1.0.0\n", "")},
		required: Major, changes: []want{{KindPlugin, "container", ChangeAlternativeRemoved, Major, "no longer an accepted alternative"}}},
	{name: "plugin requirement added", edit: []edit{replace("      version: 0.4.0\n", "      version: 0.4.0\n    - name: k8smeta\n      version: 0.3.0\n")},
		required: Major, changes: []want{{KindPlugin, "k8smeta", ChangeAdded, Major, "new plugin requirement k8smeta 0.3.0"}}},
	{name: "plugin requirement dropped", edit: []edit{replace("- required_plugin_versions:\n    - name: container\n      version: 0.4.0\n", "")},
		required: Patch, changes: []want{{KindPlugin, "container", ChangeRemoved, Patch, "dropped"}}},

	// lists
	{name: "list added", edit: []edit{insertBefore("- list: grep_binaries", "- list: search_tools\n  items: [rg, ag]\n\n")},
		required: Minor, changes: []want{{KindList, "search_tools", ChangeAdded, Minor, "new list with 2 items"}}},
	{name: "list removed",
		setup:    []edit{insertBefore("- list: grep_binaries", "- list: search_tools\n  items: [rg, ag]\n\n")},
		edit:     []edit{removeItem("- list: search_tools")},
		required: Major, changes: []want{{KindList, "search_tools", ChangeRemoved, Major, "fail to load"}}},
	{name: "list renamed", edit: []edit{replaceAll("grep_binaries", "search_binaries")},
		required: Major, changes: []want{
			{KindList, "search_binaries", ChangeRenamed, Major, "renamed from `grep_binaries`"},
			{KindMacro, "grep_commands", ChangeConditionRefactored, None, "text changed"},
		}},
	{name: "list items added, used positively", edit: []edit{replace("items: [grep, egrep, fgrep]", "items: [grep, egrep, fgrep, rg]")},
		required: Patch, changes: []want{
			{KindList, "grep_binaries", ChangeItemsAdded, Patch, "gained `rg`"},
			{KindRule, "Search Private Keys or Passwords", ChangeConditionWidened, Patch, "`proc.name in (...)` (from list `grep_binaries`) gained `rg`"},
		}},
	{name: "list items added under a negation narrow the rule", edit: []edit{replace("- list: user_known_packet_socket_binaries\n  items: []", "- list: user_known_packet_socket_binaries\n  items: [tcpdump]")},
		required: Major, changes: []want{
			{KindList, "user_known_packet_socket_binaries", ChangeItemsAdded, Patch, "gained `tcpdump`"},
			{KindRule, "Packet socket created in container", ChangeConditionNarrowed, Major, "added conjunct `not proc.name = tcpdump`"},
		}},
	{name: "list items removed under a negation widen the rule",
		setup:    []edit{replace("- list: user_known_packet_socket_binaries\n  items: []", "- list: user_known_packet_socket_binaries\n  items: [tcpdump, tshark]")},
		edit:     []edit{replace("items: [tcpdump, tshark]", "items: [tcpdump]")},
		required: Patch, changes: []want{
			{KindList, "user_known_packet_socket_binaries", ChangeItemsRemoved, Patch, "lost `tshark`"},
			{KindRule, "Packet socket created in container", ChangeConditionWidened, Patch, "lost `tshark` under a negation"},
		}},
	{name: "list items swapped under a negation cannot be decided",
		setup:    []edit{replace("- list: user_known_packet_socket_binaries\n  items: []", "- list: user_known_packet_socket_binaries\n  items: [tcpdump, tshark]")},
		edit:     []edit{replace("items: [tcpdump, tshark]", "items: [tcpdump, dumpcap]")},
		required: Major, changes: []want{
			{KindList, "user_known_packet_socket_binaries", ChangeItemsChanged, Patch, "gained `dumpcap` and lost `tshark`"},
			{KindRule, "Packet socket created in container", ChangeConditionChanged, Major, "cannot decide"},
		}},
	{name: "one list, both polarities", edit: []edit{replace("items: [ash, bash, csh, ksh, sh, tcsh, zsh, dash]", "items: [ash, bash, csh, ksh, sh, tcsh, zsh, dash, fish]")},
		required: Major, changes: []want{
			{KindList, "shell_binaries", ChangeItemsAdded, Patch, "gained `fish`"},
			{KindRule, "Terminal shell in container", ChangeConditionWidened, Patch, "gained `fish`"},
			{KindRule, "Directory traversal monitored file read", ChangeConditionNarrowed, Major, "gained `fish` under a negation"},
		}},
	{name: "list items reordered", edit: []edit{replace("items: [ash, bash, csh, ksh, sh, tcsh, zsh, dash]", "items: [dash, zsh, tcsh, sh, ksh, csh, bash, ash]")},
		required: None, changes: []want{{KindList, "shell_binaries", ChangeItemsReordered, None, "set"}}},
	{name: "list item duplicated", edit: []edit{replace("items: [grep, egrep, fgrep]", "items: [grep, egrep, fgrep, grep]")},
		required: None, changes: []want{{KindList, "grep_binaries", ChangeItemsReordered, None, "duplicated"}}},

	// macros
	{name: "macro added", edit: []edit{insertBefore("- list: grep_binaries", "- macro: user_known_grep_activities\n  condition: (proc.pname = ansible)\n\n")},
		required: Minor, changes: []want{{KindMacro, "user_known_grep_activities", ChangeAdded, Minor, "minor"}}},
	{name: "macro removed",
		setup:    []edit{insertBefore("- list: grep_binaries", "- macro: user_known_grep_activities\n  condition: (proc.pname = ansible)\n\n")},
		edit:     []edit{removeItem("- macro: user_known_grep_activities")},
		required: Major, changes: []want{{KindMacro, "user_known_grep_activities", ChangeRemoved, Major, "reference it"}}},
	{name: "macro renamed", edit: []edit{replaceAll("grep_commands", "grep_procs")},
		required: Major, changes: []want{{KindMacro, "grep_procs", ChangeRenamed, Major, "renamed from `grep_commands`"}}},
	{name: "macro event types shrink", edit: []edit{replace("condition: (evt.type in (symlink, symlinkat))", "condition: (evt.type in (symlinkat))")},
		required: Major, changes: []want{
			{KindMacro, "create_symlink", ChangeEventTypesChanged, Major, "no longer matches event types `symlink`"},
			{KindRule, "Create Symlink Over Sensitive Files", ChangeEventTypesRemoved, Major, "no longer matches event types `symlink`"},
		}},
	{name: "macro event types grow", edit: []edit{replace("condition: (evt.type in (link, linkat))", "condition: (evt.type in (link, linkat, renameat2))")},
		required: Major, changes: []want{
			{KindMacro, "create_hardlink", ChangeEventTypesChanged, Major, "now also matches event types `renameat2`"},
			{KindRule, "Create Hardlink Over Sensitive Files", ChangeEventTypesAdded, Patch, "now also matches event types `renameat2`"},
		}},
	{name: "macro narrowed", edit: []edit{replace("condition: (fd.name startswith /etc/)", "condition: (fd.name startswith /etc/ and not fd.name startswith /etc/ssl/)")},
		required: Major, changes: []want{
			{KindMacro, "etc_dir", ChangeConditionNarrowed, Major, "added conjunct `not fd.name startswith /etc/ssl/`"},
			{KindRule, "Directory traversal monitored file read", ChangeConditionNarrowed, Major, "fewer events"},
		}},
	{name: "macro widened", edit: []edit{replace("condition: (proc.name in (shell_binaries))", "condition: (proc.name in (shell_binaries) or proc.name startswith busybox)")},
		required: Major, changes: []want{
			{KindMacro, "shell_procs", ChangeConditionWidened, Major, "either polarity"},
			{KindRule, "Terminal shell in container", ChangeConditionWidened, Patch, "added alternative `proc.name startswith busybox`"},
		}},
	{name: "macro rewritten equivalently", edit: []edit{replace("condition: (evt.type in (execve, execveat))", "condition: (evt.type = execveat or evt.type=execve)")},
		required: None, changes: []want{{KindMacro, "spawned_process", ChangeConditionRefactored, None, "expanded form is the same"}}},
	{name: "macro rewritten with De Morgan", edit: []edit{replace(`condition: (not proc.name in ("<NA>","N/A"))`, `condition: not (proc.name = "<NA>" or proc.name = "N/A")`)},
		required: None, changes: []want{{KindMacro, "proc_name_exists", ChangeConditionRefactored, None, "same"}}},
	{name: "macros reordered in the file", edit: []edit{moveItem("- macro: create_hardlink", "- macro: create_symlink")},
		required: None},

	// rule conditions
	{name: "conjunct added narrows", edit: []edit{replace(tsCondition, tsCondition+"    and proc.name = bash\n")},
		required: Major, changes: []want{{KindRule, "Terminal shell in container", ChangeConditionNarrowed, Major, "added conjunct `proc.name = bash`"}}},
	{name: "conjunct removed widens", edit: []edit{replace(tsCondition, strings.Replace(tsCondition, "    and proc.tty != 0\n", "", 1))},
		required: Patch, changes: []want{{KindRule, "Terminal shell in container", ChangeConditionWidened, Patch, "removed conjunct `proc.tty != 0`"}}},
	{name: "alternative added widens", edit: []edit{replace(tsCondition, tsCondition+"    or (spawned_process and proc.name = socat)\n")},
		required: Patch, changes: []want{{KindRule, "Terminal shell in container", ChangeConditionWidened, Patch, "added alternative"}}},
	{name: "alternative without event type widens to all event types", edit: []edit{replace(tsCondition, tsCondition+"    or proc.name = socat\n")},
		required: Patch, changes: []want{{KindRule, "Terminal shell in container", ChangeEventTypesAdded, Patch, "now matches every event type (it was limited to `execve`, `execveat`)"}}},
	{name: "event type added to a rule", edit: []edit{replace("    evt.type=socket\n", "    evt.type in (socket, socketpair)\n")},
		required: Patch, changes: []want{{KindRule, "Packet socket created in container", ChangeEventTypesAdded, Patch, "now also matches event types `socketpair`"}}},
	{name: "event type removed from a rule", edit: []edit{replace("    create_symlink\n    and (evt.arg.target", "    evt.type = symlinkat\n    and (evt.arg.target")},
		required: Major, changes: []want{{KindRule, "Create Symlink Over Sensitive Files", ChangeEventTypesRemoved, Major, "no longer matches event types `symlink`"}}},
	{name: "changed check cannot be decided", edit: []edit{replace("    and proc.tty != 0\n    and container_entrypoint", "    and proc.tty > 0\n    and container_entrypoint")},
		required: Major, changes: []want{{KindRule, "Terminal shell in container", ChangeConditionChanged, Major, "cannot decide whether the condition is narrower or wider"}}},
	{name: "redundant conjunct is an equivalent rewrite", edit: []edit{replace(tsCondition, tsCondition+"    and (container or proc.name = socat)\n")},
		required: None, changes: []want{{KindRule, "Terminal shell in container", ChangeConditionRefactored, None, "equivalent"}}},
	{name: "conjuncts reordered", edit: []edit{replace(tsCondition, "    shell_procs\n    and container\n    and not user_expected_terminal_shell_in_container_conditions\n    and spawned_process\n    and container_entrypoint\n    and proc.tty != 0\n")},
		required: None, changes: []want{{KindRule, "Terminal shell in container", ChangeConditionRefactored, None, "expanded form is the same"}}},
	{name: "part of a condition extracted into a new macro",
		edit: []edit{
			replace("    and proc.tty != 0\n    and container_entrypoint\n", "    and tty_entrypoint\n"),
			insertBefore(terminalShell, "- macro: tty_entrypoint\n  condition: (proc.tty != 0 and container_entrypoint)\n\n"),
		},
		// the rule is unchanged (none); the macro is a new name consumers
		// can use, so RELEASE.md makes the release minor
		required: Minor, changes: []want{
			{KindRule, "Terminal shell in container", ChangeConditionRefactored, None, "expanded form is the same"},
			{KindMacro, "tty_entrypoint", ChangeAdded, Minor, "new macro"},
		}},
	{name: "macro inlined into a rule", edit: []edit{replace(tsCondition, strings.Replace(tsCondition, "    and shell_procs\n", "    and proc.name in (shell_binaries)\n", 1))},
		required: None, changes: []want{{KindRule, "Terminal shell in container", ChangeConditionRefactored, None, "expanded form is the same"}}},
	{name: "never_true tuning placeholder added",
		edit: []edit{
			replace(tsCondition, tsCondition+"    and not user_known_shell_in_container\n"),
			insertBefore(terminalShell, "- macro: user_known_shell_in_container\n  condition: (never_true)\n\n"),
		},
		required: Minor, changes: []want{
			{KindRule, "Terminal shell in container", ChangeConditionRefactored, None, "expanded form is the same"},
			{KindMacro, "user_known_shell_in_container", ChangeAdded, Minor, "new macro"},
		}},

	// rules
	{name: "rule added", edit: []edit{appendText(newRule)},
		required: Minor, changes: []want{{KindRule, "Shell history deleted", ChangeAdded, Minor, "new enabled rule (Warning)"}}},
	{name: "rule removed", edit: []edit{removeItem("- rule: Debugfs Launched in Privileged Container")},
		required: Major, changes: []want{{KindRule, "Debugfs Launched in Privileged Container", ChangeRemoved, Major, "detections stop"}}},
	{name: "rule renamed", edit: []edit{replace("- rule: Debugfs Launched in Privileged Container", "- rule: Debugfs in Privileged Container")},
		required: Major, changes: []want{{KindRule, "Debugfs in Privileged Container", ChangeRenamed, Major, "renamed from `Debugfs Launched in Privileged Container`"}}},
	{name: "rule disabled", edit: []edit{replace(tsPriority, tsPriority+"  enabled: false\n")},
		required: Major, changes: []want{{KindRule, "Terminal shell in container", ChangeDisabled, Major, "disabled by default"}}},
	{name: "rule enabled",
		setup:    []edit{replace(tsPriority, tsPriority+"  enabled: false\n")},
		edit:     []edit{replace(tsPriority+"  enabled: false\n", tsPriority+"  enabled: true\n")},
		required: Patch, changes: []want{{KindRule, "Terminal shell in container", ChangeEnabled, Patch, "enabled by default"}}},
	{name: "priority lowered", edit: []edit{replace(tsPriority, strings.Replace(tsPriority, "NOTICE", "INFO", 1))},
		required: Major, changes: []want{{KindRule, "Terminal shell in container", ChangePriorityLowered, Major, "from Notice to Informational"}}},
	{name: "priority raised", edit: []edit{replace(tsPriority, strings.Replace(tsPriority, "NOTICE", "WARNING", 1))},
		required: Patch, changes: []want{{KindRule, "Terminal shell in container", ChangePriorityRaised, Patch, "from Notice to Warning"}}},
	{name: "priority spelled differently", edit: []edit{replace(tsPriority, strings.Replace(tsPriority, "NOTICE", "notice", 1))},
		required: None},
	{name: "tags added", edit: []edit{replace(tsTags, "  tags: [maturity_stable, container, shell, mitre_execution, T1059, T1609]\n")},
		required: Patch, changes: []want{{KindRule, "Terminal shell in container", ChangeTagsAdded, Patch, "gained tags `T1609`"}}},
	{name: "tags removed", edit: []edit{replace(tsTags, "  tags: [maturity_stable, container, mitre_execution, T1059]\n")},
		required: Major, changes: []want{{KindRule, "Terminal shell in container", ChangeTagsRemoved, Major, "lost tags `shell`"}}},
	{name: "tags reordered", edit: []edit{replace(tsTags, "  tags: [T1059, mitre_execution, shell, container, maturity_stable]\n")},
		required: None},
	{name: "output field added", edit: []edit{replace(tsPriority, strings.Replace(tsPriority, "exe_flags=%evt.arg.flags", "exe_flags=%evt.arg.flags container_id=%container.id", 1))},
		required: Patch, changes: []want{{KindRule, "Terminal shell in container", ChangeOutputFieldsChanged, Patch, "added `%container.id`"}}},
	{name: "output field swapped, same count", edit: []edit{replace(tsPriority, strings.Replace(tsPriority, "parent=%proc.pname", "parent=%proc.aname[2]", 1))},
		required: Patch, changes: []want{{KindRule, "Terminal shell in container", ChangeOutputFieldsChanged, Patch, "added `%proc.aname[2]`, removed `%proc.pname`"}}},
	{name: "output text changed", edit: []edit{replace("output: A shell was spawned in a container", "output: A shell was started in a container")},
		required: Patch, changes: []want{{KindRule, "Terminal shell in container", ChangeOutputTextChanged, Patch, "same fields"}}},
	{name: "desc changed", edit: []edit{replace("Common when using \"kubectl exec\" in Kubernetes.", "Common with \"kubectl exec\".")},
		required: Patch, changes: []want{{KindRule, "Terminal shell in container", ChangeDescChanged, Patch, "falco -L"}}},
	{name: "source changed (the rule is skipped, still compared)", edit: []edit{replace(tsPriority, tsPriority+"  source: my_plugin\n")},
		required: Major, changes: []want{{KindRule, "Terminal shell in container", ChangeSourceChanged, Major, "from syscall to my_plugin"}}},
	{name: "skip-if-unknown-filter turned off",
		setup:    []edit{replace(tsPriority, tsPriority+"  skip-if-unknown-filter: true\n")},
		edit:     []edit{replace(tsPriority+"  skip-if-unknown-filter: true\n", tsPriority)},
		required: Major, changes: []want{{KindRule, "Terminal shell in container", ChangeSkipUnknownDisabled, Major, "fails to load"}}},
	{name: "warn_evttypes turned off", edit: []edit{replace(tsPriority, tsPriority+"  warn_evttypes: false\n")},
		required: Patch, changes: []want{{KindRule, "Terminal shell in container", ChangeWarnEvttypesChanged, Patch, "load-time warnings"}}},
	{name: "rule moved past rules matching the same events", edit: []edit{moveItem(terminalShell, "")},
		required: Major, changes: []want{{KindRule, "Terminal shell in container", ChangeOrderChanged, Major, "rule_matching: first"}}},
	{name: "rule moved past a rule with other event types", edit: []edit{moveItem("- rule: Create Symlink Over Sensitive Files", "- list: user_known_packet_socket_binaries")},
		required: None, changes: []want{{KindRule, "Create Symlink Over Sensitive Files", ChangeOrderChanged, None, "cannot match the same events"}}},

	// exceptions
	{name: "exception added", setup: []edit{withExceptions},
		edit:     []edit{replace(exceptionsYAML, exceptionsYAML+"    - name: known_users\n      fields: user.name\n      values: [ansible]\n")},
		required: Patch, changes: []want{{KindRule, "Terminal shell in container", ChangeExceptionAdded, Patch, "new exception `known_users` on user.name with 1 values"}}},
	{name: "exception removed", setup: []edit{withExceptions},
		edit:     []edit{replace("    - name: known_parents\n      fields: proc.pname\n      comps: in\n      values: [tini, dumb-init]\n", "")},
		required: Major, changes: []want{{KindRule, "Terminal shell in container", ChangeExceptionRemoved, Major, "append values to it by name"}}},
	{name: "exception renamed", setup: []edit{withExceptions},
		edit:     []edit{replace("    - name: known_parents\n", "    - name: known_parent_procs\n")},
		required: Major, changes: []want{
			{KindRule, "Terminal shell in container", ChangeExceptionRemoved, Major, "exception `known_parents` removed"},
			{KindRule, "Terminal shell in container", ChangeExceptionAdded, Patch, "new exception `known_parent_procs`"},
		}},
	{name: "exception values added", setup: []edit{withExceptions},
		edit:     []edit{replace("        - [bash, docker.io/library/busybox]\n", "        - [bash, docker.io/library/busybox]\n        - [sh, docker.io/library/alpine]\n")},
		required: Patch, changes: []want{{KindRule, "Terminal shell in container", ChangeExceptionValuesAdded, Patch, "gained values `[sh, docker.io/library/alpine]`"}}},
	{name: "exception values removed", setup: []edit{withExceptions},
		edit:     []edit{replace("values: [tini, dumb-init]", "values: [tini]")},
		required: Patch, changes: []want{{KindRule, "Terminal shell in container", ChangeExceptionValuesRemoved, Patch, "lost values `dumb-init`"}}},
	{name: "exception fields changed", setup: []edit{withExceptions},
		edit:     []edit{replace("fields: proc.pname", "fields: proc.aname[2]")},
		required: Major, changes: []want{{KindRule, "Terminal shell in container", ChangeExceptionFieldsChanged, Major, "from proc.pname to proc.aname[2]"}}},
	{name: "exception comps changed", setup: []edit{withExceptions},
		edit:     []edit{replace("comps: [=, =]", "comps: [=, startswith]")},
		required: Major, changes: []want{{KindRule, "Terminal shell in container", ChangeExceptionCompsChanged, Major, "from [=, =] to [=, startswith]"}}},
	{name: "exception values reordered", setup: []edit{withExceptions},
		edit:     []edit{replace("values: [tini, dumb-init]", "values: [dumb-init, tini]")},
		required: None},

	// formatting
	{name: "comments added", edit: []edit{insertBefore(terminalShell, "# Shells in containers are a classic sign of an interactive intrusion.\n# See also the k8saudit exec rules.\n")},
		required: None},
	{name: "condition reflowed", edit: []edit{replace("    spawned_process\n    and clear_data_procs\n    and not user_known_remove_data_activities\n", "    spawned_process and clear_data_procs and not user_known_remove_data_activities\n")},
		required: None},
	{name: "YAML style changed", edit: []edit{
		replace("  priority:\n    WARNING\n  tags: [maturity_stable, host, container, process, filesystem, mitre_impact, T1485]", "  priority: \"WARNING\"\n  tags:\n    - maturity_stable\n    - host\n    - container\n    - process\n    - filesystem\n    - mitre_impact\n    - T1485"),
	}, required: None},
	{name: "list in block style", edit: []edit{replace("items: [grep, egrep, fgrep]", "items:\n    - grep\n    - egrep\n    - fgrep")},
		required: None},
}

func base510(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sharedtest.UpstreamRules(t), "falco-rules-5.1.0", "falco_rules.yaml"))
	require.NoError(t, err)
	return string(b)
}

func loadText(t *testing.T, name, text string) *rules.Ruleset {
	t.Helper()
	rs := rules.LoadBytes(name, []byte(text), rules.Options{})
	for _, f := range rs.Findings {
		require.NotEqual(t, diag.Error, f.Severity, "%s does not load: %s", name, f)
	}
	return rs
}

func TestDiffCases(t *testing.T) {
	base := base510(t)
	require.GreaterOrEqual(t, len(diffCases), 40, "cases")
	for _, tc := range diffCases {
		t.Run(tc.name, func(t *testing.T) {
			oldText := base
			for _, e := range tc.setup {
				oldText = e(t, oldText)
			}
			newText := oldText
			for _, e := range tc.edit {
				newText = e(t, newText)
			}
			require.NotEqual(t, oldText, newText, "the edit changed nothing")
			rep := Compare(loadText(t, "old.yaml", oldText), loadText(t, "new.yaml", newText))
			dump := func() string {
				var b strings.Builder
				_ = rep.WriteText(&b)
				return b.String()
			}
			if os.Getenv("DIFF_DEBUG") != "" {
				t.Log("\n" + dump())
			}
			assert.Equal(t, tc.required, rep.RequiredBump, "required bump\n%s", dump())
			if len(tc.changes) == 0 {
				assert.Empty(t, rep.Changes, "want no changes, got\n%s", dump())
			}
			for _, w := range tc.changes {
				found := false
				for _, c := range rep.Changes {
					if c.Kind == w.kind && c.Name == w.name && c.Change == w.change {
						found = true
						assert.Equal(t, w.bump, c.Bump, "%s %q %s: bump", w.kind, w.name, w.change)
						assert.Contains(t, c.Reason, w.reason, "%s %q %s: reason", w.kind, w.name, w.change)
						assert.True(t, c.Line > 0 && c.File != "", "%s %q %s: no position (%s:%d)", w.kind, w.name, w.change, c.File, c.Line)
					}
				}
				assert.True(t, found, "no change %s %q %s in\n%s", w.kind, w.name, w.change, dump())
			}
		})
	}
}
