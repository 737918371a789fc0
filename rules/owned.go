package rules

import (
	"fmt"
	"time"

	"github.com/falcops/falcops/diag"
)

// Codes of findings about owned exceptions.
const (
	// ErrExceptionOwner: an exception without its metadata, or metadata
	// naming no exception.
	ErrExceptionOwner = "FALCOPS_EXCEPTION_OWNER"
	// ErrExceptionExpiring warns that an exception expires within
	// ExpiryWarning.
	ErrExceptionExpiring = "FALCOPS_EXCEPTION_EXPIRING"
	// ErrExceptionExpired: an exception is past its expiry.
	ErrExceptionExpired = "FALCOPS_EXCEPTION_EXPIRED"
)

// ExpiryWarning is how long before its expiry an exception is warned about.
const ExpiryWarning = 30 * 24 * time.Hour

// checkOwned checks the exceptions entries of a manifest by themselves.
func checkOwned(rd *RulesetDir) diag.Findings {
	var fs diag.Findings
	seen := map[[2]string]bool{}
	for i, e := range rd.Manifest.Exceptions {
		at := rd.ownedAt(i)
		bad := func(format string, args ...any) {
			fs = append(fs, diag.Finding{Code: ErrExceptionOwner, Severity: diag.Error, Position: at,
				Message: fmt.Sprintf("exceptions[%d] (%s/%s): ", i, e.Rule, e.Name) + fmt.Sprintf(format, args...)})
		}
		switch {
		case e.Rule == "" || e.Name == "":
			bad("rule and name are required")
		case seen[[2]string{e.Rule, e.Name}]:
			bad("listed twice")
		}
		seen[[2]string{e.Rule, e.Name}] = true
		if e.Owner == "" || e.Reason == "" {
			bad("owner and reason are required")
		}
		if _, err := time.Parse(time.DateOnly, e.Expires); err != nil {
			bad("expires %q is not a date (YYYY-MM-DD)", e.Expires)
		}
	}
	return fs
}

func (rd *RulesetDir) ownedAt(i int) diag.Position {
	if i < len(rd.exceptionsAt) {
		return rd.exceptionsAt[i]
	}
	return diag.At(rd.ManifestPath, 1, 1)
}

// CheckOwnedExceptions checks the exceptions a ruleset's own files add to
// rules defined in other files (its dependencies') against the manifest's
// exceptions entries: each needs one, each entry needs its exception, and
// entries expire: a warning within ExpiryWarning of the day, an error
// after it. now is the day checked against (zero: expiry is not checked).
func CheckOwnedExceptions(rd *RulesetDir, rs *Ruleset, now time.Time) diag.Findings {
	own := map[string]bool{}
	for _, p := range rd.Paths {
		own[p] = true
	}
	listed := map[[2]string]int{}
	for i, e := range rd.Manifest.Exceptions {
		listed[[2]string{e.Rule, e.Name}] = i
	}
	var fs diag.Findings
	found := map[int]bool{}
	for _, r := range rs.Rules {
		if own[r.At.File] {
			continue // the ruleset's own rule: its exceptions are its own
		}
		for _, ex := range r.Exceptions {
			if !own[ex.At.File] {
				continue
			}
			i, ok := listed[[2]string{r.Name, ex.Name}]
			if !ok {
				fs = append(fs, diag.Finding{Code: ErrExceptionOwner, Severity: diag.Error, Position: ex.At,
					Message: fmt.Sprintf("exception %q added to rule %q has no owner: list it under exceptions in %s with owner, reason and expires", ex.Name, r.Name, ManifestFile)})
				continue
			}
			found[i] = true
		}
	}
	for i, e := range rd.Manifest.Exceptions {
		at := rd.ownedAt(i)
		if !found[i] {
			fs = append(fs, diag.Finding{Code: ErrExceptionOwner, Severity: diag.Error, Position: at,
				Message: fmt.Sprintf("exceptions[%d]: no file of this ruleset adds exception %q to rule %q", i, e.Name, e.Rule)})
			continue
		}
		day, err := time.Parse(time.DateOnly, e.Expires)
		if err != nil || now.IsZero() {
			continue
		}
		end := day.Add(24 * time.Hour) // valid through its day
		switch {
		case !now.Before(end):
			fs = append(fs, diag.Finding{Code: ErrExceptionExpired, Severity: diag.Error, Position: at,
				Message: fmt.Sprintf("exception %q of rule %q expired on %s (owner %s): review it, then extend expires or remove the exception", e.Name, e.Rule, e.Expires, e.Owner)})
		case end.Sub(now) <= ExpiryWarning:
			fs = append(fs, diag.Finding{Code: ErrExceptionExpiring, Severity: diag.Warning, Position: at,
				Message: fmt.Sprintf("exception %q of rule %q expires on %s (owner %s): review it before then", e.Name, e.Rule, e.Expires, e.Owner)})
		}
	}
	return fs
}
