package fields

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/internal/sharedtest"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		src, name string
		ok        bool
		want      string // resolved field name
		dotted    string
		arg       ArgMode
		index     bool
		key       bool
		bracket   bool
	}{
		// exact
		{src: "syscall", name: "proc.name", ok: true, want: "proc.name"},
		{src: "syscall", name: "evt.type", ok: true, want: "evt.type"},
		{src: "syscall", name: "evt.args", ok: true, want: "evt.args"},
		{src: "syscall", name: "fd.name", ok: true, want: "fd.name"},
		{src: "syscall", name: "fd.sip.name", ok: true, want: "fd.sip.name"},
		{src: "syscall", name: "container.mount.source", ok: true, want: "container.mount.source", arg: ArgRequired, index: true, key: true, bracket: true},
		{src: "syscall", name: "evt.abspath.src", ok: true, want: "evt.abspath.src"},
		// bracket arguments
		{src: "syscall", name: "proc.aname", ok: true, want: "proc.aname", arg: ArgAllowed, index: true, bracket: true},
		{src: "syscall", name: "proc.apid", ok: true, want: "proc.apid", arg: ArgAllowed, index: true, bracket: true},
		{src: "syscall", name: "proc.env", ok: true, want: "proc.env", arg: ArgAllowed, index: true, key: true, bracket: true},
		{src: "syscall", name: "evt.arg", ok: true, want: "evt.arg", arg: ArgRequired, index: true, bracket: true},
		{src: "syscall", name: "evt.rawarg", ok: true, want: "evt.rawarg", arg: ArgRequired, index: true, bracket: true},
		{src: "syscall", name: "fd.types", ok: true, want: "fd.types", arg: ArgAllowed, index: true, bracket: true},
		{src: "syscall", name: "container.label", ok: true, want: "container.label", arg: ArgRequired, key: true, bracket: true},
		{src: "k8s_audit", name: "ka.uri.param", ok: true, want: "ka.uri.param", arg: ArgRequired, key: true, bracket: true},
		{src: "k8s_audit", name: "ka.req.pod.containers.image", ok: true, want: "ka.req.pod.containers.image", arg: ArgAllowed, index: true, bracket: true},
		// dotted arguments
		{src: "syscall", name: "evt.arg.flags", ok: true, want: "evt.arg", dotted: "flags", arg: ArgRequired, index: true, bracket: true},
		{src: "syscall", name: "evt.rawarg.res", ok: true, want: "evt.rawarg", dotted: "res", arg: ArgRequired, index: true, bracket: true},
		{src: "syscall", name: "evt.type.is.open", ok: true, want: "evt.type.is", dotted: "open", arg: ArgRequired, index: true, key: true},
		{src: "syscall", name: "thread.cgroup.cpuacct", ok: true, want: "thread.cgroup", dotted: "cpuacct", arg: ArgRequired, key: true},
		{src: "syscall", name: "k8s.pod.label.app.kubernetes.io/name", ok: true, want: "k8s.pod.label", dotted: "app.kubernetes.io/name", arg: ArgRequired, key: true, bracket: true},
		{src: "syscall", name: "mesos.task.label.foo", ok: true, want: "mesos.task.label", dotted: "foo", arg: ArgRequired, key: true},
		// unknown
		{src: "syscall", name: "proc.nam", ok: false},
		{src: "syscall", name: "proc.namex", ok: false},
		{src: "syscall", name: "proc.name.foo", ok: false},
		{src: "syscall", name: "evt.arg.", ok: false},
		{src: "syscall", name: "k8s.pod.labels.foo", ok: false},
		{src: "syscall", name: "container.mount.foo", ok: false},
		{src: "syscall", name: "foo.bar", ok: false},
		{src: "syscall", name: "", ok: false},
		{src: "nosuchsource", name: "proc.name", ok: false},
		// per-source isolation
		{src: "syscall", name: "ka.verb", ok: false},
		{src: "k8s_audit", name: "ka.verb", ok: true, want: "ka.verb"},
		{src: "k8s_audit", name: "proc.name", ok: false},
		{src: "k8s_audit", name: "evt.arg.flags", ok: false},
		{src: "k8s_audit", name: "evt.type", ok: false},
		{src: "aws_cloudtrail", name: "ka.verb", ok: false},
		{src: "syscall", name: "ct.name", ok: false},
		{src: "syscall", name: "json.value", ok: false},
		// generic fields exist in every source, json fields in every plugin source
		{src: "k8s_audit", name: "evt.time", ok: true, want: "evt.time"},
		{src: "okta", name: "evt.source", ok: true, want: "evt.source"},
		{src: "syscall", name: "evt.hostname", ok: true, want: "evt.hostname"},
		{src: "k8s_audit", name: "jevt.value", ok: true, want: "jevt.value", arg: ArgRequired, key: true, bracket: true},
		{src: "aws_cloudtrail", name: "json.value", ok: true, want: "json.value", arg: ArgRequired, key: true, bracket: true},
		{src: "aws_cloudtrail", name: "ct.name", ok: true, want: "ct.name"},
		{src: "okta", name: "okta.evt.type", ok: true, want: "okta.evt.type"},
		{src: "github", name: "github.repo", ok: true, want: "github.repo"},
		{src: "gcp_auditlog", name: "gcp.methodName", ok: true, want: "gcp.methodName"},
	}
	for _, tc := range tests {
		f, dotted, ok := Lookup(tc.src, tc.name)
		if !assert.Equal(t, tc.ok, ok, "Lookup(%q, %q) ok", tc.src, tc.name) || !ok {
			continue
		}
		assert.Equal(t, tc.want, f.Name, "Lookup(%q, %q)", tc.src, tc.name)
		assert.Equal(t, tc.dotted, dotted, "Lookup(%q, %q) dotted", tc.src, tc.name)
		assert.Equal(t, []any{tc.arg, tc.index, tc.key, tc.bracket}, []any{f.Arg, f.ArgIndex, f.ArgKey, f.BracketArg()},
			"Lookup(%q, %q): arg, index, key, bracket", tc.src, tc.name)
	}
}

