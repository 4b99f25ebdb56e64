package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// File names of the operator CA inside an authority directory.
const (
	OperatorCertFile = "operator-ca.pem"
	OperatorKeyFile  = "operator-ca.key"
)

// Validity periods of the operator CA and of the certificates it issues.
const (
	operatorCAValidityYears = 10
	operatorCertValidity    = 1 // year
)

// ErrNoOperatorCA reports an authority directory without an operator CA
// (one made before operator CAs were: `kinko ca operator` makes it).
var ErrNoOperatorCA = errors.New("pki: no operator CA")

// operatorCATemplate is the profile of the operator CA certificate: signed
// by the root, valid ten years (no longer than the root), path length 0,
// key usage certSign, cRLSign and digitalSignature, extended key usage
// clientAuth, subject "<bank> Operator CA" in O=<bank>. The bank's name is
// the root's organization.
func operatorCATemplate(root *x509.Certificate, bank string, pub crypto.PublicKey, now time.Time, rnd io.Reader) (*x509.Certificate, error) {
	tmpl, err := subordinateCA(root, pub, now, operatorCAValidityYears, rnd)
	if err != nil {
		return nil, err
	}
	tmpl.Subject = pkix.Name{Organization: []string{bank}, CommonName: bank + " Operator CA"}
	return tmpl, nil
}

// bankName is the bank's name as the root certificate holds it.
func bankName(root *x509.Certificate) (string, error) {
	if len(root.Subject.Organization) == 0 || strings.TrimSpace(root.Subject.Organization[0]) == "" {
		return "", errors.New("pki: the root certificate names no organization")
	}
	return root.Subject.Organization[0], nil
}

// CreateOperatorCA is the ceremony that makes the operator CA of an
// authority made before operator CAs were (a must be loaded by
// LoadWithRoot): a new key on the root's curve and its certificate signed
// by the root, written as operator-ca.key and operator-ca.pem in a.Dir.
// It changes nothing and returns an error wrapping ErrExists when either
// file is there already.
func (a *Authority) CreateOperatorCA(now time.Time, rnd io.Reader) error {
	if a == nil || a.Root == nil || a.RootKey == nil {
		return errors.New("pki: create operator CA: the root key is not loaded")
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC().Truncate(time.Second)
	for _, name := range []string{OperatorCertFile, OperatorKeyFile} {
		p := filepath.Join(a.Dir, name)
		_, err := os.Lstat(p)
		if err == nil {
			return fmt.Errorf("%w: %s exists", ErrExists, p)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("pki: create operator CA: %w", err)
		}
	}
	bank, err := bankName(a.Root)
	if err != nil {
		return err
	}
	key, err := generateKeyLike(a.Root.PublicKey, rnd)
	if err != nil {
		return fmt.Errorf("pki: create operator CA: generating key: %w", err)
	}
	der, err := signOperatorCA(a.Root, a.RootKey, bank, key, now, rnd)
	if err != nil {
		return err
	}
	return writeOperatorCA(a.Dir, der, key)
}

// signOperatorCA signs the operator CA certificate for key's public key
// with the root's key, and checks the result.
func signOperatorCA(root *x509.Certificate, rootKey crypto.Signer, bank string, key crypto.Signer, now time.Time, rnd io.Reader) ([]byte, error) {
	tmpl, err := operatorCATemplate(root, bank, key.Public(), now, rnd)
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificate(rnd, tmpl, root, key.Public(), rootKey)
	if err != nil {
		return nil, fmt.Errorf("pki: signing the operator CA certificate: %w", err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: parsing the operator CA certificate: %w", err)
	}
	if err := c.CheckSignatureFrom(root); err != nil {
		return nil, fmt.Errorf("pki: the operator CA certificate: %w", err)
	}
	return der, nil
}

// writeOperatorCA writes the operator CA's key, then its certificate, in
// dir, both mode 0600.
func writeOperatorCA(dir string, der []byte, key crypto.Signer) error {
	keyPEM, err := marshalPrivateKey(key)
	if err != nil {
		return err
	}
	err = writeFileAtomic(filepath.Join(dir, OperatorKeyFile), keyPEM, 0o600)
	clear(keyPEM)
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, OperatorCertFile), pemBlocks("CERTIFICATE", der), 0o600)
}

// OperatorCA is the CA of the bank's operators' client certificates, for
// the operator console only. It is a CA of its own beside the
// client-issuing CA: it never signs a customer's certificate, and the
// client-issuing CA never signs an operator's, so that neither listener
// can be entered with the other's certificate.
type OperatorCA struct {
	// Cert is the operator CA certificate, signed by Root.
	Cert *x509.Certificate
	// Root is the bank's root CA certificate.
	Root   *x509.Certificate
	bank   string
	issuer *Issuer
}

