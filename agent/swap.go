package agent

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

const (
	dataLink   = "..data"
	setPrefix  = "..set-"
	newLinkTmp = "..data_tmp"
)

// ErrNotOurs is returned when the tree holds an entry the agent did not make
// (a regular file, or a symlink that does not point into ..data): it is never
// overwritten.
var ErrNotOurs = errors.New("not made by the agent")

// Tree is a rules directory managed as kubelet manages a ConfigMap volume.
type Tree struct {
	// Root is the directory Falco's rules_files names. A new set is written
	// beside it, in a hidden staging folder of Root's parent (which must be
	// writable and on the same file system, e.g. an emptyDir holding Root),
	// so that writing and syncing it, however slow, fires no event in the
	// watched directory: the set arrives by one rename.
	Root string
}

// staging is where sets are written before they are moved into Root.
func (t Tree) staging() string {
	return filepath.Join(filepath.Dir(t.Root), "."+filepath.Base(t.Root)+".staging")
}

// Swap makes files the tree's complete set: written into a fresh hidden
// directory, switched in by one atomic rename of ..data, then the
// per-file links of names that came or went are added or removed and the
// previous set is deleted. It reports false, and touches nothing, when the
// tree already holds exactly these files (then it only repairs links or
// leftovers of an interrupted swap). A failure before the rename leaves the
// running set as it was.
func (t Tree) Swap(files map[string][]byte) (changed bool, err error) {
	names, err := checkNames(files)
	if err != nil {
		return false, err
	}
	if err := os.MkdirAll(t.Root, 0o755); err != nil {
		return false, err
	}
	old, oldDir, err := t.current()
	if err != nil {
		return false, err
	}
	if err := t.checkLinks(names); err != nil {
		return false, err
	}
	if sameFiles(old, files) {
		// Nothing to swap; finish what an interrupted swap left undone.
		if err := t.relink(names, old); err != nil {
			return false, err
		}
		return false, t.removeStraySets(oldDir)
	}
	set, err := t.writeSet(names, files)
	if err != nil {
		return false, err
	}
	if err := t.switchData(set); err != nil {
		_ = os.RemoveAll(filepath.Join(t.Root, set))
		return false, err
	}
	if err := t.relink(names, old); err != nil {
		return true, err
	}
	if oldDir != "" {
		if err := os.RemoveAll(filepath.Join(t.Root, oldDir)); err != nil {
			return true, fmt.Errorf("removing the previous set %s: %w", oldDir, err)
		}
	}
	if err := t.removeStraySets(set); err != nil {
		return true, err
	}
	// Synced last: between the rename and the removal of the previous set
	// nothing slow may run, so Falco's watcher sees both in one debounce.
	return true, syncDir(t.Root)
}

// Files returns the tree's current set, read through one resolution of
// ..data, so it is always one whole set.
func (t Tree) Files() (map[string][]byte, error) {
	files, _, err := t.current()
	return files, err
}

// current reads the set ..data points at, and that directory's name. A
// swap may remove the set while it is read, so the read counts only if
// ..data still points at the same directory afterwards (a sequence lock).
func (t Tree) current() (map[string][]byte, string, error) {
	for attempt := 0; ; attempt++ {
		target, err := t.dataTarget()
		if err != nil || target == "" {
			return map[string][]byte{}, "", err
		}
		files, err := readSet(filepath.Join(t.Root, target))
		after, aerr := t.dataTarget()
		if aerr == nil && after == target {
			return files, target, err
		}
		if attempt == 100 {
			return nil, "", fmt.Errorf("%s: the set kept changing while it was read", t.Root)
		}
	}
}

// dataTarget is the set directory ..data points at ("" before the first swap).
func (t Tree) dataTarget() (string, error) {
	target, err := os.Readlink(filepath.Join(t.Root, dataLink))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(target, setPrefix) || strings.ContainsRune(target, '/') {
		return "", fmt.Errorf("%s points at %q: %w", filepath.Join(t.Root, dataLink), target, ErrNotOurs)
	}
	return target, nil
}

func readSet(dir string) (map[string][]byte, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	files := make(map[string][]byte, len(entries))
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		files[e.Name()] = data
	}
	return files, nil
}

// checkNames returns the file names sorted, refusing any that could leave
// the directory or collide with the tree's own entries.
func checkNames(files map[string][]byte) ([]string, error) {
	names := make([]string, 0, len(files))
	for name := range files {
		if name == "" || name != filepath.Base(name) || strings.HasPrefix(name, "..") || name == "." {
			return nil, fmt.Errorf("rules file name %q: must be a plain file name not starting with '..'", name)
		}
		if ext := filepath.Ext(name); ext != ".yaml" && ext != ".yml" {
			return nil, fmt.Errorf("rules file name %q: Falco loads only .yaml and .yml files from a directory", name)
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return names, nil
}

func sameFiles(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for name, data := range a {
		other, ok := b[name]
		if !ok || !bytes.Equal(data, other) {
			return false
		}
	}
	return true
}

// checkLinks refuses to replace an entry the agent did not make.
func (t Tree) checkLinks(names []string) error {
	for _, name := range names {
		target, err := os.Readlink(filepath.Join(t.Root, name))
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return fmt.Errorf("%s: %w", filepath.Join(t.Root, name), ErrNotOurs)
		case target != filepath.Join(dataLink, name):
			return fmt.Errorf("%s points at %q: %w", filepath.Join(t.Root, name), target, ErrNotOurs)
		}
	}
	return nil
}

// writeSet writes the files into a new hidden directory in the staging
// folder, synced to disk, moves it into Root and returns its name.
func (t Tree) writeSet(names []string, files map[string][]byte) (string, error) {
	if err := os.MkdirAll(t.staging(), 0o755); err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp(t.staging(), setPrefix)
	if err != nil {
		return "", err
	}
	for _, name := range names {
		if err := writeSynced(filepath.Join(dir, name), files[name]); err != nil {
			_ = os.RemoveAll(dir)
			return "", err
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		_ = os.RemoveAll(dir)
		return "", err
	}
	if err := syncDir(dir); err != nil {
		_ = os.RemoveAll(dir)
		return "", err
	}
	if err := os.Rename(dir, filepath.Join(t.Root, filepath.Base(dir))); err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("moving the new set into %s (the staging folder %s must be on the same file system): %w", t.Root, t.staging(), err)
	}
	return filepath.Base(dir), nil
}

// switchData points ..data at set with one rename, the atomic step.
func (t Tree) switchData(set string) error {
	tmp := filepath.Join(t.Root, newLinkTmp)
	_ = os.Remove(tmp)
	if err := os.Symlink(set, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(t.Root, dataLink)); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}

// relink makes the per-file link of every name (checkLinks made sure the
// existing ones are ours) and removes those of names the new set dropped.
func (t Tree) relink(names []string, old map[string][]byte) error {
	for _, name := range names {
		if err := os.Symlink(filepath.Join(dataLink, name), filepath.Join(t.Root, name)); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	for name := range old {
		if !slices.Contains(names, name) {
			if err := os.Remove(filepath.Join(t.Root, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}

// removeStraySets deletes set directories and the temporary link an
// interrupted swap left behind.
func (t Tree) removeStraySets(keep string) error {
	if err := os.Remove(filepath.Join(t.Root, newLinkTmp)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.RemoveAll(t.staging()); err != nil {
		return err
	}
	entries, err := os.ReadDir(t.Root)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), setPrefix) && e.Name() != keep {
			if err := os.RemoveAll(filepath.Join(t.Root, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
