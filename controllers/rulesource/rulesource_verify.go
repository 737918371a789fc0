package rulesource

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
	digest "github.com/opencontainers/go-digest"
	ctrl "sigs.k8s.io/controller-runtime"

	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/internal/reconcile"
	"github.com/falcops/falcops/oci"
)

// reconcileHistory rebuilds status.versions on the first poll, after a
// spec change and after the key changed (or the controller restarted): the
// newest `history` final X.Y.Z tags of the followed line are resolved and
// verified like the followed tag, and every version listed before is
// verified again by digest and kept while its content exists, even when
// its tag is gone: a deleted or moved tag never removes a version, so
// shoots are never moved below what they run. Digests that fail go to
// status.rejected, never to versions. Between rebuilds the listed versions
// are kept as they are: they were verified when they were added.
func (r *Reconciler) reconcileHistory(ctx context.Context, s *scope) error {
	s.versions = slices.Clone(s.obj.Status.Versions)
	s.latest = s.obj.Status.Latest.DeepCopy()
	s.rejected = s.obj.Status.Rejected.DeepCopy()
	m := s.memo
	if m.built && m.generation == s.obj.Generation && m.keySum == s.keySum {
		return nil
	}
	tags, err := s.client.Tags(ctx, s.repo)
	if err != nil && !errors.Is(err, oci.ErrNotFound) {
		return r.unavailable(s, err)
	}
	previous := s.versions
	s.rebuilt = true
	s.versions = nil
	for _, tag := range SelectTags(tags, s.follow, s.history) {
		desc, err := s.client.Resolve(ctx, s.repo+":"+tag)
		switch {
		case errors.Is(err, oci.ErrNotFound):
			continue // deleted since the listing
		case err != nil:
			return r.unavailable(s, err)
		}
		if _, _, err := r.admit(ctx, s, desc.Digest, tag); err != nil {
			return err
		}
	}
	if err := r.keepPrevious(ctx, s, previous); err != nil {
		return err
	}
	// latest stays only if it verified again.
	if s.latest != nil && indexOfDigest(s.versions, s.latest.Digest) < 0 {
		s.latest = nil
	}
	ctrl.LoggerFrom(ctx).V(1).Info("rebuilt the verified versions from the repository's tags",
		"tags", len(tags), "versions", len(s.versions))
	return nil
}

// keepPrevious verifies again, by digest, the versions listed before a
// rebuild that the tags did not bring back, and keeps those that still
// verify as the version they were listed as and are in the followed line.
func (r *Reconciler) keepPrevious(ctx context.Context, s *scope, previous []falcopsv1alpha1.RulesetVersion) error {
	for _, pv := range previous {
		if indexOfDigest(s.versions, pv.Digest) >= 0 || !inFollowedLine(pv.Version, s.follow) {
			continue
		}
		d, err := digest.Parse(pv.Digest)
		if err != nil {
			continue
		}
		v, reason, msg, err := r.verifyDigest(ctx, s, d, "")
		switch {
		case errors.Is(err, oci.ErrNotFound):
			continue // the content itself is gone
		case err != nil:
			return r.unavailable(s, err)
		case reason != "":
			s.rejected = &falcopsv1alpha1.RejectedDigest{Digest: pv.Digest, Reason: reason, Message: reconcile.Cut(msg), Since: s.now}
		case v.Version != pv.Version:
			continue
		default:
			s.versions = addVersion(s.versions, *v, s.history)
		}
	}
	return nil
}

// inFollowedLine reports whether version is in the line of follow
// ("latest": any).
func inFollowedLine(version, follow string) bool {
	v, err := semver.StrictNewVersion(version)
	return err == nil && (follow == "latest" || inLine(v, follow))
}

// reconcileVerify admits the followed tag's digest: listed already, or
// verified now and added; a digest that fails is rejected and re-checked
// next interval (the publisher may sign after pushing).
func (r *Reconciler) reconcileVerify(ctx context.Context, s *scope) error {
	if s.tagNotFound {
		s.commit = true
		return reconcile.Wait(falcopsv1alpha1.ReasonTagNotFound, r.Jitter(s.interval),
			"tag %s not found in %s", s.follow, s.repo)
	}
	v, rej, err := r.admit(ctx, s, s.head, s.follow)
	if err != nil {
		return err
	}
	s.commit = true
	if rej != nil {
		s.headRejected = rej
		return reconcile.Wait(rej.Reason, r.Jitter(s.interval), "%s", rej.Message)
	}
	s.headVersion = v
	s.latest = v.DeepCopy()
	ctrl.LoggerFrom(ctx).V(1).Info("followed tag resolved", "digest", s.head, "version", v.Version)
	return nil
}

// admit returns the listed version of digest d, or verifies d (reached by
// tag) and lists it, or records why it was rejected. The error is a
// registry failure.
func (r *Reconciler) admit(ctx context.Context, s *scope, d digest.Digest, tag string) (*falcopsv1alpha1.RulesetVersion, *falcopsv1alpha1.RejectedDigest, error) {
	if i := indexOfDigest(s.versions, d.String()); i >= 0 {
		return &s.versions[i], nil, nil
	}
	v, reason, msg, err := r.verifyDigest(ctx, s, d, tag)
	if err != nil {
		return nil, nil, r.unavailable(s, err)
	}
	if reason != "" {
		rej := &falcopsv1alpha1.RejectedDigest{Digest: d.String(), Reason: reason, Message: reconcile.Cut(msg), Since: s.now}
		if old := s.rejected; old != nil && old.Digest == rej.Digest && old.Reason == rej.Reason {
			rej.Since = old.Since
		}
		s.rejected = rej
		return nil, rej, nil
	}
	if s.rejected != nil && s.rejected.Digest == v.Digest {
		s.rejected = nil
	}
	s.versions = addVersion(s.versions, *v, s.history)
	return v, nil, nil
}

