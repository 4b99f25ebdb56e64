package certs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"kinko/internal/audit"
)

// The functions of this file are the rules that decide, inside one of the
// store's transactions, what a certificate record may become. Each but
// markIssued takes the organization's lock first (see Tx).

// recordPending records c as pending in its user's active place (R6, R7,
// R11), with the audit event ev, if the user holds no active certificate
// and the organization fewer than limit. In the place, a pending record
// created before staleBefore (a crash between recording and signing) is
// revoked, so that it can never be completed, and does not block; if it was
// a renewal, the certificate it renews, still valid, gets its place back
// and blocks. An expired certificate gives up the place.
func recordPending(ctx context.Context, st Store, c *Certificate, limit int, staleBefore, now time.Time, ev audit.Event) error {
	return st.InTx(ctx, func(tx Tx) error {
		if err := tx.LockOrganization(ctx, c.OrganizationID); err != nil {
			return err
		}
		cur, err := tx.ActiveCertificate(ctx, c.UserID)
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return err
		case cur.Status == StatusPending && cur.CreatedAt.Before(staleBefore):
			r := Revocation{Reason: "unspecified", At: now, By: audit.System}
			restored, evs, err := revokeInTx(ctx, tx, cur, r, audit.Event{At: now, Type: audit.CertificateRevoked, Actor: audit.System,
				OrganizationID: c.OrganizationID, UserID: c.UserID, Serial: cur.Serial, Cause: audit.NeverSigned})
			if err != nil {
				return err
			}
			if restored {
				return ErrActiveCertificateExists
			}
			if err := appendAll(ctx, tx, evs); err != nil {
				return err
			}
		case cur.Status == StatusIssued && cur.Expired(now):
			if err := tx.LeavePlace(ctx, cur.ID); err != nil {
				return err
			}
		default:
			return ErrActiveCertificateExists
		}
		n, err := tx.CountActive(ctx, c.OrganizationID, now)
		if err != nil {
			return err
		}
		if n >= limit {
			return ErrOrganizationLimit
		}
		if err := tx.InsertPending(ctx, c); errors.Is(err, ErrPlaceTaken) {
			return ErrActiveCertificateExists
		} else if err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	})
}

// recordRenewal records c as pending in its user's active place, as the
// renewal of the certificate baseID (R9), with the audit event ev. The base
// must be the user's, issued and unexpired; it leaves the place but stays
// valid. In the place there must be the base, or an unused renewal of it,
// which the new one replaces (revoked as superseded) unless it is pending
// and not yet stale: then its signature is under way.
func recordRenewal(ctx context.Context, st Store, c *Certificate, baseID int64, staleBefore, now time.Time, ev audit.Event) error {
	return st.InTx(ctx, func(tx Tx) error {
		if err := tx.LockOrganization(ctx, c.OrganizationID); err != nil {
			return err
		}
		base, err := tx.LockCertificate(ctx, baseID)
		if errors.Is(err, ErrNotFound) || (err == nil && base.UserID != c.UserID) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if base.Status != StatusIssued || base.Expired(now) {
			return ErrNoActiveCertificate
		}
		cur, err := tx.ActiveCertificate(ctx, c.UserID)
		var evs []audit.Event
		switch {
		case errors.Is(err, ErrNotFound):
			// No certificate holds the place; the renewal takes it.
		case err != nil:
			return err
		case cur.ID == baseID:
			if err := tx.LeavePlace(ctx, baseID); err != nil {
				return err
			}
		case cur.Renews == baseID:
			// An earlier renewal, never used (its first use would have
			// revoked the base): the new one replaces it.
			if cur.Status == StatusPending && !cur.CreatedAt.Before(staleBefore) {
				return ErrRenewalInProgress
			}
			if err := revokeRecord(ctx, tx, cur.ID, Revocation{Reason: "superseded", At: now, By: audit.System}); err != nil {
				return err
			}
			evs = append(evs, audit.Event{At: now, Type: audit.CertificateRevoked, Actor: audit.System, OrganizationID: c.OrganizationID,
				UserID: c.UserID, Serial: cur.Serial, Reason: "superseded"})
		default:
			return ErrNoActiveCertificate
		}
		c.Renews = baseID
		if err := tx.InsertPending(ctx, c); errors.Is(err, ErrPlaceTaken) {
			return ErrRenewalInProgress
		} else if err != nil {
			return err
		}
		return appendAll(ctx, tx, append(evs, ev))
	})
}

