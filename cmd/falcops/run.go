package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/oci"
)

type runOptions struct {
	addr   string
	dir    string
	prefix string
	repo   string
	once   bool
}

func newRunCmd() *cobra.Command {
	o := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run",
		Short: "The main job on this machine: validate, sign and publish rulesets and profiles to an embedded registry",
		Long: `Start an embedded OCI registry, create a signing key under --dir on the first
run, validate, package, sign and publish the repository's rulesets and its
profiles/ (as the asset artifact falco-profiles), write
index.yaml (served by the registry at /index.yaml), and print the falcoctl
configuration a shoot would use and the falcoctl command that installs the
rules. Then keep serving until interrupted, or stop at once with --once.

Everything stays on this machine; --dir (default .falcops) is git-ignored.`,
		Example: `  make run
  falcops run --addr 127.0.0.1:5000 --once`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return o.run(ctx, cmd, nil)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:5000", "address of the embedded registry")
	f.StringVar(&o.dir, "dir", ".falcops", "folder for the registry storage, the signing key, index.yaml and falcoctl.yaml")
	f.StringVar(&o.prefix, "prefix", "falcops", "repository prefix in the registry")
	f.StringVar(&o.repo, "repo", ".", "repository root holding rulesets/")
	f.BoolVar(&o.once, "once", false, "stop after publishing instead of serving until interrupted")
	return cmd
}

// runResult is what the main job produced, for tests.
type runResult struct {
	host, falcoctlConfig, publicKey string
	refs                            []string
}

// run does the main job; ready, if set, is called while the registry serves.
func (o *runOptions) run(ctx context.Context, cmd *cobra.Command, ready func(runResult) error) error {
	out := cmd.OutOrStdout()
	dir, err := filepath.Abs(o.dir)
	if err != nil {
		return &exitError{exitUsage, err}
	}
	if err := os.MkdirAll(filepath.Join(dir, "rules"), 0o755); err != nil {
		return &exitError{exitUsage, err}
	}
	priv, pub, password, err := devKey(dir, out)
	if err != nil {
		return &exitError{exitUsage, err}
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return &exitError{exitUsage, fmt.Errorf("registry: %w", err)}
	}
	registry, closeStore := oci.NewRegistry(filepath.Join(dir, "registry"))
	defer func() { _ = closeStore() }()
	indexPath := filepath.Join(dir, "index.yaml")
	mux := http.NewServeMux()
	mux.Handle("/v2/", registry)
	mux.HandleFunc("/index.yaml", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, indexPath) })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() { _ = srv.Close() }()
	host := ln.Addr().String()
	fmt.Fprintf(out, "registry: http://%s (storage %s)\n", host, filepath.Join(dir, "registry"))

	built, err := buildRulesets(cmd, []string{o.repo})
	if err != nil {
		return err
	}
	profiles, err := profileFiles(filepath.Join(o.repo, "profiles"))
	if err != nil {
		return err
	}
	client, err := oci.New(oci.Options{PlainHTTP: true})
	if err != nil {
		return &exitError{exitUsage, err}
	}
	reg := registryRef{host: host, prefix: o.prefix}
	signer, err := oci.LoadSigner(ctx, priv, func() ([]byte, error) { return password, nil })
	if err != nil {
		return &exitError{exitUsage, fmt.Errorf("loading %s: %w", priv, err)}
	}
	signOpts := oci.SignOptions{Signer: signer}
	sig := &artifacts.CosignSignature{Key: pub, IgnoreTlog: true}
	var idx artifacts.Index
	var refs []string
	for _, b := range built {
		if err := publishOne(ctx, out, client, reg, b, signOpts); err != nil {
			return err
		}
		m := b.dir.Manifest
		idx = append(idx, artifacts.EntryFor(m, reg.host, reg.repository(m.Name), sig))
		major, _, _ := strings.Cut(m.Version, ".")
		refs = append(refs, m.Name+":"+major)
	}
	if profiles != nil {
		e, err := publishProfiles(ctx, out, client, reg, profiles, "", "", signOpts)
		if err != nil {
			return err
		}
		e.Signature = &artifacts.Signature{Cosign: sig}
		idx = append(idx, e)
	}
	if err := os.WriteFile(indexPath, mustMerge(idx).Marshal(), 0o644); err != nil {
		return &exitError{exitUsage, err}
	}
	cfgPath := filepath.Join(dir, "falcoctl.yaml")
	cfg, err := falcoctlConfig("http://"+host+"/index.yaml", refs, filepath.Join(dir, "rules"), filepath.Join(dir, "state"))
	if err != nil {
		return &exitError{exitUsage, err}
	}
	if err := os.WriteFile(cfgPath, cfg, 0o644); err != nil {
		return &exitError{exitUsage, err}
	}
	fmt.Fprintf(out, "\nindex: http://%s/index.yaml (%s)\nfalcoctl configuration a shoot would use (%s):\n\n%s\n", host, indexPath, cfgPath, cfg)
	fmt.Fprintf(out, "install the signed, verified rules with the real falcoctl:\n\n  falcoctl artifact install --config %s --plain-http %s\n\n", cfgPath, strings.Join(refs, " "))
	fmt.Fprintf(out, "falcoctl verifies signatures with cosign, which fetches Sigstore's TUF metadata even for keys;\n"+
		"offline, also set SIGSTORE_CT_LOG_PUBLIC_KEY_FILE=%s and TUF_MIRROR/TUF_ROOT_JSON to a local mirror (docs/publishing.md).\n", pub)

	if ready != nil {
		if err := ready(runResult{host: host, falcoctlConfig: cfgPath, publicKey: pub, refs: refs}); err != nil {
			return err
		}
	}
	if o.once || ready != nil {
		return nil
	}
	fmt.Fprintln(out, "serving until interrupted (Ctrl-C)")
	select {
	case <-ctx.Done():
		return nil
	case err := <-served:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return &exitError{exitUsage, err}
	}
}

