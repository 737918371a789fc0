// Package gitrepotest makes real Git repositories for tests (with go-git,
// which only gitrepo and its test support import): files, commits,
// branches, shallow clones, and what a commit changed. Import it from
// _test.go files only.
package gitrepotest
