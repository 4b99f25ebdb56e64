package certs_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"kinko/internal/audit"
	"kinko/internal/certs"
	"kinko/internal/identity"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// The rules that decide, inside one of the store's transactions, what a
// certificate record may become: recording one to be signed (R6, R7, R11),
// recording a renewal (R9), storing a signature, revoking (R12, R13).

var recordT0 = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)

// recordRig is a database, its certificate store and organizations of
// users made directly in it.
type recordRig struct {
	db    *store.DB
	st    certs.Store
	ident *identity.Service
	seq   atomic.Int64
}

func newRecordRig(t *testing.T, db *store.DB) *recordRig {
	return &recordRig{db: db, st: db.Certs(), ident: benchServices(t, db).Identity}
}

// org returns n users of a new organization, the first its master.
func (r *recordRig) org(t *testing.T, n int) []identity.User {
	t.Helper()
	users, _ := seedBenchUsers(t, r.db, r.ident, fmt.Sprintf("r%d_", r.seq.Add(1)), n, n)
	return users
}

// pending returns a pending record for u created at created, valid a year,
// not yet stored.
func (r *recordRig) pending(u identity.User, created time.Time) certs.Certificate {
	return certs.Certificate{Serial: fmt.Sprintf("%x", 1<<40+r.seq.Add(1)), UserID: u.ID, OrganizationID: u.OrganizationID,
		Status: certs.StatusPending, TBS: []byte{0x30, 0}, NotBefore: created, NotAfter: created.AddDate(1, 0, 0), CreatedAt: created}
}

func requested(c certs.Certificate) audit.Event {
	return audit.Event{At: c.CreatedAt, Type: audit.CertificateRequested, Actor: audit.System,
		OrganizationID: c.OrganizationID, UserID: c.UserID, Serial: c.Serial}
}

// record records c at now with the limit of R6 and a record stale after 2
// minutes, as IssueFor does.
func (r *recordRig) record(c *certs.Certificate, limit int, now time.Time) error {
	return certs.RecordPending(context.Background(), r.st, c, limit, now.Add(-2*time.Minute), now, requested(*c))
}

// renew records c at now as the renewal of base.
func (r *recordRig) renew(c *certs.Certificate, baseID int64, now time.Time) error {
	return certs.RecordRenewal(context.Background(), r.st, c, baseID, now.Add(-2*time.Minute), now, requested(*c))
}

func (r *recordRig) mark(t *testing.T, c *certs.Certificate) {
	t.Helper()
	err := certs.MarkIssued(context.Background(), r.st, c.ID, []byte{0x30, 1, byte(c.ID)}, fmt.Sprintf("%064x", c.ID), c.CreatedAt,
		audit.Event{At: c.CreatedAt, Type: audit.CertificateIssued, Actor: audit.System, UserID: c.UserID, Serial: c.Serial})
	if err != nil {
		t.Fatalf("mark issued: %v", err)
	}
	c.Status, c.DER = certs.StatusIssued, []byte{0x30, 1, byte(c.ID)}
}

// mustPending records a pending record for u created at created.
func (r *recordRig) mustPending(t *testing.T, u identity.User, created time.Time) certs.Certificate {
	t.Helper()
	c := r.pending(u, created)
	if err := r.record(&c, certs.MaxPerOrganization, created); err != nil {
		t.Fatalf("record pending: %v", err)
	}
	return c
}

// issued records and signs a certificate for u, from created to notAfter.
func (r *recordRig) issued(t *testing.T, u identity.User, created, notAfter time.Time) certs.Certificate {
	t.Helper()
	c := r.pending(u, created)
	c.NotAfter = notAfter
	if err := r.record(&c, certs.MaxPerOrganization, created); err != nil {
		t.Fatalf("record pending: %v", err)
	}
	r.mark(t, &c)
	return c
}

