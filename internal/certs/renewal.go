package certs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"kinko/internal/audit"
	"kinko/internal/calendar"
	"kinko/internal/identity"
	"kinko/internal/pki"
)

// DefaultRenewalWindow is R9's window: renewal and the notices begin 40
// days before a certificate expires.
const DefaultRenewalWindow = 40 * 24 * time.Hour

// ReminderDays are the days before expiry on which the daily job reminds a
// user who has not renewed (R9), when they fall inside the window.
var ReminderDays = []int{40, 14, 7, 1}

// Day returns the bank's calendar day of t (in Japan), as YYYY-MM-DD.
func Day(t time.Time) string { return calendar.DateOf(t).String() }

// RenewalWindow returns the configured renewal window.
func (s *Service) RenewalWindow() time.Duration { return s.c.RenewalWindow }

// InRenewalWindow reports whether c can be renewed at now: issued, not
// expired, and no more than the renewal window before its notAfter.
func (s *Service) InRenewalWindow(c Certificate, now time.Time) bool {
	return c.Status == StatusIssued && !c.Expired(now) && !now.Before(c.NotAfter.Add(-s.c.RenewalWindow))
}

// Renewal is where a user's certificate stands in its renewal (R9), as the
// top screen and GET /api/v1/me show it.
type Renewal struct {
	// Due: the certificate is inside its window and not yet renewed.
	Due bool
	// Renewed is the renewal issued for the certificate but not yet used
	// to log in, nil when none.
	Renewed *Certificate
}

// RenewalOf tells where the session's certificate c stands in its renewal.
func (s *Service) RenewalOf(ctx context.Context, c Certificate) (Renewal, error) {
	now := s.c.Now()
	if !s.InRenewalWindow(c, now) {
		return Renewal{}, nil
	}
	cur, err := s.c.Store.CurrentCertificate(ctx, c.UserID)
	if errors.Is(err, ErrNotFound) {
		return Renewal{Due: true}, nil
	}
	if err != nil {
		return Renewal{}, err
	}
	if cur.ID != c.ID && cur.Renews == c.ID && cur.Status == StatusIssued {
		return Renewal{Renewed: &cur}, nil
	}
	return Renewal{Due: true}, nil
}

// Renew is 電子証明書更新 (R9): from inside a certificate-login session
// whose certificate is base, within the renewal window, the user gets a new
// certificate for req's public key. The base keeps working until the new
// one is first used to log in (see OnLogin); a renewal made while an
// earlier one is still unused replaces it. An expired or revoked
// certificate is not renewed: its user issues a new one from the login
// screen (R11).
func (s *Service) Renew(ctx context.Context, u identity.User, org identity.Organization, base Certificate, csr []byte) (Certificate, error) {
	c, err := s.renew(ctx, u, org, base, csr)
	s.onIssue("renew", err)
	return c, err
}

func (s *Service) renew(ctx context.Context, u identity.User, org identity.Organization, base Certificate, csr []byte) (Certificate, error) {
	req, err := pki.ParseCSR(csr)
	if err != nil {
		return Certificate{}, err
	}
	now := s.c.Now().UTC().Truncate(time.Second)
	if base.UserID != u.ID {
		return Certificate{}, ErrForbidden
	}
	if !org.CertificateLogin {
		return Certificate{}, ErrCertificateLoginNotEnabled
	}
	if u.Locked() {
		return Certificate{}, identity.ErrAccountLocked
	}
	switch {
	case base.Status == StatusRevoked:
		return Certificate{}, ErrAlreadyRevoked
	case base.Status != StatusIssued || base.Expired(now):
		return Certificate{}, ErrNoActiveCertificate
	case !s.InRenewalWindow(base, now):
		s.appendAudit(ctx, audit.Event{At: now, Type: audit.CertificateRefused, Actor: audit.UserActor(u.LoginID),
			OrganizationID: org.ID, UserID: u.ID, Serial: base.Serial, Detail: "renewal not due"})
		return Certificate{}, ErrRenewalNotDue
	}
	record := func(c *Certificate, ev audit.Event) error {
		c.Renews = base.ID
		ev.Detail = "renewal of " + base.Serial
		return recordRenewal(ctx, s.c.Store, c, base.ID, now.Add(-staleAfter), now, ev)
	}
	return s.sign(ctx, u, org, req, now, record, audit.CertificateRenewed)
}

// OnLogin is called at each certificate login with the certificate used.
// Its use is recorded (a used certificate can no longer be withdrawn,
// Withdraw). The first login with a renewal revokes the certificate it renews, as
// superseded (R9); and the first login inside the renewal window with a
// certificate not yet renewed gives the user the expiry notice by mail.
func (s *Service) OnLogin(ctx context.Context, c Certificate) error {
	now := s.c.Now().UTC()
	if err := s.c.Store.MarkCertificateUsed(ctx, c.ID, now); err != nil {
		return err
	}
	if c.Renews != 0 {
		old, err := s.c.Store.CertificateByID(ctx, c.Renews)
		if err != nil {
			return fmt.Errorf("certs: renewed certificate: %w", err)
		}
		if old.Status != StatusRevoked {
			_, err := s.revoke(ctx, old, Revocation{Reason: "superseded", At: now, By: audit.System})
			if err != nil && !errors.Is(err, ErrAlreadyRevoked) {
				return err
			}
		}
	}
	if !s.InRenewalWindow(c, now) {
		return nil
	}
	r, err := s.RenewalOf(ctx, c)
	if err != nil || !r.Due {
		return err
	}
	_, err = s.notice(ctx, c, "login", now)
	return err
}

// notice records an expiry notice of c (and, through the store, its mail).
func (s *Service) notice(ctx context.Context, c Certificate, occasion string, now time.Time) (bool, error) {
	ev := audit.Event{At: now, Type: audit.CertificateExpiryNotice, Actor: audit.System, OrganizationID: c.OrganizationID,
		UserID: c.UserID, Serial: c.Serial, Detail: fmt.Sprintf("%d days left, occasion %s", c.DaysLeft(now), occasion)}
	return s.c.Store.RecordExpiryNotice(ctx, c.ID, occasion, Day(now), now, ev)
}

// SendExpiryReminders is the daily job of R9: the users whose certificate
// has ReminderDays days left and has not been renewed get a reminder, once
// per certificate and occasion and at most once a day, however often the
// job runs and on however many servers. It returns how many it sent.
func (s *Service) SendExpiryReminders(ctx context.Context) (int, error) {
	now := s.c.Now().UTC()
	sent := 0
	for _, d := range ReminderDays {
		if time.Duration(d)*24*time.Hour > s.c.RenewalWindow {
			continue
		}
		// d days left (DaysLeft counts a part of a day as a day): notAfter
		// in (now + d-1 days, now + d days].
		occasion := strconv.Itoa(d)
		list, err := s.c.Store.ExpiringCertificates(ctx, now.Add(time.Duration(d-1)*24*time.Hour), now.Add(time.Duration(d)*24*time.Hour), occasion)
		if err != nil {
			return sent, err
		}
		for _, c := range list {
			if c.DaysLeft(now) != d {
				continue
			}
			ok, err := s.notice(ctx, c, occasion, now)
			if err != nil {
				return sent, err
			}
			if ok {
				sent++
			}
		}
	}
	return sent, nil
}
