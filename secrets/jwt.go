package secrets

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The central destination's token, as Gardener's extension mints it.
const (
	JWTIssuer        = "urn:gardener:gardener-falco-extension"
	JWTAudience      = "falco-db"
	ClaimClusterID   = "gardener-falco.cluster-identity"
	DefaultJWTExpiry = 7 * 24 * time.Hour
)

// Claims are what a central token says.
type Claims struct {
	Issuer          string `json:"iss"`
	Audience        string `json:"aud"`
	IssuedAt        int64  `json:"iat"`
	Expiry          int64  `json:"exp"`
	ClusterIdentity string `json:"gardener-falco.cluster-identity"`
}

// MintJWT signs an RS256 token for the cluster identity, valid for ttl
// from now.
func MintJWT(key *rsa.PrivateKey, clusterIdentity string, now time.Time, ttl time.Duration) (string, error) {
	if clusterIdentity == "" {
		return "", errors.New("central token: no cluster identity")
	}
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT"})
	claims, _ := json.Marshal(Claims{Issuer: JWTIssuer, Audience: JWTAudience, IssuedAt: now.Unix(), Expiry: now.Add(ttl).Unix(), ClusterIdentity: clusterIdentity})
	signing := b64(header) + "." + b64(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signing + "." + b64(sig), nil
}

// VerifyJWT checks an RS256 token's signature, issuer, audience and expiry
// at now, and returns its claims.
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
	case c.Issuer != JWTIssuer || c.Audience != JWTAudience:
		return c, fmt.Errorf("JWT for %s/%s, want %s/%s", c.Issuer, c.Audience, JWTIssuer, JWTAudience)
	case !now.Before(time.Unix(c.Expiry, 0)):
		return c, fmt.Errorf("JWT expired at %s", time.Unix(c.Expiry, 0).UTC().Format(time.RFC3339))
	}
	return c, nil
}

// EnsureJWT returns token while it stays valid for more than renewBefore,
// otherwise a new one; renewed reports which.
func EnsureJWT(token string, key *rsa.PrivateKey, clusterIdentity string, now time.Time, ttl, renewBefore time.Duration) (string, bool, error) {
	if c, err := VerifyJWT(token, &key.PublicKey, now.Add(renewBefore)); err == nil && c.ClusterIdentity == clusterIdentity {
		return token, false, nil
	}
	t, err := MintJWT(key, clusterIdentity, now, ttl)
	return t, err == nil, err
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func decodePart(s string, v any) error {
	data, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}
