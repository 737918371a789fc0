//go:build falcops_kms

package oci

// With the build tag falcops_kms the four KMS providers of sigstore are
// compiled in (about +16 MB of binary: AWS +6.6, GCP +4.4, Azure +3.6,
// HashiCorp Vault +2.1). Without it, KMS URIs still work through sigstore
// KMS plugins (an executable sigstore-kms-<scheme> on PATH), as in cosign.
import (
	_ "github.com/sigstore/sigstore/pkg/signature/kms/aws"
	_ "github.com/sigstore/sigstore/pkg/signature/kms/azure"
	_ "github.com/sigstore/sigstore/pkg/signature/kms/gcp"
	_ "github.com/sigstore/sigstore/pkg/signature/kms/hashivault"
)
