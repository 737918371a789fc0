package webhooks

import (
	"errors"
	"fmt"

	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
)

// checkPins lets only the controller set or change rules.pinned; anyone
// may remove a pin or leave it as it was. Removing is safe: the controller
// pins again, and until then the extension keeps what runs.
func checkPins(user, controller string, old, pins []servicev1alpha1.PinnedRuleset) error {
	if controller != "" && user == controller {
		return nil
	}
	var errs []error
	for i, p := range pins {
		if !contains(old, p) {
			errs = append(errs, fmt.Errorf("rules.pinned[%d] (%s): only falcops-controller may set or change a pin; remove the entry or leave it as it was", i, p.Name))
		}
	}
	return errors.Join(errs...)
}

func contains(pins []servicev1alpha1.PinnedRuleset, p servicev1alpha1.PinnedRuleset) bool {
	for _, o := range pins {
		if o == p {
			return true
		}
	}
	return false
}
