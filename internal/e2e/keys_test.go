package e2e_test

import (
	"context"
	"crypto/x509"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"kinko/internal/hsm"
	"kinko/internal/pki"
	"kinko/internal/server"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// TestKeys_HSMIssuingKeySignsCertificatesCRLAndOCSP runs a bank whose
// issuing CA's key lives in SoftHSM2, with no issuing key file: every
// signing path (certificate issuance, the CRL, the OCSP responder's
// certificate) goes through the token, and what it signs verifies under
// the issuing CA and, as a chain, under the root and its name
// constraints.
func TestKeys_HSMIssuingKeySignsCertificatesCRLAndOCSP(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		// The bank's clock and both authorities start at the same second.
		at := time.Now().UTC().Truncate(time.Second)
		b := testutil.NewBankAt(t, db, at, func(p *server.Parts) {
			a, _ := testutil.HSMAuthority(t, filepath.Join(t.TempDir(), "pki"), at)
			p.Authority = a
		})
		if _, ok := b.Authority.IssuingKey.(*hsm.Key); !ok {
			t.Fatalf("the issuing key is a %T, want the key in the token", b.Authority.IssuingKey)
		}
		if _, err := os.Stat(filepath.Join(b.Authority.Dir, pki.IssuingKeyFile)); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("an issuing key file is there (%v); the bank must sign with the token's key alone", err)
		}
		org := b.NewOrg(t, "HSM労働組合", true)
		good, gone := b.NewGeneralUser(t, org), b.NewGeneralUser(t, org)
		goodCert, goneCert := b.IssueCertificate(t, good), b.IssueCertificate(t, gone)

		now := b.Clock.Now()
		roots, inter := x509.NewCertPool(), x509.NewCertPool()
		roots.AddCert(b.Authority.Root)
		inter.AddCert(b.Authority.Issuing)
		for _, c := range []*x509.Certificate{goodCert.Leaf, goneCert.Leaf} {
			if err := c.CheckSignatureFrom(b.Authority.Issuing); err != nil {
				t.Errorf("certificate %x: %v", c.SerialNumber, err)
			}
			if _, err := c.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now,
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
				t.Errorf("certificate %x does not verify under the name-constrained root: %v", c.SerialNumber, err)
			}
		}
		// The certificate logs in on the certificate portal.
		cl := certLogin(t, b, goodCert, good)
		if r := cl.CertPortal(http.MethodGet, "/api/v1/me", nil); r.Status != http.StatusOK {
			t.Errorf("GET /api/v1/me with the HSM-signed certificate: %d %s", r.Status, r.Raw)
		}

		if _, err := b.Services.Certs.RevokeByBank(context.Background(), serialOf(goneCert), "keyCompromise", "op1", "REQ-HSM-1"); err != nil {
			t.Fatal(err)
		}
		crl, _ := fetchCRL(t, b) // checks the signature by the issuing CA
		if len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Cmp(goneCert.Leaf.SerialNumber) != 0 {
			t.Errorf("CRL entries %+v, want the revoked certificate", crl.RevokedCertificateEntries)
		}
		for _, tt := range []struct {
			cert *x509.Certificate
			want int
		}{{goodCert.Leaf, ocsp.Good}, {goneCert.Leaf, ocsp.Revoked}} {
			raw := ocspQuery(t, b, tt.cert.SerialNumber, nil, http.MethodPost, false)
			resp, err := ocsp.ParseResponseForCert(raw, tt.cert, b.Authority.Issuing)
			if err != nil {
				t.Fatalf("OCSP response for %x: %v", tt.cert.SerialNumber, err)
			}
			if resp.Status != tt.want {
				t.Errorf("OCSP status of %x: %d, want %d", tt.cert.SerialNumber, resp.Status, tt.want)
			}
			if resp.Certificate != nil {
				if err := resp.Certificate.CheckSignatureFrom(b.Authority.Issuing); err != nil {
					t.Errorf("OCSP responder certificate: %v", err)
				}
			}
		}
	})
}
