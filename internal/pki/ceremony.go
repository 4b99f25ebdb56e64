package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"time"
)

// dnsNothing is the one DNS name a root permits when the bank's server
// names hold no DNS name: the reserved top-level domain of RFC 6761,
// which no real server has, so that no DNS name is permitted.
const dnsNothing = "invalid"

// constraints are the name constraints of a root CA certificate.
type constraints struct {
	set  bool
	dns  []string
	ips  []*net.IPNet
	none []*net.IPNet // excluded IP ranges when no IP is permitted
}

// nameConstraints returns the constraints that limit a root to the
// server names: each DNS name with its subdomains, each IP address alone.
// No names, no constraints.
func nameConstraints(names []string) (constraints, error) {
	if len(names) == 0 {
		return constraints{}, nil
	}
	dns, ips, _, err := splitNames(names)
	if err != nil {
		return constraints{}, fmt.Errorf("pki: name constraints: %w", err)
	}
	c := constraints{set: true, dns: dns}
	if len(c.dns) == 0 {
		c.dns = []string{dnsNothing}
	}
	for _, ip := range ips {
		bits := 8 * len(ip)
		c.ips = append(c.ips, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
	}
	if len(c.ips) == 0 {
		c.none = []*net.IPNet{
			{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)},
			{IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)},
		}
	}
	return c, nil
}

// apply puts the constraints in a CA certificate template, critical.
func (c constraints) apply(tmpl *x509.Certificate) {
	if !c.set {
		return
	}
	tmpl.PermittedDNSDomainsCritical = true
	tmpl.PermittedDNSDomains = c.dns
	tmpl.PermittedIPRanges = c.ips
	tmpl.ExcludedIPRanges = c.none
}

// SignIssuing is the ceremony's signature of a client-issuing CA
// certificate for pub by the root (a must be loaded by LoadWithRoot): a
// new key's, or the current key's to renew its certificate. The subject
// is the current issuing CA's; the profile is Create's; the validity is
// ten years from now, and no longer than the root's. It returns the DER.
func (a *Authority) SignIssuing(pub crypto.PublicKey, now time.Time, rnd io.Reader) ([]byte, error) {
	if a == nil || a.Root == nil || a.RootKey == nil || a.Issuing == nil {
		return nil, errors.New("pki: sign issuing CA: the root key is not loaded")
	}
	if err := checkPublicKey(pub); err != nil {
		return nil, err
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC().Truncate(time.Second)
	tmpl, err := subordinateCA(a.Root, pub, now, issuingValidityYears, rnd)
	if err != nil {
		return nil, err
	}
	tmpl.RawSubject = bytes.Clone(a.Issuing.RawSubject)
	der, err := x509.CreateCertificate(rnd, tmpl, a.Root, pub, a.RootKey)
	if err != nil {
		return nil, fmt.Errorf("pki: sign issuing CA: %w", err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: sign issuing CA: %w", err)
	}
	if err := c.CheckSignatureFrom(a.Root); err != nil {
		return nil, fmt.Errorf("pki: sign issuing CA: %w", err)
	}
	return der, nil
}

// subordinateCA is the profile both CAs under the root share, the
// client-issuing CA and the operator CA, but for their subjects: valid
// years from now and no longer than the root, path length 0, key usage
// certSign, cRLSign and digitalSignature, extended key usage clientAuth,
// subject and authority key identifiers, the root's signature algorithm.
func subordinateCA(root *x509.Certificate, pub crypto.PublicKey, now time.Time, years int, rnd io.Reader) (*x509.Certificate, error) {
	sigAlg, err := signatureAlgorithm(root.PublicKey)
	if err != nil {
		return nil, err
	}
	serial, err := NewSerial(rnd)
	if err != nil {
		return nil, err
	}
	ski, err := subjectKeyID(pub)
	if err != nil {
		return nil, err
	}
	notAfter := now.AddDate(years, 0, 0)
	if notAfter.After(root.NotAfter) {
		notAfter = root.NotAfter
	}
	return &x509.Certificate{
		SerialNumber:          serial,
		NotBefore:             now,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		SubjectKeyId:          ski,
		AuthorityKeyId:        root.SubjectKeyId,
		SignatureAlgorithm:    sigAlg,
	}, nil
}

// NewIssuingKey makes a key for a new issuing CA on the root's curve, to
// be written by WriteIssuing.
func (a *Authority) NewIssuingKey(rnd io.Reader) (crypto.Signer, error) {
	if a == nil || a.Root == nil {
		return nil, errors.New("pki: new issuing key: authority not loaded")
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	k, err := generateKeyLike(a.Root.PublicKey, rnd)
	if err != nil {
		return nil, err
	}
	if _, ok := k.(*ecdsa.PrivateKey); !ok {
		return nil, fmt.Errorf("%w: issuing keys are ECDSA", ErrUnsupportedKey)
	}
	return k, nil
}

// WriteIssuing replaces the issuing CA of the authority directory dir:
// the key first, when one is given (a key in an HSM is not written), then
// the certificate der.
func WriteIssuing(dir string, der []byte, key crypto.Signer) error {
	if key != nil {
		keyPEM, err := marshalPrivateKey(key)
		if err != nil {
			return err
		}
		err = writeFileAtomic(filepath.Join(dir, IssuingKeyFile), keyPEM, 0o600)
		clear(keyPEM)
		if err != nil {
			return err
		}
	}
	return writeFileAtomic(filepath.Join(dir, IssuingCertFile), pemBlocks("CERTIFICATE", der), 0o600)
}
