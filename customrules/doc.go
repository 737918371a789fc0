// Package customrules reads the custom rules of a shoot from the ConfigMaps
// its FalcoServiceConfig names (rules.custom[].resourceName) with exactly
// Gardener's limits and texts (at most 10 files per ConfigMap, data keys
// ending in .yaml, binaryData keys ending in .yaml.gz inflated to at most
// 1 MiB, no file name twice, valid YAML), then validates them statically
// with rules/ on top of the pinned rulesets they load after, so a broken
// file is refused before Falco sees it, with configmap/file:line:col.
//
// Used by the extension (deploy) and, later, the admission webhooks.
package customrules
