package v1alpha1

import "maps"

// Hand-written deep copies (the types are small; no generator needed). Keep
// them in step with types.go: TestDeepCopyIndependent fills every field by
// reflection and fails when a new field is not copied deeply.

// DeepCopy returns an independent copy of in; nil stays nil.
func (in *FalcoServiceConfig) DeepCopy() *FalcoServiceConfig {
	if in == nil {
		return nil
	}
	out := new(FalcoServiceConfig)
	in.DeepCopyInto(out)
	return out
}

// DeepCopyInto copies in into out.
func (in *FalcoServiceConfig) DeepCopyInto(out *FalcoServiceConfig) {
	*out = *in
	if in.FalcoConfig != nil {
		out.FalcoConfig = new(FalcoConfig)
		in.FalcoConfig.DeepCopyInto(out.FalcoConfig)
	}
	out.FalcoVersion = clonePtr(in.FalcoVersion)
	out.AutoUpdate = clonePtr(in.AutoUpdate)
	out.HeartbeatEvent = clonePtr(in.HeartbeatEvent)
	if in.NodeSelector != nil {
		m := maps.Clone(*in.NodeSelector)
		out.NodeSelector = &m
	}
	if in.Tolerations != nil {
		s := copySlice(*in.Tolerations, (*Toleration).DeepCopyInto)
		out.Tolerations = &s
	}
	if in.Rules != nil {
		out.Rules = new(Rules)
		in.Rules.DeepCopyInto(out.Rules)
	}
	if in.Destinations != nil {
		s := copySlice(*in.Destinations, (*Destination).DeepCopyInto)
		out.Destinations = &s
	}
}

// DeepCopyInto copies in into out.
func (in *Toleration) DeepCopyInto(out *Toleration) {
	*out = *in
	out.TolerationSeconds = clonePtr(in.TolerationSeconds)
}

// DeepCopyInto copies in into out.
func (in *FalcoConfig) DeepCopyInto(out *FalcoConfig) {
	*out = *in
	if in.Resources != nil {
		out.Resources = new(FalcoResources)
		in.Resources.DeepCopyInto(out.Resources)
	}
}

// DeepCopyInto copies in into out.
func (in *FalcoResources) DeepCopyInto(out *FalcoResources) {
	*out = *in
	if in.Limits != nil {
		out.Limits = new(ResourceValues)
		in.Limits.DeepCopyInto(out.Limits)
	}
	if in.Requests != nil {
		out.Requests = new(ResourceValues)
		in.Requests.DeepCopyInto(out.Requests)
	}
}

// DeepCopyInto copies in into out.
func (in *ResourceValues) DeepCopyInto(out *ResourceValues) {
	*out = *in
	out.CPU = clonePtr(in.CPU)
	out.Memory = clonePtr(in.Memory)
}

// DeepCopyInto copies in into out.
func (in *Rules) DeepCopyInto(out *Rules) {
	*out = *in
	if in.StandardRules != nil {
		s := copySlice(*in.StandardRules, same[string])
		out.StandardRules = &s
	}
	if in.CustomRules != nil {
		s := copySlice(*in.CustomRules, same[CustomRule])
		out.CustomRules = &s
	}
	out.Pinned = copySlice(in.Pinned, same[PinnedRuleset])
}

// DeepCopyInto copies in into out.
func (in *Destination) DeepCopyInto(out *Destination) {
	*out = *in
	out.Enabled = clonePtr(in.Enabled)
	out.ResourceSecretName = clonePtr(in.ResourceSecretName)
}

// clonePtr returns a pointer to a copy of *p; nil stays nil.
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// copySlice copies a slice element by element with copyElem; nil stays nil
// and empty stays empty.
func copySlice[T any](in []T, copyElem func(in, out *T)) []T {
	if in == nil {
		return nil
	}
	out := make([]T, len(in))
	for i := range in {
		copyElem(&in[i], &out[i])
	}
	return out
}

// same copies an element that holds no pointers.
func same[T any](in, out *T) { *out = *in }
