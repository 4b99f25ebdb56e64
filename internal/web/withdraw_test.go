package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"kinko/internal/certs"
	"kinko/internal/pki"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// TestR13_WithdrawFromTheIssuancePage: the issuance page's plain form
// withdraws a certificate issued but never saved; the page then says so
// (after a redirect, so that Back does not send it again). Refused (a
// certificate used to log in), it says why in the page's language and
// keeps the login ID typed.
func TestR13_WithdrawFromTheIssuancePage(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "取消の頁労組", true)
		g := b.NewGeneralUser(t, org)
		lost := b.IssueCertificate(t, g)
		for _, lang := range []string{"ja", "en"} {
			t.Run(lang, func(t *testing.T) {
				c := b.Client(nil)
				setLanguage(t, b, c, lang)
				form := get(t, c, b.PortalURL+"/issue")
				wantText(t, form, msg(t, lang, "page.issue.withdraw.heading"))
				if lang == "en" {
					// Refused: the master's certificate was used to log in.
					mc := b.IssueCertificate(t, org.Master)
					certificateLogin(t, b, b.Client(mc), org.Master.Password)
					p := post(t, c, b.PortalURL+"/issue/withdraw", url.Values{"csrf_token": {csrfToken(t, form)},
						"login_id": {org.Master.LoginID}, "password": {org.Master.Password}})
					wantPage(t, p, http.StatusConflict, "/issue")
					wantText(t, p, msg(t, lang, "error.certificate_not_withdrawable"), `value="`+org.Master.LoginID+`"`)
					return
				}
				p := post(t, c, b.PortalURL+"/issue/withdraw", url.Values{"csrf_token": {csrfToken(t, form)},
					"login_id": {g.LoginID}, "password": {g.Password}})
				wantPage(t, p, http.StatusOK, "/issue")
				wantText(t, p, msg(t, lang, "page.issue.withdraw.done"))
				cur, err := b.Services.Certs.ByFingerprint(ctx, pki.Fingerprint(lost.Leaf.Raw))
				if err != nil || cur.Status != certs.StatusRevoked {
					t.Fatalf("withdrawn certificate %s %v, want revoked", cur.Status, err)
				}
			})
		}
		t.Run("without the form token", func(t *testing.T) {
			c := b.Client(nil)
			p := post(t, c, b.PortalURL+"/issue/withdraw", url.Values{"login_id": {g.LoginID}, "password": {g.Password}})
			if p.Status != http.StatusForbidden {
				t.Fatalf("withdrawal without the form token: %d, want 403", p.Status)
			}
		})
	})
}
