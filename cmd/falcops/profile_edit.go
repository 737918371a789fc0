package main

import "github.com/spf13/cobra"

// profileEditCmds are the profile subcommands that edit profiles/ through
// Git (promote, deprecate, add). Placeholder until they land.
func profileEditCmds() []*cobra.Command { return nil }
