package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"kinko/internal/audit"
	"kinko/internal/certs"
	"kinko/internal/identity"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

func TestRecordPending(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		record := func(c *certs.Certificate, limit int, now time.Time) error {
			return db.RecordPending(ctx, c, limit, now.Add(-2*time.Minute), now, unitRequested(*c))
		}

		t.Run("an issued unexpired certificate holds the place", func(t *testing.T) {
			_, master := unitOrg(t, db)
			cur := unitIssued(t, db, master, unitT0, unitT0.AddDate(1, 0, 0))
			for _, now := range []time.Time{unitT0.Add(time.Hour), cur.NotAfter} { // notAfter itself is still valid
				c := unitPendingRecord(master, now)
				if err := record(&c, certs.MaxPerOrganization, now); !errors.Is(err, certs.ErrActiveCertificateExists) {
					t.Fatalf("record at %s: %v, want ErrActiveCertificateExists", now, err)
				}
			}
			if n := unitCount(t, db, `SELECT COUNT(*) FROM certificates WHERE user_id = $1`, master.ID); n != 1 {
				t.Errorf("certificates %d, want 1", n)
			}
			if evs := unitAudit(t, db, store.AuditFilter{UserID: master.ID, Type: audit.CertificateRequested}); len(evs) != 1 {
				t.Errorf("requested events %d, want 1 (refusals write none)", len(evs))
			}
		})

		t.Run("a recent pending record holds the place", func(t *testing.T) {
			_, master := unitOrg(t, db)
			unitPending(t, db, master, unitT0)
			now := unitT0.Add(2 * time.Minute) // staleBefore = unitT0: not before it
			c := unitPendingRecord(master, now)
			if err := record(&c, certs.MaxPerOrganization, now); !errors.Is(err, certs.ErrActiveCertificateExists) {
				t.Fatalf("record beside a recent pending one: %v, want ErrActiveCertificateExists", err)
			}
		})

		t.Run("a stale pending record is revoked and frees the place", func(t *testing.T) {
			_, master := unitOrg(t, db)
			stale := unitPending(t, db, master, unitT0)
			now := unitT0.Add(2*time.Minute + time.Microsecond)
			c := unitPendingRecord(master, now)
			if err := record(&c, certs.MaxPerOrganization, now); err != nil {
				t.Fatalf("record beside a stale pending one: %v", err)
			}
			got, err := db.CertificateByID(ctx, stale.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != certs.StatusRevoked || !got.RevokedAt.Equal(now) || got.RevocationReason != "unspecified" || got.RevokedBy != audit.System {
				t.Errorf("stale record %+v, want revoked at %s, unspecified, by system", got, now)
			}
			evs := unitAudit(t, db, store.AuditFilter{UserID: master.ID, Type: audit.CertificateRevoked})
			if len(evs) != 1 || evs[0].Cause != audit.NeverSigned || evs[0].Serial != stale.Serial || evs[0].Actor != audit.System {
				t.Errorf("revocation events %+v, want one 'never signed' for %s", evs, stale.Serial)
			}
			if cur, err := db.CurrentCertificate(ctx, master.ID); err != nil || cur.ID != c.ID {
				t.Errorf("current certificate %+v, %v; want %d", cur, err, c.ID)
			}
		})

	})
}

