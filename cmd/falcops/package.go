package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/publish"
)

func newPackageCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "package RULESET_DIR --out DIR",
		Short: "Package a ruleset as a falcoctl rulesfile artifact in an OCI image layout",
		Long: `Validate a ruleset and write it as a falcoctl rulesfile artifact into an OCI
image layout folder (oci-layout, index.json, blobs/). The same input always
gives the same digests: no timestamps, fixed tar headers. The manifest carries
the Git origin and commit of the ruleset as source and revision annotations.`,
		Example: `  falcops package rulesets/heartbeat --out dist/heartbeat`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usageError("--out is required")
			}
			built, err := buildRulesets(cmd, args)
			if err != nil {
				return err
			}
			b := built[0]
			if err := artifacts.WriteLayout(b.Artifact, out, b.Dir.Manifest.Version); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s: %s -> %s\n", b.Dir.Manifest.Name, b.Dir.Manifest.Version, b.Artifact.ManifestDigest, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "folder for the OCI image layout (created if missing)")
	return cmd
}

// buildRulesets validates and packages the rulesets the paths name
// (publish.Build). Findings of invalid rulesets go to stderr: nothing is
// packaged and the exit code is 1.
func buildRulesets(cmd *cobra.Command, paths []string) ([]publish.Built, error) {
	built, findings, err := publish.Build(paths)
	if findings.Errors() > 0 {
		_ = writeFindings(cmd.ErrOrStderr(), findings)
	}
	return built, err
}