// renewed records and signs a renewal of base for u at created.
func (r *recordRig) renewed(t *testing.T, u identity.User, base certs.Certificate, created time.Time) certs.Certificate {
	t.Helper()
	c := r.pending(u, created)
	if err := r.renew(&c, base.ID, created); err != nil {
		t.Fatalf("renew: %v", err)
	}
	r.mark(t, &c)
	return c
}

func (r *recordRig) byID(t *testing.T, id int64) certs.Certificate {
	t.Helper()
	c, err := r.db.CertificateByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// current returns the ID of the record in u's active place, 0 when none.
func (r *recordRig) current(t *testing.T, u identity.User) int64 {
	t.Helper()
	c, err := r.db.CurrentCertificate(context.Background(), u.ID)
	if errors.Is(err, certs.ErrNotFound) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func (r *recordRig) revokeBy(t *testing.T, c certs.Certificate, reason string, at time.Time) certs.Certificate {
	t.Helper()
	got, err := certs.Revoke(context.Background(), r.st, c, certs.Revocation{Reason: reason, At: at, By: "user:test"})
	if err != nil {
		t.Fatalf("revoke: %v", err)
	}
	return got
}

// events returns u's certificate events as "type serial cause reason".
func (r *recordRig) events(t *testing.T, u identity.User, typ audit.Type) []audit.Event {
	t.Helper()
	evs, err := r.db.ListAudit(context.Background(), store.AuditFilter{UserID: u.ID, Type: typ})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestR6_RecordPending(t *testing.T) {
	hour := time.Hour
	cases := []struct {
		name string
		// prepare makes the records of the organization's users us and
		// returns the user to record for, the time and R6's limit.
		prepare func(t *testing.T, r *recordRig, us []identity.User) (identity.User, time.Time, int)
		want    error
		// check looks at the records afterwards; c is the new record.
		check func(t *testing.T, r *recordRig, us []identity.User, c certs.Certificate)
	}{
		{
			name: "R6 an issued unexpired certificate holds the place",
			prepare: func(t *testing.T, r *recordRig, us []identity.User) (identity.User, time.Time, int) {
				r.issued(t, us[0], recordT0, recordT0.AddDate(1, 0, 0))
				return us[0], recordT0.Add(hour), certs.MaxPerOrganization
			},
			want: certs.ErrActiveCertificateExists,
			check: func(t *testing.T, r *recordRig, us []identity.User, _ certs.Certificate) {
				if n := len(r.events(t, us[0], audit.CertificateRequested)); n != 1 {
					t.Errorf("requested events %d, want 1 (refusals write none)", n)
				}
			},
		},
		{
			name: "R6 a certificate at its notAfter still holds the place",
			prepare: func(t *testing.T, r *recordRig, us []identity.User) (identity.User, time.Time, int) {
				c := r.issued(t, us[0], recordT0, recordT0.AddDate(1, 0, 0))
				return us[0], c.NotAfter, certs.MaxPerOrganization
			},
			want: certs.ErrActiveCertificateExists,
		},
		{
			name: "R6 a recent pending record holds the place",
			prepare: func(t *testing.T, r *recordRig, us []identity.User) (identity.User, time.Time, int) {
				r.mustPending(t, us[0], recordT0)
				return us[0], recordT0.Add(2 * time.Minute), certs.MaxPerOrganization // not before staleBefore
			},
			want: certs.ErrActiveCertificateExists,
		},
		{
			name: "a stale pending record is revoked as never signed and frees the place",
			prepare: func(t *testing.T, r *recordRig, us []identity.User) (identity.User, time.Time, int) {
				r.mustPending(t, us[0], recordT0)
				return us[0], recordT0.Add(2*time.Minute + time.Microsecond), certs.MaxPerOrganization
			},
			check: func(t *testing.T, r *recordRig, us []identity.User, c certs.Certificate) {
				evs := r.events(t, us[0], audit.CertificateRevoked)
				if len(evs) != 1 || evs[0].Cause != audit.NeverSigned || evs[0].Actor != audit.System {
					t.Fatalf("revocation events %+v, want one 'never signed' by the system", evs)
				}
				stale, err := r.db.CertificateBySerial(context.Background(), evs[0].Serial)
				if err != nil || stale.Status != certs.StatusRevoked || stale.RevocationReason != "unspecified" ||
					stale.RevokedBy != audit.System || !stale.RevokedAt.Equal(c.CreatedAt) {
					t.Errorf("stale record %+v, %v; want revoked at %s, unspecified, by the system", stale, err, c.CreatedAt)
				}
				if got := r.current(t, us[0]); got != c.ID {
					t.Errorf("current certificate %d, want the new one %d", got, c.ID)
				}
			},
		},
		{
			name: "R9 a stale renewal gives the renewed certificate its place back",
			prepare: func(t *testing.T, r *recordRig, us []identity.User) (identity.User, time.Time, int) {
				base := r.issued(t, us[0], recordT0, recordT0.AddDate(1, 0, 0))
				c := r.pending(us[0], recordT0.Add(hour))
				if err := r.renew(&c, base.ID, recordT0.Add(hour)); err != nil {
					t.Fatal(err)
				}
				return us[0], recordT0.Add(2 * hour), certs.MaxPerOrganization
			},
			want: certs.ErrActiveCertificateExists,
		},
		{
			name: "R11 an expired certificate gives up its place",
			prepare: func(t *testing.T, r *recordRig, us []identity.User) (identity.User, time.Time, int) {
				c := r.issued(t, us[0], recordT0, recordT0.AddDate(1, 0, 0))
				return us[0], c.NotAfter.Add(time.Second), certs.MaxPerOrganization
			},
			check: func(t *testing.T, r *recordRig, us []identity.User, c certs.Certificate) {
				if got := r.current(t, us[0]); got != c.ID {
					t.Errorf("current certificate %d, want the new one %d", got, c.ID)
				}
				var status string
				if err := r.db.SQL().QueryRow(`SELECT status FROM certificates WHERE user_id = $1 AND id <> $2`, us[0].ID, c.ID).Scan(&status); err != nil || status != "issued" {
					t.Errorf("expired certificate: %q, %v; want it kept as issued", status, err)
				}
			},
		},
		{
			name: "R6 the organization's limit counts pending and unexpired certificates",
			prepare: func(t *testing.T, r *recordRig, us []identity.User) (identity.User, time.Time, int) {
				now := recordT0.AddDate(0, 1, 0)
				r.issued(t, us[0], now.Add(-hour), now.AddDate(1, 0, 0)) // active
				r.mustPending(t, us[1], now.Add(-time.Minute))           // pending: counts
				r.issued(t, us[2], recordT0, now.Add(-time.Second))      // expired: does not count
				rev := r.issued(t, us[3], recordT0, now.AddDate(1, 0, 0))
				r.revokeBy(t, rev, "superseded", now) // revoked: does not count
				c := r.pending(us[4], now)
				if err := r.record(&c, 3, now); err != nil {
					t.Fatalf("third active certificate with a limit of 3: %v", err)
				}
				return us[5], now, 3
			},
			want: certs.ErrOrganizationLimit,
			check: func(t *testing.T, r *recordRig, us []identity.User, _ certs.Certificate) {
				if got := r.current(t, us[5]); got != 0 {
					t.Errorf("refused user holds record %d", got)
				}
				// The limit is per organization.
				other := r.org(t, 1)[0]
				c := r.pending(other, recordT0.AddDate(0, 1, 0))
				if err := r.record(&c, 3, c.CreatedAt); err != nil {
					t.Errorf("another organization: %v", err)
				}
			},
		},
	}
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		r := newRecordRig(t, db)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				us := r.org(t, 6)
				u, now, limit := tc.prepare(t, r, us)
				c := r.pending(u, now)
				err := r.record(&c, limit, now)
				if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
					t.Fatalf("record: %v, want %v", err, tc.want)
				}
				if tc.check != nil {
					tc.check(t, r, us, c)
				}
			})
		}
	})
}

