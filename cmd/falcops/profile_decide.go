package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/falcops/falcops/diag"
	"github.com/falcops/falcops/lifecycle"
	"github.com/falcops/falcops/rules"
)

// profileDecideCmds are the read-only profile subcommands: validate, list,
// timeline and resolve. The decisions are lifecycle's pure functions; the
// clock is read here only, as the default of --at.
func profileDecideCmds() []*cobra.Command {
	return []*cobra.Command{
		newProfileValidateCmd(time.Now),
		newProfileListCmd(time.Now, false),
		newProfileListCmd(time.Now, true),
		newProfileResolveCmd(time.Now),
	}
}

// profileAtOptions are the flags every decision command shares.
type profileAtOptions struct {
	profiles []string
	at       string
	now      func() time.Time
}

func (o *profileAtOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArrayVar(&o.profiles, "profile", []string{"profiles/"}, "profile file or directory of *.yaml profiles (repeatable; documents merge by version)")
	f.StringVar(&o.at, "at", "", "the time to decide expiry at, RFC 3339 with a time zone (default: now)")
}

// time returns --at, or now.
func (o *profileAtOptions) time() (time.Time, error) {
	if o.at == "" {
		return o.now(), nil
	}
	t, err := time.Parse(time.RFC3339, o.at)
	if err != nil {
		return time.Time{}, usageError("--at %q: want an RFC 3339 date-time with a time zone, like 2026-07-31T23:59:59Z", o.at)
	}
	return t, nil
}

// load parses --at and loads the profile.
func (o *profileAtOptions) load(cmd *cobra.Command) (*lifecycle.Profile, time.Time, error) {
	at, err := o.time()
	if err != nil {
		return nil, at, err
	}
	p, err := loadProfile(cmd, o.profiles)
	return p, at, err
}

const expiryNote = `A version with expirationDate E is valid at E and expired at any later
instant; dates compare as instants, whatever their time zone.`

func newProfileValidateCmd(now func() time.Time) *cobra.Command {
	o := &profileValidateOptions{profileAtOptions: profileAtOptions{now: now}}
	cmd := &cobra.Command{
		Use:   "validate [--profile DIR_OR_FILE] [--at RFC3339] [--rulesets DIR] [-o text|json|github|sarif]",
		Short: "Check a profile's structure and lifecycle at a time",
		Long: `Load the profile strictly, then check its lifecycle at --at (default: now):

  error    no supported version is unexpired, so new shoots get no default
  warning  a deprecated version has no expirationDate (it never expires)
  info     an expired version is still listed

` + expiryNote + `

Problems are printed as file:line:col: severity: message (-o text; the
problems of a profile that does not load go to stderr), or as JSON, GitHub
annotations or SARIF with every problem on stdout. Exit codes: 1 when the
profile is invalid or has lifecycle errors; 2 when it is missing or a flag is
wrong.`,
		Example: `  falcops profile validate
  falcops profile validate --profile profiles/falco.yaml --at 2027-03-01T00:00:00Z
  falcops profile validate -o sarif > profiles.sarif`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd)
		},
	}
	o.addFlags(cmd)
	cmd.Flags().StringVar(&o.rulesets, "rulesets", "", "also check that every rulesVersion is the version of a ruleset in this folder (e.g. rulesets)")
	cmd.Flags().StringVarP(&o.output, "output", "o", "text", "output format: "+findingFormats)
	return cmd
}

type profileValidateOptions struct {
	profileAtOptions
	rulesets string
	output   string
}

func (o *profileValidateOptions) run(cmd *cobra.Command) error {
	if err := checkFindingFormat(o.output); err != nil {
		return err
	}
	at, err := o.time()
	if err != nil {
		return err
	}
	var findings diag.Findings
	p, err := lifecycle.Load(o.profiles...)
	var le *lifecycle.LoadError
	switch {
	case errors.As(err, &le) && o.output == "text":
		return reportLoadError(cmd, le)
	case errors.As(err, &le):
		findings = le.Problems
	case err != nil:
		return usageError("%v", err)
	default:
		findings = lifecycle.Validate(p, at)
		if o.rulesets != "" {
			more, err := rulesVersionFindings(p, o.rulesets)
			if err != nil {
				return err
			}
			findings = append(findings, more...)
		}
	}
	report := findingsReport{findings: findings,
		text: func(w io.Writer) error { return writeFindings(w, findings) },
		json: struct {
			Findings diag.Findings `json:"findings"`
			Errors   int           `json:"errors"`
			Warnings int           `json:"warnings"`
		}{orEmpty(findings), findings.Errors(), findings.Warnings()},
	}
	if err := report.write(cmd.OutOrStdout(), o.output); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	if findings.Errors() > 0 {
		return errFindings
	}
	return nil
}

// rulesVersionFindings reports Falco versions whose rulesVersion is not the
// version of any ruleset in dir.
func rulesVersionFindings(p *lifecycle.Profile, dir string) (diag.Findings, error) {
	if err := statPath(dir); err != nil {
		return nil, err
	}
	dirs, fs := rules.Discover(dir)
	if fs.Errors() > 0 {
		return nil, badInput(fmt.Errorf("%s", fs[0].String()))
	}
	have := map[string][]string{}
	for _, d := range dirs {
		have[d.Manifest.Version] = append(have[d.Manifest.Version], d.Manifest.Name)
	}
	var out diag.Findings
	for _, v := range p.Versions() {
		if _, ok := have[v.RulesVersion]; !ok {
			out.Add("", diag.Error, v.Source, "Falco %s: rulesVersion %s is not the version of any ruleset in %s", v.Version, v.RulesVersion, dir)
		}
	}
	return out, nil
}

