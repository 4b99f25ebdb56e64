package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Server certificate lifetime and renewal margin.
const (
	serverValidity    = 397 * 24 * time.Hour
	serverRenewBefore = 30 * 24 * time.Hour
	// serverBackdate allows for clients whose clocks are a little behind.
	serverBackdate = time.Hour
)

// ServerCertificate returns a TLS server certificate for names, each a DNS
// name or an IP address (an entry that parses as an IP address becomes an
// IP address SAN). The certificate is signed by the root CA, has an ECDSA
// P-256 key, is valid for 397 days starting one hour before now, has
// extended key usage serverAuth and key usage digitalSignature, carries the
// names as SANs and has CN set to the first name (omitted if longer than 64
// characters); DNS names are lower-cased. The chain is the leaf
// followed by the root.
//
// It is stored as server.pem and server.key in a.Dir. The stored
// certificate is reused when it was signed by a.Root, matches its key, has
// exactly the requested SANs (in any order) and is still valid at now and
// for at least 30 days after it; otherwise a new one is made and written.
// rnd is the source of randomness, crypto/rand.Reader when nil. A stored key
// that group or others may read is an error, not a reason to reissue.
func (a *Authority) ServerCertificate(names []string, now time.Time, rnd io.Reader) (tls.Certificate, error) {
	if a == nil || a.Root == nil || a.RootKey == nil {
		return tls.Certificate{}, errors.New("pki: server certificate: authority not loaded")
	}
	rnd = concurrentReader(rnd)
	dns, ips, cn, err := splitNames(names)
	if err != nil {
		return tls.Certificate{}, err
	}
	certPath := filepath.Join(a.Dir, ServerCertFile)
	keyPath := filepath.Join(a.Dir, ServerKeyFile)

	cert, err := a.loadServerCertificate(certPath, keyPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return tls.Certificate{}, err
	case a.serverCertificateReusable(cert.Leaf, dns, ips, now):
		return cert, nil
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rnd)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: server certificate: generating key: %w", err)
	}
	serial, err := NewSerial(rnd)
	if err != nil {
		return tls.Certificate{}, err
	}
	ski, err := subjectKeyID(key.Public())
	if err != nil {
		return tls.Certificate{}, err
	}
	sigAlg, err := signatureAlgorithm(a.Root.PublicKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	notBefore := now.UTC().Truncate(time.Second).Add(-serverBackdate)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		SignatureAlgorithm:    sigAlg,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             notBefore,
		NotAfter:              notBefore.Add(serverValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  false,
		SubjectKeyId:          ski,
		DNSNames:              dns,
		IPAddresses:           ips,
	}
	der, err := x509.CreateCertificate(rnd, tmpl, a.Root, key.Public(), a.RootKey)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: server certificate: signing: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: server certificate: parsing: %w", err)
	}
	// A name outside the root's name constraints would make a certificate
	// no client accepts: refuse it here, before it is written.
	if err := a.verifyServer(leaf, now); err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err := marshalPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, err
	}
	// The key is written first: if the certificate write fails, the next
	// call finds a key that does not match and reissues.
	if err := writeFileAtomic(keyPath, keyPEM, 0o600); err != nil {
		return tls.Certificate{}, err
	}
	clear(keyPEM)
	if err := writeFileAtomic(certPath, pemBlocks("CERTIFICATE", der, a.Root.Raw), 0o600); err != nil { // private as the whole data directory
		return tls.Certificate{}, err
	}
	return tls.Certificate{
		Certificate: [][]byte{der, a.Root.Raw},
		PrivateKey:  &FileSigner{path: keyPath, key: key},
		Leaf:        leaf,
	}, nil
}

// verifyServer checks that leaf chains to the root for serverAuth at now,
// under the root's name constraints.
func (a *Authority) verifyServer(leaf *x509.Certificate, now time.Time) error {
	roots := x509.NewCertPool()
	roots.AddCert(a.Root)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		return fmt.Errorf("pki: server certificate does not verify under the root (are all its names within the root's name constraints?): %w", err)
	}
	return nil
}

// StoredServerCertificate returns the server certificate that the
// ceremony (ServerCertificate, with the root key) stored in a.Dir, without
// the root key: it must match its key, chain to the root for serverAuth,
// be valid at now and name every one of names. The chain is the leaf
// followed by the root.
func (a *Authority) StoredServerCertificate(names []string, now time.Time) (tls.Certificate, error) {
	if a == nil || a.Root == nil {
		return tls.Certificate{}, errors.New("pki: server certificate: authority not loaded")
	}
	certPath := filepath.Join(a.Dir, ServerCertFile)
	keyPath := filepath.Join(a.Dir, ServerKeyFile)
	cert, err := a.loadServerCertificate(certPath, keyPath)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: server certificate %s: %w", certPath, err)
	}
	if err := a.verifyServer(cert.Leaf, now); err != nil {
		return tls.Certificate{}, fmt.Errorf("%s: %w", certPath, err)
	}
	if err := coversNames(cert.Leaf, names); err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: server certificate %s: %w", certPath, err)
	}
	return cert, nil
}

