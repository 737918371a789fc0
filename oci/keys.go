package oci

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/sigstore/cosign/v2/pkg/cosign"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/kms"
)

// Key files written by GenerateKeyPair, named as the cosign CLI names them.
const (
	PrivateKeyFile = "cosign.key"
	PublicKeyFile  = "cosign.pub"
)

// PasswordEnv is the variable PasswordFromEnv reads, as cosign does.
const PasswordEnv = "COSIGN_PASSWORD"

// PasswordFromEnv returns $COSIGN_PASSWORD (empty if unset).
func PasswordFromEnv() ([]byte, error) {
	return []byte(os.Getenv(PasswordEnv)), nil
}

// GenerateKeyPair writes a new ECDSA P-256 key pair to dir: cosign.key
// (encrypted with password in cosign's format, mode 0600) and cosign.pub
// (PEM). Existing files are not overwritten. It returns the two paths.
func GenerateKeyPair(dir string, password []byte) (privPath, pubPath string, err error) {
	keys, err := cosign.GenerateKeyPair(func(bool) ([]byte, error) { return password, nil })
	if err != nil {
		return "", "", fmt.Errorf("generating key pair: %w", err)
	}
	privPath = filepath.Join(dir, PrivateKeyFile)
	pubPath = filepath.Join(dir, PublicKeyFile)
	if err := writeNew(privPath, keys.PrivateBytes, 0o600); err != nil {
		return "", "", err
	}
	if err := writeNew(pubPath, keys.PublicBytes, 0o644); err != nil {
		_ = os.Remove(privPath)
		return "", "", err
	}
	return privPath, pubPath, nil
}

func writeNew(path string, data []byte, mode fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("writing key: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close() // the write error is the one to report
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// KMSProviders lists the KMS URI schemes compiled into this binary (e.g.
// "awskms://"); see kms_*.go and the build tags there.
func KMSProviders() []string {
	out := kms.SupportedProviders()
	sort.Strings(out)
	return out
}

// keySource is where a key reference points.
type keySource int

const (
	keyFile keySource = iota
	keyEnv
	keyKMS
)

// parseKeyRef tells a file path, env://VAR and a KMS URI apart. Other
// schemes (k8s://, gitlab://, pkcs11:, http(s)://) are refused: they would
// pull in clients falcops does not want.
func parseKeyRef(ref string) (keySource, string, error) {
	switch {
	case ref == "":
		return 0, "", errors.New("no key reference")
	case strings.HasPrefix(ref, "env://"):
		v := strings.TrimPrefix(ref, "env://")
		if v == "" {
			return 0, "", fmt.Errorf("key reference %q: no variable name", ref)
		}
		return keyEnv, v, nil
	case strings.Contains(ref, "://"):
		scheme := ref[:strings.Index(ref, "://")+3]
		if knownKMS(scheme) || slices.Contains(kms.SupportedProviders(), scheme) {
			return keyKMS, ref, nil
		}
		return 0, "", fmt.Errorf("key reference %q: unsupported scheme %s (use a file path, env://VAR or a KMS URI)", ref, scheme)
	default:
		return keyFile, ref, nil
	}
}

func knownKMS(scheme string) bool {
	switch scheme {
	case "awskms://", "gcpkms://", "azurekms://", "hashivault://":
		return true
	}
	return false
}

// kmsKey opens a KMS key. A provider that is not compiled in is looked for
// as a sigstore KMS plugin (sigstore-kms-<scheme> on PATH), as cosign does.
func kmsKey(ctx context.Context, ref string) (kms.SignerVerifier, error) {
	sv, err := kms.Get(ctx, ref, crypto.SHA256)
	var nf *kms.ProviderNotFoundError
	if errors.As(err, &nf) {
		return nil, fmt.Errorf("KMS key %s: provider not compiled into this binary (compiled in: %v) and no sigstore-kms plugin found: %w", ref, KMSProviders(), err)
	}
	if err != nil {
		return nil, fmt.Errorf("KMS key %s: %w", ref, err)
	}
	return sv, nil
}

// readKey reads the PEM bytes a file or env:// reference names.
func readKey(src keySource, ref string) ([]byte, error) {
	if src == keyEnv {
		v, ok := os.LookupEnv(ref)
		if !ok || v == "" {
			return nil, fmt.Errorf("key: environment variable %s is not set", ref)
		}
		return []byte(v), nil
	}
	data, err := os.ReadFile(filepath.Clean(ref))
	if err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	return data, nil
}

// loadSigner returns the signer for a private key reference: a cosign
// encrypted key in a file or an environment variable (decrypted with the
// password), or a KMS key.
// LoadSigner loads a private key (cosign key file, env://VAR or KMS URI) once,
// for SignOptions.Signer. password nil reads $COSIGN_PASSWORD.
func LoadSigner(ctx context.Context, keyRef string, password func() ([]byte, error)) (signature.SignerVerifier, error) {
	return loadSigner(ctx, keyRef, password)
}

func loadSigner(ctx context.Context, ref string, password func() ([]byte, error)) (signature.SignerVerifier, error) {
	src, v, err := parseKeyRef(ref)
	if err != nil {
		return nil, err
	}
	if src == keyKMS {
		return kmsKey(ctx, v)
	}
	pem, err := readKey(src, v)
	if err != nil {
		return nil, err
	}
	if password == nil {
		password = PasswordFromEnv
	}
	pw, err := password()
	if err != nil {
		return nil, fmt.Errorf("key password: %w", err)
	}
	sv, err := cosign.LoadPrivateKey(pem, pw, nil)
	if err != nil {
		return nil, fmt.Errorf("loading private key %s: %w", ref, err)
	}
	return sv, nil
}

// loadVerifier returns the verifier for a public key reference: a PEM
// public key in a file or an environment variable, or a KMS key.
func loadVerifier(ctx context.Context, ref string) (signature.Verifier, error) {
	src, v, err := parseKeyRef(ref)
	if err != nil {
		return nil, err
	}
	if src == keyKMS {
		return kmsKey(ctx, v)
	}
	pem, err := readKey(src, v)
	if err != nil {
		return nil, err
	}
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(pem)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w", ref, err)
	}
	ver, err := signature.LoadVerifier(pub, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w", ref, err)
	}
	return ver, nil
}
