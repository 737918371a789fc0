// Package deploy renders what falcops deploys into a shoot's kube-system
// for one FalcoServiceConfig: the Falco DaemonSet with the falcops agent,
// falco.yaml, the falcoctl configuration and index of the pinned rulesets
// (or, inline, the verified rules files themselves) and the custom rules.
//
// Render is a pure function: the same Inputs give the same objects, in the
// same order, byte for byte. It reads no clock and calls no API server;
// the extension (controllers/extension) and `falcops render` gather the
// inputs. Objects and names follow Gardener's extension
// (gardener-extension-shoot-falco-service, charts/internal/falco) with its
// quirks fixed: user tolerations are added to the critical-components
// toleration, falco.yaml is not mounted by subPath, and a rules change
// never changes the pod template, so Falco reloads rules in place instead
// of restarting.
package deploy
