package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/oci"
	"github.com/falcops/falcops/publish"
)

func newIndexCmd() *cobra.Command {
	var registry, out string
	var transport transportFlags
	var allowUnsigned bool
	var signing signingFlags
	cmd := &cobra.Command{
		Use:   "index --registry HOST/PREFIX [--out FILE] [RULESET_DIR...]",
		Short: "Write the falcoctl index.yaml for the rulesets published in a registry",
		Long: `Write a falcoctl index with one entry per ruleset whose current version is
published under HOST/PREFIX/<name>. Entry names equal the ruleset names and
the artifacts' config names, which is what falcoctl looks signatures up by.
With --out the entries are merged into the file; without it the index is
printed. RULESET_DIR defaults to the repository root (all rulesets/*).`,
		Example: `  falcops index --registry ghcr.io/acme/falco --index-key /etc/falcoctl/cosign.pub --out index.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if registry == "" {
				return usageError("--registry is required")
			}
			reg, err := parseRegistry(registry)
			if err != nil {
				return err
			}
			if len(args) == 0 {
				args = []string{repoRoot()}
			}
			if err := checkSigned(cmd, signing.indexSignature(), allowUnsigned); err != nil {
				return err
			}
			if out != "" {
				if _, err := publish.ReadIndexFile(out); err != nil {
					return err
				}
			}
			built, err := buildRulesets(cmd, args)
			if err != nil {
				return err
			}
			c, err := transport.client()
			if err != nil {
				return err
			}
			var idx artifacts.Index
			for _, b := range built {
				m := b.Dir.Manifest
				err := transport.within(cmd.Context(), func(ctx context.Context) error {
					_, err := c.Resolve(ctx, reg.Repo(m.Name)+":"+m.Version)
					return err
				})
				if errors.Is(err, oci.ErrNotFound) {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s %s: not published, left out\n", m.Name, m.Version)
					continue
				}
				if err != nil {
					return err
				}
				idx = append(idx, artifacts.EntryFor(m, reg.Host, reg.Repository(m.Name), signing.indexSignature()))
			}
			if out == "" {
				merged, err := artifacts.Merge(nil, idx)
				if err != nil {
					return badInput(err)
				}
				_, err = cmd.OutOrStdout().Write(merged.Marshal())
				return err
			}
			if err := publish.MergeIndexFile(out, idx); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "index %s: %d entries\n", out, len(idx))
			return nil
		},
	}
	cmd.Flags().StringVar(&registry, "registry", "", "registry and repository prefix, HOST[:PORT][/PREFIX] (required)")
	cmd.Flags().StringVar(&out, "out", "", "index file to merge into (default: print)")
	transport.register(cmd)
	cmd.Flags().BoolVar(&allowUnsigned, "allow-unsigned", false, "write entries without a signature block when no key or identity is given (falcoctl then installs these artifacts without verifying them)")
	signing.register(cmd, false)
	return cmd
}
