package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/falcops/falcops/gitrepo"
	"github.com/falcops/falcops/lifecycle"
)

// profileEditCmds are the profile subcommands that edit profiles/ through
// Git (promote, deprecate, add).
func profileEditCmds() []*cobra.Command {
	return []*cobra.Command{newProfilePromoteCmd(time.Now), newProfileDeprecateCmd(time.Now), newProfileAddCmd(time.Now)}
}

const editExitCodes = `
The file is edited in place: only the lines of that version change; comments,
key order and formatting stay. The result is loaded strictly before anything
is written.

With --branch NAME, branch NAME is created from HEAD of the Git repository
holding the file and checked out before the edit; with --commit as well, the
file alone is committed there (message: --message, or a generated one), so
that only a pull request is left to open.

Exit codes: 1 when the edit is refused (unknown or existing version, expired
version, expiry not in the future, no unexpired supported version would be
left) or the profile is invalid; nothing is written and no branch is created.
2 on usage errors, a missing file, or a Git problem.`

type profileEditOptions struct {
	profile string
	branch  string
	commit  bool
	message string
	now     func() time.Time
}

func (o *profileEditOptions) flags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.profile, "profile", "profiles/falco.yaml", "the profile file to edit")
	f.StringVar(&o.branch, "branch", "", "create and check out this branch from HEAD before editing")
	f.BoolVar(&o.commit, "commit", false, "commit the edited file on --branch")
	f.StringVar(&o.message, "message", "", "commit message (default: generated, like \"profile: promote falco 0.43.0 to supported\")")
}

func newProfilePromoteCmd(now func() time.Time) *cobra.Command {
	o := &profileEditOptions{now: now}
	var to string
	cmd := &cobra.Command{
		Use:   "promote VERSION --to supported|preview [--profile FILE] [--branch NAME --commit]",
		Short: "Change the classification of a Falco version to supported (or preview)",
		Long: `Set the classification of Falco VERSION to --to (supported or preview). Leaving
deprecated removes its expirationDate. An expired version cannot be promoted,
and the last unexpired supported version cannot be demoted.
` + editExitCodes,
		Example: `  falcops profile promote 0.44.1 --to supported --branch promote-0.44.1 --commit`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := oneVersion(cmd, args); err != nil {
				return err
			}
			if to != "supported" && to != "preview" {
				return usageError("--to %q: want supported or preview (use 'falcops profile deprecate' to deprecate)", to)
			}
			return o.run(cmd, func(now time.Time) (*lifecycle.Change, error) {
				return lifecycle.PreviewPromote(o.profile, args[0], to, now)
			})
		},
	}
	o.flags(cmd)
	cmd.Flags().StringVar(&to, "to", "", "the new classification: supported or preview (required)")
	return cmd
}

func newProfileDeprecateCmd(now func() time.Time) *cobra.Command {
	o := &profileEditOptions{now: now}
	var expires string
	cmd := &cobra.Command{
		Use:   "deprecate VERSION --expires DATE [--profile FILE] [--branch NAME --commit]",
		Short: "Deprecate a Falco version with an expiration date",
		Long: `Classify Falco VERSION as deprecated and set its expirationDate to --expires:
an RFC 3339 date-time with a time zone, or YYYY-MM-DD for the end of that day
(23:59:59 UTC). The date is written in UTC, quoted like the file's other
dates. It must be in the future, and the last unexpired supported version
cannot be deprecated.
` + editExitCodes,
		Example: `  falcops profile deprecate 0.42.1 --expires 2027-06-30 --branch deprecate-0.42.1 --commit`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := oneVersion(cmd, args); err != nil {
				return err
			}
			at, err := parseExpiry(expires)
			if err != nil {
				return err
			}
			return o.run(cmd, func(now time.Time) (*lifecycle.Change, error) {
				return lifecycle.PreviewDeprecate(o.profile, args[0], at, now)
			})
		},
	}
	o.flags(cmd)
	cmd.Flags().StringVar(&expires, "expires", "", "expiration date: RFC 3339 with a time zone, or YYYY-MM-DD (end of day UTC) (required)")
	return cmd
}

