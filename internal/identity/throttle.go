package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// ErrThrottled is a login ID + password refused, before its password is
// looked at, because of the failures before it from the same address or
// for the same login ID. A ThrottledError says when to try again.
var ErrThrottled = errors.New("identity: too many failed attempts")

// ThrottledError is ErrThrottled with the time to wait.
type ThrottledError struct {
	// Wait is how long the throttle holds; at least a second.
	Wait time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("identity: too many failed attempts, retry after %s", e.Wait)
}

// Is makes a ThrottledError ErrThrottled.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// RetryAfter returns how long to wait before trying again.
func (e *ThrottledError) RetryAfter() time.Duration { return e.Wait }

// ThrottleRule is how failed attempts of one key (a login ID, a client
// address) are throttled: the first Free failures cost nothing; each one
// after them blocks the key for Base, doubled at each further failure, at
// most Max. The count is forgotten Window after the last failure.
type ThrottleRule struct {
	Free   int
	Base   time.Duration
	Max    time.Duration
	Window time.Duration
}

// Throttle holds the rules of the login ID + password paths (portal login
// and certificate issuance).
type Throttle struct {
	PerLoginID ThrottleRule
	PerAddress ThrottleRule
}

// DefaultThrottle are the rules when none are configured: per login ID,
// 5 free failures, then 1 s doubling up to 15 min, for a day; per address,
// where offices share one, 30 free failures within an hour.
var DefaultThrottle = Throttle{
	PerLoginID: ThrottleRule{Free: 5, Base: time.Second, Max: 15 * time.Minute, Window: 24 * time.Hour},
	PerAddress: ThrottleRule{Free: 30, Base: time.Second, Max: 15 * time.Minute, Window: time.Hour},
}

func (r ThrottleRule) withDefaults(d ThrottleRule) ThrottleRule {
	if r.Free == 0 {
		r.Free = d.Free
	}
	if r.Base == 0 {
		r.Base = d.Base
	}
	if r.Max == 0 {
		r.Max = d.Max
	}
	if r.Window == 0 {
		r.Window = d.Window
	}
	return r
}

// ThrottleState is the stored state of one throttled key: its failures
// within the window, until when it is blocked and when the row may go.
type ThrottleState struct {
	Key          string
	Failures     int
	BlockedUntil time.Time
	ExpiresAt    time.Time
}

// throttleKey is one key and its rule.
type throttleKey struct {
	key  string
	rule ThrottleRule
}

// throttleKeys returns the keys of an attempt, in the order their rows are
// locked: the address first, then the login ID. The login ID is keyed by a
// hash of its lower-case form (any ID, existing or not, has its row, and
// the table holds no login IDs); IPv6 addresses by their /64, which one
// client usually holds whole.
func (s *Service) throttleKeys(loginID string, from netip.Addr) []throttleKey {
	addr := "ip:unknown"
	if from.IsValid() {
		a := from.Unmap().WithZone("")
		if a.Is6() {
			p, _ := a.Prefix(64)
			addr = "ip:" + p.String()
		} else {
			addr = "ip:" + a.String()
		}
	}
	h := sha256.Sum256([]byte(strings.ToLower(loginID)))
	th := s.throttle.Load()
	return []throttleKey{
		{key: addr, rule: th.PerAddress},
		{key: "id:" + hex.EncodeToString(h[:]), rule: th.PerLoginID},
	}
}

// checkThrottle returns a ThrottledError when any key is blocked now. It
// reads without a lock: a burst of parallel attempts may each pass before
// the first failure is written, as many as the edge lets run at once.
func (s *Service) checkThrottle(ctx context.Context, keys []throttleKey, now time.Time) error {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.key
	}
	states, err := s.store.LoginThrottles(ctx, names)
	if err != nil {
		return fmt.Errorf("identity: read throttles: %w", err)
	}
	var wait time.Duration
	for _, st := range states {
		if now.Before(st.ExpiresAt) && now.Before(st.BlockedUntil) {
			wait = max(wait, st.BlockedUntil.Sub(now))
		}
	}
	if wait > 0 {
		return &ThrottledError{Wait: wait}
	}
	return nil
}

// countThrottleFailure counts one failure of every key in tx and blocks
// the keys whose free failures are spent.
func countThrottleFailure(ctx context.Context, tx Tx, keys []throttleKey, now time.Time) error {
	for _, k := range keys {
		st, err := tx.LockThrottle(ctx, k.key)
		if err != nil {
			return err
		}
		if !now.Before(st.ExpiresAt) {
			st = ThrottleState{Key: k.key}
		}
		st.Key = k.key
		st.Failures++
		if over := st.Failures - k.rule.Free; over > 0 {
			d := k.rule.Base
			for i := 1; i < over && d < k.rule.Max; i++ {
				d *= 2
			}
			d = min(d, k.rule.Max)
			st.BlockedUntil = now.Add(d)
		}
		st.ExpiresAt = now.Add(k.rule.Window)
		if st.BlockedUntil.After(st.ExpiresAt) {
			st.ExpiresAt = st.BlockedUntil
		}
		if err := tx.SetThrottle(ctx, st); err != nil {
			return err
		}
	}
	return nil
}
