package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/falcops/falcops/diag"
	"github.com/falcops/falcops/rules"
	"github.com/falcops/falcops/rules/diff"
)

var diffFormats = map[string]func(diff.Report, io.Writer) error{
	"text":     diff.Report.WriteText,
	"json":     diff.Report.WriteJSON,
	"markdown": diff.Report.WriteMarkdown,
}

func newDiffCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "diff OLD NEW",
		Short: "Semantic diff of two rulesets, with the semver bump it requires",
		Long: `Compare two versions of a ruleset entity by entity (requirements, plugins,
lists, macros, rules) and classify every change as a patch, minor or major
bump, with a reason and its line. OLD and NEW are rules files or ruleset
folders (with ruleset.yaml); each loads for the engine version it declares.

Conditions are compared after macro and list expansion: a rewrite that means
the same is no change, a narrower condition is major, a wider one patch, and
a change that cannot be decided is major. Raising required_engine_version or
a plugin requirement is major (consumers follow a floating major tag).

Exit codes: 0 the diff was computed (whatever the bump), 1 OLD or NEW has
validation errors (printed to stderr), 2 usage error.`,
		Example: `  falcops diff old/falco_rules.yaml falco_rules.yaml
  falcops diff rulesets-base/heartbeat rulesets/heartbeat -o json
  falcops diff old.yaml new.yaml -o markdown > comment.md`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageError("diff needs OLD and NEW, got %d arguments (see '%s --help')", len(args), cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			write, ok := diffFormats[output]
			if !ok {
				return usageError("-o %q: want one of text, json, markdown", output)
			}
			oldRS, oldFS, err := loadForDiff(args[0])
			if err != nil {
				return err
			}
			newRS, newFS, err := loadForDiff(args[1])
			if err != nil {
				return err
			}
			if oldFS.Errors() > 0 || newFS.Errors() > 0 {
				for _, f := range append(oldFS, newFS...) {
					if f.Severity == diag.Error {
						fmt.Fprintln(cmd.ErrOrStderr(), f.String())
					}
				}
				return badInput(fmt.Errorf("cannot diff: %d errors in %s, %d in %s", oldFS.Errors(), args[0], newFS.Errors(), args[1]))
			}
			if err := write(diff.Compare(oldRS, newRS), cmd.OutOrStdout()); err != nil {
				return fmt.Errorf("writing output: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text, json or markdown (a verdict line and a table, for pull-request comments)")
	return cmd
}

// loadForDiff loads one side: a rules file or a single ruleset folder.
func loadForDiff(path string) (*rules.Ruleset, diag.Findings, error) {
	if err := statPath(path); err != nil {
		return nil, nil, err
	}
	dirs, fs := rules.Discover(path)
	if fs.Errors() > 0 {
		return nil, fs, nil
	}
	if len(dirs) != 1 {
		return nil, nil, usageError("%s holds %d rulesets; give a rules file or one ruleset folder", path, len(dirs))
	}
	rs, lfs := rules.LoadRuleset(dirs[0], rules.Options{})
	return rs, append(fs, lfs...), nil
}
