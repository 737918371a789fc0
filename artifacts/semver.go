package artifacts

import (
	"fmt"
	"regexp"
	"strconv"
)

// semverRe is the regular expression suggested by semver.org (2.0.0).
var semverRe = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
	`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?` +
	`(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

// semver is a parsed semantic version; only what tagging needs.
type semver struct {
	major, minor, patch uint64
	pre, build          string
}

// parseSemver parses a strict semantic version (no "v" prefix).
func parseSemver(s string) (semver, error) {
	m := semverRe.FindStringSubmatch(s)
	if m == nil {
		return semver{}, fmt.Errorf("%w: %q is not a semantic version (X.Y.Z[-pre])", ErrInvalidVersion, s)
	}
	var n [3]uint64
	for i := range n {
		v, err := strconv.ParseUint(m[i+1], 10, 64)
		if err != nil {
			return semver{}, fmt.Errorf("%w: %q: %w", ErrInvalidVersion, s, err)
		}
		n[i] = v
	}
	return semver{major: n[0], minor: n[1], patch: n[2], pre: m[4], build: m[5]}, nil
}

// parseReleaseVersion parses a version that is also an OCI tag: semver
// without build metadata (a tag cannot hold "+").
func parseReleaseVersion(s string) (semver, error) {
	v, err := parseSemver(s)
	if err != nil {
		return v, err
	}
	if v.build != "" {
		return v, fmt.Errorf("%w: %q has build metadata, which an OCI tag cannot carry", ErrInvalidVersion, s)
	}
	return v, nil
}

// compareCore compares major, minor and patch.
func (v semver) compareCore(o semver) int {
	for _, p := range [][2]uint64{{v.major, o.major}, {v.minor, o.minor}, {v.patch, o.patch}} {
		switch {
		case p[0] < p[1]:
			return -1
		case p[0] > p[1]:
			return 1
		}
	}
	return 0
}
