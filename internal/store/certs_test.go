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

// The rules on certificate records are certs' (see its tests); these tests
// check the data operations of certs.Tx alone.

// unitCertsTx runs fn in a certificate transaction and fails the test on
// its error.
func unitCertsTx(t *testing.T, db *store.DB, fn func(ctx context.Context, tx certs.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := db.Certs().InTx(ctx, func(tx certs.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
}

func TestCertsTxActivePlace(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org, master := unitOrg(t, db)
		g := unitUser(t, db, org)
		active := func(u identity.User) (certs.Certificate, error) {
			var c certs.Certificate
			err := db.Certs().InTx(ctx, func(tx certs.Tx) error {
				var err error
				c, err = tx.ActiveCertificate(ctx, u.ID)
				return err
			})
			return c, err
		}

		if _, err := active(master); !errors.Is(err, certs.ErrNotFound) {
			t.Fatalf("active certificate of a user without one: %v, want ErrNotFound", err)
		}
		c := unitPendingRecord(master, unitT0)
		c.Renews = 0
		if err := unitInsertPending(ctx, db, &c); err != nil || c.ID == 0 {
			t.Fatalf("insert pending: id %d, %v", c.ID, err)
		}
		got, err := active(master)
		if err != nil || got.ID != c.ID || got.Status != certs.StatusPending || got.Serial != c.Serial || got.OrganizationID != org.ID ||
			!got.CreatedAt.Equal(unitT0) || !got.NotAfter.Equal(c.NotAfter) || got.Renews != 0 {
			t.Fatalf("active certificate %+v, %v; want the pending record %d", got, err, c.ID)
		}

		t.Run("a second record in a taken place", func(t *testing.T) {
			dup := unitPendingRecord(master, unitT0)
			if err := unitInsertPending(ctx, db, &dup); !errors.Is(err, certs.ErrPlaceTaken) {
				t.Fatalf("insert beside the active record: %v, want ErrPlaceTaken", err)
			}
			if n := unitCount(t, db, `SELECT COUNT(*) FROM certificates WHERE user_id = $1`, master.ID); n != 1 {
				t.Errorf("certificates %d, want 1", n)
			}
		})

		t.Run("leave and take the place", func(t *testing.T) {
			unitCertsTx(t, db, func(ctx context.Context, tx certs.Tx) error { return tx.LeavePlace(ctx, c.ID) })
			if _, err := active(master); !errors.Is(err, certs.ErrNotFound) {
				t.Fatalf("after LeavePlace: %v, want ErrNotFound", err)
			}
			renewal := unitPendingRecord(master, unitT0.Add(time.Hour))
			renewal.Renews = c.ID
			if err := unitInsertPending(ctx, db, &renewal); err != nil {
				t.Fatal(err)
			}
			if got, err := active(master); err != nil || got.ID != renewal.ID || got.Renews != c.ID {
				t.Fatalf("active certificate %+v, %v; want the renewal of %d", got, err, c.ID)
			}
			unitCertsTx(t, db, func(ctx context.Context, tx certs.Tx) error {
				if err := tx.SetRevoked(ctx, renewal.ID, certs.Revocation{Reason: "unspecified", At: unitT0, By: audit.System}); err != nil {
					return err
				}
				return tx.TakePlace(ctx, c.ID)
			})
			if got, err := active(master); err != nil || got.ID != c.ID {
				t.Fatalf("after TakePlace: %+v, %v; want %d", got, err, c.ID)
			}
		})

		t.Run("lock a record", func(t *testing.T) {
			unitCertsTx(t, db, func(ctx context.Context, tx certs.Tx) error {
				if err := tx.LockOrganization(ctx, org.ID); err != nil {
					return err
				}
				got, err := tx.LockCertificate(ctx, c.ID)
				if err != nil || got.ID != c.ID || got.UserID != master.ID || got.OrganizationID != org.ID {
					t.Errorf("LockCertificate: %+v, %v", got, err)
				}
				if _, err := tx.LockCertificate(ctx, 987654321); !errors.Is(err, certs.ErrNotFound) {
					t.Errorf("LockCertificate of an unknown record: %v, want ErrNotFound", err)
				}
				return nil
			})
		})
		if _, err := active(g); !errors.Is(err, certs.ErrNotFound) {
			t.Errorf("another user's active certificate: %v, want ErrNotFound", err)
		}
	})
}

func TestCertsTxCountActive(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org, master := unitOrg(t, db)
		u := make([]identity.User, 6)
		u[0] = master
		for i := 1; i < len(u); i++ {
			u[i] = unitUser(t, db, org)
		}
		at := unitT0.AddDate(0, 1, 0)
		unitIssued(t, db, u[0], at.Add(-time.Hour), at.AddDate(1, 0, 0)) // issued: counts
		unitPending(t, db, u[1], at.Add(-time.Minute))                   // pending: counts
		unitIssued(t, db, u[2], unitT0, at.Add(-time.Second))            // ended before at: does not count
		unitIssued(t, db, u[3], unitT0, at)                              // ends at at: counts
		rev := unitIssued(t, db, u[4], unitT0, at.AddDate(1, 0, 0))      // revoked: does not count
		if err := unitRevoke(ctx, db, rev.ID, certs.Revocation{Reason: "superseded", At: at, By: "user:x"},
			audit.Event{At: at, Type: audit.CertificateRevoked, Actor: "user:x", Serial: rev.Serial}); err != nil {
			t.Fatal(err)
		}
		out := unitIssued(t, db, u[5], unitT0, at.AddDate(1, 0, 0)) // out of its place: does not count
		unitCertsTx(t, db, func(ctx context.Context, tx certs.Tx) error { return tx.LeavePlace(ctx, out.ID) })
		_, other := unitOrg(t, db)
		unitPending(t, db, other, at) // another organization's

		var n int
		unitCertsTx(t, db, func(ctx context.Context, tx certs.Tx) error {
			var err error
			n, err = tx.CountActive(ctx, org.ID, at)
			return err
		})
		if n != 3 {
			t.Errorf("CountActive = %d, want 3 (issued, pending, ending at the instant)", n)
		}
	})
}

