package agent

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/falcops/falcops/secrets"
)

// SidekickConfig writes falcosidekick's configuration to out: the
// template with its service account's token (the token file) in place of
// the placeholder. It runs as falcosidekick's init container: the token
// stays out of every Secret the extension renders.
func SidekickConfig(template, token, out string) error {
	tmpl, err := readBounded(template)
	if err != nil {
		return err
	}
	tok, err := readBounded(token)
	if err != nil {
		return err
	}
	cfg, err := secrets.SubstituteToken(tmpl, tok)
	if err != nil {
		return fmt.Errorf("%s: %w", token, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".config-*")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.Write(cfg); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o400); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}
