package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"software.sslmate.com/src/go-pkcs12"

	"kinko/internal/testutil/zlint"
)

// newTestOperatorCA creates an authority and loads its operator CA.
func newTestOperatorCA(t *testing.T) (*Authority, *OperatorCA) {
	t.Helper()
	a := newTestAuthority(t, "kinko demo bank", elliptic.P256())
	o, err := LoadOperatorCA(a.Dir)
	if err != nil {
		t.Fatalf("LoadOperatorCA: %v", err)
	}
	return a, o
}

func TestOperatorCA_CreateMakesItSignedByTheRootForClientAuthWithPathLengthZero(t *testing.T) {
	a, o := newTestOperatorCA(t)
	c := o.Cert
	if c.Subject.CommonName != "kinko demo bank Operator CA" || len(c.Subject.Organization) != 1 || c.Subject.Organization[0] != "kinko demo bank" {
		t.Errorf("subject = %v, want CN=kinko demo bank Operator CA, O=kinko demo bank", c.Subject)
	}
	if !c.IsCA || c.MaxPathLen != 0 || !c.MaxPathLenZero {
		t.Errorf("IsCA %v MaxPathLen %d zero %v, want a CA of path length 0", c.IsCA, c.MaxPathLen, c.MaxPathLenZero)
	}
	if len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
		t.Errorf("ExtKeyUsage = %v, want clientAuth only", c.ExtKeyUsage)
	}
	if c.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Errorf("KeyUsage %v lacks certSign", c.KeyUsage)
	}
	if err := c.CheckSignatureFrom(a.Root); err != nil {
		t.Errorf("not signed by the root: %v", err)
	}
	if string(c.RawSubject) == string(a.Issuing.RawSubject) || c.Equal(a.Issuing) {
		t.Error("the operator CA is the client-issuing CA")
	}
	zlint.LintCertificate(t, c.Raw)
	st, err := os.Stat(filepath.Join(a.Dir, OperatorKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s mode %04o, want 0600", OperatorKeyFile, st.Mode().Perm())
	}
}

func TestOperatorCA_IssueNamesTheOperatorAndFollowsTheClientProfile(t *testing.T) {
	_, o := newTestOperatorCA(t)
	c, key, err := o.Issue("sato", "佐藤 一郎", testNow, nil)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	if c.Subject.CommonName != "sato" || len(c.Subject.Organization) != 1 || c.Subject.Organization[0] != "kinko demo bank" {
		t.Errorf("subject = %v, want CN=sato, O=kinko demo bank", c.Subject)
	}
	if k, ok := key.(*ecdsa.PrivateKey); !ok || k.Curve != elliptic.P256() {
		t.Errorf("key %T, want ECDSA P-256", key)
	}
	if !publicKeysEqual(key.Public(), c.PublicKey) {
		t.Error("the key is not the certificate's")
	}
	if want := testNow.UTC().Truncate(1e9).AddDate(1, 0, 0); !c.NotAfter.Equal(want) {
		t.Errorf("NotAfter %v, want %v (one year)", c.NotAfter, want)
	}
	if c.IsCA || len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
		t.Errorf("IsCA %v ExtKeyUsage %v, want an end entity for clientAuth", c.IsCA, c.ExtKeyUsage)
	}
	zlint.LintCertificate(t, c.Raw)
	if _, err := c.Verify(x509.VerifyOptions{Roots: o.Pool(), CurrentTime: testNow.Add(1e9),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("the operator certificate does not chain to Pool: %v", err)
	}
	for _, bad := range []string{"", " sato", "sa\nto"} {
		if _, _, err := o.Issue(bad, "x", testNow, nil); err == nil {
			t.Errorf("Issue(%q) succeeded", bad)
		}
	}
}

