package pki

import (
	"bytes"
	"crypto"
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"kinko/internal/calendar"
	"kinko/internal/testutil/zlint"
)

// hostileCSR is a request asking for everything the profile must ignore:
// an administrator's name, SANs and CA powers.
func hostileCSR(t *testing.T, key crypto.Signer) []byte {
	t.Helper()
	bc, err := asn1.Marshal(struct {
		IsCA       bool
		MaxPathLen int
	}{true, 5})
	if err != nil {
		t.Fatal(err)
	}
	return pemEncode("CERTIFICATE REQUEST", csrDER(t, key, &x509.CertificateRequest{
		Subject: pkix.Name{
			CommonName:         "admin",
			Organization:       []string{"Evil Corp"},
			OrganizationalUnit: []string{"root"},
			Country:            []string{"XX"},
		},
		DNSNames:       []string{"admin.example", "bank.example"},
		EmailAddresses: []string{"admin@bank.example"},
		ExtraExtensions: []pkix.Extension{
			{Id: oidExtBasicConstraints, Critical: true, Value: bc},
		},
	}))
}

func TestIssueClientCertificate(t *testing.T) {
	cas := []struct {
		name   string
		curve  elliptic.Curve
		sigAlg x509.SignatureAlgorithm
	}{
		{"P-256 CA", elliptic.P256(), x509.ECDSAWithSHA256},
		{"P-384 CA", elliptic.P384(), x509.ECDSAWithSHA384},
	}
	subjects := []string{"p256", "p384", "rsa2048"}
	// A leap day, with a fractional second, shows that validity is
	// truncated and otherwise taken exactly as given.
	notBefore := time.Date(2028, time.February, 29, 10, 11, 12, 987_654_321, calendar.JST)
	wantNotBefore := notBefore.UTC().Truncate(time.Second)
	wantNotAfter := wantNotBefore.AddDate(1, 0, 0)
	if wantNotAfter.Sub(wantNotBefore) != 366*24*time.Hour {
		t.Fatalf("test setup: one calendar year after %s is %s", wantNotBefore, wantNotAfter)
	}

	for _, ca := range cas {
		a := newTestAuthority(t, "kinko demo bank", ca.curve)
		iss := newTestIssuer(t, a)
		for _, kind := range subjects {
			t.Run(ca.name+"/"+kind, func(t *testing.T) {
				csr, err := ParseCSR(hostileCSR(t, testKey(t, kind)))
				if err != nil {
					t.Fatalf("ParseCSR: %v", err)
				}
				if csr.Subject.CommonName != "admin" || len(csr.DNSNames) != 2 || len(csr.Extensions) == 0 {
					t.Fatalf("test setup: hostile CSR lost its wishes: %+v", csr.Subject)
				}
				r := clientRequest(t, csr.PublicKey, notBefore)
				p, der, c := issue(t, iss, r)

				if !bytes.Equal(c.RawTBSCertificate, p.TBS) {
					t.Errorf("RawTBSCertificate differs from Prepared.TBS")
				}
				if !bytes.Equal(der, c.Raw) {
					t.Errorf("returned DER differs from the parsed certificate's")
				}
				if c.Version != 3 {
					t.Errorf("version %d", c.Version)
				}
				if c.SerialNumber.Cmp(r.Serial) != 0 {
					t.Errorf("serial %x, want %x", c.SerialNumber, r.Serial)
				}
				if c.SignatureAlgorithm != ca.sigAlg {
					t.Errorf("signature algorithm %v, want %v", c.SignatureAlgorithm, ca.sigAlg)
				}
				if !bytes.Equal(c.RawIssuer, a.Issuing.RawSubject) {
					t.Errorf("issuer %q, want %q", c.Issuer, a.Issuing.Subject)
				}
				var rdns pkix.RDNSequence
				if _, err := asn1.Unmarshal(c.RawSubject, &rdns); err != nil {
					t.Fatal(err)
				}
				wantRDNs := pkix.RDNSequence{
					{{Type: oidOrganization, Value: "kinko demo bank"}},
					{{Type: oidCommonName, Value: "K1234567"}},
				}
				if diff := cmp.Diff(wantRDNs, rdns); diff != "" {
					t.Errorf("subject mismatch (-want +got):\n%s", diff)
				}
				if len(c.DNSNames)+len(c.EmailAddresses)+len(c.IPAddresses)+len(c.URIs) != 0 {
					t.Errorf("certificate has SANs: %v %v %v %v", c.DNSNames, c.EmailAddresses, c.IPAddresses, c.URIs)
				}
				if c.KeyUsage != x509.KeyUsageDigitalSignature {
					t.Errorf("key usage %#x, want digitalSignature", c.KeyUsage)
				}
				if !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) || len(c.UnknownExtKeyUsage) != 0 {
					t.Errorf("extended key usage %v %v, want clientAuth only", c.ExtKeyUsage, c.UnknownExtKeyUsage)
				}
				if !c.BasicConstraintsValid || c.IsCA || c.MaxPathLen > 0 {
					t.Errorf("basic constraints valid=%v CA=%v pathlen=%d", c.BasicConstraintsValid, c.IsCA, c.MaxPathLen)
				}
				wantSKI, _ := subjectKeyID(csr.PublicKey)
				if len(c.SubjectKeyId) != 20 || !bytes.Equal(c.SubjectKeyId, wantSKI) {
					t.Errorf("SKI %x, want %x", c.SubjectKeyId, wantSKI)
				}
				if !bytes.Equal(c.AuthorityKeyId, a.Issuing.SubjectKeyId) {
					t.Errorf("AKI %x, want issuing CA SKI %x", c.AuthorityKeyId, a.Issuing.SubjectKeyId)
				}
				if !c.NotBefore.Equal(wantNotBefore) || !c.NotAfter.Equal(wantNotAfter) {
					t.Errorf("validity %s..%s, want %s..%s", c.NotBefore, c.NotAfter, wantNotBefore, wantNotAfter)
				}
				if len(c.CRLDistributionPoints)+len(c.OCSPServer)+len(c.IssuingCertificateURL) != 0 {
					t.Errorf("unrequested CRL or AIA URLs present")
				}
				critical := map[string]bool{}
				var ids []string
				for _, e := range c.Extensions {
					ids = append(ids, e.Id.String())
					critical[e.Id.String()] = e.Critical
				}
				slices.Sort(ids)
				if want := []string{"2.5.29.14", "2.5.29.15", "2.5.29.19", "2.5.29.35", "2.5.29.37"}; !slices.Equal(ids, want) {
					t.Errorf("extensions %v, want %v", ids, want)
				}
				if !critical["2.5.29.15"] || !critical["2.5.29.19"] || critical["2.5.29.37"] {
					t.Errorf("criticality %v", critical)
				}
				if !publicKeysEqual(c.PublicKey, csr.PublicKey) {
					t.Errorf("public key is not the CSR's")
				}

				roots := x509.NewCertPool()
				roots.AddCert(a.Root)
				inter := x509.NewCertPool()
				inter.AddCert(a.Issuing)
				chains, err := c.Verify(x509.VerifyOptions{
					Roots:         roots,
					Intermediates: inter,
					CurrentTime:   wantNotBefore.Add(time.Hour),
					KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
				})
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if len(chains) != 1 || len(chains[0]) != 3 || !chains[0][1].Equal(a.Issuing) || !chains[0][2].Equal(a.Root) {
					t.Errorf("unexpected chains %v", chains)
				}
				if _, err := c.Verify(x509.VerifyOptions{
					Roots: roots, Intermediates: inter, CurrentTime: wantNotBefore.Add(time.Hour),
					KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
				}); err == nil {
					t.Errorf("client certificate verifies for serverAuth")
				}

				zlint.LintCertificate(t, der)
				zlint.LintCertificate(t, p.LintCertificate())
			})
		}
	}
}

