package e2e_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"testing"
	"time"

	"kinko/internal/audit"
	"kinko/internal/certs"
	"kinko/internal/pki"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

const pathWithdrawal = "/api/v1/certificates/withdrawal"

func withdraw(b *testutil.Bank, c testutil.Creds, password string) testutil.Response {
	return b.Client(nil).Portal(http.MethodPost, pathWithdrawal, map[string]string{"login_id": c.LoginID, "password": password})
}

// TestR13_WithdrawNeverSavedCertificate: a certificate issued from the
// login screen and never used to log in is withdrawn by its own user, with
// the login password, within a day of its issuance; its place is free for
// a new one, it is revoked for every relying party, and it no longer logs
// in. After its first login, or after a day, or with a wrong password, it
// stays; only a revocation frees it then.
func TestR13_WithdrawNeverSavedCertificate(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "取消労組", true)
		g := b.NewGeneralUser(t, org)

		t.Run("never saved, withdrawn", func(t *testing.T) {
			r, lost := issue(t, b, g)
			expect(t, "issuance", r, http.StatusCreated, "")
			expect(t, "withdrawal with a wrong password", withdraw(b, g, g.Password+"x"), http.StatusUnauthorized, "invalid_credentials")
			b.Clock.Advance(23 * time.Hour)
			w := withdraw(b, g, g.Password)
			expect(t, "withdrawal", w, http.StatusOK, "")
			if w.String("serial") != serialOf(lost) {
				t.Fatalf("withdrew %q, want %q", w.String("serial"), serialOf(lost))
			}
			c, err := b.Services.Certs.ByFingerprint(ctx, fingerprintOf(lost))
			if err != nil || c.Status != certs.StatusRevoked || c.RevocationReason != "cessationOfOperation" {
				t.Fatalf("withdrawn certificate: %+v %v, want revoked (cessationOfOperation)", c.Status, err)
			}
			expectSessionRefused(t, "login with the withdrawn certificate",
				b.Client(lost).CertPortal(http.MethodPost, pathSessions, map[string]string{"password": g.Password}))
			expectEvent(t, b, audit.CertificateRevoked, c.Serial, audit.Withdrawn)
			r, _ = issue(t, b, g)
			expect(t, "issuance after the withdrawal", r, http.StatusCreated, "")
			expect(t, "a second withdrawal of the same place", withdraw(b, g, g.Password), http.StatusOK, "")
			expect(t, "withdrawal with nothing to withdraw", withdraw(b, g, g.Password), http.StatusNotFound, "no_active_certificate")
		})

		t.Run("used to log in, not withdrawn", func(t *testing.T) {
			cert := b.IssueCertificate(t, org.Master)
			certLogin(t, b, cert, org.Master)
			expect(t, "withdrawal of a used certificate", withdraw(b, org.Master, org.Master.Password), http.StatusConflict, "certificate_not_withdrawable")
			c, err := b.Services.Certs.ByFingerprint(ctx, fingerprintOf(cert))
			if err != nil || c.Status != certs.StatusIssued || c.FirstUsedAt.IsZero() || c.LastUsedAt.IsZero() {
				t.Fatalf("used certificate: %s first used %v last used %v %v, want issued and its use recorded", c.Status, c.FirstUsedAt, c.LastUsedAt, err)
			}
			certLogin(t, b, cert, org.Master)
		})

		t.Run("older than a day, not withdrawn", func(t *testing.T) {
			h := b.NewGeneralUser(t, org)
			_, cert := issue(t, b, h)
			b.Clock.Advance(certs.WithdrawalWindow + time.Second)
			expect(t, "withdrawal after a day", withdraw(b, h, h.Password), http.StatusConflict, "certificate_not_withdrawable")
			certLogin(t, b, cert, h)
		})

		t.Run("another user's password withdraws nothing of theirs", func(t *testing.T) {
			k := b.NewGeneralUser(t, org)
			_, cert := issue(t, b, k)
			expect(t, "withdrawal with the master's password", withdraw(b, k, org.Master.Password), http.StatusUnauthorized, "invalid_credentials")
			certLogin(t, b, cert, k)
		})
	})
}

func fingerprintOf(c *tls.Certificate) string { return pki.Fingerprint(c.Leaf.Raw) }

// expectEvent fails unless an event of typ about serial with cause was
// recorded.
func expectEvent(t testing.TB, b *testutil.Bank, typ audit.Type, serial string, cause audit.Cause) {
	t.Helper()
	evs, err := b.DB.ListAudit(context.Background(), store.AuditFilter{Type: typ})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.Serial == serial && ev.Cause == cause {
			return
		}
	}
	t.Fatalf("no %s event of %s with cause %q among %d", typ, serial, cause, len(evs))
}