// The two CAs never cross: an operator's certificate does not chain to
// the client-issuing CA, a customer's does not chain to the operator CA's
// pool, and the pool holds the operator CA alone (not the root, through
// which every customer certificate would chain).
func TestOperatorCA_NeitherCASignsTheOthersCertificates(t *testing.T) {
	a, o := newTestOperatorCA(t)
	opts := func(p *x509.CertPool) x509.VerifyOptions {
		return x509.VerifyOptions{Roots: p, CurrentTime: testNow.Add(1e9), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	}
	op, _, err := o.Issue("sato", "佐藤", testNow, nil)
	if err != nil {
		t.Fatal(err)
	}
	issuing := x509.NewCertPool()
	issuing.AddCert(a.Issuing)
	if _, err := op.Verify(opts(issuing)); err == nil {
		t.Error("an operator certificate chains to the client-issuing CA")
	}
	_, _, customer := issue(t, newTestIssuer(t, a), clientRequest(t, testKey(t, "p256").Public(), testNow))
	if _, err := customer.Verify(opts(o.Pool())); err == nil {
		t.Error("a customer certificate chains to the operator CA's pool")
	}
	withChain := opts(o.Pool())
	withChain.Intermediates = x509.NewCertPool()
	withChain.Intermediates.AddCert(a.Issuing)
	if _, err := customer.Verify(withChain); err == nil {
		t.Error("a customer certificate sent with its chain verifies against the operator CA's pool (the root is in it)")
	}
}

func TestLoadOperatorCA_RefusesAKeyOthersMayRead(t *testing.T) {
	a := newTestAuthority(t, "bank", elliptic.P256())
	if err := os.Chmod(filepath.Join(a.Dir, OperatorKeyFile), 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOperatorCA(a.Dir); err == nil || !strings.Contains(err.Error(), OperatorKeyFile) {
		t.Errorf("LoadOperatorCA with a key of mode 0640: %v, want a refusal naming the file", err)
	}
}

func TestLoadOperatorCA_RefusesAKeyOfAnotherCertificate(t *testing.T) {
	a := newTestAuthority(t, "bank", elliptic.P256())
	other := newTestAuthority(t, "bank", elliptic.P256())
	data, err := os.ReadFile(filepath.Join(other.Dir, OperatorKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(a.Dir, OperatorKeyFile), data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOperatorCA(a.Dir); err == nil {
		t.Error("LoadOperatorCA accepted another operator CA's key")
	}
}

func TestLoadOperatorCA_RefusesAnOperatorCANotSignedByTheRoot(t *testing.T) {
	a := newTestAuthority(t, "bank", elliptic.P256())
	other := newTestAuthority(t, "bank", elliptic.P256())
	for _, f := range []string{OperatorKeyFile, OperatorCertFile} {
		data, err := os.ReadFile(filepath.Join(other.Dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(a.Dir, f), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := LoadOperatorCA(a.Dir); err == nil {
		t.Error("LoadOperatorCA accepted an operator CA of another root")
	}
}

// An authority made before operator CAs: LoadOperatorCA says there is
// none; the ceremony makes one, once.
func TestCreateOperatorCA_MakesTheMissingOperatorCAAndRefusesToOverwrite(t *testing.T) {
	a := newTestAuthority(t, "bank", elliptic.P384())
	for _, f := range []string{OperatorKeyFile, OperatorCertFile} {
		if err := os.Remove(filepath.Join(a.Dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := LoadOperatorCA(a.Dir); !errors.Is(err, ErrNoOperatorCA) {
		t.Fatalf("LoadOperatorCA without one: %v, want ErrNoOperatorCA", err)
	}
	if err := a.CreateOperatorCA(testNow, nil); err != nil {
		t.Fatalf("CreateOperatorCA: %v", err)
	}
	o, err := LoadOperatorCA(a.Dir)
	if err != nil {
		t.Fatalf("LoadOperatorCA: %v", err)
	}
	if o.Cert.Subject.CommonName != "bank Operator CA" || o.Cert.MaxPathLen != 0 || !o.Cert.MaxPathLenZero {
		t.Errorf("operator CA %v path length %d", o.Cert.Subject, o.Cert.MaxPathLen)
	}
	if k, ok := o.Cert.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P384() {
		t.Errorf("operator CA key %T, want the root's curve P-384", o.Cert.PublicKey)
	}
	zlint.LintCertificate(t, o.Cert.Raw)
	before, _ := os.ReadFile(filepath.Join(a.Dir, OperatorKeyFile))
	if err := a.CreateOperatorCA(testNow, nil); !errors.Is(err, ErrExists) {
		t.Errorf("second CreateOperatorCA: %v, want ErrExists", err)
	}
	after, _ := os.ReadFile(filepath.Join(a.Dir, OperatorKeyFile))
	if string(before) != string(after) {
		t.Error("second CreateOperatorCA changed the key")
	}
	noRoot, err := Load(a.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := noRoot.CreateOperatorCA(testNow, nil); err == nil {
		t.Error("CreateOperatorCA without the root key succeeded")
	}
}

// The PKCS#12 file is what an operator's browser imports: NSS's pk12util
// takes it (certificate and key), openssl reads it with the password, and
// it holds the chain.
func TestOperatorCA_PKCS12ImportsIntoNSSAndOpenSSL(t *testing.T) {
	for _, tool := range []string{"openssl", "pk12util", "certutil"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not installed (openssl, libnss3-tools): the PKCS#12 file is checked with it", tool)
		}
	}
	_, o := newTestOperatorCA(t)
	c, key, err := o.Issue("sato", "佐藤 一郎", testNow, nil)
	if err != nil {
		t.Fatal(err)
	}
	const password = "kamome-7-sora"
	if _, err := o.PKCS12(c, key, ""); err == nil {
		t.Error("PKCS12 with an empty password succeeded")
	}
	p12, err := o.PKCS12(c, key, password)
	if err != nil {
		t.Fatalf("PKCS12: %v", err)
	}
	gotKey, gotCert, chain, err := pkcs12.DecodeChain(p12, password)
	if err != nil {
		t.Fatalf("DecodeChain: %v", err)
	}
	if !gotCert.Equal(c) || !publicKeysEqual(gotKey.(*ecdsa.PrivateKey).Public(), c.PublicKey) {
		t.Error("the file's certificate or key is not the operator's")
	}
	if len(chain) != 2 || !chain[0].Equal(o.Cert) || !chain[1].Equal(o.Root) {
		t.Errorf("chain of %d certificates, want the operator CA and the root", len(chain))
	}
	if _, _, err := pkcs12.Decode(p12, "wrong"); err == nil {
		t.Error("the file opens with a wrong password")
	}

	dir := t.TempDir()
	file := filepath.Join(dir, "sato.p12")
	if err := os.WriteFile(file, p12, 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(name string, args ...string) string {
		t.Helper()
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	info := run("openssl", "pkcs12", "-in", file, "-passin", "pass:"+password, "-info", "-nodes")
	for _, want := range []string{"AES-256-CBC", "PBKDF2", "subject=O = kinko demo bank, CN = sato", "CN = kinko demo bank Operator CA", "PRIVATE KEY"} {
		if !strings.Contains(info, want) {
			t.Errorf("openssl pkcs12 -info lacks %q:\n%s", want, info)
		}
	}
	nss := "sql:" + filepath.Join(dir, "nssdb")
	if err := os.Mkdir(filepath.Join(dir, "nssdb"), 0o700); err != nil {
		t.Fatal(err)
	}
	run("certutil", "-N", "--empty-password", "-d", nss)
	run("pk12util", "-i", file, "-d", nss, "-W", password)
	list := run("certutil", "-L", "-d", nss)
	found := false
	for _, line := range strings.Split(list, "\n") {
		if strings.Contains(line, "sato") && strings.Contains(line, "u,u,u") {
			found = true
		}
	}
	if !found {
		t.Errorf("certutil -L shows no user certificate of sato after pk12util:\n%s", list)
	}
	keys := run("certutil", "-K", "-d", nss)
	if !strings.Contains(keys, "sato") {
		t.Errorf("certutil -K shows no key of sato:\n%s", keys)
	}
	if out, err := exec.Command("pk12util", "-i", file, "-d", nss, "-W", "wrong").CombinedOutput(); err == nil {
		t.Errorf("pk12util imported the file with a wrong password:\n%s", out)
	}
}

func TestOperatorCA_PKCS12RefusesACertificateNotItsOwn(t *testing.T) {
	a, o := newTestOperatorCA(t)
	key := testKey(t, "p256")
	_, _, customer := issue(t, newTestIssuer(t, a), clientRequest(t, key.Public(), testNow))
	if _, err := o.PKCS12(customer, key, "pw"); err == nil {
		t.Error("PKCS12 packed a customer's certificate")
	}
	c, _, err := o.Issue("sato", "", testNow, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.PKCS12(c, key, "pw"); err == nil {
		t.Error("PKCS12 packed a key that is not the certificate's")
	}
}
