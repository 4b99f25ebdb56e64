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
}

// RevocationConfig holds a Revocations' dependencies.
type RevocationConfig struct {
	Store     CRLStore
	Authority *pki.Authority
	Validity  time.Duration    // CRL nextUpdate - thisUpdate; default DefaultCRLValidity
	Now       func() time.Time // default time.Now
	Rand      io.Reader        // default crypto/rand
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
// issued (or not yet signed).
func (r *Revocations) OCSP(ctx context.Context, req []byte) ([]byte, error) {
	return r.ocsp.Respond(req, r.c.Now(), func(serial *big.Int) (pki.OCSPStatus, error) {
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
	})
}
