package certs

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"kinko/internal/audit"
)

// WithdrawalWindow is how long after its issuance a certificate never used
// to log in may be withdrawn by its own user.
const WithdrawalWindow = 24 * time.Hour

// ErrNotWithdrawable is a certificate that its user may no longer
// withdraw: it was used to log in, or was issued more than
// WithdrawalWindow ago, or is a renewal. Only a revocation frees its place
// then: by the master user for a general user's, by the bank for the
// master's.
var ErrNotWithdrawable = errors.New("certs: the certificate was used to log in or was issued more than a day ago; it can only be revoked")

// Withdraw is the user's withdrawal, from the issuance page, of a
// certificate issued to them from the login screen that was never saved:
// with the login ID and login password (checked as issuance checks them,
// throttled alike), the certificate in the user's place is revoked
// (cessationOfOperation, cause withdrawn) if it was never used to log in
// and was issued at most WithdrawalWindow ago, so that a new one can be
// issued. A certificate used to log in, older, or a renewal is
// ErrNotWithdrawable; a user without one is ErrNoActiveCertificate.
func (s *Service) Withdraw(ctx context.Context, loginID, password string, from netip.Addr) (Certificate, error) {
	c, err := s.withdraw(ctx, loginID, password, from)
	s.onRevoke("user", err)
	return c, err
}

func (s *Service) withdraw(ctx context.Context, loginID, password string, from netip.Addr) (Certificate, error) {
	u, _, err := s.c.Identity.Authenticate(ctx, loginID, password, "certificate withdrawal", from)
	if err != nil {
		return Certificate{}, err
	}
	now := s.c.Now().UTC()
	cur, err := s.c.Store.CurrentCertificate(ctx, u.ID)
	if errors.Is(err, ErrNotFound) || (err == nil && (cur.Status != StatusIssued || cur.Expired(now))) {
		return Certificate{}, ErrNoActiveCertificate
	}
	if err != nil {
		return Certificate{}, err
	}
	r := Revocation{Reason: "cessationOfOperation", At: now, By: audit.UserActor(u.LoginID)}
	return revokeChecked(ctx, s.c.Store, cur, r, func(c Certificate) error {
		if !Withdrawable(c, now) {
			return ErrNotWithdrawable
		}
		return nil
	}, func(c Certificate) audit.Event {
		return audit.Event{At: now, Type: audit.CertificateRevoked, Actor: r.By, OrganizationID: c.OrganizationID,
			UserID: c.UserID, Serial: c.Serial, Reason: r.Reason, Cause: audit.Withdrawn}
	})
}

// Withdrawable reports whether c may still be withdrawn by its user at
// now: issued from the login screen (not a renewal), never used to log
// in, issued at most WithdrawalWindow ago.
func Withdrawable(c Certificate, now time.Time) bool {
	return c.Status == StatusIssued && c.Renews == 0 && c.FirstUsedAt.IsZero() &&
		!c.IssuedAt.IsZero() && !now.After(c.IssuedAt.Add(WithdrawalWindow))
}
