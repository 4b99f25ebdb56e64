package pki

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
)

// maxCSRSize bounds the input ParseCSR accepts; real requests are a few
// kilobytes at most.
const maxCSRSize = 64 << 10

// ParseCSR parses a certificate signing request given as PEM (block type
// "CERTIFICATE REQUEST" or "NEW CERTIFICATE REQUEST"; other blocks before it
// are skipped) or as DER, and returns it once its self-signature verifies.
//
// The key type is checked before the signature, so a request for an
// Ed25519, P-521 or 1024-bit RSA key fails with an error wrapping
// ErrUnsupportedKey. Accepted keys are ECDSA P-256 and P-384 and RSA of 2048
// to 4096 bits inclusive. Every other failure, including input larger than
// 64 KiB, wraps ErrInvalidCSR.
//
// Only the public key of the returned request may be relied on: its subject
// and requested extensions are the applicant's wishes, not facts.
func ParseCSR(data []byte) (*x509.CertificateRequest, error) {
	if len(data) > maxCSRSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalidCSR, maxCSRSize)
	}
	der := data
	if bytes.Contains(data, []byte("-----BEGIN")) {
		der = nil
		for rest := data; ; {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil {
				break
			}
			if block.Type == "CERTIFICATE REQUEST" || block.Type == "NEW CERTIFICATE REQUEST" {
				der = block.Bytes
				break
			}
		}
		if der == nil {
			return nil, fmt.Errorf("%w: no PEM CERTIFICATE REQUEST block", ErrInvalidCSR)
		}
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCSR, err)
	}
	if err := checkPublicKey(csr.PublicKey); err != nil {
		return nil, err
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCSR, err)
	}
	return csr, nil
}