func TestCertsTxSetIssuedOnlyFromPending(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		_, master := unitOrg(t, db)
		c := unitPending(t, db, master, unitT0)
		issued := func(der string) bool {
			var ok bool
			unitCertsTx(t, db, func(ctx context.Context, tx certs.Tx) error {
				var err error
				ok, err = tx.SetIssued(ctx, c.ID, []byte(der), unitRandomHex(32), unitT0.Add(time.Second))
				return err
			})
			return ok
		}
		if !issued("first") {
			t.Fatal("SetIssued of a pending record reported false")
		}
		got, err := db.CertificateByID(ctx, c.ID)
		if err != nil || got.Status != certs.StatusIssued || string(got.DER) != "first" || !got.IssuedAt.Equal(unitT0.Add(time.Second)) {
			t.Fatalf("issued record %+v, %v", got, err)
		}
		if issued("second") {
			t.Fatal("SetIssued of an issued record reported true")
		}
		unitCertsTx(t, db, func(ctx context.Context, tx certs.Tx) error {
			return tx.SetRevoked(ctx, c.ID, certs.Revocation{Reason: "unspecified", At: unitT0, By: "system"})
		})
		if issued("third") {
			t.Fatal("SetIssued of a revoked record reported true")
		}
		got, err = db.CertificateByID(ctx, c.ID)
		if err != nil || string(got.DER) != "first" || got.Status != certs.StatusRevoked {
			t.Fatalf("record after refused updates %+v, %v; want DER 'first', revoked", got, err)
		}
	})
}

func TestCertsInTxRollsBackOnError(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		_, master := unitOrg(t, db)
		refused := errors.New("refused")
		c := unitPendingRecord(master, unitT0)
		err := db.Certs().InTx(ctx, func(tx certs.Tx) error {
			if err := tx.InsertPending(ctx, &c); err != nil {
				return err
			}
			if err := tx.AppendAudit(ctx, unitRequested(c)); err != nil {
				return err
			}
			return refused
		})
		if err != refused {
			t.Fatalf("InTx returned %v, want the error of its function as it is", err)
		}
		if n := unitCount(t, db, `SELECT COUNT(*) FROM certificates WHERE user_id = $1`, master.ID); n != 0 {
			t.Errorf("certificates after a rolled-back transaction: %d", n)
		}
		if evs := unitAudit(t, db, store.AuditFilter{UserID: master.ID, Type: audit.CertificateRequested}); len(evs) != 0 {
			t.Errorf("audit events after a rolled-back transaction: %+v", evs)
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
		if err := unitRevoke(ctx, db, c.ID, rev, ev); err != nil {
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
		if evs := unitAudit(t, db, store.AuditFilter{Type: audit.CertificateRevoked, UserID: g.ID}); len(evs) != 1 || evs[0].RequestRef != "REQ-7" {
			t.Errorf("revocation events %+v, want exactly one with REQ-7", evs)
		}
	})
}
