package publish

import (
	"fmt"
	"strings"
)

// Registry is where artifacts go: a registry host and a repository prefix;
// ruleset NAME lives at HOST/PREFIX/NAME.
type Registry struct {
	Host   string
	Prefix string
}

// ParseRegistry reads HOST[:PORT][/PREFIX]; a scheme and a trailing slash
// are ignored.
func ParseRegistry(s string) (Registry, error) {
	s = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://"), "/")
	host, prefix, _ := strings.Cut(s, "/")
	if host == "" {
		return Registry{}, fmt.Errorf("registry %q: want HOST[:PORT][/PREFIX]", s)
	}
	return Registry{Host: host, Prefix: prefix}, nil
}

// Repository is the repository path of an artifact inside the registry.
func (r Registry) Repository(name string) string {
	if r.Prefix == "" {
		return name
	}
	return r.Prefix + "/" + name
}

// Repo is the full repository reference, HOST/PREFIX/NAME.
func (r Registry) Repo(name string) string { return r.Host + "/" + r.Repository(name) }
