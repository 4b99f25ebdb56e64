// Package pki is the certificate authority of kinko: it creates and loads
// the bank's CA hierarchy (a root CA and a client-issuing CA), parses and
// checks certificate signing requests, issues client certificates to a fixed
// profile, and provides the TLS server certificate.
//
// Client certificates are issued in two steps. Prepare builds the certificate
// and signs it with a throwaway lint key whose issuer certificate has the same
// subject and key identifier as the real CA, so the resulting TBSCertificate
// is byte for byte the one the real CA will sign; that certificate is checked
// against the profile before the real key is ever used. Sign then signs with
// the real CA key and refuses the result unless its TBSCertificate is
// identical to the checked one.
//
// pki must never know about users, accounts, logins or databases: it signs
// exactly what its caller asks for, once, and records nothing. Deciding who
// may have a certificate, recording serials and revocation are the job of
// other packages. It never logs or prints private keys; signers loaded from
// files redact themselves when formatted.
//
// Randomness is always injected as an io.Reader and the current time is
// passed in; the only exceptions are the documented defaults of
// CreateOptions (crypto/rand.Reader and time.Now) and a nil reader elsewhere,
// which means crypto/rand.Reader.
package pki

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sync"
)

var (
	// ErrInvalidCSR reports a certificate signing request that cannot be
	// parsed or whose self-signature does not verify.
	ErrInvalidCSR = errors.New("pki: invalid certificate signing request")

	// ErrUnsupportedKey reports a public or private key that is neither
	// ECDSA on P-256 or P-384 nor RSA of 2048 to 4096 bits.
	ErrUnsupportedKey = errors.New("pki: unsupported key")

	// ErrExists reports that Create was asked to make an authority in a
	// directory that already holds one.
	ErrExists = errors.New("pki: authority already exists")
)

// serialBytes is the number of random bytes in a serial number (128 bits).
const serialBytes = 16

// maxSerialAttempts bounds the number of reads NewSerial makes before it
// gives up on a reader that keeps returning zeros.
const maxSerialAttempts = 8

// NewSerial returns a positive serial number with 128 random bits read from
// r (crypto/rand.Reader when r is nil). The result is never zero and its DER
// encoding is at most 17 octets, well inside the 20 allowed by RFC 5280.
func NewSerial(r io.Reader) (*big.Int, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [serialBytes]byte
	for range maxSerialAttempts {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("pki: reading serial number: %w", err)
		}
		s := new(big.Int).SetBytes(b[:])
		if s.Sign() > 0 {
			return s, nil
		}
	}
	return nil, errors.New("pki: reading serial number: random source returned only zeros")
}

// SerialHex formats a serial number as lowercase hexadecimal without
// separators or leading zeros (as fmt's %x verb does). A nil serial gives
// the empty string.
func SerialHex(s *big.Int) string {
	if s == nil {
		return ""
	}
	return fmt.Sprintf("%x", s)
}

// Fingerprint returns the lowercase hexadecimal SHA-256 of a certificate's
// DER encoding.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// serialOctets returns the length of the contents of the DER INTEGER
// encoding of a non-negative serial number.
func serialOctets(s *big.Int) int {
	b := s.Bytes()
	if len(b) == 0 {
		return 1
	}
	if b[0]&0x80 != 0 {
		return len(b) + 1
	}
	return len(b)
}

// lockedReader serialises reads from a reader that callers supplied and
// that may not be safe for concurrent use.
type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}

// concurrentReader returns crypto/rand.Reader for nil, crypto/rand.Reader
// itself, and r wrapped in a mutex otherwise.
func concurrentReader(r io.Reader) io.Reader {
	if r == nil || r == rand.Reader {
		return rand.Reader
	}
	return &lockedReader{r: r}
}

// pemBlocks encodes each DER blob as a PEM block of the given type.
func pemBlocks(typ string, ders ...[]byte) []byte {
	var buf bytes.Buffer
	for _, der := range ders {
		// Encoding to a bytes.Buffer cannot fail.
		_ = pem.Encode(&buf, &pem.Block{Type: typ, Bytes: der})
	}
	return buf.Bytes()
}
