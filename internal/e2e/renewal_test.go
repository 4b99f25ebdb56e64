package e2e_test

// Tests of R9's renewal (更新) and expiry notices through the certificate
// portal, with the bank's clock standing at chosen days before expiry.

import (
	"context"
	"crypto/tls"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"kinko/internal/audit"
	"kinko/internal/certs"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

const pathRenewal = "/api/v1/certificates/renewal"

const day = 24 * time.Hour

// renew asks, from cl's certificate-login session, for the renewal of its
// certificate with a new key. On 201 it also returns the new certificate.
func renew(t testing.TB, cl *testutil.Client) (testutil.Response, *tls.Certificate) {
	t.Helper()
	key := newKey(t)
	r := cl.CertPortal(http.MethodPost, pathRenewal, map[string]string{"csr": testutil.NewCSR(t, key)})
	if r.Status != http.StatusCreated {
		return r, nil
	}
	return r, testutil.CertificateFromResponse(t, r, key)
}

// currentSerial returns the serial of the certificate in the user's place.
func currentSerial(t testing.TB, b *testutil.Bank, u testutil.Creds) string {
	t.Helper()
	c, err := b.Services.Certs.CurrentCertificate(context.Background(), user(t, b, u.LoginID).ID)
	if err != nil {
		t.Fatal(err)
	}
	return c.Serial
}

// certificateRecord returns the record of a certificate.
func certificateRecord(t testing.TB, b *testutil.Bank, c *tls.Certificate) certs.Certificate {
	t.Helper()
	rec, err := b.DB.CertificateBySerial(context.Background(), serialOf(c))
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestR9_RenewalWindow(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "更新期間労組", true)
		start := b.Clock.Now()
		cases := []struct {
			name     string
			before   time.Duration // before notAfter
			daysLeft int
			due      bool
			status   int
			code     string
		}{
			{"41 days before", 41 * day, 41, false, http.StatusConflict, "renewal_not_due"},
			{"40 days and a second before", 40*day + time.Second, 41, false, http.StatusConflict, "renewal_not_due"},
			{"40 days before", 40 * day, 40, true, http.StatusCreated, ""},
			{"1 day before", day, 1, true, http.StatusCreated, ""},
			{"at notAfter", 0, 0, true, http.StatusCreated, ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				b.Clock.Set(start)
				u := b.NewGeneralUser(t, org)
				cert := b.IssueCertificate(t, u)
				b.Clock.Set(cert.Leaf.NotAfter.Add(-c.before))
				cl := certLogin(t, b, cert, u)
				me := certificateOfMe(t, cl.CertPortal(http.MethodGet, pathMe, nil))
				if me["days_left"] != float64(c.daysLeft) || me["renewal_due"] != c.due {
					t.Fatalf("GET /api/v1/me: days_left %v renewal_due %v, want %d %v", me["days_left"], me["renewal_due"], c.daysLeft, c.due)
				}
				r, fresh := renew(t, cl)
				expect(t, "renewal", r, c.status, c.code)
				if fresh == nil {
					if n := len(activeCertificates(t, b, org.ID)); n != 0 && certificateRecord(t, b, cert).Status != certs.StatusIssued {
						t.Fatal("refused renewal changed the certificate")
					}
					return
				}
				now := b.Clock.Now()
				if !fresh.Leaf.NotBefore.Equal(now) || !fresh.Leaf.NotAfter.Equal(now.AddDate(1, 0, 0)) {
					t.Fatalf("renewal valid %s .. %s, want a year from %s", fresh.Leaf.NotBefore, fresh.Leaf.NotAfter, now)
				}
				if fresh.Leaf.Subject.CommonName != u.LoginID {
					t.Fatalf("renewal for %q, want %q", fresh.Leaf.Subject.CommonName, u.LoginID)
				}
				// Renewed, no longer due; the renewal is shown.
				me = certificateOfMe(t, cl.CertPortal(http.MethodGet, pathMe, nil))
				rn, _ := me["renewal"].(map[string]any)
				if me["renewal_due"] != false || rn["serial"] != serialOf(fresh) {
					t.Fatalf("GET /api/v1/me after renewal: %v", me)
				}
			})
		}

		t.Run("expired certificate", func(t *testing.T) {
			b.Clock.Set(start)
			u := b.NewGeneralUser(t, org)
			cert := b.IssueCertificate(t, u)
			b.Clock.Set(cert.Leaf.NotAfter.Add(-time.Minute))
			cl := certLogin(t, b, cert, u)
			b.Clock.Set(cert.Leaf.NotAfter.Add(time.Second))
			r, _ := renew(t, cl)
			expect(t, "renewal after expiry", r, http.StatusForbidden, "certificate_expired")
			// R11: a new certificate from the login screen instead.
			r, _ = issue(t, b, u)
			expect(t, "issuance after expiry", r, http.StatusCreated, "")
		})
	})
}

