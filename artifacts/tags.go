package artifacts

import (
	"errors"
	"strconv"
)

// ErrInvalidVersion means a version is not a strict semantic version usable
// as an OCI tag.
var ErrInvalidVersion = errors.New("invalid version")

// TagLatest is falcoctl's default tag.
const TagLatest = "latest"

// Tags returns the tags a release of version moves, given the tags already in
// the repository, as falcosecurity/rules does (build/registry/tag.go):
//
//   - X.Y.Z always (the version itself, pre-release included);
//   - nothing else for a pre-release;
//   - X.Y unless an existing final release X.Y.* is higher;
//   - X unless an existing final release X.*.* is higher;
//   - latest unless any existing final release is higher.
//
// Existing tags that are not strict semantic versions (X.Y, X, latest, other
// names) or are pre-releases are ignored. The result is ordered X.Y.Z, X.Y, X,
// latest.
func Tags(version string, existing []string) ([]string, error) {
	v, err := parseReleaseVersion(version)
	if err != nil {
		return nil, err
	}
	tags := []string{version}
	if v.pre != "" {
		return tags, nil
	}
	var finals []semver
	for _, t := range existing {
		e, err := parseSemver(t)
		if err != nil || e.pre != "" {
			continue
		}
		finals = append(finals, e)
	}
	higher := func(same func(e semver) bool) bool {
		for _, e := range finals {
			if same(e) && e.compareCore(v) > 0 {
				return true
			}
		}
		return false
	}
	major := strconv.FormatUint(v.major, 10)
	if !higher(func(e semver) bool { return e.major == v.major && e.minor == v.minor }) {
		tags = append(tags, major+"."+strconv.FormatUint(v.minor, 10))
	}
	if !higher(func(e semver) bool { return e.major == v.major }) {
		tags = append(tags, major)
	}
	if !higher(func(semver) bool { return true }) {
		tags = append(tags, TagLatest)
	}
	return tags, nil
}
