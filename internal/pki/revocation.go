package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"
)

// RevokedEntry is one revoked certificate on a CRL.
type RevokedEntry struct {
	Serial    *big.Int
	RevokedAt time.Time
	// ReasonCode is the RFC 5280 CRLReason code; 0 (unspecified) is
	// written as no reason code extension, as RFC 5280 asks.
	ReasonCode int
}

// CRL returns the DER of a CRL (RFC 5280, version 2) of the client-issuing
// CA listing entries, with CRL number number, signed by the issuing CA key.
// rnd is the source of randomness, crypto/rand.Reader when nil.
func (a *Authority) CRL(entries []RevokedEntry, number *big.Int, thisUpdate, nextUpdate time.Time, rnd io.Reader) ([]byte, error) {
	if a == nil || a.Issuing == nil || a.IssuingKey == nil {
		return nil, errors.New("pki: crl: authority not loaded")
	}
	if number == nil || number.Sign() <= 0 || serialOctets(number) > maxSerialOctets {
		return nil, errors.New("pki: crl: the CRL number must be positive and at most 20 octets")
	}
	if !nextUpdate.After(thisUpdate) {
		return nil, errors.New("pki: crl: nextUpdate must be after thisUpdate")
	}
	sigAlg, err := signatureAlgorithm(a.Issuing.PublicKey)
	if err != nil {
		return nil, err
	}
	list := make([]x509.RevocationListEntry, 0, len(entries))
	for _, e := range entries {
		if e.Serial == nil || e.Serial.Sign() <= 0 {
			return nil, errors.New("pki: crl: invalid serial number")
		}
		if e.ReasonCode < 0 || e.ReasonCode == 7 || e.ReasonCode > 10 {
			return nil, fmt.Errorf("pki: crl: invalid reason code %d", e.ReasonCode)
		}
		list = append(list, x509.RevocationListEntry{
			SerialNumber:   e.Serial,
			RevocationTime: e.RevokedAt.UTC().Truncate(time.Second),
			ReasonCode:     e.ReasonCode,
		})
	}
	der, err := x509.CreateRevocationList(concurrentReader(rnd), &x509.RevocationList{
		SignatureAlgorithm:        sigAlg,
		RevokedCertificateEntries: list,
		Number:                    number,
		ThisUpdate:                thisUpdate.UTC().Truncate(time.Second),
		NextUpdate:                nextUpdate.UTC().Truncate(time.Second),
	}, a.Issuing, a.IssuingKey)
	if err != nil {
		return nil, fmt.Errorf("pki: crl: %w", err)
	}
	return der, nil
}

// OCSP responder certificate lifetime and renewal margin.
const (
	ocspResponderValidity    = 30 * 24 * time.Hour
	ocspResponderRenewBefore = 10 * 24 * time.Hour
	ocspResponderBackdate    = time.Hour
	// OCSPResponseValidity is the time from a response's thisUpdate to its
	// nextUpdate.
	OCSPResponseValidity = time.Hour
)

// oidOCSPNoCheck is id-pkix-ocsp-nocheck (RFC 6960 4.2.2.2.1).
var oidOCSPNoCheck = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}

// OCSPStatus is what a responder knows of a serial number of the
// client-issuing CA.
type OCSPStatus struct {
	// Known is false for a serial the CA never issued: "unknown".
	Known bool
	// Revoked with RevokedAt and ReasonCode (RFC 5280 CRLReason);
	// otherwise "good".
	Revoked    bool
	RevokedAt  time.Time
	ReasonCode int
}

// OCSPResponder answers OCSP requests (RFC 6960) about certificates of the
// client-issuing CA. Its responses are signed by a delegated responder
// certificate (id-kp-OCSPSigning, id-pkix-ocsp-nocheck) that the issuing CA
// issues on first use, valid for 30 days and renewed 10 days before it
// expires; its key lives in memory only. It is safe for concurrent use.
type OCSPResponder struct {
	a   *Authority
	rnd io.Reader

	mu   sync.Mutex
	cert *x509.Certificate
	key  crypto.Signer

	// cache holds signed responses by serial, status, hash algorithm and
	// responder certificate: a status that changes (a revocation) misses
	// it, and an entry serves for ocspCacheFor at most, so that relying
	// parties polling a certificate cost a signature every quarter of an
	// hour, not one a request.
	cacheMu sync.Mutex
	cache   map[string]cachedResponse
}

// cachedResponse is a signed response and the time it serves until.
type cachedResponse struct {
	der   []byte
	until time.Time
}

// ocspCacheFor is how long a signed response is served again: a quarter
// of its validity, so that a cached response still has three quarters of
// it left.
const ocspCacheFor = OCSPResponseValidity / 4

// ocspCacheMax bounds the cache: beyond it, the cache starts afresh.
const ocspCacheMax = 100_000

// NewOCSPResponder returns a responder for a's issuing CA; rnd is the
// source of randomness, crypto/rand.Reader when nil.
func NewOCSPResponder(a *Authority, rnd io.Reader) (*OCSPResponder, error) {
	if a == nil || a.Issuing == nil || a.IssuingKey == nil {
		return nil, errors.New("pki: ocsp: authority not loaded")
	}
	return &OCSPResponder{a: a, rnd: concurrentReader(rnd)}, nil
}

