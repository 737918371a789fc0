package secrets

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Purpose says which of the two tokens of Gardener's extension a JWT is.
type Purpose int

const (
	// Central is the token of the central destination: audience falco-db,
	// the cluster identity under gardener-falco.cluster-identity.
	Central Purpose = iota
	// Identity is the <<.ClusterIdentityToken>> of global defaults: the
	// cluster identity as its subject, no audience.
	Identity
)

// The tokens' fixed claims, as Gardener's extension mints them (the
// falco-event-ingestor checks them).
const (
	JWTIssuer        = "urn:gardener:gardener-falco-extension"
	JWTAudience      = "falco-db"
	DefaultJWTExpiry = 7 * 24 * time.Hour
)

// Claims are what a token says.
type Claims struct {
	Issuer        string         `json:"iss"`
	Audience      string         `json:"aud,omitempty"`
	Subject       string         `json:"sub,omitempty"`
	IssuedAt      int64          `json:"iat"`
	Expiry        int64          `json:"exp"`
	GardenerFalco *GardenerFalco `json:"gardener-falco,omitempty"`
}

// GardenerFalco is the central token's claim object.
type GardenerFalco struct {
	ClusterIdentity string `json:"cluster-identity"`
}

// ClusterIdentity is the identity a token of purpose p carries, or "" when
// it is not such a token.
func (c Claims) ClusterIdentity(p Purpose) string {
	switch {
	case p == Central && c.Audience == JWTAudience && c.GardenerFalco != nil:
		return c.GardenerFalco.ClusterIdentity
	case p == Identity && c.Audience == "" && c.GardenerFalco == nil:
		return c.Subject
	}
	return ""
}

// MintJWT signs an RS256 token of purpose p for the cluster identity,
// valid for ttl from now.
func MintJWT(p Purpose, key *rsa.PrivateKey, clusterIdentity string, now time.Time, ttl time.Duration) (string, error) {
	if clusterIdentity == "" {
		return "", errors.New("token: the shoot has no cluster identity yet")
	}
	c := Claims{Issuer: JWTIssuer, IssuedAt: now.Unix(), Expiry: now.Add(ttl).Unix()}
	if p == Central {
		c.Audience, c.GardenerFalco = JWTAudience, &GardenerFalco{ClusterIdentity: clusterIdentity}
	} else {
		c.Subject = clusterIdentity
	}
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT"})
	claims, _ := json.Marshal(c)
	signing := b64(header) + "." + b64(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signing + "." + b64(sig), nil
}

// VerifyJWT checks an RS256 token's signature, issuer and expiry at now,
// and returns its claims.
func VerifyJWT(token string, pub *rsa.PublicKey, now time.Time) (Claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || len(token) > 8<<10 {
		return Claims{}, errors.New("not a JWT")
	}
	var header struct{ Alg string }
	if err := decodePart(parts[0], &header); err != nil {
		return Claims{}, fmt.Errorf("JWT header: %w", err)
	}
	if header.Alg != "RS256" {
		return Claims{}, fmt.Errorf("JWT header: alg %q, want RS256", header.Alg)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return Claims{}, fmt.Errorf("JWT signature: %w", err)
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		return Claims{}, fmt.Errorf("JWT signature: %w", err)
	}
	var c Claims
	if err := decodePart(parts[1], &c); err != nil {
		return Claims{}, fmt.Errorf("JWT claims: %w", err)
	}
	switch {
	case c.Issuer != JWTIssuer:
		return c, fmt.Errorf("JWT issued by %q, want %s", c.Issuer, JWTIssuer)
	case !now.Before(time.Unix(c.Expiry, 0)):
		return c, fmt.Errorf("JWT expired at %s", time.Unix(c.Expiry, 0).UTC().Format(time.RFC3339))
	}
	return c, nil
}

// EnsureJWT returns token while it is a valid token of purpose p for the
// identity for more than renewBefore, otherwise a new one; renewed
// reports which.
func EnsureJWT(p Purpose, token string, key *rsa.PrivateKey, clusterIdentity string, now time.Time, ttl, renewBefore time.Duration) (string, bool, error) {
	if c, err := VerifyJWT(token, &key.PublicKey, now.Add(renewBefore)); err == nil && c.ClusterIdentity(p) == clusterIdentity {
		return token, false, nil
	}
	t, err := MintJWT(p, key, clusterIdentity, now, ttl)
	return t, err == nil, err
}

// Expiry is when a token ends, read without verifying it: for scheduling
// its renewal only. The zero time when it is not a JWT.
func Expiry(token string) time.Time {
	parts := strings.Split(token, ".")
	var c Claims
	if len(parts) != 3 || decodePart(parts[1], &c) != nil || c.Expiry == 0 {
		return time.Time{}
	}
	return time.Unix(c.Expiry, 0)
}

// ParseRSAKey reads a PEM RSA private key, PKCS #1 or PKCS #8.
func ParseRSAKey(data []byte) (*rsa.PrivateKey, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, errors.New("no PEM block")
	}
	if k, err := x509.ParsePKCS1PrivateKey(b.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("neither a PKCS #1 nor a PKCS #8 private key: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("a %T, want an RSA key (RS256)", k)
	}
	return rk, nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func decodePart(s string, v any) error {
	data, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}
