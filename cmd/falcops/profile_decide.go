package main

import "github.com/spf13/cobra"

// profileDecideCmds are the read-only profile subcommands (validate, list,
// timeline, resolve). Placeholder until they land.
func profileDecideCmds() []*cobra.Command { return nil }
