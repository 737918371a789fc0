package lifecycle

import (
	"fmt"

	"github.com/Masterminds/semver/v3"
)

// engineByRelease maps a Falco release line (major.minor) to the Falco engine
// version it ships, as semver. Source: userspace/engine/falco_engine_version.h
// at each Falco tag (falco-rules.md §2). Releases before 0.37 reported an
// integer engine version and are not listed; a profile can still name their
// engine through engineVersion.
var engineByRelease = map[string]string{
	"0.37": "0.31.0",
	"0.38": "0.40.0",
	"0.39": "0.43.0",
	"0.40": "0.46.0",
	"0.41": "0.50.0",
	"0.42": "0.57.0",
	"0.43": "0.58.0",
	"0.44": "0.62.0",
}

// BuiltinEngineVersion returns the engine version falcops knows for a Falco
// release (by its major.minor), and whether it knows one.
func BuiltinEngineVersion(falcoVersion string) (string, bool) {
	v, err := semver.StrictNewVersion(falcoVersion)
	if err != nil {
		return "", false
	}
	e, ok := engineByRelease[fmt.Sprintf("%d.%d", v.Major(), v.Minor())]
	return e, ok
}
