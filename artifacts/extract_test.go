package artifacts

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// entry is one tar entry of a test archive.
type entry struct {
	name     string
	typ      byte
	data     string
	linkname string
	size     int64 // header size if not len(data)
}

func file(name, data string) entry { return entry{name: name, typ: tar.TypeReg, data: data} }

// tgz builds a tar.gz from entries. An entry whose size exceeds its data is
// left truncated (the archive ends after its header).
func tgz(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	truncated := false
	for _, e := range entries {
		size := int64(len(e.data))
		if e.size != 0 {
			size = e.size
		}
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.linkname, Mode: 0o644}
		if e.typ == tar.TypeReg {
			hdr.Size = size
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.data)); err != nil {
			t.Fatal(err)
		}
		if size > int64(len(e.data)) {
			truncated = true
			break
		}
	}
	if truncated {
		if err := tw.Flush(); err == nil {
			t.Fatal("flush of a truncated entry should fail")
		}
	} else if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sandbox is a temporary folder holding dest (where archives go) and
// outside (which must stay empty).
type sandbox struct{ parent, dest, outside string }

func newSandbox(t *testing.T) sandbox {
	t.Helper()
	parent := t.TempDir()
	s := sandbox{parent: parent, dest: filepath.Join(parent, "dest"), outside: filepath.Join(parent, "outside")}
	for _, d := range []string{s.dest, s.outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// checkNothingOutside fails if anything but dest and outside is in parent,
// or anything is in outside besides keep.
func (s sandbox) checkNothingOutside(t *testing.T, keep ...string) {
	t.Helper()
	for dir, allowed := range map[string][]string{s.parent: {"dest", "outside"}, s.outside: keep} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if !slices.Contains(allowed, e.Name()) {
				t.Errorf("written outside dest: %s", filepath.Join(dir, e.Name()))
			}
		}
	}
}

