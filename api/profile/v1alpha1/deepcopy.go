package v1alpha1

import "k8s.io/apimachinery/pkg/runtime"

// Hand-written deep copies (the types are small; no generator needed). Keep
// them in step with types.go: TestDeepCopyIndependent fills every field.

func copyStringPtr(p *string) *string {
	if p == nil {
		return nil
	}
	s := *p
	return &s
}

// DeepCopyInto copies in into out.
func (in *FalcoVersion) DeepCopyInto(out *FalcoVersion) {
	*out = *in
	out.ExpirationDate = copyStringPtr(in.ExpirationDate)
}

// DeepCopyInto copies in into out.
func (in *FalcosidekickVersion) DeepCopyInto(out *FalcosidekickVersion) {
	*out = *in
	out.ExpirationDate = copyStringPtr(in.ExpirationDate)
}

// DeepCopyInto copies in into out.
func (in *FalcoctlVersion) DeepCopyInto(out *FalcoctlVersion) {
	*out = *in
	out.ExpirationDate = copyStringPtr(in.ExpirationDate)
}

// copySlice copies a slice element by element with copyElem; nil stays nil.
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

// DeepCopyInto copies in into out.
func (in *Versions) DeepCopyInto(out *Versions) {
	out.Falco = copySlice(in.Falco, (*FalcoVersion).DeepCopyInto)
	out.Falcosidekick = copySlice(in.Falcosidekick, (*FalcosidekickVersion).DeepCopyInto)
	out.Falcoctl = copySlice(in.Falcoctl, (*FalcoctlVersion).DeepCopyInto)
}

// DeepCopyInto copies in into out.
func (in *Images) DeepCopyInto(out *Images) {
	same := func(in, out *ImageSpec) { *out = *in }
	out.Falco = copySlice(in.Falco, same)
	out.Falcosidekick = copySlice(in.Falcosidekick, same)
	out.Falcoctl = copySlice(in.Falcoctl, same)
}

// DeepCopyInto copies in into out.
func (in *Spec) DeepCopyInto(out *Spec) {
	in.Versions.DeepCopyInto(&out.Versions)
	in.Images.DeepCopyInto(&out.Images)
}

// DeepCopyInto copies in into out.
func (in *FalcoProfile) DeepCopyInto(out *FalcoProfile) {
	*out = *in
	in.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
	in.Spec.DeepCopyInto(&out.Spec)
}

// DeepCopy returns a deep copy of in.
func (in *FalcoProfile) DeepCopy() *FalcoProfile {
	if in == nil {
		return nil
	}
	out := new(FalcoProfile)
	in.DeepCopyInto(out)
	return out
}

// DeepCopyObject implements runtime.Object.
func (in *FalcoProfile) DeepCopyObject() runtime.Object {
	if c := in.DeepCopy(); c != nil {
		return c
	}
	return nil
}

// DeepCopyInto copies in into out.
func (in *FalcoProfileList) DeepCopyInto(out *FalcoProfileList) {
	*out = *in
	in.ListMeta.DeepCopyInto(&out.ListMeta)
	out.Items = copySlice(in.Items, (*FalcoProfile).DeepCopyInto)
}

// DeepCopy returns a deep copy of in.
func (in *FalcoProfileList) DeepCopy() *FalcoProfileList {
	if in == nil {
		return nil
	}
	out := new(FalcoProfileList)
	in.DeepCopyInto(out)
	return out
}

// DeepCopyObject implements runtime.Object.
func (in *FalcoProfileList) DeepCopyObject() runtime.Object {
	if c := in.DeepCopy(); c != nil {
		return c
	}
	return nil
}
