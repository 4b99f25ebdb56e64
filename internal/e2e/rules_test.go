package e2e_test

// Tests of the rules R2..R13 of the bank's certificate FAQ, each through the
// real TLS listeners with real client certificates, on both engines.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"kinko/internal/audit"
	"kinko/internal/certs"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

func TestR2_R4_CertificateLoginIsOptIn(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "申込前労組", false)
		users := []struct {
			name  string
			creds testutil.Creds
		}{
			{"master", org.Master},
			{"general", b.NewGeneralUser(t, org)},
		}
		for _, u := range users {
			t.Run("before the application/"+u.name, func(t *testing.T) {
				r, _ := issue(t, b, u.creds)
				expect(t, "issuance", r, http.StatusForbidden, "certificate_login_not_enabled")
				// Meanwhile the organization logs in with ID and password.
				passwordLogin(t, b, u.creds)
			})
		}
		if n := len(activeCertificates(t, b, org.ID)); n != 0 {
			t.Fatalf("%d certificates issued before the bank enabled certificate login", n)
		}

		// The bank completes its procedure on the written application.
		if _, err := b.Services.Identity.SetCertificateLogin(ctx, org.Code, true, "operator:suzuki", "REQ-2026-0001"); err != nil {
			t.Fatalf("enable certificate login: %v", err)
		}
		evs, err := b.DB.ListAudit(ctx, store.AuditFilter{OrganizationID: org.ID, Type: audit.CertificateLoginEnabled})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 1 || evs[0].Actor != "operator:suzuki" || evs[0].RequestRef != "REQ-2026-0001" {
			t.Fatalf("audit of enabling certificate login: %+v", evs)
		}
		for _, u := range users {
			t.Run("after the application/"+u.name, func(t *testing.T) {
				r, cert := issue(t, b, u.creds)
				expect(t, "issuance", r, http.StatusCreated, "")
				// The certificate installed on the PC logs in from then on.
				cl := certLogin(t, b, cert, u.creds)
				expect(t, "GET /api/v1/me", cl.CertPortal(http.MethodGet, pathMe, nil), http.StatusOK, "")
			})
		}
		if n := len(activeCertificates(t, b, org.ID)); n != 2 {
			t.Fatalf("%d active certificates, want 2", n)
		}
	})
}

func TestR3_NoCertificateNoLogin(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "証明書必須労組", true)
		g := b.NewGeneralUser(t, org)
		cert := b.IssueCertificate(t, g)

		// A PC without the certificate: the certificate portal does not even
		// complete TLS, whatever is asked.
		noCert := b.Client(nil)
		refused := []struct {
			name string
			do   func() testutil.Response
		}{
			{"GET /api/v1/me", func() testutil.Response { return noCert.CertPortal(http.MethodGet, pathMe, nil) }},
			{"certificate login with the password", func() testutil.Response {
				return noCert.CertPortal(http.MethodPost, pathSessions, map[string]string{"password": g.Password})
			}},
			{"login ID and password", func() testutil.Response {
				return noCert.CertPortal(http.MethodPost, pathSessions, map[string]string{"login_id": g.LoginID, "password": g.Password})
			}},
		}
		for _, c := range refused {
			t.Run("without certificate/"+c.name, func(t *testing.T) {
				// The connection is kept so that the portal can explain.
				expect(t, c.name, c.do(), http.StatusForbidden, "certificate_required")
			})
		}

		t.Run("portal with ID and password", func(t *testing.T) {
			r := noCert.Portal(http.MethodPost, pathSessions, map[string]string{"login_id": g.LoginID, "password": g.Password})
			expect(t, "password login", r, http.StatusForbidden, "certificate_login_required")
		})

		t.Run("certificate portal takes no login ID", func(t *testing.T) {
			// Even on the PC with the certificate, the certificate portal
			// does not accept an ID+password form: only the certificate
			// picks the user.
			r := b.Client(cert).CertPortal(http.MethodPost, pathSessions, map[string]string{"login_id": g.LoginID, "password": g.Password})
			expect(t, "ID+password on the certificate portal", r, http.StatusBadRequest, "invalid_request")
			if sc := sessionCookieSet(r); sc != "" {
				t.Fatalf("refused login set a cookie: %s", sc)
			}
		})

		t.Run("with the certificate", func(t *testing.T) {
			cl := certLogin(t, b, cert, g)
			r := cl.CertPortal(http.MethodGet, pathMe, nil)
			expect(t, "GET /api/v1/me", r, http.StatusOK, "")
			if r.String("login_id") != g.LoginID {
				t.Fatalf("logged in as %q, want %q", r.String("login_id"), g.LoginID)
			}
		})
	})
}

