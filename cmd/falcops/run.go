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
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/spf13/cobra"

	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/oci"
	"github.com/falcops/falcops/publish"
	"github.com/falcops/falcops/rules"
)

type runOptions struct {
	addr   string
	dir    string
	prefix string
	repo   string
	once   bool
	// quiet leaves out the falcoctl instructions; dependencies publishes
	// the rulesets' dependencies found on $FALCOPS_RULESETS_PATH too
	// (falcops dev).
	quiet, dependencies bool
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
	digests                         map[string]string // ruleset name -> published digest
	offlineEnv                      []string          // what falcoctl needs to verify without the internet
}

// run does the main job; ready, if set, is called while the registry serves.
func (o *runOptions) run(ctx context.Context, cmd *cobra.Command, ready func(runResult) error) error {
	out := cmd.OutOrStdout()
	dir, err := filepath.Abs(o.dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "rules"), 0o755); err != nil {
		return err
	}
	priv, pub, password, err := devKey(dir, out)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	indexPath, tufDir := filepath.Join(dir, "index.yaml"), filepath.Join(dir, "tuf")
	// TUF clients check expiry against the real clock; a year outlives any run.
	if err := oci.WriteTUFMirror(tufDir, time.Now().AddDate(1, 0, 0).UTC()); err != nil {
		return fmt.Errorf("writing the offline TUF mirror: %w", err)
	}
	srv, closeStore := oci.NewServer(oci.ServerOptions{Root: filepath.Join(dir, "registry"), IndexFile: indexPath, TUFDir: tufDir})
	defer func() { _ = closeStore() }()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() { _ = srv.Close() }()
	host := ln.Addr().String()
	fmt.Fprintf(out, "registry: http://%s (storage %s)\n", host, filepath.Join(dir, "registry"))

	signer, err := oci.LoadSigner(ctx, priv, func() ([]byte, error) { return password, nil })
	if err != nil {
		return fmt.Errorf("loading %s: %w", priv, err)
	}
	idx, refs, digests, err := o.publishRepo(ctx, cmd, publish.Registry{Host: host, Prefix: o.prefix}, signer, pub)
	if err != nil {
		return err
	}
	cfgPath, err := writeRunFiles(dir, host, idx, refs)
	if err != nil {
		return err
	}
	env := offlineEnv(host, dir, pub)
	if !o.quiet {
		printInstructions(out, host, dir, cfgPath, refs, env)
	}

	if ready != nil {
		if err := ready(runResult{host: host, falcoctlConfig: cfgPath, publicKey: pub, refs: refs, digests: digests, offlineEnv: env}); err != nil {
			return err
		}
	}
	if ready != nil {
		return nil
	}
	if o.once {
		fmt.Fprintf(out, "--once: the registry stops now. To serve the same content again, for the command above:\n\n"+
			"  falcops registry serve --addr %s --root %s --index %s --tuf %s\n", host, filepath.Join(dir, "registry"), indexPath, tufDir)
		return nil
	}
	fmt.Fprintln(out, "serving until interrupted (Ctrl-C)")
	select {
	case <-ctx.Done():
		fmt.Fprintln(out, "stopped")
		return nil
	case err := <-served:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}

// publishRepo releases the repository's rulesets and profiles, signed with
// the dev key, and returns the index entries, the refs a shoot installs
// (each ruleset by name and major version) and the published digests.
func (o *runOptions) publishRepo(ctx context.Context, cmd *cobra.Command, reg publish.Registry, signer signature.SignerVerifier, pub string) (artifacts.Index, []string, map[string]string, error) {
	paths, err := selfContained(cmd, o.repo, o.dependencies)
	if err != nil {
		return nil, nil, nil, err
	}
	built, err := buildRulesets(cmd, paths)
	if err != nil {
		return nil, nil, nil, err
	}
	profiles, err := publish.ReadProfiles(filepath.Join(o.repo, "profiles"))
	if err != nil {
		return nil, nil, nil, err
	}
	client, err := oci.New(oci.Options{PlainHTTP: true})
	if err != nil {
		return nil, nil, nil, err
	}
	opts := publish.Options{Client: client, Registry: reg, Sign: oci.SignOptions{Signer: signer},
		IndexSignature: &artifacts.CosignSignature{Key: pub, IgnoreTlog: true}}
	total := len(built)
	if profiles != nil {
		total++
	}
	showProgress(&opts, cmd, total)
	results, idx, err := publish.Rulesets(ctx, built, opts)
	if err != nil {
		return nil, nil, nil, err
	}
	digests := map[string]string{}
	for _, r := range results {
		digests[r.Name] = r.Digest.String()
	}
	var refs []string
	for _, b := range built {
		major, _, _ := strings.Cut(b.Dir.Manifest.Version, ".")
		refs = append(refs, b.Dir.Manifest.Name+":"+major)
	}
	if profiles != nil {
		_, e, err := publish.Profiles(ctx, profiles, "", "", opts)
		if err != nil {
			return nil, nil, nil, err
		}
		idx = append(idx, e)
	}
	return idx, refs, digests, nil
}

