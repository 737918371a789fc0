package secrets

import (
	"bytes"
	"fmt"
	"regexp"
)

// TokenPlaceholder stands in falcosidekick's rendered configuration where
// its service account's token goes; the init container replaces it
// (Gardener's convention).
const TokenPlaceholder = "SA_TOKEN"

// maxToken bounds a service-account token read from a file.
const maxToken = 16 << 10

// A token is a JWT: base64url parts and dots. Anything else could change
// the YAML it is put into.
var tokenChars = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// SubstituteToken returns the configuration with every placeholder
// replaced by the token (a trailing newline of the token file dropped).
func SubstituteToken(config, token []byte) ([]byte, error) {
	token = bytes.TrimRight(token, "\r\n")
	switch {
	case len(token) == 0:
		return nil, fmt.Errorf("the service-account token is empty")
	case len(token) > maxToken:
		return nil, fmt.Errorf("the service-account token is %d bytes, more than %d", len(token), maxToken)
	case !tokenChars.Match(token):
		return nil, fmt.Errorf("the service-account token holds characters a JWT does not")
	}
	return bytes.ReplaceAll(config, []byte(TokenPlaceholder), token), nil
}
