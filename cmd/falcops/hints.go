package main

import (
	"os"
	"strings"
)

// hints add what to do to errors whose cause is a common mistake. They are
// matched on the text of errors from the libraries falcops uses (cosign's
// key decryption, Go's HTTP client), which have no sentinels for them.
var hints = []struct {
	match string
	hint  func() string
}{
	{"decrypt: encrypted: decryption failed", func() string {
		if os.Getenv("COSIGN_PASSWORD") == "" {
			return "COSIGN_PASSWORD is not set: set it to the password the key was created with"
		}
		return "COSIGN_PASSWORD is not the password of this key"
	}},
	{"server gave HTTP response to HTTPS client", func() string {
		return "the registry speaks plain HTTP: add --plain-http (loopback registries; --allow-insecure-remote for others)"
	}},
}

// hinted returns the message of err with the hint that fits, if any.
func hinted(msg string) string {
	for _, h := range hints {
		if strings.Contains(msg, h.match) {
			return msg + "\n  hint: " + h.hint()
		}
	}
	return msg
}