func TestExtractRefuses(t *testing.T) {
	small := Limits{MaxFiles: 3, MaxFileSize: 10, MaxTotalSize: 20}
	cases := []struct {
		name    string
		entries func(s sandbox) []entry
		setup   func(t *testing.T, s sandbox)
		limits  Limits
		want    error
	}{
		{name: "dot-dot", entries: func(sandbox) []entry { return []entry{file("../x", "pwned")} }, want: ErrUnsafePath},
		{name: "dot-dot deep", entries: func(sandbox) []entry { return []entry{file("a/../../x", "pwned")} }, want: ErrUnsafePath},
		{name: "dot-dot that stays inside", entries: func(sandbox) []entry { return []entry{file("a/../x", "x")} }, want: ErrUnsafePath},
		{name: "dot-dot in outside folder", entries: func(sandbox) []entry { return []entry{file("../outside/x", "pwned")} }, want: ErrUnsafePath},
		{name: "absolute /etc", entries: func(sandbox) []entry { return []entry{file("/etc/falcops-extract-test", "pwned")} }, want: ErrUnsafePath},
		{name: "absolute into sandbox", entries: func(s sandbox) []entry { return []entry{file(filepath.Join(s.outside, "x"), "pwned")} }, want: ErrUnsafePath},
		{name: "backslash", entries: func(sandbox) []entry { return []entry{file(`..\x`, "pwned")} }, want: ErrUnsafePath},
		{
			name: "symlink to outside, then a file through it",
			entries: func(sandbox) []entry {
				return []entry{{name: "link", typ: tar.TypeSymlink, linkname: "../outside"}, file("link/x", "pwned")}
			},
			want: ErrUnsafePath,
		},
		{
			name:    "symlink to an absolute path",
			entries: func(s sandbox) []entry { return []entry{{name: "link", typ: tar.TypeSymlink, linkname: s.outside}} },
			want:    ErrUnsafePath,
		},
		{
			name: "symlink to /etc/passwd",
			entries: func(sandbox) []entry {
				return []entry{{name: "rules.yaml", typ: tar.TypeSymlink, linkname: "/etc/passwd"}}
			},
			want: ErrUnsafePath,
		},
		{
			name: "nested symlink climbing out",
			entries: func(sandbox) []entry {
				return []entry{{name: "a/b/link", typ: tar.TypeSymlink, linkname: "../../../outside/x"}}
			},
			want: ErrUnsafePath,
		},
		{
			name: "chained symlinks: an inside link, then ../ through it",
			entries: func(sandbox) []entry {
				return []entry{
					{name: "d/up", typ: tar.TypeSymlink, linkname: "."},
					{name: "d/esc", typ: tar.TypeSymlink, linkname: "up/../../outside"},
				}
			},
			want: ErrUnsafePath,
		},
		{
			name: "write through a symlink created earlier in the archive (inside dest)",
			entries: func(sandbox) []entry {
				return []entry{{name: "sub", typ: tar.TypeDir}, {name: "link", typ: tar.TypeSymlink, linkname: "sub"}, file("link/x", "x")}
			},
			want: ErrUnsafePath,
		},
		{
			name: "file replacing a symlink of the same archive",
			entries: func(sandbox) []entry {
				return []entry{{name: "link", typ: tar.TypeSymlink, linkname: "target"}, file("link", "x")}
			},
			want: ErrUnsafePath,
		},
		{
			name:    "write through a symlink already in dest",
			setup:   func(t *testing.T, s sandbox) { symlink(t, s.outside, filepath.Join(s.dest, "evil")) },
			entries: func(sandbox) []entry { return []entry{file("evil/x", "pwned")} },
			want:    ErrUnsafePath,
		},
		{
			name: "replace a file symlink already in dest",
			setup: func(t *testing.T, s sandbox) {
				symlink(t, filepath.Join(s.outside, "target"), filepath.Join(s.dest, "rules.yaml"))
			},
			entries: func(sandbox) []entry { return []entry{file("rules.yaml", "pwned")} },
			want:    ErrUnsafePath,
		},
		{
			name:    "directory entry over a symlink already in dest",
			setup:   func(t *testing.T, s sandbox) { symlink(t, s.outside, filepath.Join(s.dest, "evil")) },
			entries: func(sandbox) []entry { return []entry{{name: "evil/sub/", typ: tar.TypeDir}} },
			want:    ErrUnsafePath,
		},
		{
			name:    "hard link to outside",
			entries: func(sandbox) []entry { return []entry{{name: "h", typ: tar.TypeLink, linkname: "../outside/secret"}} },
			want:    ErrUnsupportedEntry,
		},
		{
			name: "hard link inside",
			entries: func(sandbox) []entry {
				return []entry{file("a.yaml", "a"), {name: "b.yaml", typ: tar.TypeLink, linkname: "a.yaml"}}
			},
			want: ErrUnsupportedEntry,
		},
		{name: "char device", entries: func(sandbox) []entry { return []entry{{name: "null", typ: tar.TypeChar}} }, want: ErrUnsupportedEntry},
		{name: "block device", entries: func(sandbox) []entry { return []entry{{name: "sda", typ: tar.TypeBlock}} }, want: ErrUnsupportedEntry},
		{name: "fifo", entries: func(sandbox) []entry { return []entry{{name: "pipe", typ: tar.TypeFifo}} }, want: ErrUnsupportedEntry},
		{
			name:    "too many files",
			entries: func(sandbox) []entry { return []entry{file("1", ""), file("2", ""), file("3", ""), file("4", "")} },
			limits:  small,
			want:    ErrTooManyFiles,
		},
		{
			name: "too many entries counting directories",
			entries: func(sandbox) []entry {
				return []entry{{name: "a/", typ: tar.TypeDir}, {name: "b/", typ: tar.TypeDir}, {name: "c/", typ: tar.TypeDir}, file("a/x", "")}
			},
			limits: small,
			want:   ErrTooManyFiles,
		},
		{name: "file over the size limit", entries: func(sandbox) []entry { return []entry{file("big", "01234567890")} }, limits: small, want: ErrTooLarge},
		{
			name: "files together over the total limit",
			entries: func(sandbox) []entry {
				return []entry{file("a", "01234567"), file("b", "01234567"), file("c", "01234567")}
			},
			limits: small,
			want:   ErrTooLarge,
		},
		{
			name:    "entry declaring 1 GiB",
			entries: func(sandbox) []entry { return []entry{{name: "bomb.yaml", typ: tar.TypeReg, size: 1 << 30}} },
			want:    ErrTooLarge,
		},
		{
			name:    "same name twice",
			entries: func(sandbox) []entry { return []entry{file("a.yaml", "a"), file("./a.yaml", "b")} },
			want:    ErrUnsafePath,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			if tc.setup != nil {
				tc.setup(t, s)
			}
			_, err := Extract(bytes.NewReader(tgz(t, tc.entries(s)...)), s.dest, tc.limits)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			s.checkNothingOutside(t)
			if _, err := os.Lstat("/etc/falcops-extract-test"); err == nil {
				t.Error("wrote /etc/falcops-extract-test")
			}
		})
	}
}

func symlink(t *testing.T, target, name string) {
	t.Helper()
	if err := os.Symlink(target, name); err != nil {
		t.Fatal(err)
	}
}

