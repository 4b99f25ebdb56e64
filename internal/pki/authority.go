package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// File names inside an authority directory.
const (
	RootCertFile    = "root-ca.pem"
	RootKeyFile     = "root-ca.key"
	IssuingCertFile = "client-ca.pem"
	IssuingKeyFile  = "client-ca.key"
	ServerCertFile  = "server.pem"
	ServerKeyFile   = "server.key"
)

// Validity periods of the CA certificates Create makes.
const (
	rootValidityYears    = 20
	issuingValidityYears = 10
)

// CreateOptions configures Create.
type CreateOptions struct {
	// Name of the bank, for example "kinko demo bank". It becomes the
	// organisation (O) of both CA subjects; the common names are
	// "<Name> Root CA" and "<Name> Client Issuing CA". Required.
	Name string
	// Curve of both CA keys: elliptic.P256() (the default when nil) or
	// elliptic.P384().
	Curve elliptic.Curve
	// Rand is the source of randomness; crypto/rand.Reader when nil.
	Rand io.Reader
	// Now is the start of the CA validity periods; time.Now() when zero.
	Now time.Time
	// RootDir is where the root CA's key goes, with a copy of its
	// certificate: a directory kept offline, never the server's. When
	// empty, the root key is written in the authority directory itself
	// (the demo and tests only: a server never reads it).
	RootDir string
	// ServerNames are the DNS names and IP addresses of the bank's
	// listeners. When given, the root certificate carries critical name
	// constraints permitting only these names (a DNS name with its
	// subdomains, an IP address alone), so that a client trusting the
	// root trusts no other server. A kind of name not given is excluded
	// altogether.
	ServerNames []string
}

