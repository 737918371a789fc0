package artifacts

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
)

// ProfilesArtifact is the name of the signed asset artifact holding a
// landscape's profiles/ folder (its repository and index entry name).
const ProfilesArtifact = "falco-profiles"

// ProfilesVersion names profile content: 0.0.0-<first 12 hex of its hash>.
// The profile is a moving document without a version of its own; consumers
// follow "latest" and pin the digest.
func ProfilesVersion(files map[string][]byte) string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(files[n]))
		h.Write(files[n])
	}
	return "0.0.0-" + hex.EncodeToString(h.Sum(nil))[:12]
}
