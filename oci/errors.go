package oci

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

// Errors callers branch on (errors.Is). Returned errors wrap them together
// with the underlying registry error.
var (
	// ErrNotFound means the registry answered 404 for a repository, tag,
	// manifest or blob.
	ErrNotFound = errors.New("not found")
	// ErrUnauthorized means the registry refused the credentials (401) or
	// the operation (403).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrSignature means a signature did not verify: none found, wrong key,
	// a payload naming another digest, or a manifest that changed.
	ErrSignature = errors.New("signature verification failed")
	// ErrImmutable means a version is already published with other content.
	// Nothing was written.
	ErrImmutable = errors.New("version already published with different content")
)

// classify wraps err with ErrNotFound or ErrUnauthorized when the registry
// answer says so; other errors are returned as they are.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrUnauthorized) {
		return err
	}
	if errors.Is(err, errdef.ErrNotFound) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	if errors.Is(err, auth.ErrBasicCredentialNotFound) {
		return fmt.Errorf("%w: %w", ErrUnauthorized, err)
	}
	status := 0
	var er *errcode.ErrorResponse
	var te *transport.Error
	switch {
	case errors.As(err, &er):
		status = er.StatusCode
	case errors.As(err, &te):
		status = te.StatusCode
	}
	switch status {
	case http.StatusNotFound:
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Errorf("%w: %w", ErrUnauthorized, err)
	}
	return err
}
