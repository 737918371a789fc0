package secrets

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// Lifetimes say how long certificates live and when they are renewed.
type Lifetimes struct {
	CA, Cert, RenewBefore time.Duration
}

// DefaultLifetimes are Gardener's.
var DefaultLifetimes = Lifetimes{CA: 2 * 365 * 24 * time.Hour, Cert: 180 * 24 * time.Hour, RenewBefore: 30 * 24 * time.Hour}

// The keys of a Bundle's Secret data.
const (
	KeyServerCA      = "server-ca.crt" // the server CA bundle (the client trusts it)
	KeyServerCAKey   = "server-ca.key"
	KeyClientCA      = "client-ca.crt" // the client CA bundle (the server trusts it)
	KeyClientCAKey   = "client-ca.key"
	KeyServerCert    = "server.crt"
	KeyServerKey     = "server.key"
	KeyClientCert    = "client.crt"
	KeyClientKey     = "client.key"
	serverCommonName = "falcosidekick"
	clientCommonName = "falco"
)

// Ensure returns the certificate Secret data for the server DNS names:
// data as it is while nothing is due, otherwise with what is due renewed
// (a CA within RenewBefore of its end, a certificate within RenewBefore of
// its end or not signed by the current CA, or anything missing or broken).
// changed reports whether anything was renewed.
func Ensure(data map[string][]byte, dnsNames []string, now time.Time, l Lifetimes) (out map[string][]byte, changed bool, err error) {
	out = map[string][]byte{}
	for k, v := range data {
		out[k] = v
	}
	for _, side := range []struct {
		ca, caKey, cert, key, cn string
		server                   bool
	}{
		{KeyServerCA, KeyServerCAKey, KeyServerCert, KeyServerKey, serverCommonName, true},
		{KeyClientCA, KeyClientCAKey, KeyClientCert, KeyClientKey, clientCommonName, false},
	} {
		ca, caKey, bundle, renewed, err := ensureCA(out[side.ca], out[side.caKey], side.cn+"-ca", now, l)
		if err != nil {
			return nil, false, err
		}
		if !bytes.Equal(bundle, out[side.ca]) {
			out[side.ca], out[side.caKey], changed = bundle, pemKey(caKey), true
		}
		if !renewed && leafValid(out[side.cert], out[side.key], ca, now, l) {
			continue
		}
		cert, key, err := issue(ca, caKey, side.cn, dnsNames, side.server, now, l.Cert)
		if err != nil {
			return nil, false, err
		}
		out[side.cert], out[side.key], changed = cert, key, true
	}
	return out, changed, nil
}

// ensureCA returns the current CA (the first of the bundle) and the
// bundle, renewing it when due; the previous CA stays in the bundle until
// it expires.
func ensureCA(bundlePEM, keyPEM []byte, cn string, now time.Time, l Lifetimes) (*x509.Certificate, *ecdsa.PrivateKey, []byte, bool, error) {
	certs := parseCerts(bundlePEM)
	key, keyErr := parseKey(keyPEM)
	if len(certs) > 0 && keyErr == nil && now.Before(certs[0].NotAfter.Add(-l.RenewBefore)) && matches(certs[0], key) {
		return certs[0], key, encodeLive(certs, now), false, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, false, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: cn},
		NotBefore: now.Add(-time.Minute), NotAfter: now.Add(l.CA),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, nil, false, err
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, nil, false, err
	}
	return ca, key, encodeLive(append([]*x509.Certificate{ca}, certs...), now), true, nil
}

// encodeLive is the bundle of the certificates not expired at now, the
// current one first: an old CA stays until it ends (the overlap).
func encodeLive(certs []*x509.Certificate, now time.Time) []byte {
	var b bytes.Buffer
	for _, c := range certs {
		if now.Before(c.NotAfter) {
			_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
		}
	}
	return b.Bytes()
}

func issue(ca *x509.Certificate, caKey *ecdsa.PrivateKey, cn string, dnsNames []string, server bool, now time.Time, validity time.Duration) ([]byte, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	usage := x509.ExtKeyUsageClientAuth
	if server {
		usage = x509.ExtKeyUsageServerAuth
	}
	notAfter := now.Add(validity)
	if notAfter.After(ca.NotAfter) {
		notAfter = ca.NotAfter // never outlive the CA
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: cn},
		NotBefore: now.Add(-time.Minute), NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
	if server {
		tmpl.DNSNames = dnsNames
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pemKey(key), nil
}

// leafValid reports whether the certificate is signed by ca, matches its
// key and is not due for renewal.
func leafValid(certPEM, keyPEM []byte, ca *x509.Certificate, now time.Time, l Lifetimes) bool {
	certs := parseCerts(certPEM)
	key, err := parseKey(keyPEM)
	if len(certs) != 1 || err != nil || !matches(certs[0], key) {
		return false
	}
	c := certs[0]
	return c.CheckSignatureFrom(ca) == nil && now.Before(c.NotAfter.Add(-l.RenewBefore))
}

func matches(c *x509.Certificate, key *ecdsa.PrivateKey) bool {
	pub, ok := c.PublicKey.(*ecdsa.PublicKey)
	return ok && pub.Equal(&key.PublicKey)
}

func parseCerts(data []byte) []*x509.Certificate {
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return out
		}
		if c, err := x509.ParseCertificate(b.Bytes); err == nil && b.Type == "CERTIFICATE" {
			out = append(out, c)
		}
	}
}

func parseKey(data []byte) (*ecdsa.PrivateKey, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, errors.New("no PEM key")
	}
	return x509.ParseECPrivateKey(b.Bytes)
}

func pemKey(k *ecdsa.PrivateKey) []byte {
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		panic(fmt.Sprintf("secrets: marshalling a P-256 key: %v", err)) // cannot fail for a valid key
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(fmt.Sprintf("secrets: random serial: %v", err))
	}
	return n
}

// RenewAt is when Ensure next has something to renew for data: the
// earliest end, less RenewBefore, of the current CAs and the certificates.
// The zero time when something is missing (Ensure makes it at once).
func RenewAt(data map[string][]byte, l Lifetimes) time.Time {
	var at time.Time
	for _, k := range []string{KeyServerCA, KeyClientCA, KeyServerCert, KeyClientCert} {
		certs := parseCerts(data[k])
		if len(certs) == 0 {
			return time.Time{}
		}
		if t := certs[0].NotAfter.Add(-l.RenewBefore); at.IsZero() || t.Before(at) {
			at = t
		}
	}
	return at
}