func TestR6_OneCertificatePerLoginID(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "一人一枚労組", true)
		g := b.NewGeneralUser(t, org)
		mc := b.IssueCertificate(t, org.Master)
		gc := b.IssueCertificate(t, g)

		for _, c := range []struct {
			name  string
			creds testutil.Creds
			cert  string
		}{
			{"master", org.Master, serialOf(mc)},
			{"general", g, serialOf(gc)},
		} {
			t.Run("second issuance/"+c.name, func(t *testing.T) {
				r, _ := issue(t, b, c.creds)
				expect(t, "second issuance", r, http.StatusConflict, "active_certificate_exists")
				cur, err := b.Services.Certs.CurrentCertificate(context.Background(), user(t, b, c.creds.LoginID).ID)
				if err != nil || cur.Serial != c.cert || cur.Status != certs.StatusIssued {
					t.Fatalf("current certificate %s %s %v, want the first one %s", cur.Serial, cur.Status, err, c.cert)
				}
			})
		}
		if n := len(activeCertificates(t, b, org.ID)); n != 2 {
			t.Fatalf("%d active certificates, want 2", n)
		}

		t.Run("after revocation", func(t *testing.T) {
			m := certLogin(t, b, mc, org.Master)
			expect(t, "revocation", revoke(m, org.Master, g.LoginID, "keyCompromise"), http.StatusOK, "")
			r, next := issue(t, b, g)
			expect(t, "issuance after revocation", r, http.StatusCreated, "")
			gc = next
			r, _ = issue(t, b, g)
			expect(t, "issuance next to the new certificate", r, http.StatusConflict, "active_certificate_exists")
		})

		t.Run("after expiry (R11)", func(t *testing.T) {
			// notAfter itself is inside the validity (RFC 5280).
			b.Clock.Set(gc.Leaf.NotAfter)
			r, _ := issue(t, b, g)
			expect(t, "issuance at notAfter", r, http.StatusConflict, "active_certificate_exists")
			b.Clock.Advance(time.Second)
			for _, c := range []testutil.Creds{org.Master, g} {
				r, cert := issue(t, b, c)
				expect(t, "issuance after expiry for "+c.LoginID, r, http.StatusCreated, "")
				certLogin(t, b, cert, c)
			}
		})
		if n := len(activeCertificates(t, b, org.ID)); n != 2 {
			t.Fatalf("%d active certificates, want 2", n)
		}
	})
}

