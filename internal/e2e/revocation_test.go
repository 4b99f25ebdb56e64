package e2e_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"kinko/internal/certs"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

const opensslPath = "/usr/bin/openssl"

// getBytes fetches url with cl and returns the status, content type and
// body.
func getBytes(t testing.TB, cl *testutil.Client, method, u, contentType string, body []byte) (int, string, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := cl.HTTP.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), raw
}

// fetchCRL gets and parses the CRL, checking its signature by the issuing
// CA.
func fetchCRL(t testing.TB, b *testutil.Bank) (*x509.RevocationList, []byte) {
	t.Helper()
	var der []byte
	for _, base := range []string{b.PKIURL, b.PortalURL} {
		status, ct, got := getBytes(t, b.Client(nil), http.MethodGet, base+"/pki/crl", "", nil)
		if status != http.StatusOK || ct != "application/pkix-crl" {
			t.Fatalf("GET %s/pki/crl: %d %q %s", base, status, ct, got)
		}
		if der != nil && !bytes.Equal(der, got) {
			t.Fatalf("the portal and the PKI listener serve different CRLs")
		}
		der = got
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatalf("parse CRL: %v", err)
	}
	if err := crl.CheckSignatureFrom(b.Authority.Issuing); err != nil {
		t.Fatalf("CRL signature: %v", err)
	}
	return crl, der
}

// openssl runs openssl and returns its combined output and whether it
// succeeded.
func openssl(t testing.TB, args ...string) (string, bool) {
	t.Helper()
	out, err := exec.Command(opensslPath, args...).CombinedOutput()
	return string(out), err == nil
}

func writePEM(t testing.TB, path string, ders ...[]byte) string {
	t.Helper()
	var buf bytes.Buffer
	for _, d := range ders {
		_ = pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: d})
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// ocspQuery sends an OCSP request for serial of the issuing CA (or about
// issuer when not nil) by POST or GET to the PKI listener and returns the
// raw response.
func ocspQuery(t testing.TB, b *testutil.Bank, serial *big.Int, issuer *x509.Certificate, method string, escape bool) []byte {
	t.Helper()
	if issuer == nil {
		issuer = b.Authority.Issuing
	}
	req, err := ocsp.CreateRequest(&x509.Certificate{SerialNumber: serial}, issuer, &ocsp.RequestOptions{Hash: crypto.SHA1})
	if err != nil {
		t.Fatal(err)
	}
	var status int
	var ct string
	var raw []byte
	if method == http.MethodPost {
		status, ct, raw = getBytes(t, b.Client(nil), http.MethodPost, b.PKIURL+"/pki/ocsp", "application/ocsp-request", req)
	} else {
		enc := base64.StdEncoding.EncodeToString(req)
		if escape {
			enc = url.PathEscape(enc)
		}
		status, ct, raw = getBytes(t, b.Client(nil), http.MethodGet, b.PKIURL+"/pki/ocsp/"+enc, "", nil)
	}
	if status != http.StatusOK || ct != "application/ocsp-response" {
		t.Fatalf("OCSP %s: %d %q %q", method, status, ct, raw)
	}
	return raw
}

// opensslSerial formats a serial as openssl prints it: upper-case hex
// with an even number of digits.
func opensslSerial(n *big.Int) string {
	h := strings.ToUpper(n.Text(16))
	if len(h)%2 == 1 {
		h = "0" + h
	}
	return h
}

// ocspErrorStatus returns the status of an OCSP error response, -1 for
// anything else.
func ocspErrorStatus(err error) ocsp.ResponseStatus {
	var re ocsp.ResponseError
	if errors.As(err, &re) {
		return re.Status
	}
	return -1
}

