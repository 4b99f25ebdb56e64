package httpedge

import (
	"fmt"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"kinko/internal/identity"
)

// Defaults of PasswordChecks.
const (
	// DefaultChecksPerClient is how many requests that check a password
	// without a session one client address may have in flight at once.
	DefaultChecksPerClient = 2
	// DefaultChecksClients bounds how many client addresses are tracked
	// at once: beyond them a new address is refused as busy.
	DefaultChecksClients = 10000
)

// PasswordChecks limits the requests that check a password without a
// session (ID + password login on the portal, certificate login,
// certificate issuance with ID + password) that one client address has in
// flight at once, so that one client flooding the server cannot take every
// place in identity's gate. It is per server, in memory: what it guards is
// this server's memory. An IPv6 client counts by its /64, which one
// subscriber usually holds whole. A nil *PasswordChecks limits nothing.
type PasswordChecks struct {
	perClient  int
	maxClients int
	retryAfter time.Duration

	mu       sync.Mutex
	inFlight map[netip.Addr]int // only addresses with requests in flight
}

// NewPasswordChecks returns a limiter of perClient requests in flight per
// address, tracking at most maxClients addresses at once; zero values take
// DefaultChecksPerClient and DefaultChecksClients.
func NewPasswordChecks(perClient, maxClients int) *PasswordChecks {
	if perClient <= 0 {
		perClient = DefaultChecksPerClient
	}
	if maxClients <= 0 {
		maxClients = DefaultChecksClients
	}
	return &PasswordChecks{perClient: perClient, maxClients: maxClients, retryAfter: identity.DefaultRetryAfter,
		inFlight: make(map[netip.Addr]int)}
}

// errClientBusy refuses a request beyond its address's limit: the same
// answer as a busy server (503 server_busy with Retry-After).
func (l *PasswordChecks) errClientBusy() error {
	return fmt.Errorf("httpedge: too many password checks in flight from one client: %w", &identity.BusyError{After: l.retryAfter})
}

// Enter admits r's password check, or refuses it with an error that is
// identity.ErrBusy when its client address has as many in flight as
// allowed. The caller calls release when the check is done.
func (l *PasswordChecks) Enter(r *http.Request) (release func(), err error) {
	if l == nil {
		return func() {}, nil
	}
	key := clientKey(ClientAddress(r))
	l.mu.Lock()
	defer l.mu.Unlock()
	n, ok := l.inFlight[key]
	if n >= l.perClient || (!ok && len(l.inFlight) >= l.maxClients) {
		return nil, l.errClientBusy()
	}
	l.inFlight[key] = n + 1
	var once sync.Once
	return func() { once.Do(func() { l.leave(key) }) }, nil
}

func (l *PasswordChecks) leave(key netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := l.inFlight[key]; n > 1 {
		l.inFlight[key] = n - 1
	} else {
		delete(l.inFlight, key)
	}
}

// clientKey is the address a client is counted by: an IPv4 address, or
// the /64 of an IPv6 address.
func clientKey(a netip.Addr) netip.Addr {
	if a.Is6() && !a.Is4In6() {
		if p, err := a.Prefix(64); err == nil {
			return p.Addr()
		}
	}
	return a
}