func TestR6_OrganizationCertificateLimit(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "上限労組", true)
		users := []testutil.Creds{org.Master}
		for range 19 {
			users = append(users, b.NewGeneralUser(t, org))
		}
		held := map[string]string{} // login ID -> serial
		var mc *tls.Certificate
		for _, u := range users {
			r, cert := issue(t, b, u)
			expect(t, "issuance for "+u.LoginID, r, http.StatusCreated, "")
			held[u.LoginID] = serialOf(cert)
			if u.LoginID == org.Master.LoginID {
				mc = cert
			}
		}
		if n := len(activeCertificates(t, b, org.ID)); n != 20 {
			t.Fatalf("%d active certificates, want 20", n)
		}

		// A 21st certificate would need a 20th general user, whom the
		// organization cannot have.
		m := certLogin(t, b, mc, org.Master)
		r := m.CertPortal(http.MethodPost, pathUsers, map[string]string{"login_id": "extra0020", "name": "二十人目", "email": "extra0020@example.org"})
		expect(t, "20th general user", r, http.StatusConflict, "organization_user_limit")
		r = m.CertPortal(http.MethodGet, pathUsers, nil)
		expect(t, "GET /api/v1/users", r, http.StatusOK, "")
		listed, _ := r.Body["users"].([]any)
		got := map[string]string{}
		for _, x := range listed {
			u, _ := x.(map[string]any)
			c, _ := u["certificate"].(map[string]any)
			if c["status"] != "active" {
				t.Errorf("user %v: certificate %v, want active", u["login_id"], c)
			}
			got[u["login_id"].(string)], _ = c["serial"].(string)
		}
		if d := cmp.Diff(held, got); d != "" {
			t.Fatalf("certificates in GET /api/v1/users (-want +got):\n%s", d)
		}

		// The limit counts certificates, not users. No API removes a user
		// yet, so remove one in the database the way a bank's back office
		// would, without revoking the certificate: it still holds one of the
		// 20 places, and the newcomer who takes the user's place cannot get
		// a 21st certificate.
		gone := users[19]
		if _, err := db.SQL().ExecContext(ctx, `UPDATE users SET deleted_at = $1 WHERE login_id = $2`,
			b.Clock.Now().UnixMicro(), gone.LoginID); err != nil {
			t.Fatalf("remove user: %v", err)
		}
		newcomer := b.NewGeneralUser(t, org)
		r, _ = issue(t, b, newcomer)
		expect(t, "21st certificate", r, http.StatusConflict, "organization_certificate_limit")
		if n := len(activeCertificates(t, b, org.ID)); n != 20 {
			t.Fatalf("%d active certificates, want 20", n)
		}

		// Revoking one frees a place, which the newcomer then takes.
		freed := users[1]
		expect(t, "revocation", revoke(m, org.Master, freed.LoginID, "cessationOfOperation"), http.StatusOK, "")
		r, _ = issue(t, b, newcomer)
		expect(t, "issuance into the freed place", r, http.StatusCreated, "")
		r, _ = issue(t, b, freed)
		expect(t, "issuance when full again", r, http.StatusConflict, "organization_certificate_limit")
		if n := len(activeCertificates(t, b, org.ID)); n != 20 {
			t.Fatalf("%d active certificates, want 20", n)
		}
	})
}

func TestR6_GeneralUserLimit(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "十九人労組", false)
		m := passwordLogin(t, b, org.Master)
		create := func(cl *testutil.Client, loginID string) testutil.Response {
			return cl.Portal(http.MethodPost, pathUsers, map[string]string{"login_id": loginID, "name": "職員 " + loginID, "email": loginID + "@example.org"})
		}
		for i := 1; i <= 19; i++ {
			id := fmt.Sprintf("staff%02d", i)
			r := create(m, id)
			expect(t, "general user "+id, r, http.StatusCreated, "")
			if r.String("login_id") != id || r.String("role") != "general" || len(r.String("password")) < 8 ||
				len(r.String("confirmation_password")) < 8 || r.String("password") == r.String("confirmation_password") {
				t.Fatalf("created user: %s", r.Raw)
			}
		}
		expect(t, "20th general user", create(m, "staff20"), http.StatusConflict, "organization_user_limit")

		r := m.Portal(http.MethodGet, pathUsers, nil)
		expect(t, "GET /api/v1/users", r, http.StatusOK, "")
		roles := map[string]int{}
		list, _ := r.Body["users"].([]any)
		for _, x := range list {
			u, _ := x.(map[string]any)
			roles[u["role"].(string)]++
		}
		if d := cmp.Diff(map[string]int{"master": 1, "general": 19}, roles); d != "" {
			t.Fatalf("users by role (-want +got):\n%s", d)
		}

		// The limit is per organization.
		other := b.NewOrg(t, "別の労組", false)
		expect(t, "general user of another organization", create(passwordLogin(t, b, other.Master), "other01"), http.StatusCreated, "")
	})
}