func TestR9_RenewalSupersedesOnFirstUse(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "切替労組", true)
		u := b.NewGeneralUser(t, org)
		old := b.IssueCertificate(t, u)
		b.Clock.Set(old.Leaf.NotAfter.Add(-30 * day))
		oldSession := certLogin(t, b, old, u)
		keepAlive(oldSession)
		r, fresh := renew(t, oldSession)
		expect(t, "renewal", r, http.StatusCreated, "")

		t.Run("old one keeps working until the new one is used", func(t *testing.T) {
			expect(t, "old session", oldSession.CertPortal(http.MethodGet, pathMe, nil), http.StatusOK, "")
			certLogin(t, b, old, u)
			if got := certificateRecord(t, b, old).Status; got != certs.StatusIssued {
				t.Fatalf("old certificate %s before the new one is used", got)
			}
			// The renewal holds the user's one place (R6); both work.
			if got := currentSerial(t, b, u); got != serialOf(fresh) {
				t.Fatalf("the user's place holds %s, want the renewal %s", got, serialOf(fresh))
			}
			if n := len(activeCertificates(t, b, org.ID)); n != 2 {
				t.Fatalf("%d usable certificates, want the old one and its renewal", n)
			}
		})

		t.Run("a renewal is not renewed again at once", func(t *testing.T) {
			// Not yet used, so not yet the user's only certificate; and far
			// from its own expiry.
			expect(t, "renewal of the renewal", func() testutil.Response { r, _ := renew(t, b.Client(fresh)); return r }(),
				http.StatusUnauthorized, "unauthenticated")
		})

		b.Clock.Advance(time.Hour)
		newSession := certLogin(t, b, fresh, u)
		t.Run("first use of the new one revokes the old one", func(t *testing.T) {
			rec := certificateRecord(t, b, old)
			if rec.Status != certs.StatusRevoked || rec.RevocationReason != "superseded" || !rec.RevokedAt.Equal(b.Clock.Now()) {
				t.Fatalf("old certificate after the new one's first login: %s %q at %s", rec.Status, rec.RevocationReason, rec.RevokedAt)
			}
			expect(t, "old session", oldSession.CertPortal(http.MethodGet, pathMe, nil), http.StatusForbidden, "certificate_revoked")
			expect(t, "old certificate's login", b.Client(old).CertPortal(http.MethodPost, pathSessions, map[string]string{"password": u.Password}),
				http.StatusForbidden, "certificate_revoked")
			me := certificateOfMe(t, newSession.CertPortal(http.MethodGet, pathMe, nil))
			if me["serial"] != serialOf(fresh) || me["renewal_due"] != false {
				t.Fatalf("GET /api/v1/me with the new certificate: %v", me)
			}
			evs, err := b.DB.ListAudit(ctx, store.AuditFilter{UserID: user(t, b, u.LoginID).ID, Type: audit.CertificateRevoked})
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 1 || evs[0].Serial != serialOf(old) || evs[0].Actor != audit.System || evs[0].Reason != "superseded" {
				t.Fatalf("revocation events: %+v", evs)
			}
			renewed, err := b.DB.ListAudit(ctx, store.AuditFilter{UserID: user(t, b, u.LoginID).ID, Type: audit.CertificateRenewed})
			if err != nil {
				t.Fatal(err)
			}
			if len(renewed) != 1 || renewed[0].Serial != serialOf(fresh) {
				t.Fatalf("renewal events: %+v", renewed)
			}
		})
		t.Run("second login changes nothing", func(t *testing.T) {
			certLogin(t, b, fresh, u)
			if n := len(activeCertificates(t, b, org.ID)); n != 1 {
				t.Fatalf("%d certificates in active places, want 1", n)
			}
		})
	})
}

