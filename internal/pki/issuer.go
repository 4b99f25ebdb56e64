package pki

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// maxSerialOctets is the RFC 5280 limit on the length of a serial number.
const maxSerialOctets = 20

// Object identifiers of the extensions a client certificate may carry.
var (
	oidExtSubjectKeyID        = asn1.ObjectIdentifier{2, 5, 29, 14}
	oidExtKeyUsage            = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidExtBasicConstraints    = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidExtCRLDistribution     = asn1.ObjectIdentifier{2, 5, 29, 31}
	oidExtAuthorityKeyID      = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidExtExtendedKeyUsage    = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidExtAuthorityInfoAccess = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 1}

	oidOrganization = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidCommonName   = asn1.ObjectIdentifier{2, 5, 4, 3}
)

// Issuer signs client certificates with the client-issuing CA key. Prepare
// and Sign are safe for concurrent use.
type Issuer struct {
	ca     *x509.Certificate
	signer crypto.Signer
	sigAlg x509.SignatureAlgorithm
	rnd    io.Reader

	// lintKey and lintCA sign the certificate Prepare checks. lintCA has
	// the RawSubject and SubjectKeyId of ca but the public key of lintKey,
	// so that the TBSCertificate it produces is the one ca will sign.
	lintKey crypto.Signer
	lintCA  *x509.Certificate
}

// NewIssuer returns an Issuer for the CA certificate ca whose private key is
// signer; rnd is the source of randomness (crypto/rand.Reader when nil) and
// is used under a lock if it is not crypto/rand.Reader.
//
// It generates, once, a throwaway lint key of the same algorithm and size as
// signer, and a lint issuer certificate with the same RawSubject and
// SubjectKeyId as ca but the lint public key, so that a certificate signed by
// the lint key has exactly the TBSCertificate the real one will have.
//
// ca must be a CA certificate allowed to sign certificates, with a subject
// key identifier, and signer's public key must be ca's.
func NewIssuer(ca *x509.Certificate, signer crypto.Signer, rnd io.Reader) (*Issuer, error) {
	if ca == nil || signer == nil {
		return nil, errors.New("pki: new issuer: nil CA certificate or signer")
	}
	if !ca.BasicConstraintsValid || !ca.IsCA || ca.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, errors.New("pki: new issuer: certificate is not a CA allowed to sign certificates")
	}
	if len(ca.SubjectKeyId) == 0 {
		return nil, errors.New("pki: new issuer: CA certificate has no subject key identifier")
	}
	if len(ca.RawSubject) == 0 {
		return nil, errors.New("pki: new issuer: CA certificate has no raw subject")
	}
	if !publicKeysEqual(signer.Public(), ca.PublicKey) {
		return nil, errors.New("pki: new issuer: signer does not match the CA certificate")
	}
	sigAlg, err := signatureAlgorithm(ca.PublicKey)
	if err != nil {
		return nil, err
	}
	rnd = concurrentReader(rnd)
	lintKey, err := generateKeyLike(ca.PublicKey, rnd)
	if err != nil {
		return nil, fmt.Errorf("pki: new issuer: generating lint key: %w", err)
	}
	lintCA := &x509.Certificate{
		RawSubject:         bytes.Clone(ca.RawSubject),
		Subject:            ca.Subject,
		SubjectKeyId:       bytes.Clone(ca.SubjectKeyId),
		PublicKey:          lintKey.Public(),
		PublicKeyAlgorithm: ca.PublicKeyAlgorithm,
	}
	return &Issuer{
		ca:      ca,
		signer:  signer,
		sigAlg:  sigAlg,
		rnd:     rnd,
		lintKey: lintKey,
		lintCA:  lintCA,
	}, nil
}