// markIssued stores the signed certificate of the pending record id, with
// the audit event ev. A record no longer pending (revoked meanwhile) is not
// changed.
func markIssued(ctx context.Context, st Store, id int64, der []byte, fingerprint string, issuedAt time.Time, ev audit.Event) error {
	return st.InTx(ctx, func(tx Tx) error {
		ok, err := tx.SetIssued(ctx, id, der, fingerprint, issuedAt)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("certs: mark issued: certificate %d is no longer pending", id)
		}
		return tx.AppendAudit(ctx, ev)
	})
}

// revoke revokes the record of c as r says (R12, R13), with the audit event
// that event returns for the record as it stands; ErrAlreadyRevoked if it
// is revoked already, ErrNotFound if there is none. It returns the record
// revoked.
func revoke(ctx context.Context, st Store, c Certificate, r Revocation, event func(cur Certificate) audit.Event) (Certificate, error) {
	return revokeChecked(ctx, st, c, r, nil, event)
}

// revokeChecked is revoke with check, when not nil, run on the record as
// locked: its error leaves the record as it is.
func revokeChecked(ctx context.Context, st Store, c Certificate, r Revocation, check func(cur Certificate) error, event func(cur Certificate) audit.Event) (Certificate, error) {
	var out Certificate
	err := st.InTx(ctx, func(tx Tx) error {
		if err := tx.LockOrganization(ctx, c.OrganizationID); err != nil {
			return err
		}
		cur, err := tx.LockCertificate(ctx, c.ID)
		if err != nil {
			return err
		}
		if cur.Status == StatusRevoked {
			return ErrAlreadyRevoked
		}
		if check != nil {
			if err := check(cur); err != nil {
				return err
			}
		}
		_, evs, err := revokeInTx(ctx, tx, cur, r, event(cur))
		if err != nil {
			return err
		}
		if err := appendAll(ctx, tx, evs); err != nil {
			return err
		}
		out = cur
		out.Status, out.RevokedAt, out.RevocationReason, out.RevokedBy, out.RequestRef = StatusRevoked, r.At, r.Reason, r.By, r.RequestRef
		return nil
	})
	if err != nil {
		return Certificate{}, err
	}
	return out, nil
}

// revokeInTx revokes c, pending or issued, read in tx under the
// organization's lock, and follows the revocation to the certificate c
// renews, if that one is still issued:
//   - c was never signed, being pending (its signing failed, or a crash
//     left it so): the renewed certificate, unexpired at r.At, gets the
//     user's place back, and restored is true;
//   - c was signed and is revoked for any reason but superseded: the
//     renewed certificate, which would have worked until c's first use, is
//     revoked with it, for the same reason (R12).
//
// It returns the audit events to append: ev, and ev for the renewed
// certificate when it revoked that one too.
func revokeInTx(ctx context.Context, tx Tx, c Certificate, r Revocation, ev audit.Event) (restored bool, evs []audit.Event, err error) {
	if err := revokeRecord(ctx, tx, c.ID, r); err != nil {
		return false, nil, err
	}
	evs = []audit.Event{ev}
	if c.Renews == 0 {
		return false, evs, nil
	}
	renewed, err := tx.LockCertificate(ctx, c.Renews)
	if err != nil {
		return false, nil, fmt.Errorf("certs: renewed certificate: %w", err)
	}
	if renewed.Status != StatusIssued {
		return false, evs, nil
	}
	switch {
	case c.Status == StatusPending:
		if r.At.After(renewed.NotAfter) {
			return false, evs, nil
		}
		if err := tx.TakePlace(ctx, renewed.ID); err != nil {
			return false, nil, err
		}
		return true, evs, nil
	case r.Reason == "superseded":
		return false, evs, nil
	}
	if err := revokeRecord(ctx, tx, renewed.ID, r); err != nil {
		return false, nil, err
	}
	ev.Serial, ev.UserID = renewed.Serial, renewed.UserID
	return false, append(evs, ev), nil
}

// revokeRecord marks record id revoked and ends the sessions bound to it.
func revokeRecord(ctx context.Context, tx Tx, id int64, r Revocation) error {
	if err := tx.SetRevoked(ctx, id, r); err != nil {
		return err
	}
	return tx.EndSessions(ctx, id)
}

// appendAll appends the audit events in order.
func appendAll(ctx context.Context, tx Tx, evs []audit.Event) error {
	for _, ev := range evs {
		if err := tx.AppendAudit(ctx, ev); err != nil {
			return err
		}
	}
	return nil
}