func TestR7_CertificateBoundToOneUser(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "共有禁止労組", true)
		alice := b.NewGeneralUser(t, org)
		bob := b.NewGeneralUser(t, org)
		ac := b.IssueCertificate(t, alice)
		bc := b.IssueCertificate(t, bob)

		// The certificate names its one user: CN is the login ID, O the
		// organization (the CSR asked for other names, which are ignored).
		for _, c := range []struct {
			cert  *tls.Certificate
			creds testutil.Creds
		}{{ac, alice}, {bc, bob}} {
			if d := cmp.Diff([]string{org.Name}, c.cert.Leaf.Subject.Organization); d != "" {
				t.Errorf("O of %s's certificate (-want +got):\n%s", c.creds.LoginID, d)
			}
			if c.cert.Leaf.Subject.CommonName != c.creds.LoginID {
				t.Errorf("CN %q, want %q", c.cert.Leaf.Subject.CommonName, c.creds.LoginID)
			}
		}

		cases := []struct {
			name     string
			cert     *tls.Certificate
			password string
			status   int
			code     string
			loginID  string
		}{
			{"alice's certificate, bob's password", ac, bob.Password, http.StatusUnauthorized, "invalid_credentials", ""},
			{"bob's certificate, alice's password", bc, alice.Password, http.StatusUnauthorized, "invalid_credentials", ""},
			{"alice's certificate, the master's password", ac, org.Master.Password, http.StatusUnauthorized, "invalid_credentials", ""},
			{"alice's certificate, alice's password", ac, alice.Password, http.StatusCreated, "", alice.LoginID},
			{"bob's certificate, bob's password", bc, bob.Password, http.StatusCreated, "", bob.LoginID},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := b.Client(c.cert).CertPortal(http.MethodPost, pathSessions, map[string]string{"password": c.password})
				expect(t, "certificate login", r, c.status, c.code)
				if r.String("login_id") != c.loginID {
					t.Fatalf("logged in as %q, want %q", r.String("login_id"), c.loginID)
				}
			})
		}
	})
}

func TestR8_PasswordLoginRefused(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "証明書方式労組", true)
		g := b.NewGeneralUser(t, org)
		for _, c := range []struct {
			name  string
			creds testutil.Creds
		}{{"master", org.Master}, {"general", g}} {
			t.Run(c.name, func(t *testing.T) {
				r := b.Client(nil).Portal(http.MethodPost, pathSessions, map[string]string{"login_id": c.creds.LoginID, "password": c.creds.Password})
				expect(t, "password login", r, http.StatusForbidden, "certificate_login_required")
				if !strings.Contains(r.String("message"), "電子証明書ログイン") {
					t.Fatalf("message does not point to 電子証明書ログイン: %q", r.String("message"))
				}
				if sc := sessionCookieSet(r); sc != "" {
					t.Fatalf("refused login set a cookie: %s", sc)
				}
				// Without the password the answer says nothing of the
				// organization's login method.
				r = b.Client(nil).Portal(http.MethodPost, pathSessions, map[string]string{"login_id": c.creds.LoginID, "password": "Wrong-password-1"})
				expect(t, "wrong password", r, http.StatusUnauthorized, "invalid_credentials")
			})
		}

		t.Run("sessions end when the bank enables it", func(t *testing.T) {
			other := b.NewOrg(t, "切替労組", false)
			og := b.NewGeneralUser(t, other)
			sessions := []*testutil.Client{passwordLogin(t, b, other.Master), passwordLogin(t, b, og)}
			for _, cl := range sessions {
				expect(t, "GET /api/v1/me before", cl.Portal(http.MethodGet, pathMe, nil), http.StatusOK, "")
			}
			if _, err := b.Services.Identity.SetCertificateLogin(ctx, other.Code, true, "operator:test", "REQ-2026-0002"); err != nil {
				t.Fatal(err)
			}
			for _, cl := range sessions {
				r := cl.Portal(http.MethodGet, pathMe, nil)
				if r.Err != nil || !(r.Status == http.StatusUnauthorized && r.ErrorCode() == "unauthenticated" ||
					r.Status == http.StatusForbidden && r.ErrorCode() == "certificate_login_required") {
					t.Fatalf("ID+password session after the switch: %d %s %v", r.Status, r.Raw, r.Err)
				}
			}
			r := b.Client(nil).Portal(http.MethodPost, pathSessions, map[string]string{"login_id": og.LoginID, "password": og.Password})
			expect(t, "password login after the switch", r, http.StatusForbidden, "certificate_login_required")
		})
	})
}