// Request is what the registration authority asks to be signed. Nothing
// from a certificate signing request but its public key is ever used: the
// subject and extensions come from the profile and from these fields.
type Request struct {
	// Serial is the certificate serial number: positive, at most 20
	// octets. Use NewSerial.
	Serial *big.Int
	// PublicKey is the subject public key (ECDSA P-256/P-384 or RSA
	// 2048..4096).
	PublicKey crypto.PublicKey
	// Organization is the subject organisation (O). Required.
	Organization string
	// CommonName is the subject common name (CN), the login ID. Required.
	CommonName string
	// NotBefore is the start of validity; Prepare truncates it to the
	// second.
	NotBefore time.Time
	// NotAfter is the end of validity; Prepare truncates it to the second.
	// It must be after NotBefore and no later than the CA's NotAfter.
	NotAfter time.Time
	// CRLURL is an optional http or https CRL distribution point.
	CRLURL string
	// OCSPURL is an optional http or https OCSP responder, put in the
	// authority information access extension.
	OCSPURL string
}

// Prepared is a client certificate that has been built and checked and is
// ready to be signed by Sign, once.
type Prepared struct {
	// TBS is the DER of the TBSCertificate that Sign will sign.
	TBS []byte

	tmpl   *x509.Certificate
	pub    crypto.PublicKey
	lint   *x509.Certificate
	signed atomic.Bool
}

// LintCertificate returns the DER of the certificate signed by the lint
// key: the same TBSCertificate as the final certificate, with a signature
// nobody trusts. It is meant for running certificate linters before Sign.
func (p *Prepared) LintCertificate() []byte { return p.lint.Raw }

// Prepare builds the client certificate for r, signs it with the lint key,
// checks the result against the profile and returns the TBSCertificate to
// be signed. It never uses the real CA key.
//
// The profile is: version 3; signature algorithm from the CA key
// (ECDSA-SHA256 for P-256, ECDSA-SHA384 for P-384); subject O=Organization,
// CN=CommonName and nothing else; no subject alternative names; key usage
// digitalSignature (critical); extended key usage clientAuth only; basic
// constraints CA=false (critical); subject key identifier the SHA-1 of the
// subject public key (RFC 5280 method 1); authority key identifier the CA's
// subject key identifier; CRL distribution point and OCSP access only when
// requested. Validity is taken from r unchanged apart from truncation to the
// second: the caller decides it.
func (i *Issuer) Prepare(r Request) (*Prepared, error) {
	tmpl, err := i.template(r)
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificate(i.rnd, tmpl, i.lintCA, r.PublicKey, i.lintKey)
	if err != nil {
		return nil, fmt.Errorf("pki: prepare: signing with lint key: %w", err)
	}
	lint, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: prepare: parsing lint certificate: %w", err)
	}
	if err := i.checkProfile(lint, tmpl, r.PublicKey); err != nil {
		return nil, err
	}
	return &Prepared{TBS: lint.RawTBSCertificate, tmpl: tmpl, pub: r.PublicKey, lint: lint}, nil
}

// template validates r and builds the certificate template for it.
func (i *Issuer) template(r Request) (*x509.Certificate, error) {
	if r.Serial == nil || r.Serial.Sign() <= 0 {
		return nil, errors.New("pki: prepare: serial number must be positive")
	}
	if serialOctets(r.Serial) > maxSerialOctets {
		return nil, fmt.Errorf("pki: prepare: serial number longer than %d octets", maxSerialOctets)
	}
	if err := checkPublicKey(r.PublicKey); err != nil {
		return nil, err
	}
	if strings.TrimSpace(r.Organization) == "" {
		return nil, errors.New("pki: prepare: empty organization")
	}
	if strings.TrimSpace(r.CommonName) == "" {
		return nil, errors.New("pki: prepare: empty common name")
	}
	notBefore := r.NotBefore.UTC().Truncate(time.Second)
	notAfter := r.NotAfter.UTC().Truncate(time.Second)
	if r.NotBefore.IsZero() || r.NotAfter.IsZero() {
		return nil, errors.New("pki: prepare: validity period not set")
	}
	if !notAfter.After(notBefore) {
		return nil, errors.New("pki: prepare: not after must be later than not before")
	}
	if notAfter.After(i.ca.NotAfter) {
		return nil, fmt.Errorf("pki: prepare: not after %s is later than the CA's %s",
			notAfter.Format(time.RFC3339), i.ca.NotAfter.UTC().Format(time.RFC3339))
	}
	ski, err := subjectKeyID(r.PublicKey)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          new(big.Int).Set(r.Serial),
		SignatureAlgorithm:    i.sigAlg,
		Subject:               pkix.Name{Organization: []string{r.Organization}, CommonName: r.CommonName},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  false,
		MaxPathLen:            -1,
		SubjectKeyId:          ski,
		AuthorityKeyId:        bytes.Clone(i.ca.SubjectKeyId),
	}
	if r.CRLURL != "" {
		if err := checkURL(r.CRLURL); err != nil {
			return nil, fmt.Errorf("pki: prepare: CRL URL: %w", err)
		}
		tmpl.CRLDistributionPoints = []string{r.CRLURL}
	}
	if r.OCSPURL != "" {
		if err := checkURL(r.OCSPURL); err != nil {
			return nil, fmt.Errorf("pki: prepare: OCSP URL: %w", err)
		}
		tmpl.OCSPServer = []string{r.OCSPURL}
	}
	return tmpl, nil
}

