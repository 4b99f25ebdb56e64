package e2e_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"kinko/internal/calendar"
	"kinko/internal/server"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// TestServiceHours: outside the service hours (here the default
// maintenance of the 1st and 3rd Monday, 02:00-06:00 Japan time), the API
// behind the login answers 503 service_unavailable with Retry-After until
// 06:00, the pages the サービス時間外 page, and the public pages and the
// CA's objects stay up; at 06:00 everything is back.
func TestServiceHours(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		// Monday 2026-12-07 is the first Monday of December; the bank is
		// made that night, before the maintenance begins at 02:00.
		b := testutil.NewBankAt(t, db, time.Date(2026, 12, 7, 1, 0, 0, 0, calendar.JST), func(p *server.Parts) { p.Hours = calendar.Hours{} })
		org := b.NewOrg(t, "時間外労組", false)
		cl := passwordLogin(t, b, org.Master)
		b.Clock.Set(time.Date(2026, 12, 7, 3, 0, 0, 0, calendar.JST))
		r := cl.Portal(http.MethodGet, pathMe, nil)
		expect(t, "GET /api/v1/me in maintenance", r, http.StatusServiceUnavailable, "service_unavailable")
		if got := r.Header.Get("Retry-After"); got != strconv.Itoa(3*3600) {
			t.Errorf("Retry-After %q, want %d (until 06:00)", got, 3*3600)
		}
		r = b.Client(nil).Portal(http.MethodPost, pathSessions, map[string]string{"login_id": org.Master.LoginID, "password": org.Master.Password})
		expect(t, "login in maintenance", r, http.StatusServiceUnavailable, "service_unavailable")

		page := func(base, path string) *http.Response {
			t.Helper()
			resp, err := b.Client(nil).HTTP.Get(base + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp
		}
		for _, path := range []string{"/login", "/home", "/issue"} {
			if resp := page(b.PortalURL, path); resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
				t.Errorf("%s in maintenance: %d, Retry-After %q; want 503 with Retry-After", path, resp.StatusCode, resp.Header.Get("Retry-After"))
			}
		}
		for _, path := range []string{"/", "/hours", "/faq", "/static/kinko.css"} {
			if resp := page(b.PortalURL, path); resp.StatusCode != http.StatusOK {
				t.Errorf("public %s in maintenance: %d, want 200", path, resp.StatusCode)
			}
		}
		if resp := page(b.PKIURL, "/pki/crl"); resp.StatusCode != http.StatusOK {
			t.Errorf("CRL in maintenance: %d", resp.StatusCode)
		}
		if resp := page(b.PortalURL, "/pki/ca.pem"); resp.StatusCode != http.StatusOK {
			t.Errorf("CA chain in maintenance: %d", resp.StatusCode)
		}

		// Not the second Monday.
		b.Clock.Set(time.Date(2026, 12, 14, 3, 0, 0, 0, calendar.JST))
		cl = passwordLogin(t, b, org.Master)
		expect(t, "GET /api/v1/me on the 2nd Monday night", cl.Portal(http.MethodGet, pathMe, nil), http.StatusOK, "")
		b.Clock.Set(time.Date(2026, 12, 7, 6, 0, 0, 0, calendar.JST))
		cl = passwordLogin(t, b, org.Master)
		expect(t, "GET /api/v1/me at 06:00", cl.Portal(http.MethodGet, pathMe, nil), http.StatusOK, "")
	})
}
