package deploy

import (
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
)

// The chart defaults Gardener merges falcoConfig.resources over.
var (
	defaultRequests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("512Mi")}
	defaultLimits   = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1024Mi")}

	maxCPU    = resource.MustParse("1000")
	minMemory = resource.MustParse("1Mi")
	maxMemory = resource.MustParse("1Ti")
)

// Resources merges falcoConfig.resources over the chart defaults and
// checks them with the texts of Gardener's validator (every problem, not
// only the first).
func Resources(c *servicev1alpha1.FalcoServiceConfig) (corev1.ResourceRequirements, error) {
	out := corev1.ResourceRequirements{Requests: defaultRequests.DeepCopy(), Limits: defaultLimits.DeepCopy()}
	var errs []error
	if c.FalcoConfig != nil && c.FalcoConfig.Resources != nil {
		r := c.FalcoConfig.Resources
		errs = append(errs, merge(out.Requests, r.Requests, "requests")...)
		errs = append(errs, merge(out.Limits, r.Limits, "limits")...)
	}
	if len(errs) == 0 {
		for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, okReq := out.Requests[name]
			limit, okLimit := out.Limits[name]
			if okReq && okLimit && req.Cmp(limit) > 0 {
				errs = append(errs, fmt.Errorf("falcoConfig.resources: %s request must be less than or equal to limit: request %s is greater than limit %s",
					name, req.String(), limit.String()))
			}
		}
	}
	return out, errors.Join(errs...)
}

func merge(into corev1.ResourceList, v *servicev1alpha1.ResourceValues, kind string) []error {
	if v == nil {
		return nil
	}
	var errs []error
	if v.CPU != nil {
		q, err := cpu(*v.CPU)
		if err != nil {
			errs = append(errs, fmt.Errorf("falcoConfig.resources.%s.cpu: %w", kind, err))
		} else {
			into[corev1.ResourceCPU] = q
		}
	}
	if v.Memory != nil {
		q, err := memory(*v.Memory)
		if err != nil {
			errs = append(errs, fmt.Errorf("falcoConfig.resources.%s.memory: %w", kind, err))
		} else {
			into[corev1.ResourceMemory] = q
		}
	}
	return errs
}

func cpu(s string) (resource.Quantity, error) {
	q, err := resource.ParseQuantity(s)
	switch {
	case err != nil:
		return q, fmt.Errorf("invalid CPU format: %w", err)
	case q.Sign() <= 0:
		return q, fmt.Errorf("CPU must be a positive value, got: %s", s)
	case q.Cmp(maxCPU) > 0:
		return q, fmt.Errorf("CPU is unreasonably large (max 1000 cores), got: %s", s)
	}
	return q, nil
}

func memory(s string) (resource.Quantity, error) {
	q, err := resource.ParseQuantity(s)
	switch {
	case err != nil:
		return q, fmt.Errorf("invalid memory format: %w", err)
	case q.Sign() <= 0:
		return q, fmt.Errorf("memory must be a positive value, got: %s", s)
	case q.Cmp(minMemory) < 0:
		return q, fmt.Errorf("memory is too small (minimum 1Mi), got: %s", s)
	case q.Cmp(maxMemory) > 0:
		return q, fmt.Errorf("memory is unreasonably large (max 1Ti), got: %s", s)
	}
	return q, nil
}