func TestIssueWithURLs(t *testing.T) {
	a := newTestAuthority(t, "bank", nil)
	iss := newTestIssuer(t, a)
	tests := []struct {
		name     string
		crl      string
		ocsp     string
		wantExts int
	}{
		{"CRL only", "http://bank.example/pki/client.crl", "", 6},
		{"OCSP only", "", "http://bank.example/pki/ocsp", 6},
		{"both", "http://bank.example/pki/client.crl", "https://bank.example/pki/ocsp", 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := clientRequest(t, testKey(t, "p256").Public(), testNow)
			r.CRLURL, r.OCSPURL = tt.crl, tt.ocsp
			_, der, c := issue(t, iss, r)
			if tt.crl != "" && !slices.Equal(c.CRLDistributionPoints, []string{tt.crl}) {
				t.Errorf("CRL distribution points %q, want %q", c.CRLDistributionPoints, tt.crl)
			}
			if tt.ocsp != "" && !slices.Equal(c.OCSPServer, []string{tt.ocsp}) {
				t.Errorf("OCSP %q, want %q", c.OCSPServer, tt.ocsp)
			}
			if len(c.Extensions) != tt.wantExts {
				t.Errorf("%d extensions, want %d", len(c.Extensions), tt.wantExts)
			}
			zlint.LintCertificate(t, der)
		})
	}
}