func mustMerge(idx artifacts.Index) artifacts.Index {
	merged, err := artifacts.Merge(nil, idx)
	if err != nil {
		panic(err) // ruleset names are unique per repository
	}
	return merged
}

// devKey returns the development signing key under dir, creating it with a
// random password on the first run.
func devKey(dir string, out io.Writer) (priv, pub string, password []byte, err error) {
	priv, pub = filepath.Join(dir, "cosign.key"), filepath.Join(dir, "cosign.pub")
	pwFile := filepath.Join(dir, "cosign.password")
	if pw, err := os.ReadFile(pwFile); err == nil {
		if _, err := os.Stat(priv); err == nil {
			return priv, pub, pw, nil
		}
	}
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return "", "", nil, err
	}
	password = []byte(hex.EncodeToString(raw))
	if err := os.WriteFile(pwFile, password, 0o600); err != nil {
		return "", "", nil, err
	}
	if priv, pub, err = oci.GenerateKeyPair(dir, password); err != nil {
		return "", "", nil, err
	}
	fmt.Fprintf(out, "created signing key %s (password in %s)\n", priv, pwFile)
	return priv, pub, password, nil
}

// falcoctlConfig renders the falcoctl.yaml of a shoot: only our index, rules
// only, install and follow by index name and floating major.
func falcoctlConfig(indexURL string, refs []string, rulesDir, stateDir string) ([]byte, error) {
	type dirs struct {
		Refs          []string `yaml:"refs"`
		RulesfilesDir string   `yaml:"rulesfilesDir"`
		StateDir      string   `yaml:"stateDir"`
		Every         string   `yaml:"every,omitempty"`
		ResolveDeps   *bool    `yaml:"resolveDeps,omitempty"`
	}
	no := false
	cfg := map[string]any{
		"indexes": []map[string]string{{"name": "falcops", "url": indexURL, "backend": "http"}},
		"artifact": map[string]any{
			"allowedTypes": []string{"rulesfile"},
			"install":      dirs{Refs: refs, RulesfilesDir: rulesDir, StateDir: stateDir, ResolveDeps: &no},
			"follow":       dirs{Refs: refs, RulesfilesDir: rulesDir, StateDir: stateDir, Every: "10m"},
		},
	}
	return yaml.Marshal(cfg)
}
