package dashboard

import (
	"sync"
	"time"

	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
)

// RecentSize is how many transitions the page lists.
const RecentSize = 20

// Transition is a change of a shoot's rollout state that the cache saw.
type Transition struct {
	Time      time.Time
	Namespace string
	Name      string
	// From and To are "version reason".
	From, To string
	Message  string
}

// recent is a ring of the latest transitions, newest first.
type recent struct {
	mu    sync.Mutex
	items []Transition
}

func (r *recent) add(t Transition) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.items = append([]Transition{t}, r.items[:min(len(r.items), RecentSize-1)]...)
}

func (r *recent) list() []Transition {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Transition(nil), r.items...)
}

// transition is the change from old to cur, if its Falco version or
// reason changed.
func transition(old, cur *falcopsv1alpha1.ShootRollout, now time.Time) (Transition, bool) {
	from, to := state(old), state(cur)
	if from == to {
		return Transition{}, false
	}
	return Transition{Time: now, Namespace: cur.Namespace, Name: cur.Name, From: from, To: to, Message: cur.Status.Message}, true
}

func state(r *falcopsv1alpha1.ShootRollout) string {
	v := r.Status.FalcoVersion
	if v == "" {
		v = "-"
	}
	return v + " " + r.Status.Reason
}
