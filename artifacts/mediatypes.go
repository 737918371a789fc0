package artifacts

import ocispec "github.com/opencontainers/image-spec/specs-go/v1"

// Media types of falcoctl artifacts (falcoctl pkg/oci/constants.go). falcoctl
// decides an artifact's type from the layer media type only.
const (
	MediaTypeRulesfileConfig = "application/vnd.cncf.falco.rulesfile.config.v1+json"
	MediaTypeRulesfileLayer  = "application/vnd.cncf.falco.rulesfile.layer.v1+tar.gz"
	MediaTypeAssetConfig     = "application/vnd.cncf.falco.asset.config.v1+json"
	MediaTypeAssetLayer      = "application/vnd.cncf.falco.asset.layer.v1+tar.gz"
	MediaTypePluginConfig    = "application/vnd.cncf.falco.plugin.config.v1+json"
	MediaTypePluginLayer     = "application/vnd.cncf.falco.plugin.layer.v1+tar.gz"
	// MediaTypeImageManifest is the manifest media type of every falcoctl
	// artifact except multi-platform plugins.
	MediaTypeImageManifest = ocispec.MediaTypeImageManifest
)

// Artifact types as written in index.yaml entries.
const (
	TypeRulesfile = "rulesfile"
	TypeAsset     = "asset"
)

// RequirementEngineVersionSemver is the requirement key falcoctl follow
// compares with the engine_version_semver of Falco's /versions endpoint.
const RequirementEngineVersionSemver = "engine_version_semver"

// ArtifactConfig is the config blob of a falcoctl artifact. Field order and
// tags match falcoctl's oci.ArtifactConfig, so encoding/json gives the same
// bytes falcoctl writes.
type ArtifactConfig struct {
	// Name must equal the index entry name: falcoctl looks the signature up
	// by it.
	Name         string        `json:"name,omitempty"`
	Version      string        `json:"version,omitempty"`
	Dependencies []Dependency  `json:"dependencies,omitempty"`
	Requirements []Requirement `json:"requirements,omitempty"`
}

// Dependency is an artifact (plugin or ruleset) that must be installed too.
type Dependency struct {
	Name         string        `json:"name"`
	Version      string        `json:"version"`
	Alternatives []Alternative `json:"alternatives,omitempty"`
}

// Alternative satisfies a Dependency in its place.
type Alternative struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Requirement is a key of Falco's /versions endpoint and the minimum value.
type Requirement struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}
