package pki

import (
	"bytes"
	"crypto"
	"crypto/elliptic"
	"crypto/x509"
	"math/big"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

func TestCRL(t *testing.T) {
	a := newTestAuthority(t, "CRL Bank", elliptic.P256())
	this := testNow.Add(time.Hour)
	next := this.Add(24 * time.Hour)
	entries := []RevokedEntry{
		{Serial: big.NewInt(0x1234), RevokedAt: testNow.Add(time.Minute), ReasonCode: 1},
		{Serial: big.NewInt(0x5678), RevokedAt: testNow.Add(2 * time.Minute), ReasonCode: 0},
	}
	t.Run("valid", func(t *testing.T) {
		der, err := a.CRL(entries, big.NewInt(7), this, next, nil)
		if err != nil {
			t.Fatal(err)
		}
		crl, err := x509.ParseRevocationList(der)
		if err != nil {
			t.Fatal(err)
		}
		if err := crl.CheckSignatureFrom(a.Issuing); err != nil {
			t.Fatalf("signature: %v", err)
		}
		if crl.Number.Int64() != 7 || !crl.ThisUpdate.Equal(this.Truncate(time.Second)) || !crl.NextUpdate.Equal(next.Truncate(time.Second)) {
			t.Errorf("number %v, %v..%v", crl.Number, crl.ThisUpdate, crl.NextUpdate)
		}
		if !bytes.Equal(crl.RawIssuer, a.Issuing.RawSubject) {
			t.Errorf("issuer is not the issuing CA")
		}
		if len(crl.RevokedCertificateEntries) != 2 {
			t.Fatalf("%d entries, want 2", len(crl.RevokedCertificateEntries))
		}
		first, second := crl.RevokedCertificateEntries[0], crl.RevokedCertificateEntries[1]
		if first.SerialNumber.Int64() != 0x1234 || first.ReasonCode != 1 || len(first.Extensions) != 1 {
			t.Errorf("first entry %+v, want 1234 keyCompromise with a reason code extension", first)
		}
		if second.SerialNumber.Int64() != 0x5678 || len(second.Extensions) != 0 {
			t.Errorf("second entry %+v, want 5678 without a reason code extension (unspecified)", second)
		}
	})
	for _, tt := range []struct {
		name       string
		entries    []RevokedEntry
		number     *big.Int
		this, next time.Time
		want       string
	}{
		{"no number", entries, nil, this, next, "CRL number"},
		{"zero number", entries, big.NewInt(0), this, next, "CRL number"},
		{"number of 21 octets", entries, bigPow2(160), this, next, "CRL number"},
		{"nextUpdate not after thisUpdate", entries, big.NewInt(1), this, this, "nextUpdate"},
		{"zero serial", []RevokedEntry{{Serial: big.NewInt(0), RevokedAt: this}}, big.NewInt(1), this, next, "serial"},
		{"reason code 7", []RevokedEntry{{Serial: big.NewInt(1), RevokedAt: this, ReasonCode: 7}}, big.NewInt(1), this, next, "reason code"},
		{"reason code 11", []RevokedEntry{{Serial: big.NewInt(1), RevokedAt: this, ReasonCode: 11}}, big.NewInt(1), this, next, "reason code"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.CRL(tt.entries, tt.number, tt.this, tt.next, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want one about %q", err, tt.want)
			}
		})
	}
}