// selfContained are the folders of the repository's rulesets whose
// dependencies are rulesets of the repository too: falcoctl installs a
// dependency from the same index, and the embedded registry holds only
// what the repository builds. The others are named on stderr and left out.
// With withDeps, dependencies found on $FALCOPS_RULESETS_PATH are
// published too, first.
func selfContained(cmd *cobra.Command, repo string, withDeps bool) ([]string, error) {
	dirs, fs := rules.Discover(repo)
	if fs.Errors() > 0 {
		_ = writeFindings(cmd.ErrOrStderr(), fs)
		return nil, errors.New("the repository's rulesets cannot be read")
	}
	var out, deps []string
	for _, rd := range dirs {
		var missing []string
		for _, d := range rd.Manifest.DependsOn {
			if _, err := rules.FindDependencyIn(rd, d, []string{filepath.Dir(rd.Dir)}); err == nil {
				continue
			}
			if dep, err := rules.FindDependency(rd, d); err == nil && withDeps {
				if !slices.Contains(deps, dep.Dir) {
					deps = append(deps, dep.Dir)
				}
				continue
			}
			missing = append(missing, fmt.Sprintf("%s %d", d.Name, d.Major))
		}
		if len(missing) > 0 {
			fmt.Fprintf(cmd.ErrOrStderr(), "%s %s: left out, its dependencies are not in the repository: %s (vendor them with falcops vendor)\n",
				rd.Manifest.Name, rd.Manifest.Version, strings.Join(missing, ", "))
			continue
		}
		out = append(out, rd.Dir)
	}
	return append(deps, out...), nil
}

// writeRunFiles writes index.yaml and the falcoctl.yaml a shoot would use
// into dir and returns the latter's path.
func writeRunFiles(dir, host string, idx artifacts.Index, refs []string) (string, error) {
	merged, err := artifacts.Merge(nil, idx)
	if err != nil {
		return "", err // ruleset names are unique per repository
	}
	if err := os.WriteFile(filepath.Join(dir, "index.yaml"), merged.Marshal(), 0o644); err != nil {
		return "", err
	}
	cfg, err := artifacts.FalcoctlConfig{IndexURL: "http://" + host + "/index.yaml", Refs: refs,
		RulesDir: filepath.Join(dir, "rules"), StateDir: filepath.Join(dir, "state"), Every: "10m"}.Marshal()
	if err != nil {
		return "", err
	}
	cfgPath := filepath.Join(dir, "falcoctl.yaml")
	return cfgPath, os.WriteFile(cfgPath, cfg, 0o644)
}

// offlineEnv is what falcoctl (and cosign) need to verify key-based
// signatures on a machine without internet: the TUF mirror run serves,
// and the cosign key as the CT log key it insists on.
func offlineEnv(host, dir, pub string) []string {
	return []string{
		"SIGSTORE_CT_LOG_PUBLIC_KEY_FILE=" + pub,
		"TUF_MIRROR=http://" + host + "/tuf",
		"TUF_ROOT_JSON=" + filepath.Join(dir, "tuf", "1.root.json"),
		"TUF_ROOT=" + filepath.Join(dir, "tuf-cache"),
	}
}

func printInstructions(out io.Writer, host, dir, cfgPath string, refs, env []string) {
	cfg, _ := os.ReadFile(cfgPath)
	fmt.Fprintf(out, "\nindex: http://%s/index.yaml (%s)\nfalcoctl configuration a shoot would use (%s):\n\n%s\n", host, filepath.Join(dir, "index.yaml"), cfgPath, cfg)
	fmt.Fprintf(out, "install the signed, verified rules with the real falcoctl (offline: the registry also serves the TUF\n"+
		"metadata cosign looks up, see docs/publishing.md):\n\n  %s \\\n    falcoctl artifact install --config %s --plain-http %s\n\n",
		strings.Join(env, " "), cfgPath, strings.Join(refs, " "))
}

// devKey returns the development signing key under dir, creating it with a
// random password on the first run.
func devKey(dir string, out io.Writer) (priv, pub string, password []byte, err error) {
	priv, pub = filepath.Join(dir, "cosign.key"), filepath.Join(dir, "cosign.pub")
	pwFile := filepath.Join(dir, "cosign.password")
	pw, pwErr := os.ReadFile(pwFile)
	_, privErr := os.Stat(priv)
	_, pubErr := os.Stat(pub)
	if pwErr == nil && privErr == nil && pubErr == nil {
		return priv, pub, pw, nil
	}
	// A part is missing: make a new pair, never a stuck half.
	for _, f := range []string{priv, pub, pwFile} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", "", nil, err
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