func TestR9_ValidityOneYear(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		present := time.Now().UTC().Truncate(time.Second)
		days := func(from, to time.Time) int { return int(to.Sub(from) / (24 * time.Hour)) }
		year := days(present, present.AddDate(1, 0, 0)) // 365 or 366
		// The next end of January and leap day after the present; each
		// case has a bank made on its day.
		jan31 := nextDate(present, time.January, 31, 0)
		leapDay := nextDate(present, time.February, 29, 9)
		cases := []struct {
			name      string
			at        time.Time
			notAfter  time.Time
			daysLeft  int
			later     time.Duration // then GET /api/v1/me again
			daysLater int
		}{
			{"today", present, present.AddDate(1, 0, 0), year, 364 * 24 * time.Hour, year - 364},
			{"end of January", jan31, jan31.AddDate(1, 0, 0), days(jan31, jan31.AddDate(1, 0, 0)), 300*24*time.Hour + time.Hour, days(jan31, jan31.AddDate(1, 0, 0)) - 300},
			// 29 February plus a year is 1 March: 366 days.
			{"leap day", leapDay, leapDay.AddDate(1, 0, 0), 366, 366*24*time.Hour - time.Minute, 1},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				b := testutil.NewBankAt(t, db, c.at, nil)
				org := b.NewOrg(t, "一年労組", true)
				u := b.NewGeneralUser(t, org)
				r, cert := issue(t, b, u)
				expect(t, "issuance", r, http.StatusCreated, "")
				leaf := cert.Leaf
				if !leaf.NotBefore.Equal(c.at) || !leaf.NotAfter.Equal(c.notAfter) || !leaf.NotAfter.Equal(leaf.NotBefore.AddDate(1, 0, 0)) {
					t.Fatalf("validity %s .. %s, want %s .. %s", leaf.NotBefore, leaf.NotAfter, c.at, c.notAfter)
				}
				want := map[string]string{"not_before": c.at.Format(time.RFC3339), "not_after": c.notAfter.Format(time.RFC3339)}
				got := map[string]string{"not_before": r.String("not_before"), "not_after": r.String("not_after")}
				if d := cmp.Diff(want, got); d != "" {
					t.Fatalf("issuance answer (-want +got):\n%s", d)
				}
				cl := certLogin(t, b, cert, u)
				if got := certificateOfMe(t, cl.CertPortal(http.MethodGet, pathMe, nil))["days_left"]; got != float64(c.daysLeft) {
					t.Fatalf("days_left %v, want %d", got, c.daysLeft)
				}
				b.Clock.Advance(c.later)
				cl = certLogin(t, b, cert, u)
				if got := certificateOfMe(t, cl.CertPortal(http.MethodGet, pathMe, nil))["days_left"]; got != float64(c.daysLater) {
					t.Fatalf("days_left %v after %s, want %d", got, c.later, c.daysLater)
				}
			})
		}
	})
}

// nextDate returns the first day/month at hour:00 UTC after from that
// exists (29 February only in leap years).
func nextDate(from time.Time, month time.Month, day, hour int) time.Time {
	for y := from.Year(); ; y++ {
		d := time.Date(y, month, day, hour, 0, 0, 0, time.UTC)
		if d.Month() == month && d.After(from) {
			return d
		}
	}
}

func TestR10_UserSeesValidity(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "期限表示労組", true)
		g := b.NewGeneralUser(t, org)
		gc := b.IssueCertificate(t, g)
		mc := b.IssueCertificate(t, org.Master)
		b.Clock.Advance(10*24*time.Hour + time.Hour)

		t.Run("own certificate", func(t *testing.T) {
			cl := certLogin(t, b, gc, g)
			want := map[string]any{
				"serial":     serialOf(gc),
				"not_before": gc.Leaf.NotBefore.UTC().Format(time.RFC3339),
				"not_after":  gc.Leaf.NotAfter.UTC().Format(time.RFC3339),
				"days_left":  float64(gc.Leaf.NotAfter.Sub(gc.Leaf.NotBefore)/(24*time.Hour)) - 10,
				// Far from its expiry: nothing to renew yet (R9).
				"renewal_due": false,
			}
			if d := cmp.Diff(want, certificateOfMe(t, cl.CertPortal(http.MethodGet, pathMe, nil))); d != "" {
				t.Fatalf("GET /api/v1/me certificate (-want +got):\n%s", d)
			}
		})

		t.Run("the master sees the users' certificates", func(t *testing.T) {
			m := certLogin(t, b, mc, org.Master)
			r := m.CertPortal(http.MethodGet, pathUsers, nil)
			expect(t, "GET /api/v1/users", r, http.StatusOK, "")
			list, _ := r.Body["users"].([]any)
			var got map[string]any
			for _, x := range list {
				if u, _ := x.(map[string]any); u["login_id"] == g.LoginID {
					got, _ = u["certificate"].(map[string]any)
				}
			}
			want := map[string]any{
				"serial": serialOf(gc), "status": "active",
				"not_before": gc.Leaf.NotBefore.UTC().Format(time.RFC3339),
				"not_after":  gc.Leaf.NotAfter.UTC().Format(time.RFC3339),
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("general user's certificate in the list (-want +got):\n%s", d)
			}
		})

		t.Run("no certificate", func(t *testing.T) {
			other := b.NewOrg(t, "ID方式労組", false)
			r := passwordLogin(t, b, other.Master).Portal(http.MethodGet, pathMe, nil)
			expect(t, "GET /api/v1/me", r, http.StatusOK, "")
			if c, ok := r.Body["certificate"]; !ok || c != nil {
				t.Fatalf("certificate %v (present %v), want null", c, ok)
			}
		})
	})
}