func TestR9_RecordRenewal(t *testing.T) {
	day := 24 * time.Hour
	notAfter := recordT0.AddDate(1, 0, 0)
	inWindow := notAfter.Add(-10 * day)
	cases := []struct {
		name string
		// prepare returns the certificate to renew and the time.
		prepare func(t *testing.T, r *recordRig, u, other identity.User) (certs.Certificate, time.Time)
		want    error
		check   func(t *testing.T, r *recordRig, u identity.User, base, c certs.Certificate)
	}{
		{
			name: "the certificate in the place leaves it and stays valid",
			prepare: func(t *testing.T, r *recordRig, u, _ identity.User) (certs.Certificate, time.Time) {
				return r.issued(t, u, recordT0, notAfter), inWindow
			},
			check: func(t *testing.T, r *recordRig, u identity.User, base, c certs.Certificate) {
				if got := r.current(t, u); got != c.ID {
					t.Errorf("current certificate %d, want the renewal %d", got, c.ID)
				}
				if got := r.byID(t, c.ID); got.Renews != base.ID || got.Status != certs.StatusPending {
					t.Errorf("renewal %+v, want pending, renewing %d", got, base.ID)
				}
				if got := r.byID(t, base.ID); got.Status != certs.StatusIssued {
					t.Errorf("renewed certificate %s, want issued", got.Status)
				}
			},
		},
		{
			name: "another user's certificate is not found",
			prepare: func(t *testing.T, r *recordRig, _, other identity.User) (certs.Certificate, time.Time) {
				return r.issued(t, other, recordT0, notAfter), inWindow
			},
			want: certs.ErrNotFound,
		},
		{
			name: "an unknown certificate is not found",
			prepare: func(t *testing.T, r *recordRig, _, _ identity.User) (certs.Certificate, time.Time) {
				return certs.Certificate{ID: 987654321}, inWindow
			},
			want: certs.ErrNotFound,
		},
		{
			name: "R12 a revoked certificate is not renewed",
			prepare: func(t *testing.T, r *recordRig, u, _ identity.User) (certs.Certificate, time.Time) {
				c := r.issued(t, u, recordT0, notAfter)
				r.revokeBy(t, c, "keyCompromise", inWindow.Add(-day))
				return c, inWindow
			},
			want: certs.ErrNoActiveCertificate,
		},
		{
			name: "R11 an expired certificate is not renewed",
			prepare: func(t *testing.T, r *recordRig, u, _ identity.User) (certs.Certificate, time.Time) {
				return r.issued(t, u, recordT0, notAfter), notAfter.Add(time.Second)
			},
			want: certs.ErrNoActiveCertificate,
		},
		{
			name: "an unused renewal is replaced and revoked as superseded",
			prepare: func(t *testing.T, r *recordRig, u, _ identity.User) (certs.Certificate, time.Time) {
				base := r.issued(t, u, recordT0, notAfter)
				r.renewed(t, u, base, inWindow)
				return base, inWindow.Add(time.Hour)
			},
			check: func(t *testing.T, r *recordRig, u identity.User, base, c certs.Certificate) {
				evs := r.events(t, u, audit.CertificateRevoked)
				if len(evs) != 1 || evs[0].Reason != "superseded" {
					t.Fatalf("revocation events %+v, want the first renewal's, superseded", evs)
				}
				if first, err := r.db.CertificateBySerial(context.Background(), evs[0].Serial); err != nil || first.Status != certs.StatusRevoked || first.Renews != base.ID {
					t.Errorf("first renewal %+v, %v", first, err)
				}
				if got := r.current(t, u); got != c.ID {
					t.Errorf("current certificate %d, want the second renewal %d", got, c.ID)
				}
			},
		},
		{
			name: "a renewal being signed refuses another",
			prepare: func(t *testing.T, r *recordRig, u, _ identity.User) (certs.Certificate, time.Time) {
				base := r.issued(t, u, recordT0, notAfter)
				c := r.pending(u, inWindow)
				if err := r.renew(&c, base.ID, inWindow); err != nil {
					t.Fatal(err)
				}
				return base, inWindow.Add(time.Minute)
			},
			want: certs.ErrRenewalInProgress,
		},
		{
			name: "a stale renewal never signed is replaced",
			prepare: func(t *testing.T, r *recordRig, u, _ identity.User) (certs.Certificate, time.Time) {
				base := r.issued(t, u, recordT0, notAfter)
				c := r.pending(u, inWindow)
				if err := r.renew(&c, base.ID, inWindow); err != nil {
					t.Fatal(err)
				}
				return base, inWindow.Add(time.Hour)
			},
			check: func(t *testing.T, r *recordRig, u identity.User, base, c certs.Certificate) {
				if got := r.current(t, u); got != c.ID {
					t.Errorf("current certificate %d, want the new renewal %d", got, c.ID)
				}
				if got := r.byID(t, base.ID); got.Status != certs.StatusIssued {
					t.Errorf("renewed certificate %s, want issued", got.Status)
				}
			},
		},
		{
			name: "a certificate whose renewal was renewed in turn",
			prepare: func(t *testing.T, r *recordRig, u, _ identity.User) (certs.Certificate, time.Time) {
				base := r.issued(t, u, recordT0, notAfter)
				second := r.renewed(t, u, base, inWindow)
				r.renewed(t, u, second, inWindow.Add(time.Hour))
				return base, inWindow.Add(2 * time.Hour)
			},
			want: certs.ErrNoActiveCertificate,
		},
	}
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		r := newRecordRig(t, db)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				us := r.org(t, 2)
				u, other := us[0], us[1]
				base, now := tc.prepare(t, r, u, other)
				c := r.pending(u, now)
				err := r.renew(&c, base.ID, now)
				if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
					t.Fatalf("renew: %v, want %v", err, tc.want)
				}
				if tc.check != nil {
					tc.check(t, r, u, base, c)
				}
			})
		}
	})
}

