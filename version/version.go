package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/rules"
)

// Version is set at build time (-ldflags "-X github.com/falcops/falcops/version.Version=1.2.3");
// without it the module version or "devel" is reported.
var Version = ""

// Info is what a build is.
type Info struct {
	Version   string
	Commit    string // VCS revision, "+dirty" when the tree had changes
	GoVersion string
}

// Get reads the build information.
func Get() Info {
	info := Info{Version: Version, GoVersion: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if info.Version == "" {
		info.Version = "devel"
		if ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
	}
	if ok {
		var rev, dirty string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "+dirty"
				}
			}
		}
		info.Commit = rev + dirty
	}
	if info.Commit == "" {
		info.Commit = "unknown"
	}
	return info
}

// Report is the text of `--version` for the binary called name.
func Report(name string) string {
	i := Get()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", name, i.Version)
	fmt.Fprintf(&b, "  commit:         %s\n", i.Commit)
	fmt.Fprintf(&b, "  go:             %s\n", i.GoVersion)
	fmt.Fprintf(&b, "  falco engines:  %s to %s (%s to %s)\n", rules.Engine036, rules.LatestEngine,
		rules.FalcoForEngine(rules.Engine036), rules.FalcoForEngine(rules.LatestEngine))
	fmt.Fprintf(&b, "  media types:    %s\n", strings.Join([]string{
		artifacts.MediaTypeRulesfileConfig, artifacts.MediaTypeRulesfileLayer,
		artifacts.MediaTypeAssetConfig, artifacts.MediaTypeAssetLayer}, "\n                  "))
	return b.String()
}