func newProfileListCmd(now func() time.Time, timeline bool) *cobra.Command {
	o := &profileAtOptions{now: now}
	cmd := &cobra.Command{
		Use:   "list [--profile DIR_OR_FILE] [--at RFC3339]",
		Short: "List the Falco versions of a profile, lowest first",
		Long: `List the Falco versions of the profile, lowest first: classification, when
each expires relative to --at (default: now; "in 94d", "expired 3d ago",
"never"), engine version, rules version and image.

` + expiryNote,
		Example: `  falcops profile list --at 2027-01-01T00:00:00Z`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, at, err := o.load(cmd)
			if err != nil {
				return err
			}
			vs := p.Versions()
			if timeline {
				slices.SortStableFunc(vs, func(a, b lifecycle.Version) int {
					switch {
					case a.Expires == nil && b.Expires == nil:
						return 0
					case a.Expires == nil:
						return 1
					case b.Expires == nil:
						return -1
					}
					return a.Expires.Compare(*b.Expires)
				})
			}
			if err := writeVersionTable(cmd.OutOrStdout(), p, vs, at); err != nil {
				return fmt.Errorf("writing output: %w", err)
			}
			return nil
		},
	}
	if timeline {
		cmd.Use = "timeline [--profile DIR_OR_FILE] [--at RFC3339]"
		cmd.Short = "List the Falco versions of a profile by expiry, soonest first"
		cmd.Long = `Like list, ordered by expirationDate: the soonest (or already expired)
first, versions that never expire last.

` + expiryNote
		cmd.Example = `  falcops profile timeline --profile profiles/falco.yaml`
	}
	o.addFlags(cmd)
	return cmd
}

func writeVersionTable(w io.Writer, p *lifecycle.Profile, vs []lifecycle.Version, at time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tCLASSIFICATION\tEXPIRES\tENGINE\tRULES\tIMAGE")
	for _, v := range vs {
		engine, err := p.EngineVersion(v.Version)
		if err != nil {
			engine = "unknown"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", v.Version, v.Classification, expiresIn(v, at), engine, v.RulesVersion, v.Image)
	}
	return tw.Flush()
}

// expiresIn says when v expires relative to at: "never", "in 94d",
// "expired 3d ago" (days, or hours, minutes, seconds below a day).
func expiresIn(v lifecycle.Version, at time.Time) string {
	if v.Expires == nil {
		return "never"
	}
	d := v.Expires.Sub(at)
	if v.Expired(at) {
		return "expired " + shortDuration(-d) + " ago"
	}
	return "in " + shortDuration(d)
}

func shortDuration(d time.Duration) string {
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d >= time.Hour:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d >= time.Minute:
		return fmt.Sprintf("%dm", d/time.Minute)
	default:
		return fmt.Sprintf("%ds", d/time.Second)
	}
}

type profileResolveOptions struct {
	profileAtOptions
	current    string
	autoUpdate bool
	output     string
}

func newProfileResolveCmd(now func() time.Time) *cobra.Command {
	o := &profileResolveOptions{profileAtOptions: profileAtOptions{now: now}}
	cmd := &cobra.Command{
		Use:   "resolve --current VERSION [--auto-update] [--profile DIR_OR_FILE] [--at RFC3339] [-o json|text]",
		Short: "Decide the Falco version a shoot on --current should run",
		Long: `Decide, at --at (default: now), the Falco version for a shoot on --current:

  forced-expired, forced-removed  --current has expired or is no longer in the
      profile: the lowest non-expired, non-preview version above it; if there
      is none, the highest one left, with "downgrade": true.
  auto-update  with --auto-update, the highest unexpired supported version if
      it is higher than --current. Auto-update never moves down: a shoot on a
      preview version, or on a deprecated version above the highest supported
      one, stays.
  unchanged    otherwise.

Preview versions are never an automatic target. ` + expiryNote + `

-o json prints {"version":"...","reason":"...","downgrade":false,"explanation":"..."}.

Exit codes: 1 when the profile is invalid or no version qualifies; 2 when the
profile is missing, --current is not a semantic version X.Y.Z, or a flag is
wrong.`,
		Example: `  falcops profile resolve --current 0.41.3 --auto-update
  falcops profile resolve --profile profiles/falco.yaml --current 0.41.3 --at 2027-03-01T00:00:00Z -o text`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd)
		},
	}
	o.addFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.current, "current", "", "the version the shoot runs now (required)")
	f.BoolVar(&o.autoUpdate, "auto-update", false, "the shoot has auto-update enabled")
	f.StringVarP(&o.output, "output", "o", "json", "output format: json or text")
	return cmd
}

func (o *profileResolveOptions) run(cmd *cobra.Command) error {
	if o.output != "json" && o.output != "text" {
		return usageError("-o %q: want json or text", o.output)
	}
	if o.current == "" {
		return usageError("--current is required (see '%s --help')", cmd.CommandPath())
	}
	p, at, err := o.load(cmd)
	if err != nil {
		return err
	}
	d, err := lifecycle.Resolve(p, o.current, o.autoUpdate, at)
	switch {
	case errors.Is(err, lifecycle.ErrBadVersion):
		return usageError("--current: %v", err)
	case err != nil:
		return badInput(err)
	}
	w := cmd.OutOrStdout()
	if o.output == "text" {
		_, err = fmt.Fprintf(w, "version: %s\nreason: %s\ndowngrade: %v\nexplanation: %s\n", d.Version, d.Reason, d.Downgrade, d.Explanation)
	} else {
		var data []byte
		data, err = json.Marshal(d)
		if err == nil {
			_, err = fmt.Fprintf(w, "%s\n", data)
		}
	}
	if err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	return nil
}
