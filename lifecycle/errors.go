package lifecycle

import (
	"errors"
	"fmt"
	"strings"
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

// Position is a place in a profile file; Line and Column count from 1.
type Position struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
}

func (p Position) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
}

// Problem is one thing wrong with a profile.
type Problem struct {
	Position
	Message string `json:"message"`
}

func (p Problem) String() string { return p.Position.String() + ": " + p.Message }

// LoadError lists every problem found while loading profiles, in file and
// line order. errors.Is(err, ErrInvalid) is true for it.
type LoadError struct {
	Problems []Problem
}

func (e *LoadError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *LoadError) Is(target error) bool { return target == ErrInvalid }
