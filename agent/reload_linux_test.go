package agent

import (
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// Falco's watch masks and debounce (userspace/falco/app/restart_handler.cpp,
// falco::app::restart_handler::start and watcher_loop).
const (
	falcoFileMask = unix.IN_CLOSE_WRITE | unix.IN_MOVE_SELF | unix.IN_DELETE_SELF
	falcoDirMask  = unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVE
	falcoDebounce = 100 * time.Millisecond
)

// falcoWatcher stands in for Falco with watch_config_files (real Falco cannot
// run here): it watches the rules directory and every file Falco would load
// from it with Falco's masks, and counts a reload per burst of events that
// ends with 100 ms of quiet; after each reload it watches the new file list,
// as Falco's restarted engine does.
type falcoWatcher struct {
	root    string
	reloads atomic.Int64
	stop    atomic.Bool
	done    chan struct{}
}

func watchLikeFalco(t *testing.T, root string) *falcoWatcher {
	w := &falcoWatcher{root: root, done: make(chan struct{})}
	fd := w.watch(t)
	go w.loop(t, fd)
	t.Cleanup(func() { w.stop.Store(true); <-w.done })
	return w
}

func (w *falcoWatcher) watch(t *testing.T) int {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	require.NoError(t, err)
	_, err = unix.InotifyAddWatch(fd, w.root, falcoDirMask)
	require.NoError(t, err)
	for name := range falcoLoads(t, w.root) {
		_, err := unix.InotifyAddWatch(fd, filepath.Join(w.root, name), falcoFileMask)
		require.NoError(t, err)
	}
	return fd
}

// wait reports whether an event arrived within d, draining what is queued.
func wait(fd int, d time.Duration) bool {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, int(d/time.Millisecond))
	if err != nil || n == 0 {
		return false
	}
	buf := make([]byte, 64*1024)
	for {
		if _, err := unix.Read(fd, buf); err != nil {
			return true
		}
	}
}

func (w *falcoWatcher) loop(t *testing.T, fd int) {
	defer close(w.done)
	for !w.stop.Load() {
		if !wait(fd, 20*time.Millisecond) {
			continue
		}
		for wait(fd, falcoDebounce) {
		}
		w.reloads.Add(1)
		_ = unix.Close(fd)
		fd = w.watch(t)
	}
	_ = unix.Close(fd)
}

// TestOneFalcoReloadPerSwap: each swap (a changed file, an added one, a
// removed one, all at once) is exactly one reload for a watcher with Falco's
// inotify masks; a swap to the same files is none.
func TestOneFalcoReloadPerSwap(t *testing.T) {
	tree := Tree{Root: filepath.Join(t.TempDir(), "rules.d")}
	_, err := tree.Swap(set(0, "10-a.yaml", "20-b.yaml"))
	require.NoError(t, err)
	w := watchLikeFalco(t, tree.Root)
	sets := []map[string][]byte{
		set(1, "10-a.yaml", "20-b.yaml"),
		set(2, "10-a.yaml", "20-b.yaml", "30-c.yaml"),
		set(3, "10-a.yaml"),
		set(3, "10-a.yaml"), // unchanged: no swap, no reload
		set(4, "05-z.yaml", "10-a.yaml"),
	}
	want := int64(0)
	for i, s := range sets {
		changed, err := tree.Swap(s)
		require.NoError(t, err)
		if changed {
			want++
		}
		// Let the debounce end and the watcher re-arm before the next swap.
		require.Eventually(t, func() bool { return w.reloads.Load() >= want }, 10*time.Second, 10*time.Millisecond, "swap %d caused no reload", i)
		time.Sleep(3 * falcoDebounce)
		assert.Equal(t, want, w.reloads.Load(), "after swap %d", i)
	}
	_, err = os.Stat(filepath.Join(tree.Root, "05-z.yaml"))
	require.NoError(t, err)
}
