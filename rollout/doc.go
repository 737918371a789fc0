// Package rollout makes falcops' per-shoot decisions, as pure functions of
// what the controllers listed and the time they pass in:
//
//   - Target: what a shoot should run, its Falco version and one verified
//     digest per standard ruleset whose engine requirement that Falco
//     satisfies; a *Blocked error when it cannot be carried out;
//   - Admit: whether a change may be applied now (forced moves at once; a
//     halted rollout stops the rest; the maintain operation skips the wave
//     and the window; everything else waits for its wave and its window);
//   - Waves and Revision: which wave a shoot is in, and the name of the
//     inputs a rollout is for;
//   - Window: a shoot's daily maintenance time window.
//
// The maintenance and rolloutpolicy controllers and the maintenance event
// mapping share it, so all three agree on what "up to date" means. It
// imports no controller-runtime or client-go.
package rollout