// LoadOperatorCA reads the operator CA of the authority directory dir:
// operator-ca.pem, operator-ca.key and root-ca.pem. Like Load, it refuses
// a key file that group or others may access, and checks that the key
// belongs to the certificate, that it is a CA for clientAuth and that the
// root signed it. A directory without operator-ca.pem gives an error
// wrapping ErrNoOperatorCA.
func LoadOperatorCA(dir string) (*OperatorCA, error) {
	certPath := filepath.Join(dir, OperatorCertFile)
	if _, err := os.Lstat(certPath); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s", ErrNoOperatorCA, dir)
	}
	c, err := readCertificate(certPath)
	if err != nil {
		return nil, fmt.Errorf("pki: load operator CA: %w", err)
	}
	root, err := readCertificate(filepath.Join(dir, RootCertFile))
	if err != nil {
		return nil, fmt.Errorf("pki: load operator CA: %w", err)
	}
	key, err := LoadSigner(filepath.Join(dir, OperatorKeyFile))
	if err != nil {
		return nil, err
	}
	if !publicKeysEqual(key.Public(), c.PublicKey) {
		return nil, fmt.Errorf("pki: load operator CA: %s does not match %s", OperatorKeyFile, OperatorCertFile)
	}
	if !c.BasicConstraintsValid || !c.IsCA || c.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("pki: load operator CA: %q is not a CA certificate", c.Subject.CommonName)
	}
	if !hasClientAuth(c) {
		return nil, fmt.Errorf("pki: load operator CA: %q is not a CA for clientAuth", c.Subject.CommonName)
	}
	if err := c.CheckSignatureFrom(root); err != nil {
		return nil, fmt.Errorf("pki: load operator CA: not signed by the root: %w", err)
	}
	bank, err := bankName(root)
	if err != nil {
		return nil, err
	}
	iss, err := NewIssuer(c, key, nil)
	if err != nil {
		return nil, err
	}
	return &OperatorCA{Cert: c, Root: root, bank: bank, issuer: iss}, nil
}

// hasClientAuth reports whether a CA certificate's extended key usage
// allows clientAuth.
func hasClientAuth(c *x509.Certificate) bool {
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageClientAuth || u == x509.ExtKeyUsageAny {
			return true
		}
	}
	return false
}

// Issue makes an operator's key (ECDSA P-256, read from rnd,
// crypto/rand.Reader when nil) and certificate, valid one year from now
// (no longer than the operator CA): the client certificate profile of
// Issuer.Prepare with subject CN=name, O=<bank>. The name is the login
// name an operator is known by; displayName is not written in the
// certificate (the bank's record of the operator holds it) and only has to
// be valid text, so that a renamed operator keeps a valid certificate.
func (o *OperatorCA) Issue(name, displayName string, now time.Time, rnd io.Reader) (*x509.Certificate, crypto.Signer, error) {
	if strings.TrimSpace(name) == "" || strings.TrimSpace(name) != name {
		return nil, nil, fmt.Errorf("pki: operator certificate: name %q is empty or has spaces around it", name)
	}
	if strings.ContainsFunc(name+displayName, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return nil, nil, errors.New("pki: operator certificate: control characters in the name")
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC().Truncate(time.Second)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rnd)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: operator certificate: generating key: %w", err)
	}
	serial, err := NewSerial(rnd)
	if err != nil {
		return nil, nil, err
	}
	notAfter := now.AddDate(operatorCertValidity, 0, 0)
	if notAfter.After(o.Cert.NotAfter) {
		notAfter = o.Cert.NotAfter
	}
	p, err := o.issuer.Prepare(Request{Serial: serial, PublicKey: key.Public(), Organization: o.bank, CommonName: name,
		NotBefore: now, NotAfter: notAfter})
	if err != nil {
		return nil, nil, err
	}
	_, c, err := o.issuer.Sign(p)
	if err != nil {
		return nil, nil, err
	}
	return c, key, nil
}

// PKCS12 is an operator's certificate and key as a PKCS#12 file for their
// browser (NSS's pk12util, Windows, macOS), protected by password, with
// the operator CA and the root: go-pkcs12's Modern encoder (AES-256-CBC
// with PBKDF2-HMAC-SHA-256 for the key and the certificates, an
// HMAC-SHA-256 MAC), never the legacy RC2 or 3DES ones.
func (o *OperatorCA) PKCS12(cert *x509.Certificate, key crypto.Signer, password string) ([]byte, error) {
	if cert == nil || key == nil {
		return nil, errors.New("pki: operator PKCS#12: no certificate or key")
	}
	if password == "" {
		return nil, errors.New("pki: operator PKCS#12: empty password")
	}
	if !publicKeysEqual(key.Public(), cert.PublicKey) {
		return nil, errors.New("pki: operator PKCS#12: the key does not match the certificate")
	}
	if err := cert.CheckSignatureFrom(o.Cert); err != nil {
		return nil, fmt.Errorf("pki: operator PKCS#12: the certificate is not the operator CA's: %w", err)
	}
	der, err := pkcs12.Modern.Encode(key, cert, []*x509.Certificate{o.Cert, o.Root}, password)
	if err != nil {
		return nil, fmt.Errorf("pki: operator PKCS#12: %w", err)
	}
	return der, nil
}

// Pool is the pool of the operator console's client certificates: the
// operator CA alone (neither the root nor the client-issuing CA), so that
// only an operator's certificate chains to it.
func (o *OperatorCA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(o.Cert)
	return p
}

// ChainPEM returns the PEM of the operator CA certificate followed by the
// root.
func (o *OperatorCA) ChainPEM() []byte { return pemBlocks("CERTIFICATE", o.Cert.Raw, o.Root.Raw) }