// checkURL accepts absolute http and https URLs with a host.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http or https URL", s)
	}
	return nil
}

// checkProfile checks a parsed certificate against the client certificate
// profile and the template it was built from. It is deliberately
// independent of how the template was built, so that a mistake in either
// shows up as a refusal to issue.
func (i *Issuer) checkProfile(c, want *x509.Certificate, pub crypto.PublicKey) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("pki: certificate does not match the client profile: "+format, args...)
	}
	if c.Version != 3 {
		return fail("version %d", c.Version)
	}
	if c.SerialNumber == nil || c.SerialNumber.Sign() <= 0 {
		return fail("serial number not positive")
	}
	if serialOctets(c.SerialNumber) > maxSerialOctets {
		return fail("serial number longer than %d octets", maxSerialOctets)
	}
	if c.SerialNumber.Cmp(want.SerialNumber) != 0 {
		return fail("serial number %x, want %x", c.SerialNumber, want.SerialNumber)
	}
	if c.SignatureAlgorithm != i.sigAlg {
		return fail("signature algorithm %v, want %v", c.SignatureAlgorithm, i.sigAlg)
	}
	if !bytes.Equal(c.RawIssuer, i.ca.RawSubject) {
		return fail("issuer is not the CA subject")
	}
	if err := checkSubject(c.RawSubject, want.Subject.Organization[0], want.Subject.CommonName); err != nil {
		return fail("%v", err)
	}
	if !c.NotBefore.Equal(want.NotBefore) || !c.NotAfter.Equal(want.NotAfter) {
		return fail("validity %s..%s, want %s..%s", c.NotBefore, c.NotAfter, want.NotBefore, want.NotAfter)
	}
	if !c.NotAfter.After(c.NotBefore) {
		return fail("not after is not later than not before")
	}
	if !publicKeysEqual(c.PublicKey, pub) {
		return fail("subject public key is not the requested one")
	}

	// Extensions: exactly the profile's, each at most once.
	allowed := map[string]bool{
		oidExtKeyUsage.String():         true,
		oidExtExtendedKeyUsage.String(): true,
		oidExtBasicConstraints.String(): true,
		oidExtSubjectKeyID.String():     true,
		oidExtAuthorityKeyID.String():   true,
	}
	if len(want.CRLDistributionPoints) > 0 {
		allowed[oidExtCRLDistribution.String()] = true
	}
	if len(want.OCSPServer) > 0 {
		allowed[oidExtAuthorityInfoAccess.String()] = true
	}
	seen := map[string]bool{}
	for _, e := range c.Extensions {
		id := e.Id.String()
		if !allowed[id] {
			return fail("unexpected extension %s", id)
		}
		if seen[id] {
			return fail("duplicate extension %s", id)
		}
		seen[id] = true
		switch {
		case e.Id.Equal(oidExtKeyUsage), e.Id.Equal(oidExtBasicConstraints):
			if !e.Critical {
				return fail("extension %s not critical", id)
			}
		default:
			if e.Critical {
				return fail("extension %s unexpectedly critical", id)
			}
		}
	}
	for id := range allowed {
		if !seen[id] {
			return fail("missing extension %s", id)
		}
	}

	if c.KeyUsage != x509.KeyUsageDigitalSignature {
		return fail("key usage %#x, want digitalSignature only", c.KeyUsage)
	}
	if !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) || len(c.UnknownExtKeyUsage) != 0 {
		return fail("extended key usage is not exactly clientAuth")
	}
	if !c.BasicConstraintsValid || c.IsCA {
		return fail("basic constraints not CA=false")
	}
	if c.MaxPathLen > 0 || c.MaxPathLenZero {
		return fail("path length constraint on an end-entity certificate")
	}
	if len(c.SubjectKeyId) == 0 || !bytes.Equal(c.SubjectKeyId, want.SubjectKeyId) {
		return fail("subject key identifier missing or wrong")
	}
	if len(c.AuthorityKeyId) == 0 || !bytes.Equal(c.AuthorityKeyId, i.ca.SubjectKeyId) {
		return fail("authority key identifier is not the CA's subject key identifier")
	}
	if len(c.DNSNames)+len(c.EmailAddresses)+len(c.IPAddresses)+len(c.URIs) != 0 {
		return fail("subject alternative names present")
	}
	if !slices.Equal(c.CRLDistributionPoints, want.CRLDistributionPoints) {
		return fail("CRL distribution points %q, want %q", c.CRLDistributionPoints, want.CRLDistributionPoints)
	}
	if !slices.Equal(c.OCSPServer, want.OCSPServer) || len(c.IssuingCertificateURL) != 0 {
		return fail("authority information access %q, want OCSP %q", c.OCSPServer, want.OCSPServer)
	}
	return nil
}