// ResponderCertificate returns the delegated responder certificate and its
// key valid at now, issuing a new one when there is none or the current one
// is not valid from now until at least 10 days later.
func (r *OCSPResponder) ResponderCertificate(now time.Time) (*x509.Certificate, crypto.Signer, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cert != nil && !now.Before(r.cert.NotBefore) && now.Add(ocspResponderRenewBefore).Before(r.cert.NotAfter) {
		return r.cert, r.key, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), r.rnd)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: ocsp responder: generating key: %w", err)
	}
	serial, err := NewSerial(r.rnd)
	if err != nil {
		return nil, nil, err
	}
	ski, err := subjectKeyID(key.Public())
	if err != nil {
		return nil, nil, err
	}
	sigAlg, err := signatureAlgorithm(r.a.Issuing.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	notBefore := now.UTC().Truncate(time.Second).Add(-ocspResponderBackdate)
	notAfter := notBefore.Add(ocspResponderValidity)
	if notAfter.After(r.a.Issuing.NotAfter) {
		notAfter = r.a.Issuing.NotAfter
	}
	if !notAfter.After(now) {
		return nil, nil, errors.New("pki: ocsp responder: the issuing CA has expired")
	}
	subject := pkix.Name{CommonName: "OCSP responder"}
	if len(r.a.Issuing.Subject.Organization) > 0 {
		subject.Organization = r.a.Issuing.Subject.Organization
	}
	if cn := r.a.Issuing.Subject.CommonName; cn != "" && len(cn)+len(" OCSP responder") <= 64 {
		subject.CommonName = cn + " OCSP responder"
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		SignatureAlgorithm:    sigAlg,
		Subject:               subject,
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning},
		BasicConstraintsValid: true,
		SubjectKeyId:          ski,
		ExtraExtensions:       []pkix.Extension{{Id: oidOCSPNoCheck, Value: asn1.NullBytes}},
	}
	der, err := x509.CreateCertificate(r.rnd, tmpl, r.a.Issuing, key.Public(), r.a.IssuingKey)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: ocsp responder: signing: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: ocsp responder: parsing: %w", err)
	}
	r.cert, r.key = cert, key
	return cert, key, nil
}

// Respond answers the DER OCSP request req at now. It asks status about
// the requested serial number only when the request names the
// client-issuing CA (by the hashes of its name and key); a request about
// another CA gets "unauthorized" and a request that cannot be parsed
// "malformedRequest", both unsigned as RFC 6960 defines them. The response
// is valid from now for OCSPResponseValidity. An error from status gives
// "internalError" and the error.
func (r *OCSPResponder) Respond(req []byte, now time.Time, status func(serial *big.Int) (OCSPStatus, error)) ([]byte, error) {
	q, err := ocsp.ParseRequest(req)
	if err != nil || q.SerialNumber == nil {
		return bytes.Clone(ocsp.MalformedRequestErrorResponse), nil
	}
	if !r.forIssuer(q) {
		return bytes.Clone(ocsp.UnauthorizedErrorResponse), nil
	}
	st, err := status(q.SerialNumber)
	if err != nil {
		return bytes.Clone(ocsp.InternalErrorErrorResponse), err
	}
	cert, key, err := r.ResponderCertificate(now)
	if err != nil {
		return bytes.Clone(ocsp.InternalErrorErrorResponse), err
	}
	cacheKey := fmt.Sprintf("%x|%t|%t|%d|%d|%d|%x", q.SerialNumber, st.Known, st.Revoked, st.RevokedAt.Unix(), st.ReasonCode,
		q.HashAlgorithm, cert.SerialNumber)
	r.cacheMu.Lock()
	c, ok := r.cache[cacheKey]
	r.cacheMu.Unlock()
	if ok && now.Before(c.until) && !now.Before(c.until.Add(-ocspCacheFor)) {
		return bytes.Clone(c.der), nil
	}
	this := now.UTC().Truncate(time.Second)
	tmpl := ocsp.Response{
		Status:       ocsp.Good,
		SerialNumber: q.SerialNumber,
		ThisUpdate:   this,
		NextUpdate:   this.Add(OCSPResponseValidity),
		Certificate:  cert,
		IssuerHash:   q.HashAlgorithm,
	}
	switch {
	case !st.Known:
		tmpl.Status = ocsp.Unknown
	case st.Revoked:
		tmpl.Status = ocsp.Revoked
		tmpl.RevokedAt = st.RevokedAt.UTC().Truncate(time.Second)
		tmpl.RevocationReason = st.ReasonCode
	}
	der, err := ocsp.CreateResponse(r.a.Issuing, cert, tmpl, key)
	if err != nil {
		return bytes.Clone(ocsp.InternalErrorErrorResponse), fmt.Errorf("pki: ocsp: %w", err)
	}
	r.cacheMu.Lock()
	if r.cache == nil || len(r.cache) >= ocspCacheMax {
		r.cache = map[string]cachedResponse{}
	}
	r.cache[cacheKey] = cachedResponse{der: bytes.Clone(der), until: now.Add(ocspCacheFor)}
	r.cacheMu.Unlock()
	return der, nil
}

// forIssuer reports whether q names the client-issuing CA.
func (r *OCSPResponder) forIssuer(q *ocsp.Request) bool {
	if !q.HashAlgorithm.Available() {
		return false
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(r.a.Issuing.RawSubjectPublicKeyInfo, &spki); err != nil {
		return false
	}
	h := q.HashAlgorithm.New()
	h.Write(r.a.Issuing.RawSubject)
	nameHash := h.Sum(nil)
	h.Reset()
	h.Write(spki.PublicKey.RightAlign())
	keyHash := h.Sum(nil)
	return bytes.Equal(nameHash, q.IssuerNameHash) && bytes.Equal(keyHash, q.IssuerKeyHash)
}
