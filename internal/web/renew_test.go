package web_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"strings"
	"testing"
	"time"

	"kinko/internal/store"
	"kinko/internal/testutil"
)

// TestR9_RenewalNoticeAndPage: far from expiry the top screen has no
// notice and the renewal page says when renewal opens; inside the window
// (40 days) the top screen shows the expiry date, the days left and the
// 「更新」 button, which leads to the renewal page with its form; once
// renewed, the notice says so.
func TestR9_RenewalNoticeAndPage(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "更新画面労働組合", true)
		user := b.NewGeneralUser(t, org)
		cert := b.IssueCertificate(t, user)
		notAfter := cert.Leaf.NotAfter
		const day = 24 * time.Hour
		for _, lang := range []string{"ja", "en"} {
			t.Run(lang+"/before the window", func(t *testing.T) {
				b.Clock.Set(notAfter.Add(-41 * day))
				c := b.Client(cert)
				setLanguage(t, b, c, lang)
				top := certificateLogin(t, b, c, user.Password)
				wantPage(t, top, http.StatusOK, "/home")
				wantText(t, top, msg(t, lang, "page.home.notices.none"))
				if strings.Contains(top.Raw, `id="renewal-notice"`) {
					t.Fatal("renewal notice 41 days before expiry")
				}
				p := get(t, c, b.CertPortalURL+"/renew")
				wantPage(t, p, http.StatusOK, "/renew")
				wantTitle(t, p, lang, "page.renew.title")
				if strings.Contains(p.Raw, `id="issue-form"`) {
					t.Fatal("renewal form shown before the window")
				}
				wantText(t, p, msg(t, lang, "page.renew.not_due", usersDate(t, lang, notAfter.Add(-40*day))))
			})
			t.Run(lang+"/inside the window", func(t *testing.T) {
				b.Clock.Set(notAfter.Add(-40 * day))
				c := b.Client(cert)
				setLanguage(t, b, c, lang)
				top := certificateLogin(t, b, c, user.Password)
				wantPage(t, top, http.StatusOK, "/home")
				wantText(t, top, msg(t, lang, "page.home.renewal.due", dateTime(t, lang, notAfter), 40), msg(t, lang, "action.renew"))
				if !strings.Contains(top.Raw, `id="renewal-button" href="/renew"`) {
					t.Fatal("no 更新 button on the top screen")
				}
				info := get(t, c, b.CertPortalURL+"/certificate")
				wantText(t, info, msg(t, lang, "page.certificate.renewal_due"))
				p := get(t, c, b.CertPortalURL+"/renew")
				wantPage(t, p, http.StatusOK, "/renew")
				wantText(t, p, msg(t, lang, "page.renew.intro", dateTime(t, lang, notAfter), 40), msg(t, lang, "page.renew.done.next.delete_old"))
				for _, want := range []string{`data-mode="renewal"`, `data-login-id="` + user.LoginID + `"`, `<script type="module" src="/static/js/issue.js">`,
					`<template id="issue-messages">`, `id="p12-step"`} {
					if !strings.Contains(p.Raw, want) {
						t.Errorf("renewal page lacks %s", want)
					}
				}
			})
		}
		t.Run("renewed", func(t *testing.T) {
			c := b.Client(cert)
			certificateLogin(t, b, c, user.Password)
			key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			r := c.CertPortal(http.MethodPost, "/api/v1/certificates/renewal", map[string]string{"csr": testutil.NewCSR(t, key)})
			if r.Status != http.StatusCreated {
				t.Fatalf("renewal: %d %s", r.Status, r.Raw)
			}
			top := get(t, c, b.CertPortalURL+"/home")
			if !strings.Contains(top.Raw, `id="renewal-notice"`) || strings.Contains(top.Raw, `id="renewal-button"`) {
				t.Fatal("after renewal the notice should say it is renewed, without the 更新 button")
			}
			wantText(t, top, msg(t, "ja", "page.home.renewal.renewed_next"))
			wantText(t, get(t, c, b.CertPortalURL+"/renew"), msg(t, "ja", "page.renew.already", dateTime(t, "ja", b.Clock.Now())))
		})
		t.Run("not on the portal", func(t *testing.T) {
			p := get(t, b.Client(nil), b.PortalURL+"/renew")
			if p.Status != http.StatusNotFound {
				t.Fatalf("portal /renew: %d", p.Status)
			}
		})
	})
}
