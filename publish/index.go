package publish

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/falcops/falcops/artifacts"
)

// ReadIndexFile reads the falcoctl index at path; a missing file is an
// empty index, one that does not parse wraps ErrInvalid.
func ReadIndexFile(path string) (artifacts.Index, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	idx, err := artifacts.ParseIndex(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, path, err)
	}
	return idx, nil
}

// MergeIndexFile merges entries into the falcoctl index at path (created
// if missing) and replaces the file atomically. An existing file that does
// not parse wraps ErrInvalid and is left alone.
func MergeIndexFile(path string, entries artifacts.Index) error {
	old, err := ReadIndexFile(path)
	if err != nil {
		return err
	}
	merged, err := artifacts.Merge(old, entries)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // gone after the rename
	if _, err := tmp.Write(merged.Marshal()); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
