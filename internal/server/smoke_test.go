package server_test

import (
	"net/http"
	"testing"

	"kinko/internal/store"
	"kinko/internal/testutil"
)

func TestSmokeCertificateLogin(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "テスト労組", true)
		g := b.NewGeneralUser(t, org)
		cert := b.IssueCertificate(t, g)
		c := b.Client(cert)
		r := c.CertPortal(http.MethodPost, "/api/v1/sessions", map[string]string{"password": g.Password})
		if r.Status != http.StatusCreated {
			t.Fatalf("login: %d %s %v", r.Status, r.Raw, r.Err)
		}
		r = c.CertPortal(http.MethodGet, "/api/v1/me", nil)
		if r.Status != 200 || r.String("login_id") != g.LoginID {
			t.Fatalf("me: %d %s", r.Status, r.Raw)
		}
	})
}
