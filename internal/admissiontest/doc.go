// Package admissiontest holds the admission cases of
// webhooks/testdata/cases: each is a Shoot, Seed or FalcoProfile request
// with the garden it is answered in and the answer Gardener's webhooks
// (or falcops' additions) give. The webhooks' handler tests and the
// `falcops admission review` tests run the same cases, so both doors to
// the same code are held to the same answers.
package admissiontest