func TestR11_ExpiredCertificateGivesUpItsPlace(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		record := func(c *certs.Certificate, limit int, now time.Time) error {
			return db.RecordPending(ctx, c, limit, now.Add(-2*time.Minute), now, unitRequested(*c))
		}
		_, master := unitOrg(t, db)
		old := unitIssued(t, db, master, unitT0, unitT0.AddDate(1, 0, 0))
		now := old.NotAfter.Add(time.Second)
		c := unitPendingRecord(master, now)
		if err := record(&c, certs.MaxPerOrganization, now); err != nil {
			t.Fatalf("record after expiry: %v", err)
		}
		cur, err := db.CurrentCertificate(ctx, master.ID)
		if err != nil || cur.ID != c.ID || cur.Status != certs.StatusPending {
			t.Fatalf("current certificate %+v, %v; want the new pending one %d", cur, err, c.ID)
		}
		was, err := db.CertificateByID(ctx, old.ID)
		if err != nil || was.Status != certs.StatusIssued {
			t.Fatalf("expired certificate %+v, %v; want it kept as issued", was, err)
		}
		if n := unitCount(t, db, `SELECT COUNT(*) FROM certificates WHERE id = $1 AND active_slot IS NULL`, old.ID); n != 1 {
			t.Errorf("expired certificate still holds the active place")
		}
	})
}

func TestR6_OrganizationCertificateLimitCountsOnlyActive(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		record := func(c *certs.Certificate, limit int, now time.Time) error {
			return db.RecordPending(ctx, c, limit, now.Add(-2*time.Minute), now, unitRequested(*c))
		}
		org, master := unitOrg(t, db)
		u := make([]identity.User, 6)
		u[0] = master
		for i := 1; i < len(u); i++ {
			u[i] = unitUser(t, db, org)
		}
		now := unitT0.AddDate(0, 1, 0)
		unitIssued(t, db, u[0], now.Add(-time.Hour), now.AddDate(1, 0, 0)) // active
		unitPending(t, db, u[1], now.Add(-time.Minute))                    // pending: counts
		unitIssued(t, db, u[2], unitT0, now.Add(-time.Second))             // expired: does not count
		rev := unitIssued(t, db, u[3], unitT0, now.AddDate(1, 0, 0))       // revoked: does not count
		if err := db.Revoke(ctx, rev.ID, certs.Revocation{Reason: "superseded", At: now, By: "user:x"},
			audit.Event{At: now, Type: audit.CertificateRevoked, Actor: "user:x", Serial: rev.Serial}); err != nil {
			t.Fatal(err)
		}
		const limit = 3
		c := unitPendingRecord(u[4], now)
		if err := record(&c, limit, now); err != nil {
			t.Fatalf("third active certificate with limit %d: %v", limit, err)
		}
		c = unitPendingRecord(u[5], now)
		if err := record(&c, limit, now); !errors.Is(err, certs.ErrOrganizationLimit) {
			t.Fatalf("fourth active certificate with limit %d: %v, want ErrOrganizationLimit", limit, err)
		}
		if n := unitCount(t, db, `SELECT COUNT(*) FROM certificates WHERE user_id = $1`, u[5].ID); n != 0 {
			t.Errorf("refused user has %d certificates, want 0", n)
		}
		// The limit is per organization.
		_, other := unitOrg(t, db)
		c = unitPendingRecord(other, now)
		if err := record(&c, limit, now); err != nil {
			t.Fatalf("another organization: %v", err)
		}
	})
}

func TestMarkIssuedOnlyFromPending(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		_, master := unitOrg(t, db)
		c := unitPending(t, db, master, unitT0)
		issued := func(der string) error {
			return db.MarkIssued(ctx, c.ID, []byte(der), unitRandomHex(32), unitT0.Add(time.Second),
				audit.Event{At: unitT0, Type: audit.CertificateIssued, Actor: "user:x", UserID: master.ID, Serial: c.Serial})
		}
		if err := issued("first"); err != nil {
			t.Fatalf("mark pending issued: %v", err)
		}
		got, err := db.CertificateByID(ctx, c.ID)
		if err != nil || got.Status != certs.StatusIssued || string(got.DER) != "first" || !got.IssuedAt.Equal(unitT0.Add(time.Second)) {
			t.Fatalf("issued record %+v, %v", got, err)
		}
		if err := issued("second"); err == nil {
			t.Fatal("marking an issued certificate issued again succeeded")
		}
		if err := db.Revoke(ctx, c.ID, certs.Revocation{Reason: "unspecified", At: unitT0, By: "system"},
			audit.Event{At: unitT0, Type: audit.CertificateRevoked, Actor: "system", Serial: c.Serial}); err != nil {
			t.Fatal(err)
		}
		if err := issued("third"); err == nil {
			t.Fatal("marking a revoked certificate issued succeeded")
		}
		got, err = db.CertificateByID(ctx, c.ID)
		if err != nil || string(got.DER) != "first" || got.Status != certs.StatusRevoked {
			t.Fatalf("record after refused updates %+v, %v; want DER 'first', revoked", got, err)
		}
		if evs := unitAudit(t, db, store.AuditFilter{UserID: master.ID, Type: audit.CertificateIssued}); len(evs) != 1 {
			t.Errorf("issued events %d, want 1", len(evs))
		}
	})
}