// verifyDigest verifies digest d as oci.Verify does (signature bound to
// the digest, this repository and the config's name and version; the
// version matching tag, if given) and then checks what the artifact is: a
// rulesfile artifact of this RuleSource's ruleset. A refusal is returned as
// reason and message; err is a registry failure.
func (r *Reconciler) verifyDigest(ctx context.Context, s *scope, d digest.Digest, tag string) (v *falcopsv1alpha1.RulesetVersion, reason, msg string, err error) {
	ref := s.repo + "@" + d.String()
	if tag != "" {
		ref = s.repo + ":" + tag + "@" + d.String()
	}
	got, err := s.client.Verify(ctx, ref, oci.VerifyOptions{PublicKey: s.key, ExpectedDigest: d})
	if err != nil {
		if errors.Is(err, oci.ErrSignature) {
			verificationFailures.WithLabelValues(s.obj.Name).Inc()
			return nil, falcopsv1alpha1.ReasonSignatureInvalid, fmt.Sprintf("%s rejected: %v", d, err), nil
		}
		return nil, "", "", err
	}
	invalid := func(format string, args ...any) (*falcopsv1alpha1.RulesetVersion, string, string, error) {
		return nil, falcopsv1alpha1.ReasonInvalidArtifact, fmt.Sprintf("%s rejected: ", d) + fmt.Sprintf(format, args...), nil
	}
	if got.MediaType != artifacts.MediaTypeRulesfileConfig {
		return invalid("not a falcoctl rulesfile artifact (config media type %q, want %q)", got.MediaType, artifacts.MediaTypeRulesfileConfig)
	}
	if got.Name != s.obj.Spec.Ruleset {
		return invalid("the artifact is ruleset %q, not %q (an artifact copied from another repository?)", got.Name, s.obj.Spec.Ruleset)
	}
	if a := got.Annotations[artifacts.AnnotationVersion]; a != got.Version {
		return invalid("manifest version annotation %q differs from the config's version %q", a, got.Version)
	}
	if _, err := semver.StrictNewVersion(got.Version); err != nil {
		return invalid("version %q is not a semantic version", got.Version)
	}
	var engine string
	for _, req := range got.Config.Requirements {
		if req.Name == artifacts.RequirementEngineVersionSemver {
			engine = req.Version
		}
	}
	var deps []falcopsv1alpha1.RulesetDependency
	for _, dep := range got.Config.Dependencies {
		rd := falcopsv1alpha1.RulesetDependency{Name: dep.Name, Version: dep.Version}
		for _, alt := range dep.Alternatives {
			rd.Alternatives = append(rd.Alternatives, falcopsv1alpha1.DependencyAlternative(alt))
		}
		deps = append(deps, rd)
	}
	return &falcopsv1alpha1.RulesetVersion{Version: got.Version, Digest: d.String(), EngineVersion: engine, Dependencies: deps, VerifiedAt: s.now}, "", "", nil
}

// SelectTags returns the final X.Y.Z tags of the followed line ("latest":
// all, "5": 5.y.z, "5.1": 5.1.z), newest first, at most n.
func SelectTags(tags []string, follow string, n int) []string {
	type tagged struct {
		tag string
		v   *semver.Version
	}
	var sel []tagged
	for _, t := range tags {
		if strings.Count(t, ".") != 2 {
			continue
		}
		v, err := semver.StrictNewVersion(t)
		if err != nil || v.Prerelease() != "" || v.Metadata() != "" {
			continue
		}
		if follow != "latest" && !inLine(v, follow) {
			continue
		}
		sel = append(sel, tagged{t, v})
	}
	slices.SortFunc(sel, func(a, b tagged) int { return b.v.Compare(a.v) })
	out := make([]string, 0, min(n, len(sel)))
	for _, t := range sel {
		if len(out) == n {
			break
		}
		out = append(out, t.tag)
	}
	return out
}

// inLine reports whether v is in the line follow names ("5" or "5.1").
func inLine(v *semver.Version, follow string) bool {
	major, minor, hasMinor := strings.Cut(follow, ".")
	if fmt.Sprint(v.Major()) != major {
		return false
	}
	return !hasMinor || fmt.Sprint(v.Minor()) == minor
}

// addVersion lists v, newest first by semver, replacing an entry with the
// same digest or version, and keeps at most n.
func addVersion(list []falcopsv1alpha1.RulesetVersion, v falcopsv1alpha1.RulesetVersion, n int) []falcopsv1alpha1.RulesetVersion {
	list = slices.DeleteFunc(slices.Clone(list), func(o falcopsv1alpha1.RulesetVersion) bool {
		return o.Digest == v.Digest || o.Version == v.Version
	})
	list = append(list, v)
	slices.SortStableFunc(list, func(a, b falcopsv1alpha1.RulesetVersion) int {
		return compareVersions(b.Version, a.Version)
	})
	if len(list) > n {
		list = list[:n]
	}
	return list
}

// compareVersions compares semantic versions; unparsable ones sort last.
func compareVersions(a, b string) int {
	va, errA := semver.StrictNewVersion(a)
	vb, errB := semver.StrictNewVersion(b)
	switch {
	case errA != nil && errB != nil:
		return strings.Compare(a, b)
	case errA != nil:
		return -1
	case errB != nil:
		return 1
	}
	return va.Compare(vb)
}

func indexOfDigest(list []falcopsv1alpha1.RulesetVersion, d string) int {
	return slices.IndexFunc(list, func(v falcopsv1alpha1.RulesetVersion) bool { return v.Digest == d })
}
