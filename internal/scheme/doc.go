// Package scheme builds the runtime.Scheme of the controller: the built-in
// kinds, FalcoProfile and falcops' own kinds (Shoots are unstructured).
package scheme