func TestFieldAttributes(t *testing.T) {
	get := func(src, name string) Field {
		t.Helper()
		f, _, ok := Lookup(src, name)
		require.True(t, ok, "%s/%s not found", src, name)
		return f
	}
	f := get("syscall", "fd.ip")
	assert.Equal(t, "ipaddr", f.Type, "fd.ip")
	assert.True(t, f.FilterOnly(), "fd.ip")
	assert.False(t, f.OutputOnly(), "fd.ip")
	f = get("syscall", "fd.net")
	assert.Equal(t, "ipnet", f.Type, "fd.net")
	assert.True(t, f.FilterOnly(), "fd.net")
	assert.Equal(t, "port", get("syscall", "fd.sport").Type)
	assert.True(t, get("syscall", "evt.outputtime").OutputOnly(), "evt.outputtime should be output only")
	f = get("syscall", "container.info")
	assert.True(t, f.OutputOnly(), "container.info")
	assert.True(t, f.Deprecated, "container.info")
	f = get("syscall", "proc.pid")
	assert.Equal(t, "int64", f.Type, "proc.pid")
	assert.Equal(t, ArgNone, f.Arg, "proc.pid")
	assert.False(t, f.BracketArg(), "proc.pid")
	assert.Equal(t, "abstime", get("syscall", "evt.rawtime").Type)
	assert.True(t, get("syscall", "fd.types").List, "fd.types should be a list")
	f = get("k8s_audit", "ka.user.groups")
	assert.True(t, f.List, "ka.user.groups")
	assert.Equal(t, "charbuf", f.Type, "ka.user.groups")
	assert.True(t, get("syscall", "evt.dir").Deprecated, "evt.dir should be deprecated")
	f = get("syscall", "k8s.rc.name")
	assert.True(t, f.Deprecated, "k8s.rc.name")
	assert.Empty(t, f.Until, "k8s.rc.name")
	f = get("syscall", "mesos.task.name")
	assert.True(t, f.Deprecated, "mesos.task.name")
	assert.Equal(t, "0.57.0", f.Until, "mesos.task.name")
	assert.Equal(t, "0.50.0", get("syscall", "syslog.message").Until)
	assert.Equal(t, "0.46.0", get("syscall", "proc.pgid").Since)
	assert.Equal(t, "0.50.0", get("syscall", "container.label").Since)
	f = get("syscall", "proc.name")
	assert.Empty(t, f.Since, "proc.name")
	assert.Empty(t, f.Until, "proc.name")
	assert.NotEmpty(t, f.Desc, "proc.name")
}

