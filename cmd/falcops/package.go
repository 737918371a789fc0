package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/diag"
	"github.com/falcops/falcops/rules"
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
			if err := artifacts.WriteLayout(b.artifact, out, b.dir.Manifest.Version); err != nil {
				return &exitError{exitUsage, err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s: %s -> %s\n", b.dir.Manifest.Name, b.dir.Manifest.Version, b.artifact.ManifestDigest, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "folder for the OCI image layout (created if missing)")
	return cmd
}

// builtRuleset is a validated and packaged ruleset.
type builtRuleset struct {
	dir      *rules.RulesetDir
	artifact *artifacts.Artifact
}

// buildRulesets validates every ruleset the paths name and packages them. Any
// validation error stops everything before anything is published: findings are
// printed and the exit code is 1.
func buildRulesets(cmd *cobra.Command, paths []string) ([]builtRuleset, error) {
	var dirs []*rules.RulesetDir
	var findings diag.Findings
	for _, p := range paths {
		if err := statPath(p); err != nil {
			return nil, err
		}
		ds, fs := rules.Discover(p)
		findings = append(findings, fs...)
		for _, d := range ds {
			if d.ManifestPath == "" {
				return nil, usageError("%s: packaging needs a ruleset folder with %s (name, version, files)", p, rules.ManifestFile)
			}
		}
		dirs = append(dirs, ds...)
	}
	var out []builtRuleset
	loaded := make([]*rules.Ruleset, len(dirs))
	for i, d := range dirs {
		rs, fs := rules.LoadRuleset(d, rules.Options{})
		findings = append(findings, fs...)
		loaded[i] = rs
	}
	if findings.Errors() > 0 {
		for _, f := range findings {
			fmt.Fprintln(cmd.ErrOrStderr(), f.String())
		}
		return nil, &exitError{exitInput, fmt.Errorf("validation failed: %d errors; nothing was packaged", findings.Errors())}
	}
	for i, d := range dirs {
		source, revision, err := gitOrigin(d.Dir)
		if err != nil {
			return nil, &exitError{exitUsage, fmt.Errorf("reading Git metadata of %s: %w", d.Dir, err)}
		}
		a, err := artifacts.Package(d, loaded[i], artifacts.PackageOptions{Source: source, Revision: revision})
		if err != nil {
			return nil, &exitError{exitInput, err}
		}
		out = append(out, builtRuleset{dir: d, artifact: a})
	}
	return out, nil
}