func TestR11_ExpiredCertificateRefusedThenReissued(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "期限切れ労組", true)
		g := b.NewGeneralUser(t, org)
		old := b.IssueCertificate(t, g)
		kept := b.Client(old)
		dials := keepAlive(kept)
		login := func() testutil.Response {
			return kept.CertPortal(http.MethodPost, pathSessions, map[string]string{"password": g.Password})
		}
		expect(t, "login", login(), http.StatusCreated, "")

		// The last second of the validity still works.
		b.Clock.Set(old.Leaf.NotAfter)
		expect(t, "login at notAfter", login(), http.StatusCreated, "")
		certLogin(t, b, old, g)

		b.Clock.Advance(time.Second)
		t.Run("new connection", func(t *testing.T) {
			expect(t, "login after expiry", b.Client(old).CertPortal(http.MethodPost, pathSessions, map[string]string{"password": g.Password}),
				http.StatusForbidden, "certificate_expired")
			expect(t, "page after expiry", b.Client(old).CertPortal(http.MethodGet, pathMe, nil), http.StatusForbidden, "certificate_expired")
		})
		t.Run("connection opened before the expiry", func(t *testing.T) {
			expect(t, "login after expiry", login(), http.StatusForbidden, "certificate_expired")
			if n := dials.Load(); n != 1 {
				t.Fatalf("%d connections, want 1 kept alive", n)
			}
		})

		t.Run("new certificate from the login screen", func(t *testing.T) {
			r, fresh := issue(t, b, g)
			expect(t, "issuance", r, http.StatusCreated, "")
			if serialOf(fresh) == serialOf(old) {
				t.Fatal("same serial as the expired certificate")
			}
			cl := certLogin(t, b, fresh, g)
			if got := certificateOfMe(t, cl.CertPortal(http.MethodGet, pathMe, nil))["serial"]; got != serialOf(fresh) {
				t.Fatalf("GET /api/v1/me serial %v, want %s", got, serialOf(fresh))
			}
			expect(t, "expired certificate", b.Client(old).CertPortal(http.MethodGet, pathMe, nil), http.StatusForbidden, "certificate_expired")
		})
	})
}