var semver = regexp.MustCompile(`^\d+\.\d+\.\d+$`)

var knownTypes = map[string]bool{
	"charbuf": true, "bytebuf": true, "uint64": true, "int64": true, "uint32": true, "int32": true,
	"int16": true, "bool": true, "ipaddr": true, "ipnet": true, "port": true, "reltime": true,
	"abstime": true, "double": true, "dyn": true, "fspath": true, "fsrelpath": true,
	"sockfamily": true, "flags32": true,
}

func TestCatalogSanity(t *testing.T) {
	want := []string{"aws_cloudtrail", "gcp_auditlog", "github", "k8s_audit", "okta", "syscall"}
	got := Sources()
	require.Equal(t, want, got, "Sources()")
	assert.True(t, sort.StringsAreSorted(got), "Sources() not sorted")
	for _, src := range []string{"nope", "*", "plugins"} {
		assert.False(t, KnownSource(src), "KnownSource(%q)", src)
	}
	assert.True(t, KnownSource("syscall"), "KnownSource(syscall)")
	minFields := map[string]int{"syscall": 350, "k8s_audit": 100, "aws_cloudtrail": 90, "okta": 70, "github": 40, "gcp_auditlog": 40}
	for _, src := range got {
		fs := Fields(src)
		assert.GreaterOrEqual(t, len(fs), minFields[src], "%s: fields", src)
		seen := map[string]bool{}
		for _, f := range fs {
			assert.False(t, seen[f.Name], "%s: duplicate %s", src, f.Name)
			seen[f.Name] = true
			assert.True(t, knownTypes[f.Type], "%s/%s: unknown type %q", src, f.Name, f.Type)
			assert.False(t, f.Arg == ArgNone && (f.ArgIndex || f.ArgKey || f.DottedArg), "%s/%s: argument flags without argument", src, f.Name)
			assert.False(t, f.Arg != ArgNone && !f.ArgIndex && !f.ArgKey, "%s/%s: argument of unknown kind", src, f.Name)
			assert.False(t, !f.BracketArg() && f.Arg != ArgNone && !f.DottedArg, "%s/%s: argument cannot be written", src, f.Name)
			for _, v := range []string{f.Since, f.Until} {
				assert.True(t, v == "" || semver.MatchString(v), "%s/%s: bad version %q", src, f.Name, v)
			}
			assert.True(t, f.Desc != "" && !strings.ContainsAny(f.Desc, "\t\n"), "%s/%s: bad description %q", src, f.Name, f.Desc)
			g, d, ok := Lookup(src, f.Name)
			assert.True(t, ok && g.Name == f.Name && d == "", "%s/%s: not found by Lookup", src, f.Name)
		}
	}
	assert.Nil(t, Fields("nope"), "Fields of unknown source should be nil")
}

func TestLookupAllocs(t *testing.T) {
	n := testing.AllocsPerRun(100, func() {
		Lookup("syscall", "proc.name")
		Lookup("syscall", "evt.arg.flags")
		Lookup("syscall", "no.such.field")
		Lookup("k8s_audit", "ka.verb")
	})
	assert.Zero(t, n, "Lookup allocations per run")
}

