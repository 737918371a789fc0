package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/falcops/falcops/gate"
	"github.com/falcops/falcops/gitrepo"
)

func newGateCmd() *cobra.Command {
	var base, output, repo string
	cmd := &cobra.Command{
		Use:   "gate --base GIT_REF",
		Short: "Check that every changed ruleset's version is bumped enough for its changes",
		Long: `Compare the rulesets of the working tree with those at the base revision (read
from Git objects, no checkout: a shallow clone that fetched the base is enough),
compute the semantic diff of each changed ruleset and the semver bump it needs,
and compare it with the version change in its ruleset.yaml.

The gate fails (exit 1) when a declared bump is lower than required, when rules
changed but the version did not (a version is immutable once published), when a
version goes down, or when a changed ruleset does not validate. New, renamed and
deleted rulesets are reported and pass.

The whole repository is judged wherever the command is started (the top of
its Git work tree). Use -o markdown for a pull-request comment.`,
		Example: `  falcops gate --base origin/main
  falcops gate --base origin/main -o markdown > gate.md`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if base == "" {
				return usageError("--base is required (e.g. origin/main)")
			}
			if output != "text" && output != "markdown" {
				return usageError("-o %q: want text or markdown", output)
			}
			res, err := gate.Run(repo, base)
			if errors.Is(err, gitrepo.ErrBaseNotFound) {
				return usageError("%v; fetch it first: %s", err, fetchHint(base))
			}
			if err != nil {
				return err
			}
			if output == "markdown" {
				err = res.WriteMarkdown(cmd.OutOrStdout())
			} else {
				err = res.WriteText(cmd.OutOrStdout())
			}
			if err != nil {
				return fmt.Errorf("writing the report: %w", err)
			}
			if !res.Passed() {
				return errFindings
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&base, "base", "", "base revision: branch, remote branch, tag or commit (required)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or markdown")
	cmd.Flags().StringVar(&repo, "repo", ".", "repository root holding rulesets/ (default: the top of the Git work tree the command runs in)")
	return cmd
}

// fetchHint is a command that makes base resolvable in a shallow
// single-branch clone, as CI checkouts are: a remote branch is fetched into
// its remote-tracking ref, anything else as FETCH_HEAD.
func fetchHint(base string) string {
	if branch, ok := strings.CutPrefix(base, "origin/"); ok && branch != "" {
		return fmt.Sprintf("git fetch --depth=1 origin %s:refs/remotes/origin/%s", branch, branch)
	}
	return fmt.Sprintf("git fetch --depth=1 origin %s, then --base FETCH_HEAD", base)
}
