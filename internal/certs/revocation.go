package certs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sync"
	"time"

	"kinko/internal/pki"
)

// DefaultCRLValidity is the time from a CRL's thisUpdate to its nextUpdate.
const DefaultCRLValidity = 24 * time.Hour

// CRLState is the last CRL made: its number (0 before the first), DER and
// times, and the number of revoked certificates it was made from.
type CRLState struct {
	Number      int64
	DER         []byte
	ThisUpdate  time.Time
	NextUpdate  time.Time
	Revocations int64
}

// CRLStore is what the revocation service needs from storage.
type CRLStore interface {
	// CRLState returns the last CRL made and the number of certificates
	// revoked now; the DER is left out when the CRL's number is cached.
	CRLState(ctx context.Context, cached int64) (CRLState, int64, error)
	// UpdateCRL runs fn in a transaction that holds the CRL state locked,
	// with the state, the number of certificates revoked ever (as
	// CRLState counts them) and the revoked certificates whose notAfter is
	// after since, oldest revocation first; when fn returns a new state
	// and true, it is stored. It returns the state in force after it.
	UpdateCRL(ctx context.Context, since time.Time, fn func(cur CRLState, revoked int64, listed []Certificate) (CRLState, bool, error)) (CRLState, error)
	// CertificateHeadBySerial returns a certificate by its hex serial,
	// without its bytes (TBS and DER).
	CertificateHeadBySerial(ctx context.Context, serial string) (Certificate, error)
	// RevocationEpoch returns a counter that every revocation's
	// transaction increments.
	RevocationEpoch(ctx context.Context) (int64, error)
}

// DefaultEpochPoll is how often a server reads the revocation epoch to
// drop its cache of OCSP statuses; a revocation on another server shows in
// its OCSP answers within it.
const DefaultEpochPoll = time.Second

// DefaultStatusCacheEntries bounds the OCSP status cache: about 100 bytes
// an entry with the map's own room, so about 100 MB at most.
const DefaultStatusCacheEntries = 1_000_000

// RevocationConfig holds a Revocations' dependencies.
type RevocationConfig struct {
	Store     CRLStore
	Authority *pki.Authority
	Validity  time.Duration    // CRL nextUpdate - thisUpdate; default DefaultCRLValidity
	Now       func() time.Time // default time.Now
	Rand      io.Reader        // default crypto/rand
	// EpochPoll is the most time between two reads of the revocation
	// epoch, by Now; default DefaultEpochPoll.
	EpochPoll time.Duration
	// CacheEntries bounds the cache of OCSP statuses; default
	// DefaultStatusCacheEntries.
	CacheEntries int
}

// Revocations tells others which certificates are revoked: a CRL of the
// client-issuing CA and an OCSP responder.
type Revocations struct {
	c    RevocationConfig
	ocsp *pki.OCSPResponder

	// crl is the last CRL this server read or made, so that the DER
	// (megabytes in a large bank) is read from the store once per CRL.
	mu  sync.Mutex
	crl CRLState

	status statusCache
}

// statusCache holds the OCSP status of serials the store knows (issued or
// revoked), by serial, read at the revocation epoch epoch. A serial
// the store does not know is never kept: issuance does not change the
// epoch. gen counts the drops, so that a status read before a drop is not
// kept after it.
type statusCache struct {
	mu      sync.Mutex
	m       map[serialKey]knownStatus
	gen     uint64
	epoch   int64
	read    bool      // epoch was read once
	checked time.Time // when the epoch was last read (or is being read)
}

