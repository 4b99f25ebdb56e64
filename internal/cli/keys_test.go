package cli_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io/fs"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kinko/internal/identity"
	"kinko/internal/pki"
	"kinko/internal/server"
	"kinko/internal/testutil"
)

// keysMaster makes, straight in the bank's database, an organization with
// certificate login whose master has passwords that need no change, and
// returns the master's login ID and password.
func keysMaster(t *testing.T, b bank, id string) (string, string) {
	t.Helper()
	svc, err := server.Assemble(server.Parts{DB: b.open(t), Hasher: testutil.FastHasher})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pw := "Keys-Login-7wq!"
	org, _, _, err := svc.Identity.CreateOrganization(ctx, identity.NewOrganization{Name: "鍵労働組合 " + id, MasterLoginID: id,
		MasterName: "マスター 鍵", MasterEmail: "m@keys.example",
		Passwords: identity.InitialPasswords{Password: pw, ConfirmationPassword: "Keys-Confirm-8zr!"}}, "operator:test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Identity.SetCertificateLogin(ctx, org.Code, true, "operator:test", "REQ-KEYS"); err != nil {
		t.Fatal(err)
	}
	return id, pw
}

// keysConfig writes a config for b with extra keys (JSON members, each
// followed by a comma) and returns its path.
func keysConfig(t *testing.T, b bank, extra string) string {
	t.Helper()
	db := ""
	if b.dsn != "" && !strings.HasSuffix(b.dsn, ".db") && strings.Contains(b.dsn, "://") {
		db = `"db": "` + b.dsn + `",`
	}
	p := filepath.Join(t.TempDir(), "kinko.json")
	if err := os.WriteFile(p, []byte(`{
  "data_dir": "`+b.dir+`", `+db+extra+`
  "portal_addr": "127.0.0.1:0",
  "cert_portal_addr": "127.0.0.1:0",
  "pki_addr": "127.0.0.1:0",
  "server_names": ["localhost", "127.0.0.1"],
  "operating_hours": {"daily": "00:00-24:00", "maintenance": []}
}`), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// issueThroughServe issues a certificate to the master through the
// portal of a running serve and returns it, linted.
func issueThroughServe(t *testing.T, portal *http.Client, s *running, id, pw string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	status, body, _ := call(t, portal, http.MethodPost, "https://"+s.portalAddr+"/api/v1/certificates",
		map[string]string{"login_id": id, "password": pw, "csr": testutil.NewCSR(t, key)})
	if status != http.StatusCreated {
		t.Fatalf("issue through serve: %d %v", status, body)
	}
	s1, _ := body["certificate"].(string)
	block, _ := pem.Decode([]byte(s1))
	if block == nil {
		t.Fatalf("no certificate in %v", body)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	testutil.LintCertificate(t, c.Raw)
	return c
}

// verifyClient checks that c chains to the bank's root through its issuing
// CA as a client certificate, under the root's name constraints.
func verifyClient(t *testing.T, b bank, c *x509.Certificate) {
	t.Helper()
	roots := certPool(t, filepath.Join(b.dir, "pki", pki.RootCertFile))
	inter := certPool(t, filepath.Join(b.dir, "pki", pki.IssuingCertFile))
	if _, err := c.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("the issued certificate does not verify under the root: %v", err)
	}
}

// TestKeys_ServeNeverReadsTheRootKey: after "kinko init --root-dir", the
// root key is only in the root directory; serve starts and issues with
// that directory gone, and with a root key file in the data directory
// that it could not load (a file open to everyone, not a key).
func TestKeys_ServeNeverReadsTheRootKey(t *testing.T) {
	engines(t, func(t *testing.T, b bank) {
		err := filepath.WalkDir(b.dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Name() == pki.RootKeyFile {
				t.Errorf("the root key is in the data directory: %s", p)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pki.LoadWithRoot(filepath.Join(b.dir, "pki"), b.root); err != nil {
			t.Fatalf("the root key is not in --root-dir: %v", err)
		}
		serverCA := filepath.Join(b.dir, "pki", pki.RootCertFile)

		t.Run("root directory gone", func(t *testing.T) {
			id, pw := keysMaster(t, b, "keys01")
			if err := os.RemoveAll(b.root); err != nil {
				t.Fatal(err)
			}
			s := start(t, "serve", "--config", keysConfig(t, b, ""))
			verifyClient(t, b, issueThroughServe(t, httpsClient(t, serverCA, nil), s, id, pw))
			s.stop(t)
		})
		t.Run("unloadable root key in the data directory", func(t *testing.T) {
			bad := filepath.Join(b.dir, "pki", pki.RootKeyFile)
			if err := os.WriteFile(bad, []byte("not a key"), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Remove(bad) })
			id, pw := keysMaster(t, b, "keys02")
			s := start(t, "serve", "--config", keysConfig(t, b, ""))
			verifyClient(t, b, issueThroughServe(t, httpsClient(t, serverCA, nil), s, id, pw))
			s.stop(t)
			if !strings.Contains(s.stderr.String(), "move it offline") {
				t.Errorf("serve did not warn of the root key in the data directory:\n%s", s.stderr)
			}
		})
	})
}

// TestKeys_CAServerCertRenewsWithTheRootKeyOnly: "kinko ca server-cert"
// signs a new server certificate with the offline root key; a name outside
// the root's name constraints is refused, and without the root key
// nothing is signed.
func TestKeys_CAServerCertRenewsWithTheRootKeyOnly(t *testing.T) {
	b := initBank(t, "")
	pkiDir := filepath.Join(b.dir, "pki")
	before, err := os.ReadFile(filepath.Join(pkiDir, pki.ServerCertFile))
	if err != nil {
		t.Fatal(err)
	}
	r := mustRun(t, "ca", "server-cert", "--data", b.dir, "--root-dir", b.root, "--server-name", "localhost", "--server-name", "127.0.0.1")
	if !strings.Contains(r.stdout, "Server certificate for localhost,127.0.0.1") {
		t.Errorf("ca server-cert output:\n%s", r.stdout)
	}
	if r := run(t, "ca", "server-cert", "--data", b.dir, "--root-dir", b.root, "--server-name", "www.other-bank.example"); r.code != 1 || !strings.Contains(r.stderr, "name constraints") {
		t.Errorf("a server certificate for a name outside the root: exit %d %q; want 1 and the name constraints", r.code, r.stderr)
	}
	if r := run(t, "ca", "server-cert", "--data", b.dir, "--root-dir", t.TempDir()); r.code != 1 || !strings.Contains(r.stderr, pki.RootKeyFile) {
		t.Errorf("ca server-cert without the root key: exit %d %q; want 1 naming %s", r.code, r.stderr, pki.RootKeyFile)
	}
	after, err := os.ReadFile(filepath.Join(pkiDir, pki.ServerCertFile))
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(before) {
		t.Errorf("the server certificate was replaced although the stored one was still good")
	}

	// A new issuing key by the ceremony: serve issues under it.
	oldIssuing, _ := os.ReadFile(filepath.Join(pkiDir, pki.IssuingCertFile))
	mustRun(t, "ca", "issuing", "--data", b.dir, "--root-dir", b.root)
	newIssuing, _ := os.ReadFile(filepath.Join(pkiDir, pki.IssuingCertFile))
	if string(newIssuing) == string(oldIssuing) {
		t.Fatal("ca issuing did not replace the issuing CA certificate")
	}
	id, pw := keysMaster(t, b, "keys03")
	s := start(t, "serve", "--config", keysConfig(t, b, ""))
	c := issueThroughServe(t, httpsClient(t, filepath.Join(pkiDir, pki.RootCertFile), nil), s, id, pw)
	verifyClient(t, b, c)
}

// TestKeys_ServeWithTheIssuingKeyInSoftHSM: the ceremony generates the
// issuing key in SoftHSM2 and signs its certificate; the key file is
// removed; serve, configured with the key's PKCS#11 URI, issues
// certificates signed in the token that verify under the issuing CA.
func TestKeys_ServeWithTheIssuingKeyInSoftHSM(t *testing.T) {
	uri := testutil.SoftHSM(t, "issuing-ca")
	b := initBank(t, "")
	pkiDir := filepath.Join(b.dir, "pki")
	mustRun(t, "ca", "issuing", "--data", b.dir, "--root-dir", b.root, "--key", uri, "--generate")
	if err := os.Remove(filepath.Join(pkiDir, pki.IssuingKeyFile)); err != nil {
		t.Fatal(err)
	}
	id, pw := keysMaster(t, b, "keys04")
	s := start(t, "serve", "--config", keysConfig(t, b, `"issuing_key": "`+uri+`",`))
	if !strings.Contains(s.stderr.String(), "HSM") {
		t.Errorf("serve did not log that the issuing key is in an HSM:\n%s", s.stderr)
	}
	c := issueThroughServe(t, httpsClient(t, filepath.Join(pkiDir, pki.RootCertFile), nil), s, id, pw)
	verifyClient(t, b, c)
	s.stop(t)

	// Renewing the certificate of the key in the token needs no token.
	mustRun(t, "ca", "issuing", "--data", b.dir, "--root-dir", b.root, "--renew")
	id, pw = keysMaster(t, b, "keys05")
	s = start(t, "serve", "--config", keysConfig(t, b, `"issuing_key": "`+uri+`",`))
	verifyClient(t, b, issueThroughServe(t, httpsClient(t, filepath.Join(pkiDir, pki.RootCertFile), nil), s, id, pw))
	s.stop(t)

	// A key the token does not have is a start-up error that names the
	// setting and hides the PIN.
	wrong := strings.Replace(uri, "object=issuing-ca", "object=nothing", 1) + "&x-test=1"
	if r := run(t, "serve", "--config", keysConfig(t, b, `"issuing_key": "`+wrong+`",`)); r.code != 1 || !strings.Contains(r.stderr, "issuing_key") {
		t.Errorf("serve with a key the token lacks: exit %d %q; want 1 naming issuing_key", r.code, r.stderr)
	}
}

// publicServerCertificate makes a CA that is not the bank's (standing in
// for a publicly trusted one) and a server certificate from it for
// localhost and 127.0.0.1, written as PEM files; it returns the files and
// the CA's certificate file.
func publicServerCertificate(t *testing.T) (certFile, keyFile, caFile string) {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Public Test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}},
		ca, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile, caFile = filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key"), filepath.Join(dir, "ca.pem")
	for _, f := range []struct {
		path string
		data []byte
	}{
		{certFile, append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})...)},
		{keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})},
		{caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})},
	} {
		if err := os.WriteFile(f.path, f.data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return certFile, keyFile, caFile
}

// TestKeys_ServeWithAPublicServerCertificate: with server_cert_file and
// server_key_file the listeners present that certificate, which clients
// trusting its CA accept and clients trusting only the bank's root
// refuse; a key file open to others, or a certificate for other names, is
// a start-up error.
func TestKeys_ServeWithAPublicServerCertificate(t *testing.T) {
	b := initBank(t, "")
	certFile, keyFile, caFile := publicServerCertificate(t)
	s := start(t, "serve", "--config", keysConfig(t, b, `"server_cert_file": "`+certFile+`", "server_key_file": "`+keyFile+`",`))
	for _, addr := range []string{s.portalAddr, s.certAddr} {
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: certPool(t, caFile), ServerName: "localhost"})
		if err != nil {
			t.Errorf("%s with the public CA trusted: %v", addr, err)
			continue
		}
		if cn := conn.ConnectionState().PeerCertificates[0].Subject.CommonName; cn != "localhost" {
			t.Errorf("%s presented %q", addr, cn)
		}
		conn.Close()
	}
	bankRoot := certPool(t, filepath.Join(b.dir, "pki", pki.RootCertFile))
	if conn, err := tls.Dial("tcp", s.portalAddr, &tls.Config{RootCAs: bankRoot, ServerName: "localhost"}); err == nil {
		conn.Close()
		t.Errorf("the listener presented a certificate of the bank's root, not the configured one")
	} else if !errors.As(err, new(*tls.CertificateVerificationError)) {
		t.Errorf("with only the bank's root trusted: %v, want a verification error", err)
	}
	s.stop(t)

	if err := os.Chmod(keyFile, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := run(t, "serve", "--config", keysConfig(t, b, `"server_cert_file": "`+certFile+`", "server_key_file": "`+keyFile+`",`)); r.code != 1 || !strings.Contains(r.stderr, "0644") {
		t.Errorf("serve with a key file open to others: exit %d %q", r.code, r.stderr)
	}
	os.Chmod(keyFile, 0o600)
	p := keysConfig(t, b, `"server_cert_file": "`+certFile+`", "server_key_file": "`+keyFile+`",`)
	data, _ := os.ReadFile(p)
	os.WriteFile(p, []byte(strings.Replace(string(data), `["localhost", "127.0.0.1"]`, `["www.bank.example"]`, 1)), 0o600)
	if r := run(t, "serve", "--config", p); r.code != 1 || !strings.Contains(r.stderr, "www.bank.example") {
		t.Errorf("serve with a certificate for other names: exit %d %q", r.code, r.stderr)
	}
}