func TestR12_MasterRevokesGeneral(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "失効労組", true)
		g := b.NewGeneralUser(t, org)
		mc := b.IssueCertificate(t, org.Master)
		gc := b.IssueCertificate(t, g)
		m := certLogin(t, b, mc, org.Master)
		gs := b.Client(gc)
		keepAlive(gs)
		expect(t, "general user's login", gs.CertPortal(http.MethodPost, pathSessions, map[string]string{"password": g.Password}), http.StatusCreated, "")

		expect(t, "unknown reason", revoke(m, org.Master, g.LoginID, "lost"), http.StatusBadRequest, "invalid_reason")
		r := revoke(m, org.Master, g.LoginID, "keyCompromise")
		expect(t, "revocation", r, http.StatusOK, "")
		want := map[string]any{"serial": serialOf(gc), "reason": "keyCompromise", "revoked_at": b.Clock.Now().UTC().Format(time.RFC3339)}
		if d := cmp.Diff(want, r.Body); d != "" {
			t.Fatalf("revocation answer (-want +got):\n%s", d)
		}
		expect(t, "second revocation", revoke(m, org.Master, g.LoginID, "keyCompromise"), http.StatusNotFound, "no_active_certificate")

		t.Run("effective at once", func(t *testing.T) {
			expectSessionRefused(t, "general user's session", gs.CertPortal(http.MethodGet, pathMe, nil))
			expect(t, "revoked certificate on a new connection", b.Client(gc).CertPortal(http.MethodGet, pathMe, nil), http.StatusForbidden, "certificate_revoked")
		})

		t.Run("recorded", func(t *testing.T) {
			evs, err := b.DB.ListAudit(ctx, store.AuditFilter{OrganizationID: org.ID, Type: audit.CertificateRevoked})
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 1 || evs[0].Actor != "user:"+org.Master.LoginID || evs[0].Serial != serialOf(gc) || evs[0].UserID != user(t, b, g.LoginID).ID {
				t.Fatalf("audit of the revocation: %+v", evs)
			}
			r := m.CertPortal(http.MethodGet, pathUsers, nil)
			for _, x := range r.Body["users"].([]any) {
				u := x.(map[string]any)
				if u["login_id"] != g.LoginID {
					continue
				}
				c, _ := u["certificate"].(map[string]any)
				if c["status"] != "revoked" || c["revocation_reason"] != "keyCompromise" || c["serial"] != serialOf(gc) {
					t.Fatalf("certificate in GET /api/v1/users: %v", c)
				}
			}
		})

		t.Run("new certificate from the login screen", func(t *testing.T) {
			r, fresh := issue(t, b, g)
			expect(t, "issuance", r, http.StatusCreated, "")
			certLogin(t, b, fresh, g)
		})
	})
}

func TestR12_BankRevokesMaster(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "書面失効労組", true)
		g := b.NewGeneralUser(t, org)
		mc := b.IssueCertificate(t, org.Master)
		gc := b.IssueCertificate(t, g)
		m := b.Client(mc)
		keepAlive(m)
		expect(t, "master's login", m.CertPortal(http.MethodPost, pathSessions, map[string]string{"password": org.Master.Password}), http.StatusCreated, "")

		// The bank acts only on a written request, whose reference it keeps.
		if _, err := b.Services.Certs.RevokeByBank(ctx, serialOf(mc), "keyCompromise", "yamada", ""); !errors.Is(err, certs.ErrRequestRefRequired) {
			t.Fatalf("revocation without a request reference: %v, want %v", err, certs.ErrRequestRefRequired)
		}
		expect(t, "master's session before", m.CertPortal(http.MethodGet, pathMe, nil), http.StatusOK, "")

		c, err := b.Services.Certs.RevokeByBank(ctx, serialOf(mc), "keyCompromise", "yamada", "REQ-2026-0042")
		if err != nil {
			t.Fatalf("revoke by bank: %v", err)
		}
		if c.Status != certs.StatusRevoked || c.Serial != serialOf(mc) {
			t.Fatalf("revoked %s %s", c.Serial, c.Status)
		}
		evs, err := b.DB.ListAudit(ctx, store.AuditFilter{OrganizationID: org.ID, Type: audit.CertificateRevoked})
		if err != nil {
			t.Fatal(err)
		}
		want := []audit.Event{{At: b.Clock.Now(), Type: audit.CertificateRevoked, Actor: "operator:yamada", OrganizationID: org.ID,
			UserID: user(t, b, org.Master.LoginID).ID, Serial: serialOf(mc), RequestRef: "REQ-2026-0042", Reason: "keyCompromise"}}
		if d := cmp.Diff(want, evs); d != "" {
			t.Fatalf("audit (-want +got):\n%s", d)
		}
		if _, err := b.Services.Certs.RevokeByBank(ctx, serialOf(mc), "keyCompromise", "yamada", "REQ-2026-0043"); !errors.Is(err, certs.ErrAlreadyRevoked) {
			t.Fatalf("second revocation: %v, want %v", err, certs.ErrAlreadyRevoked)
		}

		t.Run("effective at once", func(t *testing.T) {
			expectSessionRefused(t, "master's session", m.CertPortal(http.MethodGet, pathMe, nil))
			expect(t, "master's login on the open connection", m.CertPortal(http.MethodPost, pathSessions, map[string]string{"password": org.Master.Password}),
				http.StatusForbidden, "certificate_revoked")
			expect(t, "revoked certificate on a new connection", b.Client(mc).CertPortal(http.MethodGet, pathMe, nil), http.StatusForbidden, "certificate_revoked")
			// The general user's certificate is untouched.
			certLogin(t, b, gc, g)
		})

		t.Run("new certificate from the login screen", func(t *testing.T) {
			r, fresh := issue(t, b, org.Master)
			expect(t, "issuance", r, http.StatusCreated, "")
			certLogin(t, b, fresh, org.Master)
		})
	})
}