func TestEvents(t *testing.T) {
	for _, name := range []string{"open", "openat", "openat2", "execve", "execveat", "container", "procexit",
		"switch", "signaldeliver", "pluginevent", "asyncevent", "connect", "accept", "clone3", "k8s"} {
		assert.Positive(t, EventCodes(name), "EventCodes(%q)", name)
	}
	assert.GreaterOrEqual(t, EventCodes("execve"), 4, "EventCodes(execve): enter+exit, several versions")
	assert.Equal(t, 2, EventCodes("open"))
	// a syscall without a dedicated event maps to the generic enter/exit pair
	assert.Equal(t, 2, EventCodes("getpid"))
	assert.Equal(t, 1, EventCodes("container_removed"))
	for _, name := range []string{"nonexistent", "NA", "", "Open", "syscall"} {
		assert.Zero(t, EventCodes(name), "EventCodes(%q)", name)
	}
	for name, known := range map[string]bool{"syscall": true, "nonexistent": false, "NA": false, "getpid": true} {
		assert.Equal(t, known, KnownEvent(name), "KnownEvent(%q)", name)
	}
	all := AllEventCodes()
	assert.Greater(t, all, 300, "AllEventCodes()")
	names := EventNames()
	assert.True(t, sort.StringsAreSorted(names), "EventNames sorted")
	assert.GreaterOrEqual(t, len(names), 300, "EventNames")
	for _, n := range names {
		c := EventCodes(n)
		assert.False(t, c > all || (c == 0 && n != "syscall"), "EventCodes(%q) = %d", n, c)
	}
	for _, a := range []string{"fd", "flags", "res", "filename", "path", "request", "uid", "newpath", "target"} {
		assert.True(t, IsEventArg(a), "IsEventArg(%q)", a)
	}
	assert.False(t, IsEventArg("nosuchparam"), "IsEventArg(nosuchparam)")
}

// corpusFields are the field names used in conditions, outputs and exceptions
// of /work/shared/upstream-rules/*/*.yaml (falco_rules and falco-incubating_rules).
var corpusFields = []string{
	"container.id", "container.image.repository", "container.image.tag", "container.info",
	"container.mount.dest", "container.mounts", "container.name", "container.privileged",
	"container.start_ts", "evt.arg", "evt.arg.cmd", "evt.arg.domain", "evt.arg.fd",
	"evt.arg.filename", "evt.arg.flags", "evt.arg.linkpath", "evt.arg.mode", "evt.arg.name",
	"evt.arg.newpath", "evt.arg.oldpath", "evt.arg.path", "evt.arg.request", "evt.arg.target",
	"evt.arg.uid", "evt.args", "evt.buffer", "evt.dir", "evt.is_open_exec", "evt.is_open_read",
	"evt.is_open_write", "evt.num", "evt.rawres", "evt.res", "evt.type", "fd.cip", "fd.cip.name",
	"fd.cnet", "fd.connected", "fd.directory", "fd.filename", "fd.ip", "fd.l4proto", "fd.lip.name",
	"fd.lport", "fd.name", "fd.name_changed", "fd.nameraw", "fd.net", "fd.num", "fd.port", "fd.rip",
	"fd.rip.name", "fd.rnet", "fd.rport", "fd.sip", "fd.sip.name", "fd.snet", "fd.sockfamily",
	"fd.sport", "fd.type", "fd.typechar", "group.gid", "group.name", "k8s.ns.name", "k8s.pod.name",
	"proc.aexe", "proc.aexepath", "proc.aname", "proc.args", "proc.cmdline", "proc.cwd",
	"proc.duration", "proc.env", "proc.exe", "proc.exe_ino", "proc.exe_ino.ctime",
	"proc.exe_ino.ctime_duration_proc_start", "proc.exe_ino.mtime", "proc.exepath",
	"proc.is_exe_from_memfd", "proc.is_exe_upper_layer", "proc.is_vpgid_leader", "proc.name",
	"proc.pcmdline", "proc.pexe", "proc.pexepath", "proc.pid", "proc.pname", "proc.ppid", "proc.sid",
	"proc.sname", "proc.tty", "proc.vpgid", "proc.vpid", "thread.cap_effective",
	"thread.cap_permitted", "user.loginname", "user.loginuid", "user.name", "user.uid",
}

