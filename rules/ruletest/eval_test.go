package ruletest

import (
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/rules/condition"
)

// fields of a test event: a string is one value, a []string several;
// "source" is the event source.
type fv map[string]any

func buildEvent(t testing.TB, f fv) *Event {
	t.Helper()
	src, _ := f["source"].(string)
	ev, err := NewEvent(src)
	require.NoError(t, err)
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "source" {
			continue
		}
		var err error
		switch v := f[k].(type) {
		case string:
			err = ev.Set(k, v)
		case []string:
			err = ev.Set(k, v...)
		default:
			require.Failf(t, "bad test value", "%s: %T", k, v)
		}
		require.NoError(t, err, "event field %s", k)
	}
	return ev
}

func evalCond(t testing.TB, cond string, ev *Event) (bool, error) {
	t.Helper()
	e, err := condition.Parse(cond)
	require.NoError(t, err, "%s: does not parse", cond)
	return Eval(e, ev)
}

// TestRuleTestOperators checks the evaluator against libsinsp's semantics. Each case
// names the libs function (falcosecurity/libs, userspace/libsinsp) whose
// behaviour it pins down.
func TestRuleTestOperators(t *testing.T) {
	k8s := func(f fv) fv { f["source"] = "k8s_audit"; return f }
	tests := []struct {
		cond string
		ev   fv
		want bool
		libs string
	}{
		// = != < <= > >= on strings: strcmp
		{`proc.name = bash`, fv{"proc.name": "bash"}, true, "filter_compare.cpp flt_compare_string CO_EQ"},
		{`proc.name == bash`, fv{"proc.name": "bash"}, true, "filter_compare.cpp str_to_cmpop: == is CO_EQ"},
		{`proc.name = bash`, fv{"proc.name": "Bash"}, false, "flt_compare_string CO_EQ: strcmp is case-sensitive"},
		{`proc.name != bash`, fv{"proc.name": "zsh"}, true, "flt_compare_string CO_NE"},
		{`proc.name != bash`, fv{}, false, "sinsp_filter_check::compare_nocache: a field that cannot be extracted fails every check"},
		{`not proc.name = bash`, fv{}, true, "compare_nocache false, negated by the boolean expression"},
		{`proc.name = bash`, fv{}, false, "compare_nocache: extract() false"},
		{`proc.name < 5`, fv{"proc.name": "10"}, true, "flt_compare_string CO_LT: strcmp, \"10\" sorts before \"5\""},
		{`proc.name >= 10`, fv{"proc.name": "10"}, true, "flt_compare_string CO_GE"},
		{`proc.name > 9`, fv{"proc.name": "10"}, false, "flt_compare_string CO_GT: strcmp, not a number comparison"},
		// contains, icontains
		{`proc.cmdline contains "-c id"`, fv{"proc.cmdline": "bash -c id"}, true, "flt_compare_string CO_CONTAINS: strstr"},
		{`proc.cmdline contains ID`, fv{"proc.cmdline": "bash -c id"}, false, "flt_compare_string CO_CONTAINS: case-sensitive"},
		{`proc.cmdline icontains ID`, fv{"proc.cmdline": "bash -c id"}, true, "flt_compare_string CO_ICONTAINS: strcasestr"},
		{`proc.cmdline icontains "É"`, fv{"proc.cmdline": "é"}, false, "strcasestr in the C locale folds ASCII only"},
		// startswith, endswith
		{`fd.name startswith /etc/`, fv{"fd.name": "/etc/passwd"}, true, "flt_compare_string CO_STARTSWITH: strncmp"},
		{`fd.name startswith /etc/`, fv{"fd.name": "/etc"}, false, "flt_compare_string CO_STARTSWITH"},
		{`fd.name endswith .conf`, fv{"fd.name": "/etc/x.conf"}, true, "sinsp_utils::endswith"},
		{`fd.name endswith .conf`, fv{"fd.name": "conf"}, false, "sinsp_utils::endswith: ending longer than the string"},
		// glob, iglob: fnmatch(pattern, value, 0 or FNM_CASEFOLD)
		{`fd.name glob "/etc/*"`, fv{"fd.name": "/etc/ssh/sshd_config"}, true, "sinsp_utils::glob_match: fnmatch without FNM_PATHNAME, * matches /"},
		{`fd.name glob "/etc/?asswd"`, fv{"fd.name": "/etc/passwd"}, true, "glob_match: ? matches one character"},
		{`fd.name glob "/etc/[a-o]*"`, fv{"fd.name": "/etc/passwd"}, false, "glob_match: bracket range"},
		{`fd.name glob "/etc/[!a-o]*"`, fv{"fd.name": "/etc/passwd"}, true, "glob_match: negated bracket"},
		{`fd.name glob "/ETC/*"`, fv{"fd.name": "/etc/x"}, false, "glob_match: case-sensitive"},
		{`fd.name iglob "/ETC/*"`, fv{"fd.name": "/etc/x"}, true, "glob_match(..., true): FNM_CASEFOLD"},
		{`fd.name glob "/tmp/\\*"`, fv{"fd.name": "/tmp/*"}, true, "glob_match: a backslash quotes the next character"},
		{`fd.name glob "/tmp/\\*"`, fv{"fd.name": "/tmp/a"}, false, "glob_match: quoted * is literal"},
		{`fd.name glob "[[:digit:]]*"`, fv{"fd.name": "1abc"}, true, "glob_match: character classes"},
		{`proc.name glob "*.sh"`, fv{"proc.name": ".sh"}, true, "glob_match: no FNM_PERIOD, * matches a leading dot"},
		// pmatch: path_prefix_search
		{`fd.name pmatch (/var/run, /etc)`, fv{"fd.name": "/var/run/docker.sock"}, true, "prefix_search.h path_prefix_map::match"},
		{`fd.name pmatch (/var/run, /etc)`, fv{"fd.name": "/var/runs"}, false, "path_prefix_map: matches whole components only"},
		{`fd.name pmatch (/var/run)`, fv{"fd.name": "/var"}, false, "check_match_value: /var does not match search path /var/run"},
		{`fd.name pmatch (/etc/)`, fv{"fd.name": "/etc"}, true, "split_path drops empty components: /etc/ is /etc"},
		{`fd.name pmatch (/opt/*/bin)`, fv{"fd.name": "/opt/app/bin/tool"}, true, "match_components_glob: glob path components"},
		{`fd.name pmatch (/)`, fv{"fd.name": "/anything/below"}, true, "prefix_search.ut.cpp root_dir_match"},
		// in, intersects on single-valued fields
		{`proc.name in (bash, sh)`, fv{"proc.name": "sh"}, true, "compare_rhs CO_IN: set membership"},
		{`proc.name in (bash, sh)`, fv{"proc.name": "zsh"}, false, "compare_rhs CO_IN"},
		{`proc.name in (bash)`, fv{}, false, "compare_nocache: extract() false"},
		{`proc.pid in (1, 02)`, fv{"proc.pid": "2"}, true, "add_filter_value: constants parsed for the field type (parsed64)"},
		{`proc.name intersects (bash, sh)`, fv{"proc.name": "sh"}, true, "compare_rhs: on single values CO_INTERSECTS is CO_IN"},
		// list fields (EPF_IS_LIST)
		{`ka.req.pod.containers.image in (nginx, redis)`, k8s(fv{"ka.req.pod.containers.image": []string{"nginx", "redis"}}), true, "compare_rhs list branch: CO_IN needs every value in the set"},
		{`ka.req.pod.containers.image in (nginx, redis)`, k8s(fv{"ka.req.pod.containers.image": []string{"nginx", "busybox"}}), false, "compare_rhs list branch: one value outside the set fails CO_IN"},
		{`ka.req.pod.containers.image intersects (nginx, redis)`, k8s(fv{"ka.req.pod.containers.image": []string{"nginx", "busybox"}}), true, "compare_rhs list branch: CO_INTERSECTS needs one value in the set"},
		{`ka.req.pod.containers.image intersects (nginx, redis)`, k8s(fv{"ka.req.pod.containers.image": []string{"busybox"}}), false, "compare_rhs list branch CO_INTERSECTS"},
		{`ka.req.pod.containers.image in (nginx)`, k8s(fv{"ka.req.pod.containers.image": []string{}}), true, "compare_rhs list branch: CO_IN over no values is true"},
		{`ka.req.pod.containers.image intersects (nginx)`, k8s(fv{"ka.req.pod.containers.image": []string{}}), false, "compare_rhs list branch: CO_INTERSECTS over no values is false"},
		{`ka.req.pod.containers.image exists`, k8s(fv{"ka.req.pod.containers.image": []string{}}), true, "compare_rhs: CO_EXISTS once extracted"},
		{`ka.verb = create`, k8s(fv{"ka.verb": "create"}), true, "plugin fields compare like any other (plugin_filtercheck.cpp)"},
		// ancestor fields: sinsp_filtercheck_thread.cpp
		{`proc.aname = runc`, fv{"proc.aname": []string{"containerd-shim", "runc"}}, true, "compare_full_aname: any ancestor"},
		{`proc.aname = bash`, fv{"proc.name": "bash", "proc.aname": []string{"runc"}}, false, "traverse_parent_state starts at the parent"},
		{`proc.aname[2] = runc`, fv{"proc.aname": []string{"containerd-shim", "runc"}}, true, "get_ancestor_process(tinfo, 2): the grandparent"},
		{`proc.aname[1] = runc`, fv{"proc.aname": []string{"containerd-shim", "runc"}}, false, "get_ancestor_process(tinfo, 1): the parent"},
		{`proc.aname[0] = bash`, fv{"proc.name": "bash"}, true, "get_ancestor_process(tinfo, 0): the process itself"},
		{`proc.aname[3] = x`, fv{"proc.aname": []string{"a", "b"}}, false, "get_ancestor_process: no such ancestor, extract() fails"},
		{`proc.aname exists`, fv{}, false, "compare_full_aname: no ancestor visited"},
		{`proc.aname exists`, fv{"proc.aname": "init"}, true, "compare_full_aname: compare_rhs(CO_EXISTS) on the parent"},
		{`proc.aname != runc`, fv{"proc.aname": []string{"runc", "systemd"}}, true, "compare_full_aname: some ancestor is not runc"},
		{`proc.aname in (runc, crio)`, fv{"proc.aname": []string{"containerd-shim", "crio"}}, true, "compare_full_aname with CO_IN"},
		{`proc.aname[2] = runc`, fv{"proc.aname[2]": "runc"}, true, "indexed ancestor keys in the test event"},
		{`proc.apid = 1`, fv{"proc.apid": []string{"100", "1"}}, true, "compare_full_apid: any ancestor pid"},
		// exists
		{`proc.name exists`, fv{"proc.name": ""}, true, "compare_rhs CO_EXISTS: an empty string is a value"},
		{`proc.name exists`, fv{}, false, "compare_nocache: extract() false"},
		// numbers: flt_compare_numeric at the field's width
		{`proc.tty != 0`, fv{"proc.tty": "34816"}, true, "flt_compare_numeric<uint64_t> for PT_UINT32"},
		{`proc.tty != 0`, fv{"proc.tty": "0"}, false, "flt_compare_numeric CO_NE"},
		{`fd.num >= 0`, fv{"fd.num": "-1"}, false, "flt_compare_numeric<int64_t> for PT_INT64: signed"},
		{`proc.vpid < 10`, fv{"proc.vpid": "9"}, true, "flt_compare_numeric CO_LT"},
		{`proc.tty = 4294967297`, fv{"proc.tty": "1"}, true, "sinsp_numparser::parseu32 stores %u into a uint32: truncated"},
		{`evt.arg.res = 0`, fv{"evt.arg.res": "0"}, true, "evt.arg is PT_CHARBUF: text comparison"},
		{`evt.arg[1] = x`, fv{"evt.arg[01]": "x"}, true, "sinsp_filter_check_event::extract_arg: the index is a number"},
		{`evt.arg.res = 0`, fv{"evt.arg.res": "00"}, false, "evt.arg compares text, not numbers"},
		{`evt.is_open_write = true`, fv{"evt.is_open_write": "true"}, true, "flt_compare_bool"},
		{`evt.is_open_write = true`, fv{"evt.is_open_write": "false"}, false, "flt_compare_bool"},
		{`thread.cpu > 1`, fv{"thread.cpu": "1.5"}, true, "flt_compare_numeric<double>"},
		// addresses and networks
		{`fd.sip = 10.0.0.1`, fv{"fd.sip": "10.0.0.1"}, true, "flt_compare_ipv4addr"},
		{`fd.sip = "::1"`, fv{"fd.sip": "10.0.0.1"}, false, "flt_compare PT_IPADDR: lengths differ, only CO_NE holds"},
		{`fd.sip != "::1"`, fv{"fd.sip": "10.0.0.1"}, true, "flt_compare PT_IPADDR: lengths differ, only CO_NE holds"},
		{`fd.sip = "2001:db8::1"`, fv{"fd.sip": "2001:db8:0::1"}, true, "flt_compare_ipv6addr"},
		{`fd.ip = 10.0.0.2`, fv{"fd.cip": "10.0.0.1", "fd.sip": "10.0.0.2"}, true, "sinsp_filter_check_fd::compare_ip: client or server"},
		{`fd.ip != 10.0.0.2`, fv{"fd.cip": "10.0.0.1", "fd.sip": "10.0.0.2"}, false, "compare_ip CO_NE: both sides must differ"},
		{`fd.net = 10.0.0.0/8`, fv{"fd.cip": "192.168.0.1", "fd.sip": "10.1.2.3"}, true, "compare_net: flt_compare_ipv4net on either side"},
		{`fd.net in (10.0.0.0/8, 192.168.0.0/16)`, fv{"fd.cip": "192.168.1.1", "fd.sip": "192.168.1.2"}, false, "compare_net compares with filter_value_p(): the first network only"},
		{`fd.snet = 10.0.0.0/8`, fv{"fd.sip": "10.1.2.3"}, true, "flt_compare_ipv4net: masked comparison"},
		{`fd.snet != 10.0.0.0/8`, fv{"fd.sip": "10.1.2.3"}, false, "flt_compare_ipv4net CO_NE"},
		{`fd.snet in (172.16.0.0/12, 10.0.0.0/8)`, fv{"fd.sip": "10.1.2.3"}, true, "compare_rhs: PT_IPNET is eq-only, loops flt_compare(CO_EQ)"},
		{`fd.port = 443`, fv{"fd.cport": "51000", "fd.sport": "443"}, true, "compare_port: client or server port"},
		{`fd.port > 50000`, fv{"fd.cport": "51000", "fd.sport": "443"}, true, "compare_port CO_GT on either side"},
		{`fd.port != 443`, fv{"fd.cport": "51000", "fd.sport": "443"}, false, "compare_port CO_NE: both sides"},
		{`fd.sport in (80, 443)`, fv{"fd.sport": "443"}, true, "compare_rhs CO_IN on PT_PORT"},
		{`fd.proto = https`, fv{"fd.cport": "51000", "fd.sport": "443"}, true, "string_to_rawval PT_PORT: getservbyname"},
		// regex: RE2 POSIX, ANCHOR_BOTH
		{`proc.cmdline regex "bash -c .*"`, fv{"proc.cmdline": "bash -c id"}, true, "matches_rhs_regex: RE2::POSIX"},
		{`proc.cmdline regex "-c"`, fv{"proc.cmdline": "bash -c id"}, false, "matches_rhs_regex: ANCHOR_BOTH, a full match"},
		{`proc.name regex "ba(sh|zsh)"`, fv{"proc.name": "bash"}, true, "matches_rhs_regex"},
		{`proc.name regex "a|ab"`, fv{"proc.name": "ab"}, true, "RE2 longest match: the alternation can cover the whole value"},
		// byte buffers
		{`evt.buffer bcontains 2f62696e`, fv{"evt.buffer": "x/bin/sh"}, true, "add_filtercheck_value: sinsp_utils::unhex; flt_compare_buffer CO_BCONTAINS: memmem"},
		{`evt.buffer bstartswith 7F454C46`, fv{"evt.buffer": "\x7fELF\x02"}, true, "flt_compare_buffer CO_BSTARTSWITH"},
		{`evt.buffer bstartswith 454c46`, fv{"evt.buffer": "\x7fELF\x02"}, false, "flt_compare_buffer CO_BSTARTSWITH: prefix only"},
		{`evt.buffer contains /bin`, fv{"evt.buffer": "x/bin/sh"}, true, "flt_compare_buffer CO_CONTAINS"},
		// modifiers (Falco 0.44)
		{`proc.name startswith anyof (ba, zs)`, fv{"proc.name": "zsh"}, true, "compare_rhs_with_mod: matches_any_rhs"},
		{`proc.name startswith allof (b, ba)`, fv{"proc.name": "bash"}, true, "matches_all_rhs"},
		{`proc.name startswith allof (b, ba)`, fv{"proc.name": "bsh"}, false, "matches_all_rhs"},
		{`proc.name startswith oneof (b, ba)`, fv{"proc.name": "bash"}, false, "matches_one_rhs: two elements match"},
		{`proc.name startswith oneof (b, ba)`, fv{"proc.name": "bsh"}, true, "matches_one_rhs: exactly one"},
		{`proc.name != allof (sh, bash)`, fv{"proc.name": "zsh"}, true, "matches_all_rhs with CO_NE: not in the set"},
		// transformers
		{`tolower(proc.name) = bash`, fv{"proc.name": "BaSh"}, true, "sinsp_filter_transformer_tolower"},
		{`toupper(proc.name) = BASH`, fv{"proc.name": "bash"}, true, "sinsp_filter_transformer_toupper"},
		{`basename(fd.name) = passwd`, fv{"fd.name": "/etc/passwd"}, true, "sinsp_filter_transformer_basename"},
		{`basename(fd.name) = ""`, fv{"fd.name": "/etc/"}, true, "basename: the part after the last slash"},
		{`b64(proc.args) = hello`, fv{"proc.args": "aGVsbG8="}, true, "Base64::decodeWithoutPadding"},
		{`b64(proc.args) = hello`, fv{"proc.args": "aGVsbG8"}, true, "Base64::decodeWithoutPadding: padding optional"},
		{`b64(proc.args) exists`, fv{"proc.args": "!!"}, false, "decodeWithoutPadding fails: extraction fails"},
		{`len(proc.name) = 4`, fv{"proc.name": "bash"}, true, "sinsp_filter_transformer_len: strnlen"},
		{`len(ka.req.pod.containers.image) = 2`, k8s(fv{"ka.req.pod.containers.image": []string{"a", "b"}}), true, "sinsp_filter_transformer_len: a list's length"},
		{`proc.name = val(proc.pname)`, fv{"proc.name": "bash", "proc.pname": "bash"}, true, "compare_nocache with m_rhs_filter_check"},
		{`proc.name = val(proc.pname)`, fv{"proc.name": "bash", "proc.pname": "sh"}, false, "compare_nocache with m_rhs_filter_check"},
		{`proc.name != val(proc.pname)`, fv{"proc.name": "bash"}, false, "compare_nocache: right-hand extract() fails"},
		{`tolower(proc.name) = tolower(proc.pname)`, fv{"proc.name": "Bash", "proc.pname": "BASH"}, true, "transformers on both sides"},
		{`concat(proc.name, "-", proc.pname) = "bash-sh"`, fv{"proc.name": "bash", "proc.pname": "sh"}, true, "sinsp_filter_multivalue_transformer_concat"},
		{`concat(proc.name, "-", proc.pname) exists`, fv{"proc.name": "bash"}, false, "concat: an argument that cannot be extracted fails"},
		{`join(",", (proc.name, proc.pname)) = "bash,sh"`, fv{"proc.name": "bash", "proc.pname": "sh"}, true, "sinsp_filter_multivalue_transformer_join over a list_check"},
		{`getopt(("-x", "-c", "id"), "xc:")[c] = id`, fv{}, true, "sinsp_filter_multivalue_transformer_getopt with selector"},
		{`getopt(("-xcid"), "xc:") intersects (id)`, fv{}, true, "getopt: an attached option value"},
		{`len(getopt(("-x", "-c", "id", "file"), "xc:")) = 3`, fv{}, true, "getopt list mode: x, c, id; stops at the first operand"},
		{`getopt(("-c"), "c:")[c] = ""`, fv{}, true, "getopt: a missing argument is an empty value"},
	}
	for _, tc := range tests {
		ev := buildEvent(t, tc.ev)
		got, err := evalCond(t, tc.cond, ev)
		if assert.NoError(t, err, "%s with %v (%s)", tc.cond, tc.ev, tc.libs) {
			assert.Equal(t, tc.want, got, "%s with %v (%s)", tc.cond, tc.ev, tc.libs)
		}
	}
	require.GreaterOrEqual(t, len(tests), 60, "the operator table must have at least 60 cases")
}