func TestR12_GeneralCannotRevoke(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "一般失効不可労組", true)
		g1 := b.NewGeneralUser(t, org)
		g2 := b.NewGeneralUser(t, org)
		issued := map[string]*tls.Certificate{}
		for _, c := range []testutil.Creds{org.Master, g1, g2} {
			issued[c.LoginID] = b.IssueCertificate(t, c)
		}
		s := certLogin(t, b, issued[g1.LoginID], g1)
		for _, c := range []struct{ name, target string }{
			{"another general user", g2.LoginID},
			{"own certificate", g1.LoginID},
			{"the master", org.Master.LoginID},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := s.CertPortal(http.MethodPost, revocationPath(c.target), map[string]string{"reason": "keyCompromise", "confirmation_password": g1.Confirmation})
				expect(t, "revocation by a general user", r, http.StatusForbidden, "forbidden")
			})
		}
		if n := len(activeCertificates(t, b, org.ID)); n != 3 {
			t.Fatalf("%d active certificates, want 3", n)
		}
		for _, c := range []testutil.Creds{org.Master, g1, g2} {
			certLogin(t, b, issued[c.LoginID], c)
		}
	})
}

func TestR12_RevocationNeedsConfirmationPassword(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "確認用労組", true)
		g := b.NewGeneralUser(t, org)
		mc := b.IssueCertificate(t, org.Master)
		gc := b.IssueCertificate(t, g)
		m := certLogin(t, b, mc, org.Master)
		for _, c := range []struct{ name, password string }{
			{"wrong", "Wrong-password-1"},
			{"the login password", org.Master.Password},
			{"empty", ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := m.CertPortal(http.MethodPost, revocationPath(g.LoginID), map[string]string{"reason": "keyCompromise", "confirmation_password": c.password})
				expect(t, "revocation", r, http.StatusForbidden, "invalid_confirmation_password")
				certLogin(t, b, gc, g)
			})
		}
		expect(t, "revocation with the confirmation password", revoke(m, org.Master, g.LoginID, "keyCompromise"), http.StatusOK, "")
		expect(t, "revoked certificate", b.Client(gc).CertPortal(http.MethodGet, pathMe, nil), http.StatusForbidden, "certificate_revoked")
	})
}

func TestR13_MasterRevokesOwnBeforeNewPC(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "PC入替労組", true)
		old := b.IssueCertificate(t, org.Master)
		m := b.Client(old)
		dials := keepAlive(m)
		expect(t, "login on the old PC", m.CertPortal(http.MethodPost, pathSessions, map[string]string{"password": org.Master.Password}), http.StatusCreated, "")

		r := revoke(m, org.Master, org.Master.LoginID, "superseded")
		expect(t, "own revocation", r, http.StatusOK, "")
		if r.String("serial") != serialOf(old) || r.String("reason") != "superseded" {
			t.Fatalf("revocation answer: %s", r.Raw)
		}
		expectSessionRefused(t, "the old PC's session", m.CertPortal(http.MethodGet, pathMe, nil))
		expect(t, "login on the old PC's open connection", m.CertPortal(http.MethodPost, pathSessions, map[string]string{"password": org.Master.Password}),
			http.StatusForbidden, "certificate_revoked")
		if n := dials.Load(); n != 1 {
			t.Fatalf("%d connections, want 1 kept alive", n)
		}
		expect(t, "old certificate on a new connection", b.Client(old).CertPortal(http.MethodGet, pathMe, nil), http.StatusForbidden, "certificate_revoked")

		// The new PC makes its own key and gets its own certificate.
		r, fresh := issue(t, b, org.Master)
		expect(t, "issuance on the new PC", r, http.StatusCreated, "")
		cl := certLogin(t, b, fresh, org.Master)
		if got := certificateOfMe(t, cl.CertPortal(http.MethodGet, pathMe, nil))["serial"]; got != serialOf(fresh) {
			t.Fatalf("serial %v, want %s", got, serialOf(fresh))
		}
	})
}