func TestExtractHappyPath(t *testing.T) {
	s := newSandbox(t)
	// A file in dest that is a hard link to a file outside: extraction
	// replaces it and leaves the outside file alone.
	secret := filepath.Join(s.outside, "secret")
	if err := os.WriteFile(secret, []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(secret, filepath.Join(s.dest, "rules.yaml")); err != nil {
		t.Fatal(err)
	}
	archive := tgz(t,
		entry{name: "./", typ: tar.TypeDir},
		file("rules.yaml", "- list: a\n  items: [x]\n"),
		entry{name: "extra/", typ: tar.TypeDir},
		file("extra/more.yaml", "more"),
		file("deep/er/file.yaml", "deep"),
		entry{name: "current.yaml", typ: tar.TypeSymlink, linkname: "rules.yaml"},
		entry{name: "extra/link", typ: tar.TypeSymlink, linkname: "more.yaml"},
		file("empty", ""),
	)
	names, err := Extract(bytes.NewReader(archive), s.dest, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	want := "rules.yaml,extra/more.yaml,deep/er/file.yaml,current.yaml,extra/link,empty"
	if got := strings.Join(names, ","); got != want {
		t.Errorf("names %s, want %s", got, want)
	}
	for name, content := range map[string]string{"rules.yaml": "- list: a\n  items: [x]\n", "deep/er/file.yaml": "deep", "current.yaml": "- list: a\n  items: [x]\n", "extra/link": "more"} {
		got, err := os.ReadFile(filepath.Join(s.dest, name))
		if err != nil || string(got) != content {
			t.Errorf("%s: %q, %v", name, got, err)
		}
	}
	if got, _ := os.ReadFile(secret); string(got) != "secret" {
		t.Errorf("hard-linked file outside was written: %q", got)
	}
	fi, err := os.Stat(filepath.Join(s.dest, "rules.yaml"))
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, %v", fi.Mode(), err)
	}
	s.checkNothingOutside(t, "secret")
}

func TestExtractNotGzip(t *testing.T) {
	if _, err := Extract(strings.NewReader("plain text"), t.TempDir(), DefaultLimits); err == nil {
		t.Error("accepted a stream that is not gzip")
	}
	if _, err := Extract(bytes.NewReader(tgz(t, file("a", "a"))), filepath.Join(t.TempDir(), "missing"), DefaultLimits); err == nil {
		t.Error("accepted a missing destination")
	}
}

// TestExtractGzipBomb: 1 GiB of zeros compressed to about 1 MiB. The tar
// reader sees an empty archive in the first KiB; the rest must be read
// through the bound and refused once it exceeds the limits, without
// allocating more than a little memory.
func TestExtractGzipBomb(t *testing.T) {
	// One gzip member of 64 MiB of zeros, written through gzip.Writer in
	// chunks, repeated 16 times: a gzip stream may hold several members and
	// readers (gzip -d, compress/gzip) decompress them all, so this is 1 GiB
	// of zeros, built in a fraction of the time (and memory) of one member.
	var member bytes.Buffer
	zw, err := gzip.NewWriterLevel(&member, gzip.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for range 64 {
		if _, err := zw.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	bomb := bytes.Repeat(member.Bytes(), 16)
	if len(bomb) > 2<<20 {
		t.Fatalf("bomb is %d bytes, expected about 1 MiB", len(bomb))
	}
	t.Logf("bomb: %d compressed bytes for 1 GiB", len(bomb))

	s := newSandbox(t)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = Extract(bytes.NewReader(bomb), s.dest, DefaultLimits)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
	// TotalAlloc only grows: it bounds the peak as well.
	t.Logf("allocated %d KiB while extracting", (after.TotalAlloc-before.TotalAlloc)>>10)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("extraction allocated %d MiB", alloc>>20)
	}
	if after.HeapAlloc > before.HeapAlloc && after.HeapAlloc-before.HeapAlloc > 64<<20 {
		t.Errorf("heap grew by %d MiB", (after.HeapAlloc-before.HeapAlloc)>>20)
	}
	s.checkNothingOutside(t)
	if entries, _ := os.ReadDir(s.dest); len(entries) > 0 {
		t.Errorf("bomb left %d entries in dest", len(entries))
	}
}

// FuzzExtractPaths builds archives of two entries from fuzzed names, link
// targets and types and checks that, whatever Extract returns, nothing
// appears outside dest.
func FuzzExtractPaths(f *testing.F) {
	f.Add("link", "..", byte(tar.TypeSymlink), "link/x", "", byte(tar.TypeReg))
	f.Add("a/b", "../../..", byte(tar.TypeSymlink), "a/b/c", "", byte(tar.TypeReg))
	f.Add("up", ".", byte(tar.TypeSymlink), "esc", "up/../../outside", byte(tar.TypeSymlink))
	f.Add("d/", "", byte(tar.TypeDir), "d/../../x", "", byte(tar.TypeReg))
	f.Add("h", "../outside/x", byte(tar.TypeLink), "h", "", byte(tar.TypeReg))
	f.Add("./x", "", byte(tar.TypeReg), "x/", "", byte(tar.TypeDir))
	f.Fuzz(func(t *testing.T, name1, link1 string, typ1 byte, name2, link2 string, typ2 byte) {
		s := newSandbox(t)
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		tw := tar.NewWriter(zw)
		for _, e := range []struct {
			name, link string
			typ        byte
		}{{name1, link1, typ1}, {name2, link2, typ2}} {
			hdr := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: 0o644}
			data := []byte("pwned")
			if e.typ == tar.TypeReg {
				hdr.Size = int64(len(data))
			}
			if tw.WriteHeader(hdr) != nil {
				return // not representable in a tar header
			}
			if e.typ == tar.TypeReg {
				if _, err := tw.Write(data); err != nil {
					return
				}
			}
		}
		if tw.Close() != nil || zw.Close() != nil {
			return
		}
		_, _ = Extract(bytes.NewReader(buf.Bytes()), s.dest, Limits{MaxFiles: 10, MaxFileSize: 1 << 10, MaxTotalSize: 1 << 10})
		s.checkNothingOutside(t)
	})
}
