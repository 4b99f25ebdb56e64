package cli_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"kinko/internal/cli"
	"kinko/internal/testutil"
)

// lockedBuffer is a bytes.Buffer that a running command may write to while
// the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// result is what a finished command left behind.
type result struct {
	code           int
	stdout, stderr string
}

// run runs kinko with args in-process and returns its exit status and output.
func run(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr lockedBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := cli.Run(ctx, args, cli.Env{
		Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr,
		Getenv: func(string) string { return "" },
	})
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// mustRun runs kinko and fails the test unless it exits with 0.
func mustRun(t *testing.T, args ...string) result {
	t.Helper()
	r := run(t, args...)
	if r.code != 0 {
		t.Fatalf("kinko %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// running is a kinko command that serves until stopped.
type running struct {
	portalAddr, certAddr string
	stdout, stderr       *lockedBuffer
	cancel               context.CancelFunc
	done                 chan int
}

// start runs a serving kinko command (demo, serve) in a goroutine and waits
// until its listeners are open. It is stopped when the test ends, if not
// before.
func start(t *testing.T, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, cancel: cancel, done: make(chan int, 1)}
	ready := make(chan [2]string, 1)
	env := cli.Env{
		Stdin: strings.NewReader(""), Stdout: r.stdout, Stderr: r.stderr,
		Getenv: func(string) string { return "" },
		Ready:  func(p, c string) { ready <- [2]string{p, c} },
	}
	go func() { r.done <- cli.Run(ctx, args, env) }()
	t.Cleanup(func() { r.stop(t) })
	select {
	case a := <-ready:
		r.portalAddr, r.certAddr = a[0], a[1]
	case code := <-r.done:
		cancel()
		r.cancel = nil
		t.Fatalf("kinko %s ended with exit %d before it was ready\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, r.stdout, r.stderr)
	case <-time.After(2 * time.Minute):
		t.Fatalf("kinko %s: not ready after 2 minutes\nstderr:\n%s", strings.Join(args, " "), r.stderr)
	}
	return r
}

// stop cancels the command and checks that it ended cleanly; a second call
// does nothing.
func (r *running) stop(t *testing.T) {
	t.Helper()
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case code := <-r.done:
		if code != 0 {
			t.Errorf("exit %d after shutdown, want 0\nstderr:\n%s", code, r.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("no exit 30s after shutdown")
	}
}

// postgresDSN returns the DSN of a new, empty PostgreSQL schema, or skips.
func postgresDSN(t *testing.T) string { return testutil.PostgresDSN(t) }