// Create makes a new authority in dir, creating the directory (and
// o.RootDir) with mode 0700 if it is missing. It generates a self-signed root CA (valid 20 years,
// path length 1, key usage certSign and cRLSign) and a client-issuing CA
// signed by the root (valid 10 years, path length 0, key usage certSign,
// cRLSign and digitalSignature, extended key usage clientAuth), and an
// operator CA of the same profile ("<Name> Operator CA", for the operator
// console's certificates only), all on the same curve and all with
// subject key identifiers. It writes root-ca.pem, client-ca.pem,
// client-ca.key, operator-ca.pem and operator-ca.key in dir and
// root-ca.key and a copy of
// root-ca.pem in o.RootDir (dir when empty); the keys are PKCS#8 PEM with
// mode 0600 and every file is written atomically, dir's root-ca.pem last.
//
// If any of those files already exists, Create changes nothing and
// returns an error wrapping ErrExists; a directory left half-written by an
// interrupted Create must be cleared by hand.
func Create(dir string, o CreateOptions) error {
	if strings.TrimSpace(o.Name) == "" {
		return errors.New("pki: create: empty authority name")
	}
	curve := o.Curve
	if curve == nil {
		curve = elliptic.P256()
	}
	if curve != elliptic.P256() && curve != elliptic.P384() {
		return fmt.Errorf("%w: curve %s", ErrUnsupportedKey, curve.Params().Name)
	}
	rnd := o.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC().Truncate(time.Second)

	rootDir := o.RootDir
	if rootDir == "" {
		rootDir = dir
	}
	constraints, err := nameConstraints(o.ServerNames)
	if err != nil {
		return err
	}
	for _, d := range []string{dir, rootDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("pki: create: %w", err)
		}
	}
	for _, p := range []string{filepath.Join(dir, RootCertFile), filepath.Join(rootDir, RootCertFile),
		filepath.Join(rootDir, RootKeyFile), filepath.Join(dir, RootKeyFile),
		filepath.Join(dir, IssuingCertFile), filepath.Join(dir, IssuingKeyFile),
		filepath.Join(dir, OperatorCertFile), filepath.Join(dir, OperatorKeyFile)} {
		_, err := os.Lstat(p)
		if err == nil {
			return fmt.Errorf("%w: %s exists", ErrExists, p)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("pki: create: %w", err)
		}
	}

	rootKey, err := ecdsa.GenerateKey(curve, rnd)
	if err != nil {
		return fmt.Errorf("pki: create: generating root key: %w", err)
	}
	issKey, err := ecdsa.GenerateKey(curve, rnd)
	if err != nil {
		return fmt.Errorf("pki: create: generating issuing key: %w", err)
	}
	sigAlg, err := signatureAlgorithm(rootKey.Public())
	if err != nil {
		return err
	}

	rootSerial, err := NewSerial(rnd)
	if err != nil {
		return err
	}
	rootSKI, err := subjectKeyID(rootKey.Public())
	if err != nil {
		return err
	}
	rootTmpl := &x509.Certificate{
		SerialNumber: rootSerial,
		Subject: pkix.Name{
			Organization: []string{o.Name},
			CommonName:   o.Name + " Root CA",
		},
		NotBefore:             now,
		NotAfter:              now.AddDate(rootValidityYears, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            1,
		SubjectKeyId:          rootSKI,
		SignatureAlgorithm:    sigAlg,
	}
	constraints.apply(rootTmpl)
	rootDER, err := x509.CreateCertificate(rnd, rootTmpl, rootTmpl, rootKey.Public(), rootKey)
	if err != nil {
		return fmt.Errorf("pki: create: signing root certificate: %w", err)
	}
	root, err := x509.ParseCertificate(rootDER)
	if err != nil {
		return fmt.Errorf("pki: create: parsing root certificate: %w", err)
	}

	issSerial, err := NewSerial(rnd)
	if err != nil {
		return err
	}
	issSKI, err := subjectKeyID(issKey.Public())
	if err != nil {
		return err
	}
	issTmpl := &x509.Certificate{
		SerialNumber: issSerial,
		Subject: pkix.Name{
			Organization: []string{o.Name},
			CommonName:   o.Name + " Client Issuing CA",
		},
		NotBefore:             now,
		NotAfter:              now.AddDate(issuingValidityYears, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		SubjectKeyId:          issSKI,
		AuthorityKeyId:        root.SubjectKeyId,
		SignatureAlgorithm:    sigAlg,
	}
	issDER, err := x509.CreateCertificate(rnd, issTmpl, root, issKey.Public(), rootKey)
	if err != nil {
		return fmt.Errorf("pki: create: signing issuing certificate: %w", err)
	}
	opKey, err := ecdsa.GenerateKey(curve, rnd)
	if err != nil {
		return fmt.Errorf("pki: create: generating operator CA key: %w", err)
	}
	opDER, err := signOperatorCA(root, rootKey, o.Name, opKey, now, rnd)
	if err != nil {
		return err
	}

	rootKeyPEM, err := marshalPrivateKey(rootKey)
	if err != nil {
		return err
	}
	issKeyPEM, err := marshalPrivateKey(issKey)
	if err != nil {
		return err
	}
	opKeyPEM, err := marshalPrivateKey(opKey)
	if err != nil {
		return err
	}
	files := []struct {
		dir, name string
		data      []byte
		perm      os.FileMode
	}{
		// The certificates are public (GET /pki/ca.pem serves them), but the
		// data directory is the server's alone: nothing in it is open to the
		// group or others.
		{rootDir, RootKeyFile, rootKeyPEM, 0o600},
		{dir, IssuingKeyFile, issKeyPEM, 0o600},
		{dir, IssuingCertFile, pemBlocks("CERTIFICATE", issDER), 0o600},
		{dir, OperatorKeyFile, opKeyPEM, 0o600},
		{dir, OperatorCertFile, pemBlocks("CERTIFICATE", opDER), 0o600},
		{rootDir, RootCertFile, pemBlocks("CERTIFICATE", rootDER), 0o600},
		{dir, RootCertFile, pemBlocks("CERTIFICATE", rootDER), 0o600},
	}
	for _, f := range files {
		if err := writeFileAtomic(filepath.Join(f.dir, f.name), f.data, f.perm); err != nil {
			return err
		}
	}
	clear(rootKeyPEM)
	clear(issKeyPEM)
	clear(opKeyPEM)
	return nil
}

// Authority is an authority directory loaded by Load.
type Authority struct {
	// Dir is the directory the authority was loaded from.
	Dir string
	// Root is the self-signed root CA certificate.
	Root *x509.Certificate
	// Issuing is the client-issuing CA certificate, signed by Root.
	Issuing *x509.Certificate
	// IssuingKey is the private key of Issuing: a file's, or a key in an
	// HSM (LoadWithSigner).
	IssuingKey crypto.Signer
	// RootKey is the private key of Root. Load and LoadWithSigner never
	// read it and leave it nil; only LoadWithRoot, for the ceremony of the
	// root's operations, sets it.
	RootKey crypto.Signer
}

// Load reads an authority created by Create from dir: the two CA
// certificates and the issuing CA's key file, never the root's key. It
// refuses a key file that group or others may access (mode & 0077 != 0),
// naming the file, and checks that the key belongs to its certificate,
// that both certificates are CAs and that the issuing CA is signed by the
// root.
func Load(dir string) (*Authority, error) {
	return LoadWithSigner(dir, nil)
}

// LoadWithSigner is Load with the issuing CA's key given, for a key that
// lives in an HSM; with a nil issuingKey it reads client-ca.key like Load.
func LoadWithSigner(dir string, issuingKey crypto.Signer) (*Authority, error) {
	root, err := readCertificate(filepath.Join(dir, RootCertFile))
	if err != nil {
		return nil, fmt.Errorf("pki: load: %w", err)
	}
	iss, err := readCertificate(filepath.Join(dir, IssuingCertFile))
	if err != nil {
		return nil, fmt.Errorf("pki: load: %w", err)
	}
	if issuingKey == nil {
		if issuingKey, err = LoadSigner(filepath.Join(dir, IssuingKeyFile)); err != nil {
			return nil, err
		}
	} else if err := checkPublicKey(issuingKey.Public()); err != nil {
		return nil, fmt.Errorf("pki: load: issuing key: %w", err)
	}
	if !publicKeysEqual(issuingKey.Public(), iss.PublicKey) {
		return nil, fmt.Errorf("pki: load: the issuing key does not match %s", IssuingCertFile)
	}
	for _, c := range []*x509.Certificate{root, iss} {
		if !c.BasicConstraintsValid || !c.IsCA || c.KeyUsage&x509.KeyUsageCertSign == 0 {
			return nil, fmt.Errorf("pki: load: %q is not a CA certificate", c.Subject.CommonName)
		}
	}
	if err := root.CheckSignatureFrom(root); err != nil {
		return nil, fmt.Errorf("pki: load: root certificate is not self-signed: %w", err)
	}
	if err := iss.CheckSignatureFrom(root); err != nil {
		return nil, fmt.Errorf("pki: load: issuing certificate is not signed by the root: %w", err)
	}
	return &Authority{Dir: dir, Root: root, Issuing: iss, IssuingKey: issuingKey}, nil
}

// LoadWithRoot is Load for the ceremony of the root's operations: it also
// reads the root key from rootDir (where Create put it) and checks that it
// belongs to the root certificate of dir. The issuing key is read when
// dir has one; an issuing key that lives in an HSM is not needed here.
func LoadWithRoot(dir, rootDir string) (*Authority, error) {
	root, err := readCertificate(filepath.Join(dir, RootCertFile))
	if err != nil {
		return nil, fmt.Errorf("pki: load: %w", err)
	}
	iss, err := readCertificate(filepath.Join(dir, IssuingCertFile))
	if err != nil {
		return nil, fmt.Errorf("pki: load: %w", err)
	}
	rootKey, err := LoadSigner(filepath.Join(rootDir, RootKeyFile))
	if err != nil {
		return nil, err
	}
	if !publicKeysEqual(rootKey.Public(), root.PublicKey) {
		return nil, fmt.Errorf("pki: load: %s does not match %s", filepath.Join(rootDir, RootKeyFile), filepath.Join(dir, RootCertFile))
	}
	if err := root.CheckSignatureFrom(root); err != nil {
		return nil, fmt.Errorf("pki: load: root certificate is not self-signed: %w", err)
	}
	if err := iss.CheckSignatureFrom(root); err != nil {
		return nil, fmt.Errorf("pki: load: issuing certificate is not signed by the root: %w", err)
	}
	a := &Authority{Dir: dir, Root: root, Issuing: iss, RootKey: rootKey}
	issKey, err := LoadSigner(filepath.Join(dir, IssuingKeyFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, err
	case !publicKeysEqual(issKey.Public(), iss.PublicKey):
		return nil, fmt.Errorf("pki: load: %s does not match %s", IssuingKeyFile, IssuingCertFile)
	default:
		a.IssuingKey = issKey
	}
	return a, nil
}

// ClientCAChainPEM returns the PEM encoding of the client-issuing CA
// certificate followed by the root, which is what clients are given to
// install.
func (a *Authority) ClientCAChainPEM() []byte {
	return pemBlocks("CERTIFICATE", a.Issuing.Raw, a.Root.Raw)
}

// readCertificates reads a PEM file holding one or more certificates.
func readCertificates(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s: no PEM certificate", path)
	}
	return certs, nil
}

// readCertificate reads a PEM file and returns its first certificate.
func readCertificate(path string) (*x509.Certificate, error) {
	certs, err := readCertificates(path)
	if err != nil {
		return nil, err
	}
	return certs[0], nil
}
