package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/fleet"
	"github.com/falcops/falcops/internal/scheme"
)

type fleetOptions struct {
	kubeconfig, context string
	output              string
	transport           transportFlags
}

func newFleetCmd() *cobra.Command {
	o := &fleetOptions{}
	cmd := &cobra.Command{
		Use:   "fleet [--kubeconfig FILE] [--context NAME] [-o text|json]",
		Short: "Sum up the fleet from the garden: Falco and ruleset versions, waves, blocked and waiting shoots, rule sources",
		Long: `Read the ShootRollouts, RuleSources and RolloutPolicies of the garden cluster
(one list each) and print the fleet: shoots per Falco version and per pinned
ruleset version, the rollout progress of each wave, the shoots that are
blocked (they need an operator) and those that wait (for a maintenance window
or a wave), grouped by reason with the reason's text and up to five shoots,
and each RuleSource with its latest verified version and any rejected
digest. -o json prints the same summary as one JSON object
(docs/operators.md describes its fields).

Exit codes: 0 printed, 2 the cluster could not be read.`,
		Example: `  falcops fleet
  falcops fleet --kubeconfig garden.yaml -o json | jq '.blocked'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	f := cmd.Flags()
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig of the garden cluster (default: $KUBECONFIG, then ~/.kube/config)")
	f.StringVar(&o.context, "context", "", "the kubeconfig context to use (default: its current context)")
	f.StringVarP(&o.output, "output", "o", "text", "output format: text or json")
	cmd.Flags().DurationVar(&o.transport.timeout, "timeout", defaultTimeout, "deadline for reading the cluster; 0 for none")
	return cmd
}

func (o *fleetOptions) run(cmd *cobra.Command) error {
	if o.output != "text" && o.output != "json" {
		return usageError("-o %q: want text or json", o.output)
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.kubeconfig
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: o.context}).ClientConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme.New()})
	if err != nil {
		return err
	}
	var rollouts falcopsv1alpha1.ShootRolloutList
	var sources falcopsv1alpha1.RuleSourceList
	var policies falcopsv1alpha1.RolloutPolicyList
	var profiles profilev1alpha1.FalcoProfileList
	err = o.transport.within(cmd.Context(), func(ctx context.Context) error {
		for _, l := range []client.ObjectList{&rollouts, &sources, &policies, &profiles} {
			if err := c.List(ctx, l); err != nil {
				return fmt.Errorf("listing %T: %w", l, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s := fleet.Summarize(rollouts.Items, sources.Items, policies.Items, profiles.Items)
	if o.output == "json" {
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	return s.WriteText(cmd.OutOrStdout())
}
