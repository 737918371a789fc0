package publish

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/falcops/falcops/artifacts"
)

// MergeIndexFile merges entries into the falcoctl index at path (created
// if missing) and replaces the file atomically. An existing file that does
// not parse wraps ErrInvalid and is left alone.
func MergeIndexFile(path string, entries artifacts.Index) error {
	var old artifacts.Index
	if data, err := os.ReadFile(path); err == nil {
		if old, err = artifacts.ParseIndex(data); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrInvalid, path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
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
