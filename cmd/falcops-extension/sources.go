package main

import (
	"context"
	"time"

	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	"github.com/falcops/falcops/controllers/extension"
	"github.com/falcops/falcops/lifecycle"
)

// timed bounds the registry work of each call.
type timed struct {
	reg     *extension.Registry
	timeout time.Duration
}

func (t *timed) Profile(ctx context.Context) (*lifecycle.Profile, error) {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	return t.reg.Profile(ctx)
}

func (t *timed) Files(ctx context.Context, pins []servicev1alpha1.PinnedRuleset) (map[string]map[string][]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	return t.reg.Files(ctx, pins)
}