func certPool(t *testing.T, file string) *x509.CertPool {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		t.Fatalf("no certificate in %s", file)
	}
	return p
}

// TestKeys_CAOperatorMakesTheMissingOperatorCAOnce: an installation made
// before the operator CA gets it from "kinko ca operator", signed by the
// offline root; a second run, or one without the root key, replaces
// nothing.
func TestKeys_CAOperatorMakesTheMissingOperatorCAOnce(t *testing.T) {
	b := initBank(t, "")
	pkiDir := filepath.Join(b.dir, "pki")
	if _, err := pki.LoadOperatorCA(pkiDir); err != nil {
		t.Fatalf("kinko init made no operator CA: %v", err)
	}
	before, _ := os.ReadFile(filepath.Join(pkiDir, pki.OperatorKeyFile))
	if r := run(t, "ca", "operator", "--data", b.dir, "--root-dir", b.root); r.code != 1 || !strings.Contains(r.stderr, "never replaced") {
		t.Errorf("ca operator over an operator CA: exit %d %q; want 1, never replaced", r.code, r.stderr)
	}
	after, _ := os.ReadFile(filepath.Join(pkiDir, pki.OperatorKeyFile))
	if string(before) != string(after) {
		t.Error("ca operator replaced the operator CA's key")
	}
	for _, f := range []string{pki.OperatorCertFile, pki.OperatorKeyFile} {
		if err := os.Remove(filepath.Join(pkiDir, f)); err != nil {
			t.Fatal(err)
		}
	}
	if r := run(t, "ca", "operator", "--data", b.dir, "--root-dir", t.TempDir()); r.code != 1 || !strings.Contains(r.stderr, pki.RootKeyFile) {
		t.Errorf("ca operator without the root key: exit %d %q; want 1 naming %s", r.code, r.stderr, pki.RootKeyFile)
	}
	if _, err := os.Stat(filepath.Join(pkiDir, pki.OperatorCertFile)); err == nil {
		t.Error("ca operator without the root key wrote an operator CA")
	}
	r := mustRun(t, "ca", "operator", "--data", b.dir, "--root-dir", b.root)
	if !strings.Contains(r.stdout, pki.OperatorCertFile) {
		t.Errorf("ca operator output:\n%s", r.stdout)
	}
	o, err := pki.LoadOperatorCA(pkiDir)
	if err != nil {
		t.Fatalf("LoadOperatorCA after ca operator: %v", err)
	}
	if o.Cert.Subject.CommonName != "Example Rokin Bank Operator CA" {
		t.Errorf("operator CA subject %v", o.Cert.Subject)
	}
	if st, err := os.Stat(filepath.Join(pkiDir, pki.OperatorKeyFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("operator CA key: %v, mode %v; want 0600", err, st.Mode())
	}
}
