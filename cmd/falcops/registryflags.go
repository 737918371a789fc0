package main

import (
	"github.com/spf13/cobra"

	"github.com/falcops/falcops/oci"
)

// transportFlags choose how commands talk to a registry.
type transportFlags struct {
	plainHTTP           bool
	allowInsecureRemote bool
}

func (t *transportFlags) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&t.plainHTTP, "plain-http", false, "talk HTTP to the registry (loopback registries only, unless --allow-insecure-remote)")
	cmd.Flags().BoolVar(&t.allowInsecureRemote, "allow-insecure-remote", false, "allow --plain-http to a registry that is not on loopback (anyone on the path can change what is pushed and pulled)")
}

// client is the registry client the flags ask for.
func (t *transportFlags) client() (*oci.Client, error) {
	return oci.New(oci.Options{PlainHTTP: t.plainHTTP, AllowInsecureRemote: t.allowInsecureRemote})
}
