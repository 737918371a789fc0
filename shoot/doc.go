// Package shoot is the Gardener Shoot (core.gardener.cloud/v1beta1) as
// falcops reads and patches it, as unstructured data: Observe reads, once,
// everything a decision looks at (the Falco extension's config, the
// maintenance window, the maintain operation, the last operation, the
// labels); SetFalco writes falcoVersion and rules.pinned; Slim is the cache
// transform. Gardener's Go types are not imported: falcops must keep every
// field it does not own exactly as it was.
package shoot
