// Command falcops-extension is the seed-side manager of falcops: it runs
// the Extension actuator of controllers/extension, which deploys Falco
// with the falcops agent into every shoot that enables
// shoot-falco-service, and its health check.
package main
