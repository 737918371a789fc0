// Package scheme builds what every falcops manager shares: the
// runtime.Scheme (the built-in kinds, FalcoProfile and falcops' own kinds;
// Shoots are unstructured) and the cache options (which Secrets and shoots
// are cached, and how slim).
package scheme
