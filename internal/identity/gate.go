package identity

import (
	"errors"
	"runtime"
	"sync/atomic"
	"time"
)

// ErrBusy is a password check refused because as many as the server
// allows are running and waiting already. The error that carries it is a
// *BusyError, which says when to try again.
var ErrBusy = errors.New("identity: too many password checks at once")

// BusyError is ErrBusy with the time after which a new try may succeed.
type BusyError struct {
	After time.Duration
}

func (e *BusyError) Error() string { return ErrBusy.Error() }

// Unwrap makes errors.Is(err, ErrBusy) hold.
func (e *BusyError) Unwrap() error { return ErrBusy }

// RetryAfter returns how long to wait before trying again.
func (e *BusyError) RetryAfter() time.Duration { return e.After }

// Defaults of a Gate.
const (
	// DefaultPasswordMemoryMiB is the memory the password checks running
	// at once may take together.
	DefaultPasswordMemoryMiB = 128
	// DefaultGateWait is how long a check waits for a free slot before it
	// is refused.
	DefaultGateWait = 30 * time.Second
	// DefaultQueuePerSlot is how many checks may wait per slot.
	DefaultQueuePerSlot = 128
	// DefaultRetryAfter is the wait a refused check suggests.
	DefaultRetryAfter = time.Second
)

// GateConfig sizes a Gate.
type GateConfig struct {
	// MemoryMiB is the memory budget of the checks running at once;
	// default DefaultPasswordMemoryMiB.
	MemoryMiB int
	// PerCheckKiB is the memory of one check; default
	// DefaultParams.MemoryKiB.
	PerCheckKiB uint32
	// Procs is the number of cores the checks may use; default
	// runtime.GOMAXPROCS(0).
	Procs int
	// Queue is how many checks may wait for a slot; beyond them a check
	// is refused at once. Default: DefaultQueuePerSlot times the slots.
	Queue int
	// Wait is how long a check waits for a slot; default DefaultGateWait.
	Wait time.Duration
	// RetryAfter is what a refusal suggests; default DefaultRetryAfter.
	RetryAfter time.Duration
}

// GateSlots returns how many checks of perCheckKiB each may run at once
// within memoryMiB on procs cores: max(1, min(procs, memoryMiB/perCheck)).
func GateSlots(memoryMiB int, perCheckKiB uint32, procs int) int {
	n := procs
	if perCheckKiB > 0 {
		if m := memoryMiB * 1024 / int(perCheckKiB); m < n {
			n = m
		}
	}
	return max(1, n)
}

// Gate bounds the argon2id computations (Hasher.Hash and Hasher.Verify)
// that run at once, so that a flood of login attempts costs the server a
// bounded amount of memory and CPU: a fixed number of slots, a bounded
// queue with a bounded wait, and beyond them ErrBusy. A waiting check
// holds no argon2 memory, only its request; the queue is first come, first
// served, so that during a flood from many clients a real user waits a
// turn instead of losing every race for a free place. A nil *Gate bounds
// nothing.
type Gate struct {
	slots      chan struct{} // one token per running check
	places     chan struct{} // one token per running or waiting check
	wait       time.Duration
	retryAfter time.Duration
	refused    atomic.Uint64 // checks refused as busy
	// inside, when set, runs inside the slot before the check (tests
	// count with it).
	inside func()
}

// NewGate returns a Gate sized by c.
func NewGate(c GateConfig) *Gate {
	if c.MemoryMiB <= 0 {
		c.MemoryMiB = DefaultPasswordMemoryMiB
	}
	if c.PerCheckKiB == 0 {
		c.PerCheckKiB = DefaultParams.MemoryKiB
	}
	if c.Procs <= 0 {
		c.Procs = runtime.GOMAXPROCS(0)
	}
	n := GateSlots(c.MemoryMiB, c.PerCheckKiB, c.Procs)
	if c.Queue <= 0 {
		c.Queue = DefaultQueuePerSlot * n
	}
	if c.Wait <= 0 {
		c.Wait = DefaultGateWait
	}
	if c.RetryAfter <= 0 {
		c.RetryAfter = DefaultRetryAfter
	}
	return &Gate{slots: make(chan struct{}, n), places: make(chan struct{}, n+c.Queue), wait: c.Wait, retryAfter: c.RetryAfter}
}

// Slots returns how many checks run at once; 0 for a nil Gate (no bound).
func (g *Gate) Slots() int {
	if g == nil {
		return 0
	}
	return cap(g.slots)
}

// InUse returns how many checks are running or waiting in the gate.
func (g *Gate) InUse() int {
	if g == nil {
		return 0
	}
	return len(g.places)
}

// GateStats are a gate's figures at one moment.
type GateStats struct {
	Slots   int    // checks that may run at once
	Running int    // checks running
	Waiting int    // checks waiting for a slot
	Refused uint64 // checks refused as busy since the gate was made
}

// Stats returns the gate's figures; zero for a nil Gate.
func (g *Gate) Stats() GateStats {
	if g == nil {
		return GateStats{}
	}
	running, places := len(g.slots), len(g.places)
	return GateStats{Slots: cap(g.slots), Running: running, Waiting: max(places-running, 0), Refused: g.refused.Load()}
}

// Run runs f in one of the gate's slots, as Hash and Verify run argon2id:
// at once when a slot is free, after a wait in the queue otherwise; a
// *BusyError, without running f, when the queue is full or the wait ends
// first. A nil Gate runs f at once.
func (g *Gate) Run(f func()) error { return g.run(f) }

func (g *Gate) run(f func()) error {
	if g == nil {
		f()
		return nil
	}
	select {
	case g.places <- struct{}{}:
	default:
		g.refused.Add(1)
		return &BusyError{After: g.retryAfter}
	}
	defer func() { <-g.places }()
	select {
	case g.slots <- struct{}{}:
	default:
		t := time.NewTimer(g.wait)
		defer t.Stop()
		select {
		case g.slots <- struct{}{}:
		case <-t.C:
			g.refused.Add(1)
			return &BusyError{After: g.retryAfter}
		}
	}
	defer func() { <-g.slots }()
	if g.inside != nil {
		g.inside()
	}
	f()
	return nil
}