func TestR9_SecondRenewalReplacesUnusedOne(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "再更新労組", true)
		u := b.NewGeneralUser(t, org)
		old := b.IssueCertificate(t, u)
		b.Clock.Set(old.Leaf.NotAfter.Add(-20 * day))
		cl := certLogin(t, b, old, u)
		r, first := renew(t, cl)
		expect(t, "first renewal", r, http.StatusCreated, "")
		// The file was lost before it was imported: renew again.
		r, second := renew(t, cl)
		expect(t, "second renewal", r, http.StatusCreated, "")
		if rec := certificateRecord(t, b, first); rec.Status != certs.StatusRevoked || rec.RevocationReason != "superseded" {
			t.Fatalf("unused first renewal: %s %q", rec.Status, rec.RevocationReason)
		}
		expect(t, "unused first renewal", b.Client(first).CertPortal(http.MethodPost, pathSessions, map[string]string{"password": u.Password}),
			http.StatusForbidden, "certificate_revoked")
		expect(t, "old certificate", cl.CertPortal(http.MethodGet, pathMe, nil), http.StatusOK, "")
		certLogin(t, b, second, u)
		if rec := certificateRecord(t, b, old); rec.Status != certs.StatusRevoked || rec.RevocationReason != "superseded" {
			t.Fatalf("old certificate after the second renewal's use: %s %q", rec.Status, rec.RevocationReason)
		}
		if got := activeCertificates(t, b, org.ID); len(got) != 1 || got[0].Serial != serialOf(second) {
			t.Fatalf("active certificates %+v, want only the second renewal", got)
		}
	})
}

func TestR9_RenewalRefusedForRevokedCertificate(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "失効更新労組", true)
		u := b.NewGeneralUser(t, org)
		mc := b.IssueCertificate(t, org.Master)
		cert := b.IssueCertificate(t, u)
		b.Clock.Set(cert.Leaf.NotAfter.Add(-10 * day))
		cl := certLogin(t, b, cert, u)
		keepAlive(cl)
		expect(t, "session", cl.CertPortal(http.MethodGet, pathMe, nil), http.StatusOK, "")
		m := certLogin(t, b, mc, org.Master)
		expect(t, "revocation", revoke(m, org.Master, u.LoginID, "keyCompromise"), http.StatusOK, "")
		r, _ := renew(t, cl)
		expect(t, "renewal of a revoked certificate", r, http.StatusForbidden, "certificate_revoked")
		// And at the service, whatever the caller.
		rec := certificateRecord(t, b, cert)
		usr := user(t, b, u.LoginID)
		_, org2, err := b.Services.Identity.UserByID(ctx, usr.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Services.Certs.Renew(ctx, usr, org2, rec, []byte(testutil.NewCSR(t, newKey(t)))); err != certs.ErrAlreadyRevoked {
			t.Fatalf("Renew of a revoked certificate: %v, want ErrAlreadyRevoked", err)
		}
	})
}

func TestR12_RevocationTakesTheUnusedRenewalAlong(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "更新中失効労組", true)
		u := b.NewGeneralUser(t, org)
		mc := b.IssueCertificate(t, org.Master)
		old := b.IssueCertificate(t, u)
		b.Clock.Set(old.Leaf.NotAfter.Add(-10 * day))
		r, fresh := renew(t, certLogin(t, b, old, u))
		expect(t, "renewal", r, http.StatusCreated, "")
		m := certLogin(t, b, mc, org.Master)
		expect(t, "revocation", revoke(m, org.Master, u.LoginID, "affiliationChanged"), http.StatusOK, "")
		for name, c := range map[string]*tls.Certificate{"renewal": fresh, "renewed": old} {
			rec := certificateRecord(t, b, c)
			if rec.Status != certs.StatusRevoked || rec.RevocationReason != "affiliationChanged" {
				t.Fatalf("%s certificate after the master's revocation: %s %q", name, rec.Status, rec.RevocationReason)
			}
			expect(t, name, b.Client(c).CertPortal(http.MethodPost, pathSessions, map[string]string{"password": u.Password}),
				http.StatusForbidden, "certificate_revoked")
		}
		// R11: the user issues a new one from the login screen.
		r, _ = issue(t, b, u)
		expect(t, "issuance after revocation", r, http.StatusCreated, "")
	})
}

func TestR9_ParallelRenewalsGiveOneUsableRenewal(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "並行更新労組", true)
		u := b.NewGeneralUser(t, org)
		old := b.IssueCertificate(t, u)
		b.Clock.Set(old.Leaf.NotAfter.Add(-5 * day))
		cl := certLogin(t, b, old, u)
		const n = 10
		var wg sync.WaitGroup
		results := make([]testutil.Response, n)
		for i := range n {
			wg.Go(func() { results[i], _ = renew(t, cl) })
		}
		wg.Wait()
		// Connections the client dialed but never used would keep the
		// server's shutdown waiting.
		cl.CloseIdle()
		created := 0
		for _, r := range results {
			switch {
			case r.Status == http.StatusCreated:
				created++
			case r.Status == http.StatusConflict && r.ErrorCode() == "renewal_in_progress":
			default:
				t.Fatalf("parallel renewal: %d %s", r.Status, r.Raw)
			}
		}
		if created == 0 {
			t.Fatal("no renewal succeeded")
		}
		// Whatever the interleaving: one certificate holds the place, the
		// old one still works, every other renewal is revoked.
		recs, err := b.DB.ListCertificates(context.Background(), org.ID)
		if err != nil {
			t.Fatal(err)
		}
		issued := 0
		for _, rec := range recs {
			if rec.UserID == user(t, b, u.LoginID).ID && rec.Status == certs.StatusIssued {
				issued++
			}
		}
		if issued != 2 {
			t.Fatalf("%d issued certificates for the user, want the old one and one renewal", issued)
		}
		if got := currentSerial(t, b, u); got == serialOf(old) {
			t.Fatal("the old certificate still holds the user's place")
		}
	})
}

