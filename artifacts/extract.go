package artifacts

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Errors Extract returns; test with errors.Is.
var (
	// ErrUnsafePath: an entry name or link target is absolute or has a ".."
	// component, or an entry would be written through a symbolic link.
	ErrUnsafePath = errors.New("unsafe path in archive")
	// ErrUnsupportedEntry: hard links, devices, FIFOs and other entries that
	// are neither files, directories nor (safe) symbolic links.
	ErrUnsupportedEntry = errors.New("unsupported archive entry")
	// ErrTooLarge: a file, all files together, or the decompressed stream
	// exceed the limits.
	ErrTooLarge = errors.New("archive too large")
	// ErrTooManyFiles: more entries than Limits.MaxFiles.
	ErrTooManyFiles = errors.New("too many entries in archive")
)

// Limits bound what Extract accepts. A zero field takes the DefaultLimits
// value.
type Limits struct {
	// MaxFiles bounds the number of entries of any kind.
	MaxFiles int
	// MaxFileSize bounds one file's size in bytes.
	MaxFileSize int64
	// MaxTotalSize bounds the sum of all file sizes in bytes. The
	// decompressed stream may exceed it only by the tar headers and padding
	// (8 KiB per entry plus 64 KiB).
	MaxTotalSize int64
}

// DefaultLimits are generous for rules files and profiles.
var DefaultLimits = Limits{MaxFiles: 1000, MaxFileSize: 64 << 20, MaxTotalSize: 256 << 20}

const (
	headerBudgetPerEntry = 8 << 10
	headerBudgetArchive  = 64 << 10
)

func (l Limits) withDefaults() Limits {
	if l.MaxFiles <= 0 {
		l.MaxFiles = DefaultLimits.MaxFiles
	}
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = DefaultLimits.MaxFileSize
	}
	if l.MaxTotalSize <= 0 {
		l.MaxTotalSize = DefaultLimits.MaxTotalSize
	}
	return l
}

// streamLimit is the most decompressed bytes an archive within the limits
// can have.
func (l Limits) streamLimit() int64 {
	headers := (int64(l.MaxFiles) + 2) * headerBudgetPerEntry
	if l.MaxTotalSize > math.MaxInt64-headers-headerBudgetArchive {
		return math.MaxInt64
	}
	return l.MaxTotalSize + headers + headerBudgetArchive
}

// Extract unpacks a tar.gz stream (a falcoctl layer) into the existing
// directory dest and returns the names of the files and symbolic links it
// created, slash-separated and relative to dest, in archive order.
//
// It is stricter than falcoctl:
//   - entry names must be relative and free of ".." components;
//   - nothing is written through a symbolic link, whether the archive created
//     it earlier or it already existed in dest (ErrUnsafePath);
//   - a symbolic link's target must be relative and free of ".."
//     components, so it points into its own directory's subtree and no chain
//     of links can leave dest;
//   - hard links, devices and FIFOs are refused (ErrUnsupportedEntry), as is
//     the same name twice;
//   - sizes are checked against limits before anything is written, and the
//     decompressed stream is read through a bound, so a gzip bomb stops as
//     soon as it exceeds the limits (ErrTooLarge); nothing is buffered in
//     memory beyond a copy buffer.
//
// Files are written with mode 0644 (an existing regular file is replaced, not
// written into) and directories with 0755. The stream is
// read to its end so the gzip checksum is verified. On error, what was written
// so far stays (its names are returned with the error): extract into a fresh
// directory and discard it on error.
func Extract(r io.Reader, dest string, limits Limits) ([]string, error) {
	limits = limits.withDefaults()
	root, err := os.OpenRoot(dest)
	if err != nil {
		return nil, fmt.Errorf("extract: %w", err)
	}
	defer root.Close() //nolint:errcheck // a directory handle: nothing to flush
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("extract: not a gzip stream: %w", err)
	}
	br := &boundedReader{r: zr, left: limits.streamLimit(), limit: limits.streamLimit()}
	x := &extractor{root: root, limits: limits, tr: tar.NewReader(br), seen: map[string]bool{}, buf: make([]byte, 32<<10)}
	for {
		hdr, err := x.tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return x.written, br.wrap(fmt.Errorf("extract: reading archive: %w", err))
		}
		if err := x.entry(hdr); err != nil {
			return x.written, br.wrap(fmt.Errorf("extract: %w", err))
		}
	}
	// Read the rest (tar padding) so the gzip checksum is checked and a
	// stream that goes on after the archive's end is bounded too.
	if _, err := io.CopyBuffer(io.Discard, br, x.buf); err != nil {
		return x.written, br.wrap(fmt.Errorf("extract: reading archive: %w", err))
	}
	if err := zr.Close(); err != nil {
		return x.written, fmt.Errorf("extract: %w", err)
	}
	return x.written, nil
}

type extractor struct {
	root    *os.Root
	limits  Limits
	tr      *tar.Reader
	entries int
	total   int64
	seen    map[string]bool
	written []string
	buf     []byte
}

