package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/falcops/falcops/version"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, Go version and what this build understands",
		Long: `Print the falcops version and commit, the Go version it was built with, the
range of Falco engine versions its rules checks know, and the falcoctl
artifact media types it reads and writes. --version prints the same.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(cmd.OutOrStdout(), version.Report("falcops"))
			return err
		},
	}
}