// TestCRLAndOCSP issues two certificates, revokes one, and checks the CRL
// and the OCSP responder with Go and with openssl.
func TestCRLAndOCSP(t *testing.T) {
	if _, err := os.Stat(opensslPath); err != nil {
		t.Skip("openssl not installed")
	}
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "CRL労働組合", true)
		revokedUser, goodUser := b.NewGeneralUser(t, org), b.NewGeneralUser(t, org)
		revokedCert, goodCert := b.IssueCertificate(t, revokedUser), b.IssueCertificate(t, goodUser)

		t.Run("certificates carry the CRL and OCSP URLs", func(t *testing.T) {
			for _, c := range []*x509.Certificate{revokedCert.Leaf, goodCert.Leaf} {
				if got := c.CRLDistributionPoints; len(got) != 1 || got[0] != b.PKIURL+"/pki/crl" {
					t.Errorf("CRL distribution points %q, want %q", got, b.PKIURL+"/pki/crl")
				}
				if got := c.OCSPServer; len(got) != 1 || got[0] != b.PKIURL+"/pki/ocsp" {
					t.Errorf("OCSP servers %q, want %q", got, b.PKIURL+"/pki/ocsp")
				}
			}
		})

		crl, der := fetchCRL(t, b)
		if crl.Number.Int64() != 1 || len(crl.RevokedCertificateEntries) != 0 {
			t.Fatalf("first CRL: number %v, %d entries; want 1, 0", crl.Number, len(crl.RevokedCertificateEntries))
		}
		if got := crl.NextUpdate.Sub(crl.ThisUpdate); got != certs.DefaultCRLValidity {
			t.Errorf("CRL validity %v, want %v", got, certs.DefaultCRLValidity)
		}
		if _, again := fetchCRL(t, b); !bytes.Equal(again, der) {
			t.Errorf("CRL made again without a revocation")
		}

		if _, err := b.Services.Certs.RevokeByBank(context.Background(), serialOf(revokedCert), "keyCompromise", "op1", "REQ-CRL-1"); err != nil {
			t.Fatal(err)
		}
		crl, der = fetchCRL(t, b)
		if crl.Number.Int64() != 2 {
			t.Errorf("CRL number after a revocation %v, want 2", crl.Number)
		}
		if len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Cmp(revokedCert.Leaf.SerialNumber) != 0 ||
			crl.RevokedCertificateEntries[0].ReasonCode != 1 {
			t.Fatalf("CRL entries %+v, want the revoked serial with reason 1", crl.RevokedCertificateEntries)
		}

		dir := t.TempDir()
		crlDER := filepath.Join(dir, "crl.der")
		if err := os.WriteFile(crlDER, der, 0o600); err != nil {
			t.Fatal(err)
		}
		crlPEM := filepath.Join(dir, "crl.pem")
		if err := os.WriteFile(crlPEM, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		chain := writePEM(t, filepath.Join(dir, "chain.pem"), b.Authority.Root.Raw, b.Authority.Issuing.Raw)
		root := writePEM(t, filepath.Join(dir, "root.pem"), b.Authority.Root.Raw)
		issuing := writePEM(t, filepath.Join(dir, "issuing.pem"), b.Authority.Issuing.Raw)
		revokedPEM := writePEM(t, filepath.Join(dir, "revoked.pem"), revokedCert.Leaf.Raw)
		goodPEM := writePEM(t, filepath.Join(dir, "good.pem"), goodCert.Leaf.Raw)

		t.Run("openssl crl", func(t *testing.T) {
			out, ok := openssl(t, "crl", "-inform", "DER", "-in", crlDER, "-noout", "-text")
			if !ok {
				t.Fatalf("openssl crl: %s", out)
			}
			for _, want := range []string{"X509v3 CRL Number:", "\n                2\n", "Serial Number: " + opensslSerial(revokedCert.Leaf.SerialNumber),
				"X509v3 CRL Reason Code:", "Key Compromise", "Next Update:"} {
				if !strings.Contains(out, want) {
					t.Errorf("openssl crl output lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, opensslSerial(goodCert.Leaf.SerialNumber)) {
				t.Errorf("the good certificate is on the CRL:\n%s", out)
			}
		})

		t.Run("openssl verify -crl_check", func(t *testing.T) {
			for _, tt := range []struct {
				name, cert string
				ok         bool
				want       string
			}{
				{"revoked", revokedPEM, false, "certificate revoked"},
				{"good", goodPEM, true, ": OK"},
			} {
				t.Run(tt.name, func(t *testing.T) {
					out, ok := openssl(t, "verify", "-crl_check", "-purpose", "sslclient", "-CAfile", chain, "-CRLfile", crlPEM, tt.cert)
					if ok != tt.ok || !strings.Contains(out, tt.want) {
						t.Errorf("openssl verify: ok %v, want %v and %q:\n%s", ok, tt.ok, tt.want, out)
					}
				})
			}
		})

		t.Run("openssl ocsp", func(t *testing.T) {
			for _, tt := range []struct {
				name, cert, url string
				want            []string
			}{
				{"good", goodPEM, b.PKIURL, []string{": good"}},
				{"revoked", revokedPEM, b.PKIURL, []string{": revoked", "Reason: keyCompromise", "Revocation Time:"}},
				{"good on the portal", goodPEM, b.PortalURL, []string{": good"}},
				{"revoked on the portal", revokedPEM, b.PortalURL, []string{": revoked", "Reason: keyCompromise"}},
			} {
				t.Run(tt.name, func(t *testing.T) {
					out, ok := openssl(t, "ocsp", "-issuer", issuing, "-cert", tt.cert, "-url", tt.url+"/pki/ocsp",
						"-CAfile", root, "-verify_other", issuing, "-no_nonce", "-resp_text")
					if !ok {
						t.Fatalf("openssl ocsp failed:\n%s", out)
					}
					for _, w := range append(tt.want, "Response verify OK", "OCSP Response Status: successful") {
						if !strings.Contains(out, w) {
							t.Errorf("openssl ocsp output lacks %q:\n%s", w, out)
						}
					}
				})
			}
		})

		t.Run("OCSP in Go", func(t *testing.T) {
			for _, tt := range []struct {
				name   string
				serial *big.Int
				method string
				escape bool
				want   int
				reason int
			}{
				{"good by POST", goodCert.Leaf.SerialNumber, http.MethodPost, false, ocsp.Good, 0},
				{"revoked by POST", revokedCert.Leaf.SerialNumber, http.MethodPost, false, ocsp.Revoked, ocsp.KeyCompromise},
				{"good by GET", goodCert.Leaf.SerialNumber, http.MethodGet, false, ocsp.Good, 0},
				{"revoked by GET, URL-encoded", revokedCert.Leaf.SerialNumber, http.MethodGet, true, ocsp.Revoked, ocsp.KeyCompromise},
				{"unknown serial", big.NewInt(0x7357), http.MethodPost, false, ocsp.Unknown, 0},
				{"unknown serial by GET", big.NewInt(0x7357), http.MethodGet, true, ocsp.Unknown, 0},
			} {
				t.Run(tt.name, func(t *testing.T) {
					raw := ocspQuery(t, b, tt.serial, nil, tt.method, tt.escape)
					resp, err := ocsp.ParseResponse(raw, b.Authority.Issuing)
					if err != nil {
						t.Fatalf("parse response: %v", err)
					}
					if resp.Status != tt.want || resp.SerialNumber.Cmp(tt.serial) != 0 {
						t.Fatalf("status %d for %x, want %d for %x", resp.Status, resp.SerialNumber, tt.want, tt.serial)
					}
					if tt.want == ocsp.Revoked && (resp.RevocationReason != tt.reason || resp.RevokedAt.IsZero()) {
						t.Errorf("revoked at %v reason %d, want reason %d", resp.RevokedAt, resp.RevocationReason, tt.reason)
					}
					rc := resp.Certificate
					if rc == nil || len(rc.ExtKeyUsage) != 1 || rc.ExtKeyUsage[0] != x509.ExtKeyUsageOCSPSigning {
						t.Fatalf("responder certificate %v is not an OCSP signer", rc)
					}
					if rc.NotAfter.Sub(rc.NotBefore) > 31*24*time.Hour {
						t.Errorf("responder certificate valid %v, want about 30 days", rc.NotAfter.Sub(rc.NotBefore))
					}
					noCheck := false
					for _, e := range rc.Extensions {
						if e.Id.String() == "1.3.6.1.5.5.7.48.1.5" && bytes.Equal(e.Value, []byte{5, 0}) {
							noCheck = true
						}
					}
					if !noCheck {
						t.Errorf("responder certificate lacks id-pkix-ocsp-nocheck")
					}
				})
			}
		})

		t.Run("OCSP by GET with // in the base64", func(t *testing.T) {
			// A path holding "//" must reach the responder as it is, not be
			// redirected to a cleaned path.
			for i := int64(1); i < 100000; i++ {
				req, err := ocsp.CreateRequest(&x509.Certificate{SerialNumber: big.NewInt(i)}, b.Authority.Issuing, &ocsp.RequestOptions{Hash: crypto.SHA1})
				if err != nil {
					t.Fatal(err)
				}
				enc := base64.StdEncoding.EncodeToString(req)
				if !strings.Contains(enc, "//") {
					continue
				}
				for _, base := range []string{b.PKIURL, b.PortalURL} {
					status, _, raw := getBytes(t, b.Client(nil), http.MethodGet, base+"/pki/ocsp/"+enc, "", nil)
					resp, err := ocsp.ParseResponse(raw, b.Authority.Issuing)
					if status != http.StatusOK || err != nil || resp.Status != ocsp.Unknown || resp.SerialNumber.Int64() != i {
						t.Fatalf("GET %s/pki/ocsp/%s: %d %v %+v", base, enc, status, err, resp)
					}
				}
				return
			}
			t.Fatal("no request with // in its base64")
		})

		t.Run("OCSP refusals", func(t *testing.T) {
			raw := ocspQuery(t, b, goodCert.Leaf.SerialNumber, b.Authority.Root, http.MethodPost, false)
			if _, err := ocsp.ParseResponse(raw, nil); ocspErrorStatus(err) != ocsp.Unauthorized {
				t.Errorf("request about another CA: %v, want unauthorized", err)
			}
			for _, path := range []string{"/pki/ocsp/not-base64!", "/pki/ocsp/" + base64.StdEncoding.EncodeToString([]byte("garbage"))} {
				_, _, raw := getBytes(t, b.Client(nil), http.MethodGet, b.PKIURL+path, "", nil)
				if _, err := ocsp.ParseResponse(raw, nil); ocspErrorStatus(err) != ocsp.Malformed {
					t.Errorf("GET %s: %v, want malformed", path, err)
				}
			}
			_, _, raw = getBytes(t, b.Client(nil), http.MethodPost, b.PKIURL+"/pki/ocsp", "application/ocsp-request", []byte("garbage"))
			if _, err := ocsp.ParseResponse(raw, nil); ocspErrorStatus(err) != ocsp.Malformed {
				t.Errorf("POST garbage: %v, want malformed", err)
			}
		})

		t.Run("the PKI listener serves nothing else", func(t *testing.T) {
			for _, tt := range []struct{ method, path string }{
				{http.MethodGet, "/"},
				{http.MethodGet, "/api/v1/me"},
				{http.MethodPost, "/api/v1/sessions"},
				{http.MethodGet, "/login"},
			} {
				status, _, body := getBytes(t, b.Client(nil), tt.method, b.PKIURL+tt.path, "application/json", []byte("{}"))
				if status != http.StatusNotFound {
					t.Errorf("%s %s on the PKI listener: %d %s, want 404", tt.method, tt.path, status, body)
				}
			}
		})

		t.Run("the CRL number only grows", func(t *testing.T) {
			// Half the validity later the CRL is made again.
			b.Clock.Advance(certs.DefaultCRLValidity/2 + time.Second)
			crl, _ := fetchCRL(t, b)
			if crl.Number.Int64() != 3 || len(crl.RevokedCertificateEntries) != 1 {
				t.Fatalf("CRL after half its validity: number %v, %d entries; want 3, 1", crl.Number, len(crl.RevokedCertificateEntries))
			}
			if _, err := b.Services.Certs.RevokeByBank(context.Background(), serialOf(goodCert), "affiliationChanged", "op1", "REQ-CRL-2"); err != nil {
				t.Fatal(err)
			}
			// Two servers on one database asked at once make one CRL with
			// the next number.
			second, err := certs.NewRevocations(certs.RevocationConfig{Store: db, Authority: b.Authority, Now: b.Clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			ders := make([][]byte, 8)
			errs := make([]error, 8)
			for i := range ders {
				r := b.Services.Revocations
				if i%2 == 1 {
					r = second
				}
				wg.Go(func() { ders[i], errs[i] = r.CRL(context.Background()) })
			}
			wg.Wait()
			for i := range ders {
				if errs[i] != nil {
					t.Fatalf("CRL %d: %v", i, errs[i])
				}
				c, err := x509.ParseRevocationList(ders[i])
				if err != nil {
					t.Fatal(err)
				}
				if c.Number.Int64() != 4 || len(c.RevokedCertificateEntries) != 2 {
					t.Errorf("concurrent CRL %d: number %v, %d entries; want 4, 2", i, c.Number, len(c.RevokedCertificateEntries))
				}
			}
			crl, _ = fetchCRL(t, b)
			if crl.Number.Int64() != 4 {
				t.Errorf("CRL number %v, want 4", crl.Number)
			}
			reasons := map[string]int{}
			for _, e := range crl.RevokedCertificateEntries {
				reasons[strings.ToLower(e.SerialNumber.Text(16))] = e.ReasonCode
			}
			if reasons[serialOf(revokedCert)] != 1 || reasons[serialOf(goodCert)] != 3 {
				t.Errorf("reasons %v, want keyCompromise (1) and affiliationChanged (3)", reasons)
			}
		})

		t.Run("the responder certificate is renewed before it expires", func(t *testing.T) {
			raw := ocspQuery(t, b, goodCert.Leaf.SerialNumber, nil, http.MethodPost, false)
			first, err := ocsp.ParseResponse(raw, b.Authority.Issuing)
			if err != nil {
				t.Fatal(err)
			}
			b.Clock.Advance(21 * 24 * time.Hour)
			raw = ocspQuery(t, b, goodCert.Leaf.SerialNumber, nil, http.MethodPost, false)
			later, err := ocsp.ParseResponse(raw, b.Authority.Issuing)
			if err != nil {
				t.Fatal(err)
			}
			if later.Status != ocsp.Revoked || later.RevocationReason != ocsp.AffiliationChanged {
				t.Errorf("status %d reason %d, want revoked, affiliationChanged", later.Status, later.RevocationReason)
			}
			if first.Certificate.SerialNumber.Cmp(later.Certificate.SerialNumber) == 0 {
				t.Errorf("responder certificate not renewed 21 days later (not after %v, now %v)", first.Certificate.NotAfter, b.Clock.Now())
			}
			if !b.Clock.Now().Before(later.Certificate.NotAfter) || b.Clock.Now().Before(later.Certificate.NotBefore) {
				t.Errorf("renewed responder certificate %v..%v not valid now %v", later.Certificate.NotBefore, later.Certificate.NotAfter, b.Clock.Now())
			}
		})
	})
}

// TestOCSP_RevokingServerAnswersRevokedAtOnce: the responder caches the
// status of known serials, and the server that revokes a certificate drops
// that cache, so that its next OCSP answer, with no time passed, is
// revoked.
func TestOCSP_RevokingServerAnswersRevokedAtOnce(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "OCSP即時組合", true)
		cert := b.IssueCertificate(t, b.NewGeneralUser(t, org))
		status := func() int {
			t.Helper()
			r, err := ocsp.ParseResponse(ocspQuery(t, b, cert.Leaf.SerialNumber, nil, http.MethodPost, false), b.Authority.Issuing)
			if err != nil {
				t.Fatal(err)
			}
			return r.Status
		}
		// Twice, so that the second answer comes from the cache.
		for range 2 {
			if got := status(); got != ocsp.Good {
				t.Fatalf("before revocation: status %d, want good", got)
			}
		}
		if _, err := b.Services.Certs.RevokeByBank(context.Background(), serialOf(cert), "keyCompromise", "op1", "REQ-OCSP-1"); err != nil {
			t.Fatal(err)
		}
		if got := status(); got != ocsp.Revoked {
			t.Errorf("right after the revocation: status %d, want revoked", got)
		}
	})
}