// LoadServerCertificateFiles reads a server certificate chain (PEM, leaf
// first) and its key (PEM, PKCS#8, PKCS#1 or SEC 1) that the bank was
// given by a publicly trusted CA. The key file must not be open to group
// or others; the leaf must match the key, be valid at now, allow
// serverAuth and name every one of names.
func LoadServerCertificateFiles(certFile, keyFile string, names []string, now time.Time) (tls.Certificate, error) {
	fi, err := os.Stat(keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: server key: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return tls.Certificate{}, fmt.Errorf("pki: private key %s has mode %04o, %w; it must be 0600 or stricter", keyFile, perm, errKeyPermissions)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: server certificate %s: %w", certFile, err)
	}
	leaf := cert.Leaf
	if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		return tls.Certificate{}, fmt.Errorf("pki: server certificate %s is valid from %s to %s, not now", certFile, leaf.NotBefore, leaf.NotAfter)
	}
	if len(leaf.ExtKeyUsage) > 0 && !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageServerAuth) && !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageAny) {
		return tls.Certificate{}, fmt.Errorf("pki: server certificate %s does not allow serverAuth", certFile)
	}
	if err := coversNames(leaf, names); err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: server certificate %s: %w", certFile, err)
	}
	return cert, nil
}

// coversNames checks that leaf is valid for every name.
func coversNames(leaf *x509.Certificate, names []string) error {
	for _, n := range names {
		if err := leaf.VerifyHostname(n); err != nil {
			return fmt.Errorf("not valid for %q (server_names): %w", n, err)
		}
	}
	return nil
}

// loadServerCertificate reads the stored server certificate and key. It
// returns an error wrapping fs.ErrNotExist when either file is missing or
// unusable, and any other error only for a key file with unsafe permissions
// or an unreadable file.
func (a *Authority) loadServerCertificate(certPath, keyPath string) (tls.Certificate, error) {
	stale := fmt.Errorf("pki: stored server certificate unusable: %w", fs.ErrNotExist)
	certs, err := readCertificates(certPath)
	if errors.Is(err, fs.ErrNotExist) {
		return tls.Certificate{}, err
	}
	if err != nil {
		return tls.Certificate{}, stale
	}
	key, err := LoadSigner(keyPath)
	if errors.Is(err, fs.ErrNotExist) {
		return tls.Certificate{}, err
	}
	if err != nil {
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) || errors.Is(err, errKeyPermissions) {
			return tls.Certificate{}, err
		}
		return tls.Certificate{}, stale
	}
	leaf := certs[0]
	if !publicKeysEqual(key.Public(), leaf.PublicKey) || leaf.CheckSignatureFrom(a.Root) != nil {
		return tls.Certificate{}, stale
	}
	return tls.Certificate{
		Certificate: [][]byte{leaf.Raw, a.Root.Raw},
		PrivateKey:  key,
		Leaf:        leaf,
	}, nil
}

// serverCertificateReusable reports whether leaf has exactly the requested
// SANs and is valid from now until at least 30 days later.
func (a *Authority) serverCertificateReusable(leaf *x509.Certificate, dns []string, ips []net.IP, now time.Time) bool {
	if now.Before(leaf.NotBefore) || now.Add(serverRenewBefore).After(leaf.NotAfter) {
		return false
	}
	if len(leaf.EmailAddresses) != 0 || len(leaf.URIs) != 0 {
		return false
	}
	have := slices.Clone(leaf.DNSNames)
	want := slices.Clone(dns)
	for i := range have {
		have[i] = strings.ToLower(have[i])
	}
	slices.Sort(have)
	slices.Sort(want)
	if !slices.Equal(have, want) {
		return false
	}
	haveIPs := make([]string, len(leaf.IPAddresses))
	for i, ip := range leaf.IPAddresses {
		haveIPs[i] = ip.String()
	}
	wantIPs := make([]string, len(ips))
	for i, ip := range ips {
		wantIPs[i] = ip.String()
	}
	slices.Sort(haveIPs)
	slices.Sort(wantIPs)
	return slices.Equal(haveIPs, wantIPs)
}

// splitNames separates DNS names from IP addresses, lower-casing DNS names
// and dropping duplicates, and returns the common name: the first name in
// normalised form, or empty if it exceeds the 64 characters X.520 allows.
// It rejects an empty list and empty names.
func splitNames(names []string) (dns []string, ips []net.IP, cn string, err error) {
	if len(names) == 0 {
		return nil, nil, "", errors.New("pki: server certificate: no names")
	}
	seen := map[string]bool{}
	for i, n := range names {
		if strings.TrimSpace(n) == "" || strings.ContainsAny(n, " \t\r\n/") {
			return nil, nil, "", fmt.Errorf("pki: server certificate: invalid name %q", n)
		}
		if ip := net.ParseIP(n); ip != nil {
			if v4 := ip.To4(); v4 != nil {
				ip = v4
			}
			if i == 0 {
				cn = ip.String()
			}
			if !seen[ip.String()] {
				seen[ip.String()] = true
				ips = append(ips, ip)
			}
			continue
		}
		d := strings.ToLower(strings.TrimSuffix(n, "."))
		if i == 0 {
			cn = d
		}
		if !seen[d] {
			seen[d] = true
			dns = append(dns, d)
		}
	}
	if len(cn) > 64 {
		cn = ""
	}
	return dns, ips, cn, nil
}
