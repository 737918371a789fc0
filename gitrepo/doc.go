// Package gitrepo owns every go-git call of falcops: the origin and commit
// a package is built from, the files of a base revision the pull-request
// gate compares with, and the one-file edits on a new branch that the
// profile commands commit. Nothing else imports go-git.
package gitrepo
