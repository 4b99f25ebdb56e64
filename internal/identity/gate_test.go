package identity

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var gateTestParams = Params{MemoryKiB: 64, Time: 1, Threads: 1}

func TestGateSlots_FromCoresAndMemoryBudget(t *testing.T) {
	for _, tc := range []struct {
		name      string
		memoryMiB int
		perKiB    uint32
		procs     int
		want      int
	}{
		{"cores bound", 128, 19 * 1024, 2, 2},
		{"memory bound", 128, 19 * 1024, 16, 6},
		{"budget below one check", 10, 19 * 1024, 4, 1},
		{"one core", 1024, 19 * 1024, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := GateSlots(tc.memoryMiB, tc.perKiB, tc.procs); got != tc.want {
				t.Errorf("GateSlots(%d, %d, %d) = %d, want %d", tc.memoryMiB, tc.perKiB, tc.procs, got, tc.want)
			}
		})
	}
}

// waitFor yields until cond holds; the test's own timeout ends a wait that
// never does.
func waitFor(cond func() bool) {
	for !cond() {
		runtime.Gosched()
	}
}

// TestGate_NeverMoreArgon2AtOnceThanSlots: thirty hashes and verifications
// at once through a gate of three slots; while all thirty are in the gate,
// exactly three are computing, and none ever ran beside more than two
// others.
func TestGate_NeverMoreArgon2AtOnceThanSlots(t *testing.T) {
	g := NewGate(GateConfig{MemoryMiB: 1024, PerCheckKiB: gateTestParams.MemoryKiB, Procs: 3, Queue: 100, Wait: time.Hour})
	if g.Slots() != 3 {
		t.Fatalf("Slots() = %d, want 3", g.Slots())
	}
	var cur, peak atomic.Int64
	release := make(chan struct{})
	g.inside = func() {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		<-release
		cur.Add(-1)
	}
	h := Hasher{Params: gateTestParams, Gate: g}
	enc, err := Hasher{Params: gateTestParams}.Hash("Correct-Horse-9")
	if err != nil {
		t.Fatal(err)
	}
	const n = 30
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if i%2 == 0 {
				_, errs[i] = h.Hash("Correct-Horse-9")
				return
			}
			ok, err := h.Verify("Correct-Horse-9", enc)
			if err == nil && !ok {
				err = errors.New("right password not verified")
			}
			errs[i] = err
		})
	}
	waitFor(func() bool { return len(g.places) == n && cur.Load() == 3 })
	if got := cur.Load(); got != 3 {
		t.Errorf("with %d checks in the gate, %d computing, want 3", n, got)
	}
	close(release)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("check %d: %v", i, err)
		}
	}
	if got := peak.Load(); got != 3 {
		t.Errorf("at most %d computed at once, want 3", got)
	}
}

// TestGate_FullQueueIsErrBusyWithRetryAfter: one check computing and two
// waiting fill a gate of one slot and a queue of two; the next check is
// refused at once with ErrBusy and the gate's retry-after, and never
// computes.
func TestGate_FullQueueIsErrBusyWithRetryAfter(t *testing.T) {
	g := NewGate(GateConfig{MemoryMiB: 1024, Procs: 1, Queue: 2, Wait: time.Hour, RetryAfter: 3 * time.Second})
	release := make(chan struct{})
	var computed atomic.Int64
	g.inside = func() {
		computed.Add(1)
		<-release
	}
	h := Hasher{Params: gateTestParams, Gate: g}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if _, err := h.Hash("Correct-Horse-9"); err != nil {
				t.Errorf("queued hash: %v", err)
			}
		})
	}
	waitFor(func() bool { return len(g.places) == 3 })
	_, err := h.Verify("Correct-Horse-9", "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U")
	var be *BusyError
	if !errors.Is(err, ErrBusy) || !errors.As(err, &be) {
		t.Fatalf("fourth check: %v, want ErrBusy", err)
	}
	if be.RetryAfter() != 3*time.Second {
		t.Errorf("RetryAfter() = %v, want 3s", be.RetryAfter())
	}
	if got := computed.Load(); got != 1 {
		t.Errorf("%d checks computing, want 1", got)
	}
	close(release)
	wg.Wait()
	if got := computed.Load(); got != 3 {
		t.Errorf("%d checks computed, want the 3 admitted", got)
	}
}

// TestGate_WaitEndsInErrBusy: a check that waits longer than the gate's
// wait for the one slot, held meanwhile, is ErrBusy.
func TestGate_WaitEndsInErrBusy(t *testing.T) {
	g := NewGate(GateConfig{MemoryMiB: 1024, Procs: 1, Queue: 4, Wait: time.Millisecond})
	release, in := make(chan struct{}), make(chan struct{})
	g.inside = func() {
		close(in)
		<-release
	}
	h := Hasher{Params: gateTestParams, Gate: g}
	done := make(chan error)
	go func() {
		_, err := h.Hash("Correct-Horse-9")
		done <- err
	}()
	<-in
	g.inside = nil
	if _, err := h.Hash("Correct-Horse-9"); !errors.Is(err, ErrBusy) {
		t.Errorf("waiting check: %v, want ErrBusy", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Errorf("first check: %v", err)
	}
	if _, err := h.Hash("Correct-Horse-9"); err != nil {
		t.Errorf("check after the slot is free: %v", err)
	}
}

// TestGate_NilBoundsNothing: a Hasher without a gate hashes and verifies.
func TestGate_NilBoundsNothing(t *testing.T) {
	h := Hasher{Params: gateTestParams}
	enc, err := h.Hash("Correct-Horse-9")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := h.Verify("Correct-Horse-9", enc); err != nil || !ok {
		t.Errorf("Verify = %v, %v; want true", ok, err)
	}
}

// TestGate_StatsCountRunningWaitingRefused: with one check computing and
// two waiting in a gate of one slot and a queue of two, Stats says so, and
// the refused fourth check is counted.
func TestGate_StatsCountRunningWaitingRefused(t *testing.T) {
	g := NewGate(GateConfig{MemoryMiB: 1024, Procs: 1, Queue: 2, Wait: time.Hour})
	release := make(chan struct{})
	var computing atomic.Int64
	g.inside = func() {
		computing.Add(1)
		<-release
	}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { _ = g.Run(func() {}) })
	}
	waitFor(func() bool { return len(g.places) == 3 && computing.Load() == 1 })
	if err := g.Run(func() {}); !errors.Is(err, ErrBusy) {
		t.Fatalf("fourth check: %v, want ErrBusy", err)
	}
	if got, want := g.Stats(), (GateStats{Slots: 1, Running: 1, Waiting: 2, Refused: 1}); got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
	close(release)
	wg.Wait()
	if got, want := g.Stats(), (GateStats{Slots: 1, Refused: 1}); got != want {
		t.Errorf("after: Stats() = %+v, want %+v", got, want)
	}
	var nilGate *Gate
	if got := nilGate.Stats(); got != (GateStats{}) {
		t.Errorf("nil gate: Stats() = %+v, want zero", got)
	}
}