// expiryNotices returns the occasions of the user's expiry notices, oldest
// first, as "<days left> days left, occasion <occasion>".
func expiryNotices(t testing.TB, b *testutil.Bank, u testutil.Creds) []string {
	t.Helper()
	evs, err := b.DB.ListAudit(context.Background(), store.AuditFilter{UserID: user(t, b, u.LoginID).ID, Type: audit.CertificateExpiryNotice})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Detail)
	}
	return out
}

func TestR9_ExpiryReminders(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "期限通知労組", true)
		u := b.NewGeneralUser(t, org)
		renewed := b.NewGeneralUser(t, org)
		cert := b.IssueCertificate(t, u)
		other := b.IssueCertificate(t, renewed)
		notAfter := cert.Leaf.NotAfter
		run := func(at time.Time) int {
			t.Helper()
			b.Clock.Set(at)
			n, err := b.Services.Certs.SendExpiryReminders(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		// The second user renews as soon as the window opens: no reminder.
		b.Clock.Set(other.Leaf.NotAfter.Add(-40*day - time.Minute))
		cl := certLogin(t, b, other, renewed)
		b.Clock.Set(other.Leaf.NotAfter.Add(-40 * day))
		if r, _ := renew(t, cl); r.Status != http.StatusCreated {
			t.Fatalf("renewal: %d %s", r.Status, r.Raw)
		}
		steps := []struct {
			before time.Duration
			sent   int
		}{
			{41 * day, 0},
			{40 * day, 1},
			{40*day - time.Hour, 0}, // the same day and occasion again: nothing
			{39*day + time.Hour, 0}, // still 40 days left (a part of a day counts)
			{20 * day, 0},
			{14 * day, 1},
			{7 * day, 1},
			{7*day - 10*time.Minute, 0},
			{day, 1},
			{0, 0},
			{-time.Second, 0}, // expired: nothing more
		}
		for _, s := range steps {
			if got := run(notAfter.Add(-s.before)); got != s.sent {
				t.Fatalf("%s before expiry: %d reminders sent, want %d", s.before, got, s.sent)
			}
		}
		want := []string{"40 days left, occasion 40", "14 days left, occasion 14", "7 days left, occasion 7", "1 days left, occasion 1"}
		if got := expiryNotices(t, b, u); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("notices %q, want %q", got, want)
		}
		if got := expiryNotices(t, b, renewed); len(got) != 0 {
			t.Fatalf("the renewed user got notices %q", got)
		}
	})
}

func TestR9_ExpiryNoticeAtFirstLoginInWindow(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "ログイン通知労組", true)
		u := b.NewGeneralUser(t, org)
		cert := b.IssueCertificate(t, u)
		b.Clock.Set(cert.Leaf.NotAfter.Add(-41 * day))
		certLogin(t, b, cert, u)
		if got := expiryNotices(t, b, u); len(got) != 0 {
			t.Fatalf("notices before the window: %q", got)
		}
		b.Clock.Set(cert.Leaf.NotAfter.Add(-33 * day))
		certLogin(t, b, cert, u)
		certLogin(t, b, cert, u)
		b.Clock.Advance(2 * day)
		certLogin(t, b, cert, u)
		want := []string{"33 days left, occasion login"}
		if got := expiryNotices(t, b, u); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("notices %q, want one at the first login in the window %q", got, want)
		}
		// The daily reminder on a day with a login notice already: none.
		other := b.NewGeneralUser(t, org)
		oc := b.IssueCertificate(t, other)
		b.Clock.Set(oc.Leaf.NotAfter.Add(-14 * day))
		certLogin(t, b, oc, other)
		if n, err := b.Services.Certs.SendExpiryReminders(context.Background()); err != nil || n != 0 {
			t.Fatalf("reminder on the day of a login notice: %d sent, err %v", n, err)
		}
	})
}
