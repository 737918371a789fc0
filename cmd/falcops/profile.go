package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/falcops/falcops/lifecycle"
)

func newProfileCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "profile",
		Short: "Work with Falco profiles (FalcoProfile documents in profiles/)",
		Long: `Falco profiles (FalcoProfile, falco.gardener.cloud/v1alpha1, compatible with
Gardener) list the Falco versions a landscape offers, with classification
(preview, supported, deprecated), expiration date, image and Falco engine
version. They are loaded strictly: unknown fields, dates without a time zone,
unknown classifications and non-semver versions are errors naming file:line.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageError("missing subcommand (see '%s --help')", cmd.CommandPath())
		},
	}
	cmd.AddCommand(newProfileMatrixCmd(time.Now))
	cmd.AddCommand(profileDecideCmds()...)
	cmd.AddCommand(profileEditCmds()...)
	return cmd
}

type profileMatrixOptions struct {
	profiles []string
	at       string
	output   string
	now      func() time.Time
}

// matrixEntry is one Falco version in the GitHub Actions matrix.
type matrixEntry struct {
	Falco          string `json:"falco"`
	Image          string `json:"image"`
	Engine         string `json:"engine"`
	Classification string `json:"classification"`
}

func newProfileMatrixCmd(now func() time.Time) *cobra.Command {
	o := &profileMatrixOptions{now: now}
	cmd := &cobra.Command{
		Use:   "matrix [--profile DIR_OR_FILE] [--at RFC3339] [-o json|github]",
		Short: "Print the non-expired Falco versions as a GitHub Actions matrix",
		Long: `Print the Falco versions of the profile that have not expired at --at (default:
now) as a GitHub Actions matrix, lowest version first:

  {"include":[{"falco":"0.42.1","image":"falcosecurity/falco:0.42.1","engine":"0.57.0","classification":"supported"}, ...]}

engine is the version's engineVersion, or falcops' table of Falco releases.
-o github prints matrix=<json> for $GITHUB_OUTPUT, so a later job can use
strategy.matrix: ${{ fromJSON(needs.<job>.outputs.matrix) }}.

Exit codes: 1 when the profile is invalid (problems are printed as
file:line:col: error: message), a version's engine is unknown, or no version
is left; 2 when the profile is missing or a flag is wrong.`,
		Example: `  falcops profile matrix
  falcops profile matrix --profile profiles/falco.yaml --at 2027-03-01T00:00:00Z
  falcops profile matrix -o github >> "$GITHUB_OUTPUT"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.profiles, "profile", []string{"profiles/"}, "profile file or directory of *.yaml profiles (repeatable; documents merge by version)")
	f.StringVar(&o.at, "at", "", "the time to decide expiry at, RFC 3339 with a time zone (default: now)")
	f.StringVarP(&o.output, "output", "o", "json", "output format: json, or github (matrix=<json> for $GITHUB_OUTPUT)")
	return cmd
}

func (o *profileMatrixOptions) run(cmd *cobra.Command) error {
	if o.output != "json" && o.output != "github" {
		return usageError("-o %q: want json or github", o.output)
	}
	at := o.now()
	if o.at != "" {
		t, err := time.Parse(time.RFC3339, o.at)
		if err != nil {
			return usageError("--at %q: want an RFC 3339 date-time with a time zone, like 2026-07-31T23:59:59Z", o.at)
		}
		at = t
	}
	p, err := loadProfile(cmd, o.profiles)
	if err != nil {
		return err
	}
	matrix := struct {
		Include []matrixEntry `json:"include"`
	}{Include: []matrixEntry{}}
	for _, v := range p.Versions() {
		if v.Expired(at) {
			continue
		}
		engine, err := p.EngineVersion(v.Version)
		if err != nil {
			return badInput(err)
		}
		matrix.Include = append(matrix.Include, matrixEntry{Falco: v.Version, Image: v.Image, Engine: engine, Classification: v.Classification})
	}
	if len(matrix.Include) == 0 {
		return badInput(fmt.Errorf("no Falco version in the profile is unexpired at %s", at.Format(time.RFC3339)))
	}
	data, err := json.Marshal(matrix)
	if err != nil {
		return err
	}
	prefix := ""
	if o.output == "github" {
		prefix = "matrix="
	}
	if _, err := fmt.Fprintf(cmd.OutOrStdout(), "%s%s\n", prefix, data); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	return nil
}

// loadProfile loads profiles and maps errors to the CLI's exit codes: the
// problems of an invalid profile go to stderr, one per line (exit 1); a
// missing path is a usage error (exit 2).
func loadProfile(cmd *cobra.Command, paths []string) (*lifecycle.Profile, error) {
	p, err := lifecycle.Load(paths...)
	if err == nil {
		return p, nil
	}
	var le *lifecycle.LoadError
	if errors.As(err, &le) {
		return nil, reportLoadError(cmd, le)
	}
	return nil, usageError("%v", err)
}

// reportLoadError prints the problems of a profile that does not load to
// stderr, one finding per line (exit 1).
func reportLoadError(cmd *cobra.Command, le *lifecycle.LoadError) error {
	_ = writeFindings(cmd.ErrOrStderr(), le.Problems)
	return errFindings
}
