package oci

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/sigstore/cosign/v2/pkg/cosign"
	"github.com/sigstore/cosign/v2/pkg/oci"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// keylessOptions sets co up for a keyless verification: the signature's
// certificate must chain to a certificate authority of the trusted root and
// name the identity and issuer, and the Rekor bundle stored with the
// signature must carry a SignedEntryTimestamp of a log of the trusted root
// over an entry for this signature and certificate. Errors are the caller's
// configuration, not ErrSignature: no artifact is refused for them.
func (o VerifyOptions) keylessOptions(co *cosign.CheckOpts) error {
	id, err := o.keylessIdentity()
	if err != nil {
		return err
	}
	tm, err := o.trustedMaterial()
	if err != nil {
		return err
	}
	co.Identities = []cosign.Identity{id}
	co.TrustedMaterial = tm
	// The certificate is valid for minutes; the bundle's integration time,
	// signed by the log, is the proof it was valid when signing. Offline:
	// the bundle must be stored with the signature, Rekor is not asked.
	co.IgnoreTlog = false
	co.Offline = true
	// An SCT proves a certificate-transparency log saw the certificate. A
	// trusted root naming CT logs (the public Sigstore's) gets them checked;
	// a private CA names none and issues no SCTs, so its certificates rest
	// on the CA and the transparency log alone.
	co.IgnoreSCT = len(tm.CTLogs()) == 0
	return nil
}

// keylessIdentity is the one identity a keyless signature must match.
func (o VerifyOptions) keylessIdentity() (cosign.Identity, error) {
	subject, subjectRE, err := exactOrRegexp("CertIdentity", o.CertIdentity, o.CertIdentityRegexp)
	if err != nil {
		return cosign.Identity{}, err
	}
	issuer, issuerRE, err := exactOrRegexp("CertOIDCIssuer", o.CertOIDCIssuer, o.CertOIDCIssuerRegexp)
	if err != nil {
		return cosign.Identity{}, err
	}
	return cosign.Identity{Subject: subject, SubjectRegExp: subjectRE, Issuer: issuer, IssuerRegExp: issuerRE}, nil
}

// exactOrRegexp checks that exactly one of an option and its Regexp variant
// is set. The regular expression is anchored: cosign matches anywhere in
// the value, where "falcops@example\.com" would also accept
// "falcops@example.com.evil.test".
func exactOrRegexp(option, exact, re string) (string, string, error) {
	switch {
	case exact == "" && re == "":
		return "", "", fmt.Errorf("keyless verification (no KeyRef or PublicKey) needs %s or %sRegexp", option, option)
	case exact != "" && re != "":
		return "", "", fmt.Errorf("%s and %sRegexp are both set: give one", option, option)
	case re == "":
		return exact, "", nil
	}
	anchored := "^(?:" + re + ")$"
	if _, err := regexp.Compile(anchored); err != nil {
		return "", "", fmt.Errorf("%sRegexp: %w", option, err)
	}
	return "", anchored, nil
}

// trustedMaterial reads the Sigstore trusted root: the file, or the public
// one through TUF when asked for explicitly. It must name a certificate
// authority and a transparency log, or nothing could ever verify.
func (o VerifyOptions) trustedMaterial() (root.TrustedMaterial, error) {
	var tr *root.TrustedRoot
	var err error
	switch {
	case o.TrustedRootFile != "" && o.TrustedRootTUF:
		return nil, errors.New("TrustedRootFile and TrustedRootTUF are both set: give one")
	case o.TrustedRootTUF:
		if tr, err = root.FetchTrustedRoot(); err != nil {
			return nil, fmt.Errorf("public Sigstore trusted root (TrustedRootTUF, online): %w", err)
		}
	case o.TrustedRootFile == "":
		return nil, errors.New("keyless verification needs TrustedRootFile, a Sigstore trusted_root.json naming the certificate authorities and transparency logs to trust (TrustedRootTUF fetches the public Sigstore one online instead)")
	default:
		if tr, err = root.NewTrustedRootFromPath(o.TrustedRootFile); err != nil {
			return nil, fmt.Errorf("TrustedRootFile %s: %w", o.TrustedRootFile, err)
		}
	}
	if len(tr.FulcioCertificateAuthorities()) == 0 {
		return nil, fmt.Errorf("trusted root %s names no certificate authority (certificateAuthorities)", o.trustedRootName())
	}
	if len(tr.RekorLogs()) == 0 {
		return nil, fmt.Errorf("trusted root %s names no transparency log (tlogs)", o.trustedRootName())
	}
	return tr, nil
}

func (o VerifyOptions) trustedRootName() string {
	if o.TrustedRootFile != "" {
		return o.TrustedRootFile
	}
	return "(public Sigstore, TUF)"
}

