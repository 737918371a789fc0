package upstream

import (
	"regexp"

	"github.com/falcops/falcops/oci"
)

// GitHubIssuer is the OIDC issuer of GitHub Actions, whose tokens
// falcosecurity's release workflow signs with.
const GitHubIssuer = "https://token.actions.githubusercontent.com"

// ReleaseIdentity is the certificate identity of falcosecurity/rules'
// release workflow for the tag NAME-VERSION (Fulcio's SAN is the
// workflow's job_workflow_ref).
func ReleaseIdentity(name, version string) string {
	return "https://github.com/falcosecurity/rules/.github/workflows/release.yaml@refs/tags/" + name + "-" + version
}

// ReleaseIdentityRegexp matches ReleaseIdentity for any tag of name. The
// verifier anchors it (cosign's regexp is unanchored: any workflow of the
// repository would pass).
func ReleaseIdentityRegexp(name string) string {
	return regexp.QuoteMeta("https://github.com/falcosecurity/rules/.github/workflows/release.yaml@refs/tags/"+name+"-") + `\d+\.\d+\.\d+`
}

// Trust is whose keyless signature an upstream artifact must carry,
// verified offline against a trusted root: one identity (exact or a
// regular expression matching it whole) and one OIDC issuer.
type Trust struct {
	// TrustedRoot is the Sigstore trusted_root.json to verify against;
	// TUF fetches the public Sigstore trusted root through TUF instead
	// (online, for CI runners that reach it).
	TrustedRoot    string
	TUF            bool
	Identity       string
	IdentityRegexp string
	Issuer         string
}

// Signer says who was trusted, for the provenance: the exact identity, or
// the expression.
func (t Trust) Signer() (identity, issuer string) {
	if t.Identity != "" {
		return t.Identity, t.Issuer
	}
	return "~" + t.IdentityRegexp, t.Issuer
}

// verifyOptions are the options that verify upstream's signature on repo
// (host/path), whose payload names the repository path it was published
// under.
func (t Trust) verifyOptions(signedRepo string) oci.VerifyOptions {
	return oci.VerifyOptions{TrustedRootFile: t.TrustedRoot, TrustedRootTUF: t.TUF, CertIdentity: t.Identity, CertIdentityRegexp: t.IdentityRegexp,
		CertOIDCIssuer: t.Issuer, Upstream: true, Repository: oci.RepositoryPath(signedRepo)}
}