// TestRuleTestCompileErrors checks that conditions libsinsp's compiler rejects are
// rejected, with its messages.
func TestRuleTestCompileErrors(t *testing.T) {
	tests := []struct {
		cond, source, want string
	}{
		{`proc.name bcontains 41`, "", "'bcontains' operator not supported for string filters"},
		{`proc.tty contains 1`, "", "'contains' operator not supported for numeric filters"},
		{`proc.tty = abc`, "", "abc is not a valid number"},
		{`proc.tty = 0x10`, "", "0x10 is not a valid number"},
		{`evt.is_open_write = yes`, "", "unrecognized boolean value yes"},
		{`proc.name regex "\\d+"`, "", "invalid regex pattern"},
		{`evt.buffer bcontains xyz`, "", "bcontains and bstartswith operator support hex strings only"},
		{`tolower(proc.aname) = x`, "", "field 'proc.aname' does not support transformers"},
		{`proc.name = val(proc.pid)`, "", "has incompatible type 'int64'"},
		{`fd.name pmatch val(proc.pname)`, "", "operator 'PMATCH' doesn't support right-hand side fields"},
		{`proc.name = val(proc.aname)`, "", "field 'proc.aname' can't be used as a right-hand side field"},
		{`fd.ip contains 1`, "", "'contains' operator not supported for ip address and network filters"},
		{`fd.ip intersects (10.0.0.1)`, "", "IP filter only supports '=' and '!=' operators"},
		{`ka.req.pod.containers.image = x`, "k8s_audit", "'=' operator not supported list filters"},
		{`tolower(proc.tty) = 1`, "", "type 'uint32' is not supported by 'tolower' transformer"},
		{`fd.snet = 10.0.0.1`, "", "unrecognized IP network 10.0.0.1"},
		{`proc.nmae = x`, "", "unknown field 'proc.nmae' for source 'syscall'"},
		{`thread.cpu > 0.5`, "", "0.5 is not a valid number"},
		{`join(",", proc.name) = x`, "", "join() second argument must be a list"},
		{`some_macro`, "", "undefined macro 'some_macro'"},
	}
	for _, tc := range tests {
		_, err := Compile(mustParse(t, tc.cond), tc.source)
		assert.ErrorContains(t, err, tc.want, tc.cond)
	}
}