// keylessRefusal names the check a keyless signature failed, given the
// error cosign refused it with. Cosign decides; this only redoes its
// checks, with the same library functions, in the order of trust
// (certificate authority, SCT, identity, issuer, log bundle, validity at
// the log's time) to say which one failed. Other refusals (key-based,
// claims, the signature itself) pass unchanged.
func (o VerifyOptions) keylessRefusal(sig oci.Signature, co *cosign.CheckOpts, refused error) error {
	var ce *claimError
	if co.SigVerifier != nil || co.TrustedMaterial == nil || len(co.Identities) != 1 || errors.As(refused, &ce) {
		return refused
	}
	cert, err := sig.Cert()
	switch {
	case err != nil:
		return fmt.Errorf("certificate: %w", err)
	case cert == nil:
		return errors.New("the signature carries no certificate (made with a key, not keyless)")
	}
	if err := o.certificateRefusal(cert, co); err != nil {
		return err
	}
	if err := bundleRefusal(sig, cert, co); err != nil {
		return err
	}
	return refused
}

// certificateRefusal checks the certificate against the trusted root's
// certificate authorities (at its NotBefore, as cosign does), for an SCT
// when cosign wants one, and for the identity and the issuer.
func (o VerifyOptions) certificateRefusal(cert *x509.Certificate, co *cosign.CheckOpts) error {
	// Cosign ignores an unhandled critical SAN extension (Fulcio's
	// OtherName identities) before verifying the chain; so does this, on a
	// copy.
	c := *cert
	c.UnhandledCriticalExtensions = slices.DeleteFunc(slices.Clone(c.UnhandledCriticalExtensions), func(id asn1.ObjectIdentifier) bool {
		return id.Equal(cryptoutils.SANOID)
	})
	var caErrs []string
	var chains [][]*x509.Certificate
	for _, ca := range co.TrustedMaterial.FulcioCertificateAuthorities() {
		var err error
		if chains, err = ca.Verify(&c, c.NotBefore); err == nil {
			break
		}
		caErrs = append(caErrs, err.Error())
	}
	if len(chains) == 0 {
		return fmt.Errorf("certificate authority: the certificate (issuer %q) does not chain to a certificate authority of the trusted root %s: %s",
			c.Issuer.String(), o.trustedRootName(), strings.Join(slices.Compact(caErrs), "; "))
	}
	if !co.IgnoreSCT {
		has, err := cosign.ContainsSCT(c.Raw)
		switch {
		case err != nil:
			return fmt.Errorf("certificate transparency: %w", err)
		case !has:
			return errors.New("certificate transparency: the trusted root names CT logs, and the certificate carries no SCT")
		}
		if err := verify.VerifySignedCertificateTimestamp(chains, 1, co.TrustedMaterial); err != nil {
			return fmt.Errorf("certificate transparency: %w", err)
		}
	}
	return identityRefusal(&c, co.Identities[0])
}

// identityRefusal checks the certificate's identity, then its issuer, with
// cosign's matching.
func identityRefusal(c *x509.Certificate, id cosign.Identity) error {
	if cosign.CheckCertificatePolicy(c, &cosign.CheckOpts{Identities: []cosign.Identity{{Subject: id.Subject, SubjectRegExp: id.SubjectRegExp}}}) != nil {
		return fmt.Errorf("certificate identity: the certificate names %q, not %s", cryptoutils.GetSubjectAlternateNames(c), wanted(id.Subject, id.SubjectRegExp))
	}
	if cosign.CheckCertificatePolicy(c, &cosign.CheckOpts{Identities: []cosign.Identity{{Issuer: id.Issuer, IssuerRegExp: id.IssuerRegExp}}}) != nil {
		got := (&cosign.CertExtensions{Cert: c}).GetIssuer()
		if got == "" {
			return fmt.Errorf("certificate OIDC issuer: the certificate has no issuer extension %s, want %s", cosign.CertExtensionOIDCIssuer, wanted(id.Issuer, id.IssuerRegExp))
		}
		return fmt.Errorf("certificate OIDC issuer: the certificate names %q, not %s", got, wanted(id.Issuer, id.IssuerRegExp))
	}
	return nil
}

// bundleRefusal checks the Rekor bundle against the trusted root's logs and
// the signature, and the certificate's validity at the log's time.
func bundleRefusal(sig oci.Signature, cert *x509.Certificate, co *cosign.CheckOpts) error {
	ok, err := cosign.VerifyBundle(sig, co)
	switch {
	case err != nil:
		return fmt.Errorf("transparency log bundle: %w", err)
	case !ok:
		return errors.New("transparency log bundle: none is stored with the signature (a keyless signature needs one: it proves the short-lived certificate was valid when signing)")
	}
	b, err := sig.Bundle()
	if err != nil {
		return fmt.Errorf("transparency log bundle: %w", err)
	}
	if err := cosign.CheckExpiry(cert, time.Unix(b.Payload.IntegratedTime, 0)); err != nil {
		return fmt.Errorf("certificate validity at the log's integration time: %w", err)
	}
	return nil
}

// wanted describes an exact value or an anchored regular expression.
func wanted(exact, re string) string {
	if re != "" {
		return "one matching " + re
	}
	return fmt.Sprintf("%q", exact)
}