// olderRulesFields are further fields, by source: "syscall" ones are mentioned
// in descriptions and comments of the corpus, the others come from the rules
// files Falco itself shipped up to 0.32 (k8s_audit_rules, aws_cloudtrail_rules).
var olderRulesFields = map[string][]string{
	"syscall": {"evt.hostname", "proc.ppid.duration", "proc.vpgid.exe", "proc.vpgid.name", "fd.types",
		"syscall.type"},
	"k8s_audit": {
		"jevt.obj", "jevt.rawtime", "jevt.value", "ka.auth.decision", "ka.auth.reason",
		"ka.req.binding.role", "ka.req.binding.subject.has_name", "ka.req.binding.subjects",
		"ka.req.configmap.name", "ka.req.configmap.obj", "ka.req.container.host_network",
		"ka.req.container.image", "ka.req.container.image.repository", "ka.req.container.privileged",
		"ka.req.pod.containers.image", "ka.req.pod.containers.image.repository",
		"ka.req.pod.containers.privileged", "ka.req.pod.host_network", "ka.req.pod.volumes.hostpath",
		"ka.req.role.rules", "ka.req.role.rules.resources", "ka.req.role.rules.verbs",
		"ka.req.service.ports", "ka.req.service.type", "ka.req.volume.hostpath", "ka.resp.name",
		"ka.response.code", "ka.response.reason", "ka.target.name", "ka.target.namespace",
		"ka.target.resource", "ka.target.subresource", "ka.uri", "ka.uri.param", "ka.user.name",
		"ka.verb", "evt.time",
	},
	"aws_cloudtrail": {
		"ct.error", "ct.id", "ct.name", "ct.region", "ct.request.availabilityzone", "ct.request.cluster",
		"ct.request.functionname", "ct.request.groupname", "ct.request.host", "ct.request.name",
		"ct.request.policy", "ct.request.serialnumber", "ct.request.servicename",
		"ct.request.taskdefinition", "ct.request.username", "ct.response.reservationid",
		"ct.response.subnetid", "ct.src", "ct.srcip", "ct.user", "ct.user.arn", "ct.user.identitytype",
		"ct.user.principalid", "evt.plugininfo", "evt.time.iso8601", "json.value", "s3.bucket",
	},
}

func TestCorpusFields(t *testing.T) {
	dir := sharedtest.UpstreamRules(t)
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*.yaml"))
	require.NotEmpty(t, files, "no rules files under %s", dir)
	total := len(corpusFields)
	for _, l := range olderRulesFields {
		total += len(l)
	}
	assert.GreaterOrEqual(t, total, 150, "field names in the corpus lists")
	var corpus strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		corpus.Write(b)
	}
	text := corpus.String()
	for _, name := range corpusFields {
		assert.True(t, strings.Contains(text, name), "%s does not occur in the corpus", name)
		f, dotted, ok := Lookup("syscall", name)
		if !assert.True(t, ok, "syscall field %s not found", name) {
			continue
		}
		if dotted != "" {
			assert.True(t, f.Name == "evt.arg" && IsEventArg(dotted), "%s resolved to %s with unexpected dotted arg %q", name, f.Name, dotted)
		}
	}
	for src, names := range olderRulesFields {
		for _, name := range names {
			_, _, ok := Lookup(src, name)
			assert.True(t, ok, "%s field %s not found", src, name)
		}
	}
}
