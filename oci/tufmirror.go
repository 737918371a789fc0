package oci

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// EmptyTrustedRoot is a Sigstore trusted root with no transparency logs,
// certificate authorities, CT logs or timestamp authorities: enough for
// key-based verification with the transparency log ignored.
const EmptyTrustedRoot = `{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1",` +
	`"tlogs":[],"certificateAuthorities":[],"ctlogs":[],"timestampAuthorities":[]}`

// TrustedRootTarget is the target name under which Sigstore clients look up
// the trusted root in a TUF repository.
const TrustedRootTarget = "trusted_root.json"

// WriteTUFMirror writes a minimal TUF repository into dir, so that cosign
// and falcoctl (v0.12+) verify key-based signatures without reaching the
// Sigstore TUF CDN: one ed25519 key for all four roles, a consistent
// snapshot, expiry at expires, and a single target, trusted_root.json =
// EmptyTrustedRoot. Clients then need TUF_MIRROR (where dir is served),
// TUF_ROOT_JSON (dir/1.root.json), TUF_ROOT (a cache folder) and
// SIGSTORE_CT_LOG_PUBLIC_KEY_FILE (any PEM public key; the cosign key will
// do), and index entries with ignore-tlog: true.
func WriteTUFMirror(dir string, expires time.Time) error {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	signer, err := signature.LoadED25519Signer(priv)
	if err != nil {
		return err
	}
	key, err := metadata.KeyFromPublicKey(priv.Public())
	if err != nil {
		return err
	}

	content := []byte(EmptyTrustedRoot)
	target, err := metadata.TargetFile().FromBytes(TrustedRootTarget, content, "sha256")
	if err != nil {
		return err
	}
	targets := metadata.Targets(expires)
	targets.Signed.Targets[TrustedRootTarget] = target
	snapshot := metadata.Snapshot(expires)
	timestamp := metadata.Timestamp(expires)
	root := metadata.Root(expires)
	for _, role := range []string{metadata.ROOT, metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP} {
		if err := root.Signed.AddKey(key, role); err != nil {
			return err
		}
	}

	for _, sign := range []func(signature.Signer) (*metadata.Signature, error){
		root.Sign, targets.Sign, snapshot.Sign, timestamp.Sign,
	} {
		if _, err := sign(signer); err != nil {
			return err
		}
	}

	sum := sha256.Sum256(content)
	targetsDir := filepath.Join(dir, "targets")
	if err := os.MkdirAll(targetsDir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(targetsDir, hex.EncodeToString(sum[:])+"."+TrustedRootTarget), content, 0o644); err != nil {
		return err
	}
	for name, write := range map[string]func(string, bool) error{
		"1.root.json":     root.ToFile,
		"1.targets.json":  targets.ToFile,
		"1.snapshot.json": snapshot.ToFile,
		"timestamp.json":  timestamp.ToFile,
	} {
		if err := write(filepath.Join(dir, name), true); err != nil {
			return err
		}
	}
	return nil
}
