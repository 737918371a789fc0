// Package consistency checks that a repository's profiles and rulesets fit
// together (Gardener's defect D7: a Falco version offered without rules it
// can load): every Falco version of the profiles has a version of every
// selectable standard ruleset it can load, and each tuning ruleset loads
// on top of them at that Falco's engine.
package consistency