func (x *extractor) entry(hdr *tar.Header) error {
	x.entries++
	if x.entries > x.limits.MaxFiles {
		return fmt.Errorf("%w: more than %d", ErrTooManyFiles, x.limits.MaxFiles)
	}
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil
	}
	name, err := cleanEntryName(hdr.Name)
	if err != nil {
		return err
	}
	if name == "." {
		if hdr.Typeflag == tar.TypeDir {
			return nil
		}
		return fmt.Errorf("%w: entry %q has no name", ErrUnsafePath, hdr.Name)
	}
	if hdr.Typeflag != tar.TypeDir {
		if x.seen[name] {
			return fmt.Errorf("%w: %q appears twice", ErrUnsafePath, name)
		}
		x.seen[name] = true
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		return x.mkdirs(name)
	case tar.TypeReg:
		return x.file(name, hdr.Size)
	case tar.TypeSymlink:
		return x.symlink(name, hdr.Linkname)
	case tar.TypeLink:
		return fmt.Errorf("%w: hard link %q -> %q", ErrUnsupportedEntry, name, hdr.Linkname)
	default:
		return fmt.Errorf("%w: %q has type %q", ErrUnsupportedEntry, name, string(hdr.Typeflag))
	}
}

func (x *extractor) file(name string, size int64) error {
	if size > x.limits.MaxFileSize {
		return fmt.Errorf("%w: %q has %d bytes, more than %d", ErrTooLarge, name, size, x.limits.MaxFileSize)
	}
	if x.total+size > x.limits.MaxTotalSize {
		return fmt.Errorf("%w: files together exceed %d bytes", ErrTooLarge, x.limits.MaxTotalSize)
	}
	x.total += size
	if err := x.mkdirs(path.Dir(name)); err != nil {
		return err
	}
	if err := x.removeExisting(name); err != nil {
		return err
	}
	f, err := x.root.OpenFile(filepath.FromSlash(name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	x.written = append(x.written, name)
	n, err := io.CopyBuffer(f, io.LimitReader(x.tr, size), x.buf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %q: %w", name, err)
	}
	if n != size {
		return fmt.Errorf("writing %q: %w", name, io.ErrUnexpectedEOF)
	}
	return nil
}

func (x *extractor) symlink(name, target string) error {
	if target == "" || strings.ContainsAny(target, "\\\x00") || path.IsAbs(target) || filepath.IsAbs(target) {
		return fmt.Errorf("%w: symbolic link %q -> %q must be relative", ErrUnsafePath, name, target)
	}
	for _, c := range strings.Split(target, "/") {
		if c == ".." {
			return fmt.Errorf("%w: symbolic link %q -> %q leaves its directory", ErrUnsafePath, name, target)
		}
	}
	if err := x.mkdirs(path.Dir(name)); err != nil {
		return err
	}
	if _, err := x.root.Lstat(filepath.FromSlash(name)); err == nil {
		return fmt.Errorf("%w: symbolic link %q would replace an existing file", ErrUnsafePath, name)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := x.root.Symlink(target, filepath.FromSlash(name)); err != nil {
		return err
	}
	x.written = append(x.written, name)
	return nil
}

// mkdirs creates the directory name and its parents, refusing to pass
// through a symbolic link or a non-directory.
func (x *extractor) mkdirs(name string) error {
	if name == "." {
		return nil
	}
	parts := strings.Split(name, "/")
	for i := range parts {
		p := filepath.FromSlash(strings.Join(parts[:i+1], "/"))
		fi, err := x.root.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := x.root.Mkdir(p, 0o755); err != nil {
				return err
			}
		case err != nil:
			return err
		case fi.Mode()&fs.ModeSymlink != 0:
			return fmt.Errorf("%w: %q goes through the symbolic link %q", ErrUnsafePath, name, filepath.ToSlash(p))
		case !fi.IsDir():
			return fmt.Errorf("%w: %q is not a directory", ErrUnsafePath, filepath.ToSlash(p))
		}
	}
	return nil
}

// removeExisting removes a regular file that is in the way, so the new file
// is a new inode (a pre-existing hard link to a file elsewhere is never
// written to), and refuses to replace a symbolic link or anything else.
func (x *extractor) removeExisting(name string) error {
	fi, err := x.root.Lstat(filepath.FromSlash(name))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%w: %q is a symbolic link", ErrUnsafePath, name)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%w: %q exists and is not a regular file", ErrUnsafePath, name)
	}
	return x.root.Remove(filepath.FromSlash(name))
}

// cleanEntryName checks an entry name and returns it cleaned, slash-separated
// and relative ("." for the archive root).
func cleanEntryName(name string) (string, error) {
	if name == "" || strings.ContainsAny(name, "\\\x00") {
		return "", fmt.Errorf("%w: entry name %q", ErrUnsafePath, name)
	}
	if path.IsAbs(name) || filepath.IsAbs(name) || filepath.VolumeName(name) != "" {
		return "", fmt.Errorf("%w: absolute entry name %q", ErrUnsafePath, name)
	}
	for _, c := range strings.Split(name, "/") {
		if c == ".." {
			return "", fmt.Errorf("%w: entry name %q has a \"..\" component", ErrUnsafePath, name)
		}
	}
	return path.Clean(name), nil
}

// boundedReader fails with ErrTooLarge once more than left bytes are read.
type boundedReader struct {
	r        io.Reader
	left     int64
	limit    int64
	exceeded bool
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var probe [1]byte
		n, err := b.r.Read(probe[:])
		if n > 0 {
			b.exceeded = true
			return 0, b.err()
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *boundedReader) err() error {
	return fmt.Errorf("%w: more than %d bytes decompressed", ErrTooLarge, b.limit)
}

// wrap makes sure an error caused by the bound reports ErrTooLarge even if a
// reader in between replaced it.
func (b *boundedReader) wrap(err error) error {
	if b.exceeded && !errors.Is(err, ErrTooLarge) {
		return fmt.Errorf("%w (%w)", b.err(), err)
	}
	return err
}