// NewRevocations returns the revocation service.
func NewRevocations(c RevocationConfig) (*Revocations, error) {
	if c.Store == nil {
		return nil, errors.New("certs: revocations: no store")
	}
	if c.Validity <= 0 {
		c.Validity = DefaultCRLValidity
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.EpochPoll <= 0 {
		c.EpochPoll = DefaultEpochPoll
	}
	if c.CacheEntries <= 0 {
		c.CacheEntries = DefaultStatusCacheEntries
	}
	o, err := pki.NewOCSPResponder(c.Authority, c.Rand)
	if err != nil {
		return nil, err
	}
	return &Revocations{c: c, ocsp: o}, nil
}

// stale reports whether the CRL st must be made again at now, with n
// certificates revoked: there is none, a certificate was revoked since, or
// half its validity has passed.
func (r *Revocations) stale(st CRLState, n int64, now time.Time) bool {
	return st.Number == 0 || len(st.DER) == 0 || st.Revocations != n || now.Before(st.ThisUpdate) ||
		!now.Before(st.ThisUpdate.Add(r.c.Validity/2))
}

// CRL returns the DER of the current CRL, making a new one, with the next
// CRL number, when a certificate has been revoked since the last one or
// half of its validity has passed. It lists the revoked certificates that
// have not expired, and those that expired less than a CRL validity ago:
// RFC 5280 3.3 lets a CRL drop an expired certificate once it has appeared
// on one CRL issued after its expiry, which a CRL made within a validity
// of the expiry is. One made is stored and served to every server until
// it is stale. The number is taken in the store's
// transaction, so that two servers never sign two CRLs with one number.
func (r *Revocations) CRL(ctx context.Context) ([]byte, error) {
	now := r.c.Now().UTC().Truncate(time.Second)
	r.mu.Lock()
	cached := r.crl
	r.mu.Unlock()
	st, n, err := r.c.Store.CRLState(ctx, cached.Number)
	if err != nil {
		return nil, err
	}
	if st.Number != 0 && st.Number == cached.Number {
		st.DER = cached.DER
	}
	if !r.stale(st, n, now) {
		r.keep(st)
		return st.DER, nil
	}
	st, err = r.c.Store.UpdateCRL(ctx, now.Add(-r.c.Validity), func(cur CRLState, n int64, revoked []Certificate) (CRLState, bool, error) {
		if !r.stale(cur, n, now) {
			return cur, false, nil // another server made it meanwhile
		}
		entries := make([]pki.RevokedEntry, 0, len(revoked))
		for _, c := range revoked {
			serial, ok := new(big.Int).SetString(c.Serial, 16)
			if !ok {
				return CRLState{}, false, fmt.Errorf("certs: crl: bad serial %q", c.Serial)
			}
			code, _ := ReasonCode(c.RevocationReason)
			entries = append(entries, pki.RevokedEntry{Serial: serial, RevokedAt: c.RevokedAt, ReasonCode: code})
		}
		next := CRLState{Number: cur.Number + 1, ThisUpdate: now, NextUpdate: now.Add(r.c.Validity), Revocations: n}
		der, err := r.c.Authority.CRL(entries, big.NewInt(next.Number), next.ThisUpdate, next.NextUpdate, r.c.Rand)
		if err != nil {
			return CRLState{}, false, err
		}
		next.DER = der
		return next, true, nil
	})
	if err != nil {
		return nil, err
	}
	r.keep(st)
	return st.DER, nil
}

// keep caches st when it is newer than the cached CRL.
func (r *Revocations) keep(st CRLState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if st.Number > r.crl.Number && len(st.DER) > 0 {
		r.crl = st
	}
}

// OCSP answers a DER OCSP request (RFC 6960): good for an issued
// certificate, revoked with its time and reason, unknown for a serial never
// issued (or not yet signed). The status of a known serial is cached until
// the revocation epoch changes: a revocation on this server shows at once
// (Revoked), one on another server within EpochPoll.
func (r *Revocations) OCSP(ctx context.Context, req []byte) ([]byte, error) {
	now := r.c.Now()
	if err := r.pollEpoch(ctx, now); err != nil {
		return nil, err
	}
	return r.ocsp.Respond(req, now, func(serial *big.Int) (pki.OCSPStatus, error) {
		key, keyed := keyOf(serial)
		r.status.mu.Lock()
		known, ok := r.status.m[key]
		gen := r.status.gen
		r.status.mu.Unlock()
		if ok && keyed {
			return known.status(), nil
		}
		st, err := r.readStatus(ctx, serial)
		if err != nil || !st.Known || !keyed {
			return st, err
		}
		r.status.mu.Lock()
		defer r.status.mu.Unlock()
		if r.status.gen != gen {
			return st, nil // dropped meanwhile: st may be older than the drop
		}
		if r.status.m == nil {
			r.status.m = make(map[serialKey]knownStatus)
		}
		if len(r.status.m) >= r.c.CacheEntries {
			for k := range r.status.m { // any one
				delete(r.status.m, k)
				break
			}
		}
		r.status.m[key] = knownStatus{revoked: st.Revoked, at: st.RevokedAt.UnixMicro(), code: int32(st.ReasonCode)}
		return st, nil
	})
}

// serialKey is a serial number of at most 20 bytes (RFC 5280 4.1.2.2),
// big-endian, left-padded with zeros.
type serialKey [20]byte

// keyOf returns serial's key; false for a serial that has none (negative
// or longer than 20 bytes: never issued, so never cached).
func keyOf(serial *big.Int) (serialKey, bool) {
	var k serialKey
	if serial.Sign() < 0 || len(serial.Bytes()) > len(k) {
		return k, false
	}
	serial.FillBytes(k[:])
	return k, true
}

// knownStatus is a cached status: good, or revoked at (Unix
// microseconds, as stored) for reason code.
type knownStatus struct {
	at      int64
	code    int32
	revoked bool
}

func (k knownStatus) status() pki.OCSPStatus {
	if !k.revoked {
		return pki.OCSPStatus{Known: true}
	}
	return pki.OCSPStatus{Known: true, Revoked: true, RevokedAt: time.UnixMicro(k.at).UTC(), ReasonCode: int(k.code)}
}

// readStatus reads the OCSP status of serial from the store.
func (r *Revocations) readStatus(ctx context.Context, serial *big.Int) (pki.OCSPStatus, error) {
	c, err := r.c.Store.CertificateHeadBySerial(ctx, pki.SerialHex(serial))
	if errors.Is(err, ErrNotFound) {
		return pki.OCSPStatus{}, nil
	}
	if err != nil {
		return pki.OCSPStatus{}, err
	}
	switch c.Status {
	case StatusIssued:
		return pki.OCSPStatus{Known: true}, nil
	case StatusRevoked:
		code, _ := ReasonCode(c.RevocationReason)
		return pki.OCSPStatus{Known: true, Revoked: true, RevokedAt: c.RevokedAt, ReasonCode: code}, nil
	default:
		return pki.OCSPStatus{}, nil
	}
}

// pollEpoch reads the revocation epoch when EpochPoll has passed since it
// was last read (one caller reads it; the others go on meanwhile), and
// drops the status cache when it changed.
func (r *Revocations) pollEpoch(ctx context.Context, now time.Time) error {
	c := &r.status
	c.mu.Lock()
	due := !c.read || !now.Before(c.checked.Add(r.c.EpochPoll)) || now.Before(c.checked)
	if due {
		c.checked = now
	}
	first := !c.read
	c.mu.Unlock()
	if !due {
		return nil
	}
	epoch, err := r.c.Store.RevocationEpoch(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		// Nothing is served from a cache whose epoch could not be read.
		c.drop()
		c.read, c.checked = false, time.Time{}
		return err
	}
	if first || epoch != c.epoch {
		c.drop()
		c.epoch = epoch
	}
	c.read = true
	return nil
}

// Revoked drops this server's cache of OCSP statuses: the server calls it
// after each revocation it made, so that its own answers change at once.
func (r *Revocations) Revoked() {
	r.status.mu.Lock()
	defer r.status.mu.Unlock()
	r.status.drop()
}

// drop empties the cache; c.mu is held.
func (c *statusCache) drop() {
	c.m = nil
	c.gen++
}