func TestRevokeEndsBoundSessions(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org, master := unitOrg(t, db)
		g := unitUser(t, db, org)
		c := unitIssued(t, db, g, unitT0, unitT0.AddDate(1, 0, 0))
		other := unitIssued(t, db, master, unitT0, unitT0.AddDate(1, 0, 0))
		end := unitT0.Add(12 * time.Hour)
		bound := unitSession(t, db, g, &c, unitT0, end)
		bound2 := unitSession(t, db, g, &c, unitT0, end)
		unbound := unitSession(t, db, g, nil, unitT0, end)
		otherBound := unitSession(t, db, master, &other, unitT0, end)

		at := unitT0.Add(time.Hour)
		rev := certs.Revocation{Reason: "keyCompromise", At: at, By: "operator:suzuki", RequestRef: "REQ-7"}
		ev := audit.Event{At: at, Type: audit.CertificateRevoked, Actor: rev.By, UserID: g.ID, Serial: c.Serial, RequestRef: rev.RequestRef}
		if err := db.Revoke(ctx, c.ID, rev, ev); err != nil {
			t.Fatalf("revoke: %v", err)
		}
		for _, s := range []struct {
			name string
			hash string
			want bool
		}{{"bound", bound, false}, {"second bound", bound2, false}, {"unbound", unbound, true}, {"other certificate's", otherBound, true}} {
			if got := unitSessionExists(t, db, s.hash); got != s.want {
				t.Errorf("%s session exists = %v, want %v", s.name, got, s.want)
			}
		}
		got, err := db.CertificateByID(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != certs.StatusRevoked || !got.RevokedAt.Equal(at) || got.RevocationReason != "keyCompromise" ||
			got.RevokedBy != "operator:suzuki" || got.RequestRef != "REQ-7" {
			t.Errorf("revoked record %+v", got)
		}
		if _, err := db.CurrentCertificate(ctx, g.ID); !errors.Is(err, certs.ErrNotFound) {
			t.Errorf("current certificate after revocation: %v, want ErrNotFound (place freed)", err)
		}

		err = db.Revoke(ctx, c.ID, certs.Revocation{Reason: "superseded", At: at.Add(time.Hour), By: "user:x"}, ev)
		if !errors.Is(err, certs.ErrAlreadyRevoked) {
			t.Fatalf("second revocation: %v, want ErrAlreadyRevoked", err)
		}
		again, _ := db.CertificateByID(ctx, c.ID)
		if again.RevocationReason != "keyCompromise" || !again.RevokedAt.Equal(at) {
			t.Errorf("second revocation changed the record: %+v", again)
		}
		if evs := unitAudit(t, db, store.AuditFilter{Type: audit.CertificateRevoked, UserID: g.ID}); len(evs) != 1 || evs[0].RequestRef != "REQ-7" {
			t.Errorf("revocation events %+v, want exactly one with REQ-7", evs)
		}
		if err := db.Revoke(ctx, 987654321, rev, ev); !errors.Is(err, certs.ErrNotFound) {
			t.Errorf("revoke of an unknown record: %v, want ErrNotFound", err)
		}
	})
}
