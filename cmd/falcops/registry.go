package main

import (
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/falcops/falcops/oci"
)

func newRegistryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "registry",
		Short: "Run the embedded OCI registry",
	}
	var addr, root, index, tuf string
	serve := &cobra.Command{
		Use:   "serve",
		Short: "Serve an OCI registry (with the referrers API) until interrupted",
		Long: `Serve an OCI distribution registry for development, tests and air-gapped
demos. Content is stored as OCI layouts under --root (in memory when empty).
It speaks plain HTTP: clients need --plain-http. Bind it to loopback unless
you put TLS in front of it.`,
		Example: `  falcops registry serve --addr 127.0.0.1:5000 --root .falcops/registry`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			if err := oci.Serve(ctx, addr, oci.ServerOptions{Root: root, IndexFile: index, TUFDir: tuf}); err != nil {
				return err
			}
			return nil
		},
	}
	serve.Flags().StringVar(&addr, "addr", "127.0.0.1:5000", "address to listen on")
	serve.Flags().StringVar(&root, "root", "", "storage folder (default: memory)")
	serve.Flags().StringVar(&index, "index", "", "falcoctl index file to serve at /index.yaml")
	serve.Flags().StringVar(&tuf, "tuf", "", "TUF repository folder to serve at /tuf/ (falcops run writes one) for offline signature verification")
	cmd.AddCommand(serve)
	return cmd
}