func TestRuleTestEventErrors(t *testing.T) {
	ev, err := NewEvent("")
	require.NoError(t, err)
	tests := []struct {
		field  string
		values []string
		want   string
	}{
		{"proc.nmae", []string{"x"}, "unknown field 'proc.nmae'"},
		{"proc.name", []string{"a", "b"}, "single-valued in Falco"},
		{"proc.tty", []string{"tty1"}, "tty1 is not a valid number"},
		{"evt.type", []string{"exceve"}, "unknown event type 'exceve'"},
		{"evt.is_open_write", []string{"yes"}, "unrecognized boolean value"},
		{"fd.sip", []string{"10.0.0"}, "unrecognized IPv4 address"},
		{"proc.aname[x]", []string{"a"}, "takes a numeric argument"},
		{"proc.name[1]", []string{"a"}, "does not take an argument"},
		{"evt.arg", []string{"a"}, "requires an argument"},
		{"fd.ip", []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"}, "at most two values"},
		{"tolower(proc.name)", []string{"a"}, "is not a field name"},
	}
	for _, tc := range tests {
		assert.ErrorContains(t, ev.Set(tc.field, tc.values...), tc.want, "Set(%s, %v)", tc.field, tc.values)
	}
	assert.ErrorContains(t, ev.Set("evt.arg[res]", "0"), "takes a numeric argument", "evt.arg[res] is not a field in libsinsp (evt.arg.res is)")
	require.NoError(t, ev.Set("proc.aname[2]", "x"))
	assert.ErrorContains(t, ev.Set("proc.aname[02]", "x"), "given twice", "proc.aname[2] and proc.aname[02] are one field")
	_, err = NewEvent("nosuchsource")
	assert.Error(t, err, "an unknown source must be an error")
	k8s, _ := NewEvent("k8s_audit")
	assert.Error(t, k8s.Set("proc.name", "x"), "syscall fields are unknown in k8s_audit events")
	// a program compiled for one source refuses events of another
	p, err := Compile(mustParse(t, "ka.verb = create"), "k8s_audit")
	require.NoError(t, err)
	_, err = p.Eval(ev)
	assert.Error(t, err, "evaluating a k8s_audit condition on a syscall event must fail")
}

func mustParse(t testing.TB, s string) condition.Expr {
	t.Helper()
	e, err := condition.Parse(s)
	require.NoError(t, err)
	return e
}

func TestRuleTestFnmatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		fold, want bool
	}{
		{"*", "", false, true},
		{"a*b*c", "axxbyyc", false, true},
		{"a*b*c", "axxbyy", false, false},
		{"[]]", "]", false, true},
		{"[!]]", "a", false, true},
		{"[a-]", "-", false, true},
		{"[", "[", false, true},
		{"[abc", "[abc", false, true},
		{"\\", "\\", false, false},
		{"[[:upper:]]", "a", true, true},
		{"[A-Z]x", "qX", true, true},
		{"?", "", false, false},
		{"*.log", "/var/log/a.log", false, true},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, fnmatch(tc.pattern, tc.s, tc.fold), "fnmatch(%q, %q, %v)", tc.pattern, tc.s, tc.fold)
	}
}
