// Package shoot reads and edits Gardener Shoot objects
// (core.gardener.cloud/v1beta1) as unstructured data: the Falco extension's
// providerConfig, the maintenance window, the maintain operation and the
// last operation. Gardener's Go types are not imported: falcops must keep
// every field it does not own exactly as it was.
package shoot