func TestPrepareRejects(t *testing.T) {
	a := newTestAuthority(t, "bank", nil)
	iss := newTestIssuer(t, a)
	pub := testKey(t, "p256").Public()
	max20 := new(big.Int).Sub(bigPow2(159), big.NewInt(1)) // 20 octets with a clear top bit

	tests := []struct {
		name    string
		mutate  func(*Request)
		ok      bool
		wantErr error
	}{
		{"baseline", func(*Request) {}, true, nil},
		{"largest 20-octet serial", func(r *Request) { r.Serial = max20 }, true, nil},
		{"serial 1", func(r *Request) { r.Serial = big.NewInt(1) }, true, nil},
		{"nil serial", func(r *Request) { r.Serial = nil }, false, nil},
		{"zero serial", func(r *Request) { r.Serial = big.NewInt(0) }, false, nil},
		{"negative serial", func(r *Request) { r.Serial = big.NewInt(-5) }, false, nil},
		{"serial needing 21 octets", func(r *Request) { r.Serial = bigPow2(159) }, false, nil},
		{"serial of 21 octets", func(r *Request) { r.Serial = bigPow2(160) }, false, nil},
		{"nil key", func(r *Request) { r.PublicKey = nil }, false, ErrUnsupportedKey},
		{"P-521 key", func(r *Request) { r.PublicKey = testKey(t, "p521").Public() }, false, ErrUnsupportedKey},
		{"RSA-1024 key", func(r *Request) { r.PublicKey = testKey(t, "rsa1024").Public() }, false, ErrUnsupportedKey},
		{"Ed25519 key", func(r *Request) { r.PublicKey = testKey(t, "ed25519").Public() }, false, ErrUnsupportedKey},
		{"empty organization", func(r *Request) { r.Organization = "" }, false, nil},
		{"empty common name", func(r *Request) { r.CommonName = " " }, false, nil},
		{"zero not before", func(r *Request) { r.NotBefore = time.Time{} }, false, nil},
		{"zero not after", func(r *Request) { r.NotAfter = time.Time{} }, false, nil},
		{"not after equals not before", func(r *Request) { r.NotAfter = r.NotBefore }, false, nil},
		{"not after within the same second", func(r *Request) {
			r.NotBefore = testNow.Truncate(time.Second)
			r.NotAfter = r.NotBefore.Add(500 * time.Millisecond)
		}, false, nil},
		{"not after before not before", func(r *Request) { r.NotAfter = r.NotBefore.Add(-time.Hour) }, false, nil},
		{"not after beyond the CA", func(r *Request) { r.NotAfter = a.Issuing.NotAfter.Add(time.Second) }, false, nil},
		{"not after at the CA's", func(r *Request) { r.NotAfter = a.Issuing.NotAfter }, true, nil},
		{"ftp CRL URL", func(r *Request) { r.CRLURL = "ftp://bank.example/crl" }, false, nil},
		{"relative CRL URL", func(r *Request) { r.CRLURL = "/pki/crl" }, false, nil},
		{"OCSP URL without host", func(r *Request) { r.OCSPURL = "http://" }, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := clientRequest(t, pub, testNow)
			tt.mutate(&r)
			p, err := iss.Prepare(r)
			if tt.ok {
				if err != nil {
					t.Fatalf("Prepare: %v", err)
				}
				if _, _, err := iss.Sign(p); err != nil {
					t.Fatalf("Sign: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Prepare succeeded")
			}
			if p != nil {
				t.Errorf("Prepare returned a certificate with error %v", err)
			}
			if !strings.HasPrefix(err.Error(), "pki: ") {
				t.Errorf("error %q lacks the pki prefix", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Prepare error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestCheckProfile feeds checkProfile certificates that deviate from the
// profile in one way each, signed by the lint key exactly as Prepare does.
func TestCheckProfile(t *testing.T) {
	a := newTestAuthority(t, "bank", nil)
	iss := newTestIssuer(t, a)
	pub := testKey(t, "p256").Public()
	other := testKey(t, "p384").Public()

	tests := []struct {
		name   string
		mutate func(tmpl *x509.Certificate) crypto.PublicKey // returns the key to certify
		want   string                                        // substring of the error; "" for success
	}{
		{"baseline", func(*x509.Certificate) crypto.PublicKey { return pub }, ""},
		{"extra key usage", func(c *x509.Certificate) crypto.PublicKey {
			c.KeyUsage |= x509.KeyUsageKeyEncipherment
			return pub
		}, "key usage"},
		{"no key usage", func(c *x509.Certificate) crypto.PublicKey { c.KeyUsage = 0; return pub }, "missing extension 2.5.29.15"},
		{"serverAuth too", func(c *x509.Certificate) crypto.PublicKey {
			c.ExtKeyUsage = append(c.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
			return pub
		}, "extended key usage"},
		{"unknown EKU", func(c *x509.Certificate) crypto.PublicKey {
			c.UnknownExtKeyUsage = []asn1.ObjectIdentifier{{1, 2, 3, 4}}
			return pub
		}, "extended key usage"},
		{"CA", func(c *x509.Certificate) crypto.PublicKey { c.IsCA = true; return pub }, "basic constraints"},
		{"no basic constraints", func(c *x509.Certificate) crypto.PublicKey { c.BasicConstraintsValid = false; return pub }, "missing extension 2.5.29.19"},
		{"wrong SKI", func(c *x509.Certificate) crypto.PublicKey { c.SubjectKeyId = []byte{1, 2, 3}; return pub }, "subject key identifier"},
		{"other public key", func(c *x509.Certificate) crypto.PublicKey { return other }, "public key"},
		{"DNS SAN", func(c *x509.Certificate) crypto.PublicKey { c.DNSNames = []string{"admin.example"}; return pub }, "unexpected extension 2.5.29.17"},
		{"extra subject attribute", func(c *x509.Certificate) crypto.PublicKey {
			c.Subject.OrganizationalUnit = []string{"admins"}
			return pub
		}, "subject"},
		{"other common name", func(c *x509.Certificate) crypto.PublicKey { c.Subject.CommonName = "admin"; return pub }, "subject"},
		{"subject order", func(c *x509.Certificate) crypto.PublicKey {
			c.Subject = pkix.Name{ExtraNames: []pkix.AttributeTypeAndValue{
				{Type: oidCommonName, Value: c.Subject.CommonName},
				{Type: oidOrganization, Value: c.Subject.Organization[0]},
			}}
			return pub
		}, "subject"},
		{"other serial", func(c *x509.Certificate) crypto.PublicKey { c.SerialNumber = big.NewInt(7); return pub }, "serial"},
		{"other validity", func(c *x509.Certificate) crypto.PublicKey { c.NotAfter = c.NotAfter.Add(time.Second); return pub }, "validity"},
		{"extra extension", func(c *x509.Certificate) crypto.PublicKey {
			c.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 2, 3, 4}, Value: []byte{5, 0}}}
			return pub
		}, "unexpected extension 1.2.3.4"},
		{"unrequested CRL", func(c *x509.Certificate) crypto.PublicKey {
			c.CRLDistributionPoints = []string{"http://x.example/crl"}
			return pub
		}, "unexpected extension 2.5.29.31"},
		{"unrequested OCSP", func(c *x509.Certificate) crypto.PublicKey {
			c.OCSPServer = []string{"http://x.example/ocsp"}
			return pub
		}, "unexpected extension 1.3.6.1.5.5.7.1.1"},
		{"signature algorithm", func(c *x509.Certificate) crypto.PublicKey {
			c.SignatureAlgorithm = x509.ECDSAWithSHA512
			return pub
		}, "signature algorithm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := iss.template(clientRequest(t, pub, testNow))
			if err != nil {
				t.Fatal(err)
			}
			tmpl := *want
			tmpl.SerialNumber = new(big.Int).Set(want.SerialNumber)
			tmpl.ExtKeyUsage = slices.Clone(want.ExtKeyUsage)
			certified := tt.mutate(&tmpl)
			der, err := x509.CreateCertificate(nil, &tmpl, iss.lintCA, certified, iss.lintKey)
			if err != nil {
				t.Fatalf("CreateCertificate: %v", err)
			}
			c, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			err = iss.checkProfile(c, want, pub)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("checkProfile: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("checkProfile error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestSignTBS(t *testing.T) {
	a := newTestAuthority(t, "bank a", nil)
	b := newTestAuthority(t, "bank b", nil)
	issA, issB := newTestIssuer(t, a), newTestIssuer(t, b)
	pub := testKey(t, "p256").Public()

	prepare := func(t *testing.T) *Prepared {
		t.Helper()
		p, err := issA.Prepare(clientRequest(t, pub, testNow))
		if err != nil {
			t.Fatalf("Prepare: %v", err)
		}
		return p
	}

	t.Run("equal", func(t *testing.T) {
		p := prepare(t)
		tbs := bytes.Clone(p.TBS)
		_, c, err := issA.Sign(p)
		if err != nil {
			t.Fatalf("Sign: %v", err)
		}
		if !bytes.Equal(c.RawTBSCertificate, tbs) {
			t.Errorf("RawTBSCertificate differs from Prepared.TBS")
		}
		if err := c.CheckSignatureFrom(a.Issuing); err != nil {
			t.Errorf("signature: %v", err)
		}
		if err := c.CheckSignatureFrom(&x509.Certificate{PublicKey: issA.lintKey.Public(), PublicKeyAlgorithm: x509.ECDSA}); err == nil {
			t.Errorf("final certificate verifies under the lint key")
		}
		lint, err := x509.ParseCertificate(p.LintCertificate())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(lint.RawTBSCertificate, c.RawTBSCertificate) || bytes.Equal(lint.Signature, c.Signature) {
			t.Errorf("lint certificate is not the same TBS with another signature")
		}
		if err := lint.CheckSignatureFrom(a.Issuing); err == nil {
			t.Errorf("lint certificate verifies under the real CA")
		}
	})

	tests := []struct {
		name   string
		signer *Issuer
		tamper func(*Prepared)
		want   string
	}{
		{"tampered TBS", issA, func(p *Prepared) { p.TBS[len(p.TBS)-1] ^= 0x01 }, "differs"},
		{"truncated TBS", issA, func(p *Prepared) { p.TBS = p.TBS[:len(p.TBS)-1] }, "differs"},
		{"other issuer", issB, func(*Prepared) {}, "differs"},
		{"second signature", issA, func(p *Prepared) {
			if _, _, err := issA.Sign(p); err != nil {
				t.Fatalf("first Sign: %v", err)
			}
		}, "already signed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := prepare(t)
			tt.tamper(p)
			der, c, err := tt.signer.Sign(p)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Sign error = %v, want one mentioning %q", err, tt.want)
			}
			if der != nil || c != nil {
				t.Errorf("Sign returned a certificate with error %v", err)
			}
		})
	}
	t.Run("not prepared", func(t *testing.T) {
		for _, p := range []*Prepared{nil, {TBS: []byte{0x30, 0}}} {
			if _, _, err := issA.Sign(p); err == nil {
				t.Errorf("Sign(%v) succeeded", p)
			}
		}
	})
}

func TestNewIssuer(t *testing.T) {
	a := newTestAuthority(t, "bank", nil)
	p384 := newTestAuthority(t, "bank", elliptic.P384())
	server, err := a.ServerCertificate([]string{"localhost"}, testNow, nil)
	if err != nil {
		t.Fatal(err)
	}
	noSKI := *a.Issuing
	noSKI.SubjectKeyId = nil

	tests := []struct {
		name   string
		ca     *x509.Certificate
		signer crypto.Signer
		ok     bool
	}{
		{"issuing CA", a.Issuing, a.IssuingKey, true},
		{"root CA", a.Root, a.RootKey, true},
		{"P-384 issuing CA", p384.Issuing, p384.IssuingKey, true},
		{"nil CA", nil, a.IssuingKey, false},
		{"nil signer", a.Issuing, nil, false},
		{"wrong key", a.Issuing, a.RootKey, false},
		{"key of other curve", a.Issuing, p384.IssuingKey, false},
		{"not a CA", server.Leaf, server.PrivateKey.(crypto.Signer), false},
		{"no SKI", &noSKI, a.IssuingKey, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss, err := NewIssuer(tt.ca, tt.signer, nil)
			if !tt.ok {
				if err == nil {
					t.Fatal("NewIssuer succeeded")
				}
				return
			}
			if err != nil {
				t.Fatalf("NewIssuer: %v", err)
			}
			if !bytes.Equal(iss.lintCA.RawSubject, tt.ca.RawSubject) || !bytes.Equal(iss.lintCA.SubjectKeyId, tt.ca.SubjectKeyId) {
				t.Errorf("lint CA does not carry the CA's subject and SKI")
			}
			if publicKeysEqual(iss.lintKey.Public(), tt.ca.PublicKey) {
				t.Errorf("lint key is the CA key")
			}
			lintSigAlg, _ := signatureAlgorithm(iss.lintKey.Public())
			if lintSigAlg != iss.sigAlg {
				t.Errorf("lint key signs with %v, CA with %v", lintSigAlg, iss.sigAlg)
			}
		})
	}
}

// TestConcurrentIssue runs Prepare and Sign from many goroutines on one
// Issuer whose random source is not itself safe for concurrent use.
func TestConcurrentIssue(t *testing.T) {
	a := newTestAuthority(t, "bank", nil)
	iss, err := NewIssuer(a.Issuing, a.IssuingKey, rand.NewChaCha8([32]byte{1}))
	if err != nil {
		t.Fatal(err)
	}
	pub := testKey(t, "p256").Public()
	const workers, each = 8, 5
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		serials = map[string]bool{}
	)
	for range workers {
		wg.Go(func() {
			for range each {
				r := clientRequest(t, pub, testNow)
				p, err := iss.Prepare(r)
				if err != nil {
					t.Errorf("Prepare: %v", err)
					return
				}
				_, c, err := iss.Sign(p)
				if err != nil {
					t.Errorf("Sign: %v", err)
					return
				}
				if err := c.CheckSignatureFrom(a.Issuing); err != nil {
					t.Errorf("signature: %v", err)
				}
				mu.Lock()
				serials[SerialHex(c.SerialNumber)] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(serials) != workers*each {
		t.Errorf("%d distinct serials, want %d", len(serials), workers*each)
	}
}

// TestLintCertificateComplains shows that the lint helper used above does
// fail a test for a certificate that breaks RFC 5280.
func TestLintCertificateComplains(t *testing.T) {
	a := newTestAuthority(t, "bank", nil)
	key := testKey(t, "p256")
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		NotBefore:    testNow,
		NotAfter:     testNow.AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(nil, tmpl, a.Issuing, key.Public(), a.IssuingKey)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recordingTB{TB: t}
	zlint.LintCertificate(rec, der)
	if len(rec.errors) == 0 {
		t.Fatal("LintCertificate accepted a certificate with an empty subject and no SAN")
	}
	t.Logf("lint findings: %q", rec.errors)
}