// checkSubject checks that a DER Name is exactly O=org followed by CN=cn,
// one attribute per RDN, both UTF8String or PrintableString.
func checkSubject(raw []byte, org, cn string) error {
	var rdns pkix.RDNSequence
	rest, err := asn1.Unmarshal(raw, &rdns)
	if err != nil || len(rest) != 0 {
		return errors.New("unparsable subject")
	}
	want := []struct {
		oid   asn1.ObjectIdentifier
		value string
	}{{oidOrganization, org}, {oidCommonName, cn}}
	if len(rdns) != len(want) {
		return fmt.Errorf("subject has %d attributes, want O and CN", len(rdns))
	}
	for n, rdn := range rdns {
		if len(rdn) != 1 || !rdn[0].Type.Equal(want[n].oid) {
			return fmt.Errorf("subject attribute %d is not %s", n+1, want[n].oid)
		}
		if v, ok := rdn[0].Value.(string); !ok || v != want[n].value {
			return fmt.Errorf("subject %s is %q, want %q", want[n].oid, rdn[0].Value, want[n].value)
		}
	}
	return nil
}

// Sign signs a prepared certificate with the real CA key. It does so at
// most once per Prepared, whatever the outcome, so a serial number is never
// signed twice; to retry, Prepare again with a new serial. The result is
// parsed, its TBSCertificate must equal p.TBS byte for byte, and its
// signature must verify against the CA certificate. Sign returns the DER
// and the parsed certificate.
func (i *Issuer) Sign(p *Prepared) ([]byte, *x509.Certificate, error) {
	if p == nil || p.tmpl == nil {
		return nil, nil, errors.New("pki: sign: certificate was not prepared")
	}
	if !p.signed.CompareAndSwap(false, true) {
		return nil, nil, errors.New("pki: sign: certificate already signed")
	}
	der, err := x509.CreateCertificate(i.rnd, p.tmpl, i.ca, p.pub, i.signer)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: sign: %w", err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: sign: parsing signed certificate: %w", err)
	}
	if !bytes.Equal(c.RawTBSCertificate, p.TBS) {
		return nil, nil, errors.New("pki: sign: signed TBSCertificate differs from the prepared one")
	}
	if err := c.CheckSignatureFrom(i.ca); err != nil {
		return nil, nil, fmt.Errorf("pki: sign: signature does not verify against the CA: %w", err)
	}
	return der, c, nil
}