func newProfileAddCmd(now func() time.Time) *cobra.Command {
	o := &profileEditOptions{now: now}
	var a lifecycle.AddOptions
	cmd := &cobra.Command{
		Use:   "add VERSION --image REPO:TAG [--classification preview] [--engine X.Y.Z] [--rules-version X.Y.Z] [--profile FILE] [--branch NAME --commit]",
		Short: "Add a Falco version and its image",
		Long: `Append Falco VERSION to spec.versions.falco and its image to spec.images.falco,
each in the style of the list's last entry. --image is REPOSITORY:TAG or
REPOSITORY@sha256:DIGEST. --rules-version defaults to the rulesVersion of the
highest Falco version in the file; --engine (engineVersion) is needed when
falcops does not know the release's Falco engine version.
` + editExitCodes,
		Example: `  falcops profile add 0.45.0 --image falcosecurity/falco:0.45.0 --engine 0.63.0 --branch add-0.45.0 --commit`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := oneVersion(cmd, args); err != nil {
				return err
			}
			if a.Image == "" {
				return usageError("--image is required (REPOSITORY:TAG)")
			}
			if _, _, err := lifecycle.ParseImage(a.Image); err != nil {
				return usageError("--image: %v", err)
			}
			return o.run(cmd, func(now time.Time) (*lifecycle.Change, error) {
				return lifecycle.PreviewAdd(o.profile, args[0], a, now)
			})
		},
	}
	o.flags(cmd)
	f := cmd.Flags()
	f.StringVar(&a.Image, "image", "", "the image, REPOSITORY:TAG or REPOSITORY@sha256:DIGEST (required)")
	f.StringVar(&a.Classification, "classification", "preview", "preview or supported")
	f.StringVar(&a.EngineVersion, "engine", "", "the Falco engine version (engineVersion), X.Y.Z")
	f.StringVar(&a.RulesVersion, "rules-version", "", "the rulesVersion, X.Y.Z (default: that of the highest Falco version)")
	return cmd
}

func oneVersion(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usageError("want one VERSION, got %d arguments (see '%s --help')", len(args), cmd.CommandPath())
	}
	return nil
}

// parseExpiry reads RFC 3339 with a time zone, or YYYY-MM-DD meaning the
// end of that day in UTC.
func parseExpiry(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, usageError("--expires is required (RFC 3339 or YYYY-MM-DD)")
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		return d.Add(24*time.Hour - time.Second), nil
	}
	return time.Time{}, usageError("--expires %q: want an RFC 3339 date-time with a time zone (2027-06-30T23:59:59Z) or YYYY-MM-DD", s)
}

// run plans the edit, refusing before touching anything; then creates the
// branch, writes the file and commits it as asked.
func (o *profileEditOptions) run(cmd *cobra.Command, plan func(now time.Time) (*lifecycle.Change, error)) error {
	if o.commit && o.branch == "" {
		return usageError("--commit needs --branch NAME (edits are committed on a new branch, for a pull request)")
	}
	if o.message != "" && !o.commit {
		return usageError("--message needs --commit")
	}
	c, err := plan(o.now())
	if err != nil {
		return editError(cmd, err)
	}
	if o.message != "" {
		c.Message = o.message
	}
	var g *gitrepo.Edit
	if o.branch != "" {
		if g, err = gitrepo.NewEdit(c.File, o.branch, o.commit); err != nil {
			return usageError("%v", err)
		}
		if err := g.Checkout(); err != nil {
			return usageError("%v", err)
		}
	}
	if err := c.Write(); err != nil {
		return usageError("writing %s: %v", c.File, err)
	}
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "%s: %s\n", c.File, c.Message)
	if g == nil {
		return nil
	}
	if !o.commit {
		fmt.Fprintf(out, "on branch %s (not committed)\n", o.branch)
		return nil
	}
	hash, err := g.CommitFile(c.Message)
	if err != nil {
		return usageError("%v", err)
	}
	fmt.Fprintf(out, "committed %s on branch %s\n", hash[:12], o.branch)
	return nil
}

// editError prints the problems of an invalid profile (exit 1); refusals
// exit 1 through lifecycle.ErrRefused, missing files 2.
func editError(cmd *cobra.Command, err error) error {
	var le *lifecycle.LoadError
	if errors.As(err, &le) {
		return reportLoadError(cmd, le)
	}
	return err
}
