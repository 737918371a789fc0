package condition

import "testing"

func TestQuick(t *testing.T) {
	for _, c := range []string{
		"evt.type in (open,openat) and not proc.name=bash",
		"spawned_process and container and proc.aname[2] in (a, b) or fd.name startswith /etc",
		"not (a and b) and not not c",
		"tolower(proc.name) = bash and proc.name != val(proc.pname) and len(proc.args) > 3",
		"proc.name startswith oneof (sh, bash) and proc.env[HOME] = \"/root dir\"",
		"evt.arg.flags contains O_CREAT and fd.num>=0x10 and evt.rawres < -1",
		"join(',', (proc.name, proc.pname)) = x",
	} {
		e, err := Parse(c)
		if err != nil {
			t.Fatalf("%q: %v", c, err)
		}
		s := String(e)
		e2, err := Parse(s)
		if err != nil || !Equal(e, e2) {
			t.Fatalf("%q -> %q: %v", c, s, err)
		}
		t.Log(s)
	}
}