func TestR12_RevokeRecord(t *testing.T) {
	notAfter := recordT0.AddDate(1, 0, 0)
	at := notAfter.AddDate(0, 0, -10)
	cases := []struct {
		name   string
		reason string
		// prepare returns the record to revoke, as the caller read it.
		prepare func(t *testing.T, r *recordRig, u identity.User) certs.Certificate
		want    error
		// wantRows are the user's records afterwards, oldest first, as
		// "status reason", and whether the first holds the place.
		wantRows []string
		// wantEvents are the user's revocation events as "cause reason".
		wantEvents []string
	}{
		{
			name: "an issued certificate", reason: "keyCompromise",
			prepare: func(t *testing.T, r *recordRig, u identity.User) certs.Certificate {
				return r.issued(t, u, recordT0, notAfter)
			},
			wantRows:   []string{"revoked keyCompromise"},
			wantEvents: []string{" keyCompromise"},
		},
		{
			name: "a pending record was never signed", reason: "unspecified",
			prepare: func(t *testing.T, r *recordRig, u identity.User) certs.Certificate {
				return r.mustPending(t, u, recordT0)
			},
			wantRows:   []string{"revoked unspecified"},
			wantEvents: []string{string(audit.NeverSigned) + " unspecified"},
		},
		{
			name: "a certificate revoked meanwhile", reason: "keyCompromise",
			prepare: func(t *testing.T, r *recordRig, u identity.User) certs.Certificate {
				c := r.issued(t, u, recordT0, notAfter)
				r.revokeBy(t, c, "superseded", at)
				return c // read as issued, before the revocation
			},
			want:       certs.ErrAlreadyRevoked,
			wantRows:   []string{"revoked superseded"},
			wantEvents: []string{" superseded"},
		},
		{
			name: "an unknown record", reason: "keyCompromise",
			prepare: func(t *testing.T, r *recordRig, u identity.User) certs.Certificate {
				return certs.Certificate{ID: 987654321, OrganizationID: u.OrganizationID, Status: certs.StatusIssued}
			},
			want: certs.ErrNotFound,
		},
		{
			name: "R12 a signed renewal takes the renewed certificate along", reason: "affiliationChanged",
			prepare: func(t *testing.T, r *recordRig, u identity.User) certs.Certificate {
				return r.renewed(t, u, r.issued(t, u, recordT0, notAfter), at)
			},
			wantRows:   []string{"revoked affiliationChanged", "revoked affiliationChanged"},
			wantEvents: []string{" affiliationChanged", " affiliationChanged"},
		},
		{
			name: "R9 a renewal superseded leaves the renewed certificate", reason: "superseded",
			prepare: func(t *testing.T, r *recordRig, u identity.User) certs.Certificate {
				return r.renewed(t, u, r.issued(t, u, recordT0, notAfter), at)
			},
			wantRows:   []string{"issued ", "revoked superseded"},
			wantEvents: []string{" superseded"},
		},
		{
			name: "R9 a renewal never signed gives the renewed certificate its place back", reason: "unspecified",
			prepare: func(t *testing.T, r *recordRig, u identity.User) certs.Certificate {
				base := r.issued(t, u, recordT0, notAfter)
				c := r.pending(u, at)
				if err := r.renew(&c, base.ID, at); err != nil {
					t.Fatal(err)
				}
				return c
			},
			wantRows:   []string{"issued  in place", "revoked unspecified"},
			wantEvents: []string{string(audit.NeverSigned) + " unspecified"},
		},
	}
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		r := newRecordRig(t, db)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				u := r.org(t, 1)[0]
				c := tc.prepare(t, r, u)
				got, err := certs.Revoke(context.Background(), r.st, c, certs.Revocation{Reason: tc.reason, At: at.Add(time.Hour), By: "user:test"})
				if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
					t.Fatalf("revoke: %v, want %v", err, tc.want)
				}
				if err == nil && (got.ID != c.ID || got.Status != certs.StatusRevoked || got.RevocationReason != tc.reason) {
					t.Errorf("revoked %+v", got)
				}
				var rows []string
				list, err := r.db.ListCertificates(context.Background(), u.OrganizationID)
				if err != nil {
					t.Fatal(err)
				}
				cur := r.current(t, u)
				for i := len(list) - 1; i >= 0; i-- {
					row := string(list[i].Status) + " " + list[i].RevocationReason
					if list[i].ID == cur && len(list) > 1 {
						row += " in place"
					}
					rows = append(rows, row)
				}
				if fmt.Sprint(rows) != fmt.Sprint(tc.wantRows) {
					t.Errorf("records %q, want %q", rows, tc.wantRows)
				}
				var evs []string
				for _, ev := range r.events(t, u, audit.CertificateRevoked) {
					evs = append(evs, string(ev.Cause)+" "+ev.Reason)
				}
				if fmt.Sprint(evs) != fmt.Sprint(tc.wantEvents) {
					t.Errorf("revocation events %q, want %q", evs, tc.wantEvents)
				}
			})
		}
	})
}

func TestMarkIssuedOnlyFromPending(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r := newRecordRig(t, db)
		u := r.org(t, 1)[0]
		c := r.mustPending(t, u, recordT0)
		r.mark(t, &c)
		mark := func() error {
			return certs.MarkIssued(ctx, r.st, c.ID, []byte("other"), fmt.Sprintf("%064x", 1), recordT0,
				audit.Event{At: recordT0, Type: audit.CertificateIssued, Actor: audit.System, UserID: u.ID, Serial: c.Serial})
		}
		if err := mark(); err == nil {
			t.Fatal("marking an issued certificate issued again succeeded")
		}
		r.revokeBy(t, c, "unspecified", recordT0)
		if err := mark(); err == nil {
			t.Fatal("marking a revoked certificate issued succeeded")
		}
		if got := r.byID(t, c.ID); string(got.DER) == "other" || got.Status != certs.StatusRevoked {
			t.Errorf("record after refused updates %+v", got)
		}
		if n := len(r.events(t, u, audit.CertificateIssued)); n != 1 {
			t.Errorf("issued events %d, want 1", n)
		}
	})
}
