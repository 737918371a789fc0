package lifecycle

import (
	"errors"
	"fmt"
	"strings"

	"github.com/falcops/falcops/diag"
)

// Sentinel errors callers branch on.
var (
	// ErrInvalid is wrapped by every error about the content of a profile
	// (a *LoadError lists the problems with their positions).
	ErrInvalid = errors.New("invalid profile")
	// ErrNoProfile: the paths given to Load name no profile file at all
	// (for example an empty directory).
	ErrNoProfile = errors.New("no profile found")
	// ErrUnknownVersion: the profile does not offer that version.
	ErrUnknownVersion = errors.New("version not in profile")
	// ErrUnknownEngine: neither the profile (engineVersion) nor the built-in
	// table knows the Falco engine version of that Falco release.
	ErrUnknownEngine = errors.New("unknown Falco engine version")
)

// problem is one thing wrong with a profile's content: an error finding.
func problem(at diag.Position, format string, args ...any) diag.Finding {
	return diag.Finding{Severity: diag.Error, Message: fmt.Sprintf(format, args...), Position: at}
}

// LoadError lists every problem found while loading profiles, in file and
// line order (error findings). errors.Is(err, ErrInvalid) is true for it.
type LoadError struct {
	Problems diag.Findings
}

// Error lists the problems, one "file:line:col: message" per line.
func (e *LoadError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.Position.String() + ": " + p.Message
	}
	return strings.Join(lines, "\n")
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *LoadError) Is(target error) bool { return target == ErrInvalid }