func TestOCSPResponder(t *testing.T) {
	a := newTestAuthority(t, "OCSP Bank", elliptic.P256())
	other := newTestAuthority(t, "Other Bank", elliptic.P256())
	r, err := NewOCSPResponder(a, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := testNow.Add(time.Hour)
	revokedAt := testNow.Add(30 * time.Minute)
	status := func(serial *big.Int) (OCSPStatus, error) {
		switch serial.Int64() {
		case 1:
			return OCSPStatus{Known: true}, nil
		case 2:
			return OCSPStatus{Known: true, Revoked: true, RevokedAt: revokedAt, ReasonCode: ocsp.Superseded}, nil
		}
		return OCSPStatus{}, nil
	}
	request := func(t *testing.T, serial int64, issuer *x509.Certificate, h crypto.Hash) []byte {
		req, err := ocsp.CreateRequest(&x509.Certificate{SerialNumber: big.NewInt(serial)}, issuer, &ocsp.RequestOptions{Hash: h})
		if err != nil {
			t.Fatal(err)
		}
		return req
	}
	for _, tt := range []struct {
		name   string
		serial int64
		hash   crypto.Hash
		want   int
	}{
		{"good, SHA-1", 1, crypto.SHA1, ocsp.Good},
		{"good, SHA-256", 1, crypto.SHA256, ocsp.Good},
		{"revoked", 2, crypto.SHA1, ocsp.Revoked},
		{"unknown", 3, crypto.SHA256, ocsp.Unknown},
	} {
		t.Run(tt.name, func(t *testing.T) {
			der, err := r.Respond(request(t, tt.serial, a.Issuing, tt.hash), now, status)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := ocsp.ParseResponse(der, a.Issuing)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != tt.want || resp.SerialNumber.Int64() != tt.serial {
				t.Fatalf("status %d serial %v, want %d %d", resp.Status, resp.SerialNumber, tt.want, tt.serial)
			}
			if !resp.ThisUpdate.Equal(now.Truncate(time.Second)) || resp.NextUpdate.Sub(resp.ThisUpdate) != OCSPResponseValidity {
				t.Errorf("times %v..%v", resp.ThisUpdate, resp.NextUpdate)
			}
			if tt.want == ocsp.Revoked && (!resp.RevokedAt.Equal(revokedAt.Truncate(time.Second)) || resp.RevocationReason != ocsp.Superseded) {
				t.Errorf("revoked at %v reason %d", resp.RevokedAt, resp.RevocationReason)
			}
		})
	}
	t.Run("another CA is unauthorized", func(t *testing.T) {
		der, err := r.Respond(request(t, 1, other.Issuing, crypto.SHA1), now, status)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(der, ocsp.UnauthorizedErrorResponse) {
			t.Errorf("response %x, want unauthorized", der)
		}
	})
	t.Run("garbage is malformed", func(t *testing.T) {
		der, err := r.Respond([]byte("garbage"), now, status)
		if err != nil || !bytes.Equal(der, ocsp.MalformedRequestErrorResponse) {
			t.Errorf("response %x %v, want malformedRequest", der, err)
		}
	})
	t.Run("responder certificate", func(t *testing.T) {
		c, key, err := r.ResponderCertificate(now)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.CheckSignatureFrom(a.Issuing); err != nil {
			t.Errorf("not signed by the issuing CA: %v", err)
		}
		if !publicKeysEqual(key.Public(), c.PublicKey) {
			t.Errorf("key does not match")
		}
		if len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != x509.ExtKeyUsageOCSPSigning || c.IsCA || c.KeyUsage != x509.KeyUsageDigitalSignature {
			t.Errorf("EKU %v, CA %v, KU %v", c.ExtKeyUsage, c.IsCA, c.KeyUsage)
		}
		if c.NotAfter.Sub(c.NotBefore) != ocspResponderValidity || c.NotBefore.After(now) {
			t.Errorf("validity %v..%v", c.NotBefore, c.NotAfter)
		}
		found := false
		for _, e := range c.Extensions {
			if e.Id.Equal(oidOCSPNoCheck) {
				found = !e.Critical && bytes.Equal(e.Value, []byte{0x05, 0x00})
			}
		}
		if !found {
			t.Errorf("no id-pkix-ocsp-nocheck extension with a NULL value")
		}
		for _, tt := range []struct {
			name  string
			at    time.Time
			fresh bool
		}{
			{"reused 19 days later", now.Add(19 * 24 * time.Hour), false},
			{"renewed 21 days later", now.Add(21 * 24 * time.Hour), true},
		} {
			t.Run(tt.name, func(t *testing.T) {
				c1, _, err := r.ResponderCertificate(now)
				if err != nil {
					t.Fatal(err)
				}
				c2, _, err := r.ResponderCertificate(tt.at)
				if err != nil {
					t.Fatal(err)
				}
				if fresh := c1.SerialNumber.Cmp(c2.SerialNumber) != 0; fresh != tt.fresh {
					t.Errorf("new certificate %v, want %v", fresh, tt.fresh)
				}
			})
		}
	})
}

// TestOCSPResponseCache: the same status is answered with the same signed
// response for a quarter of its validity; a changed status (a revocation)
// is answered at once, and an older response is signed anew.
func TestOCSPResponseCache(t *testing.T) {
	a := newTestAuthority(t, "OCSP Cache Bank", elliptic.P256())
	r, err := NewOCSPResponder(a, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := OCSPStatus{Known: true}
	signed := 0
	status := func(*big.Int) (OCSPStatus, error) { return st, nil }
	req, err := ocsp.CreateRequest(&x509.Certificate{SerialNumber: big.NewInt(7)}, a.Issuing, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := testNow.Add(time.Hour)
	var last []byte
	ask := func(at time.Time) *ocsp.Response {
		t.Helper()
		der, err := r.Respond(req, at, status)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(der, last) {
			signed++
		}
		last = der
		resp, err := ocsp.ParseResponse(der, a.Issuing)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	first := ask(now)
	ask(now.Add(time.Minute))
	if got := ask(now.Add(ocspCacheFor - time.Second)); signed != 1 || !got.ThisUpdate.Equal(first.ThisUpdate) {
		t.Fatalf("%d responses signed within the cache time, want 1 (thisUpdate %v, first %v)", signed, got.ThisUpdate, first.ThisUpdate)
	}
	st = OCSPStatus{Known: true, Revoked: true, RevokedAt: now.Add(2 * time.Minute), ReasonCode: ocsp.KeyCompromise}
	if got := ask(now.Add(3 * time.Minute)); got.Status != ocsp.Revoked || signed != 2 {
		t.Fatalf("after the revocation: status %d, %d signed; want revoked at once", got.Status, signed)
	}
	if got := ask(now.Add(3*time.Minute + ocspCacheFor)); signed != 3 || got.Status != ocsp.Revoked || !got.ThisUpdate.After(first.ThisUpdate) {
		t.Fatalf("after the cache time: %d signed, status %d, thisUpdate %v", signed, got.Status, got.ThisUpdate)
	}
}
