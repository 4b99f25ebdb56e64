package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// RSA modulus sizes accepted for keys, inclusive.
const (
	minRSABits = 2048
	maxRSABits = 4096
)

// checkPublicKey returns nil for an ECDSA P-256 or P-384 key or an RSA key
// of minRSABits to maxRSABits bits, and an error wrapping ErrUnsupportedKey
// for anything else.
func checkPublicKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k == nil || k.Curve == nil {
			return fmt.Errorf("%w: empty ECDSA key", ErrUnsupportedKey)
		}
		switch k.Curve {
		case elliptic.P256(), elliptic.P384():
			return nil
		}
		return fmt.Errorf("%w: ECDSA curve %s", ErrUnsupportedKey, k.Curve.Params().Name)
	case *rsa.PublicKey:
		if k == nil || k.N == nil {
			return fmt.Errorf("%w: empty RSA key", ErrUnsupportedKey)
		}
		if bits := k.N.BitLen(); bits < minRSABits || bits > maxRSABits {
			return fmt.Errorf("%w: RSA key of %d bits", ErrUnsupportedKey, bits)
		}
		return nil
	case nil:
		return fmt.Errorf("%w: no key", ErrUnsupportedKey)
	default:
		return fmt.Errorf("%w: %T", ErrUnsupportedKey, pub)
	}
}

// signatureAlgorithm returns the signature algorithm a CA with the given
// public key signs with: ECDSA-SHA256 for P-256, ECDSA-SHA384 for P-384 and
// SHA256-RSA for RSA.
func signatureAlgorithm(pub crypto.PublicKey) (x509.SignatureAlgorithm, error) {
	if err := checkPublicKey(pub); err != nil {
		return x509.UnknownSignatureAlgorithm, err
	}
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P384() {
			return x509.ECDSAWithSHA384, nil
		}
		return x509.ECDSAWithSHA256, nil
	default:
		return x509.SHA256WithRSA, nil
	}
}

// subjectKeyID computes a key identifier by RFC 5280 section 4.2.1.2
// method 1: the SHA-1 of the subjectPublicKey BIT STRING contents.
func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("pki: encoding public key: %w", err)
	}
	var spki struct {
		Algorithm asn1.RawValue
		PublicKey asn1.BitString
	}
	if rest, err := asn1.Unmarshal(der, &spki); err != nil || len(rest) != 0 {
		return nil, errors.New("pki: re-parsing encoded public key")
	}
	sum := sha1.Sum(spki.PublicKey.Bytes)
	return sum[:], nil
}

// generateKeyLike makes a new private key of the same algorithm and size
// (or curve) as pub.
func generateKeyLike(pub crypto.PublicKey, rnd io.Reader) (crypto.Signer, error) {
	if err := checkPublicKey(pub); err != nil {
		return nil, err
	}
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return ecdsa.GenerateKey(k.Curve, rnd)
	case *rsa.PublicKey:
		return rsa.GenerateKey(rnd, k.N.BitLen())
	}
	return nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, pub)
}

// publicKeysEqual reports whether two public keys are the same key.
func publicKeysEqual(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}

// FileSigner is the crypto.Signer LoadSigner returns: a private key read
// from a file. Formatting it with any fmt verb prints only the file name,
// never key material, so an Authority or tls.Certificate can be logged
// without leaking its keys.
type FileSigner struct {
	path string
	key  crypto.Signer
}

// Public returns the public key.
func (s *FileSigner) Public() crypto.PublicKey { return s.key.Public() }

// Sign signs digest with the private key; see crypto.Signer.
func (s *FileSigner) Sign(rnd io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return s.key.Sign(rnd, digest, opts)
}

// Path returns the file the key was read from.
func (s *FileSigner) Path() string { return s.path }

// String describes the signer by its file name only.
func (s *FileSigner) String() string { return "pki.FileSigner(" + s.path + ")" }

// GoString is like String, so %#v does not print key material either.
func (s *FileSigner) GoString() string { return s.String() }

// Format implements fmt.Formatter so that every verb, including %v, %+v,
// %x and %d, prints the redacted description.
func (s *FileSigner) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// MarshalText implements encoding.TextMarshaler with the redacted
// description, so encoders do not reach the key either.
func (s *FileSigner) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// errKeyPermissions is wrapped by the error LoadSigner returns for a key
// file that group or others may access.
var errKeyPermissions = errors.New("readable by group or others")

// maxKeyFileSize bounds the size of a private key file LoadSigner reads.
const maxKeyFileSize = 64 << 10

// LoadSigner reads a PKCS#8 PEM ("PRIVATE KEY") private key file and
// returns it as a crypto.Signer (a *FileSigner). It refuses a file whose
// permissions allow any access by group or others, and a key that is not
// ECDSA P-256/P-384 or RSA 2048..4096 (wrapping ErrUnsupportedKey).
func LoadSigner(path string) (crypto.Signer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("pki: opening private key: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("pki: private key %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("pki: private key %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("pki: private key %s has mode %04o, %w; it must be 0600 or stricter", path, perm, errKeyPermissions)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("pki: reading private key %s: %w", path, err)
	}
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("pki: private key %s is too large", path)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("pki: private key %s: no PEM \"PRIVATE KEY\" block", path)
	}
	// The parse error is deliberately not wrapped: it never contains key
	// material, but there is no need to repeat it either.
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	clear(block.Bytes)
	clear(data)
	if err != nil {
		return nil, fmt.Errorf("pki: private key %s: not a valid PKCS#8 key", path)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: private key %s holds a %T", ErrUnsupportedKey, path, k)
	}
	if err := checkPublicKey(signer.Public()); err != nil {
		return nil, fmt.Errorf("%w (private key %s)", err, path)
	}
	return &FileSigner{path: path, key: signer}, nil
}

// marshalPrivateKey returns the PKCS#8 PEM encoding of a private key.
func marshalPrivateKey(key crypto.Signer) ([]byte, error) {
	if fs, ok := key.(*FileSigner); ok {
		key = fs.key
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("pki: encoding private key: %w", err)
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	clear(der)
	return out, nil
}

// writeFileAtomic writes data to path with the given permissions by way of a
// temporary file in the same directory that is synced and renamed over path,
// so readers see either the old contents or the complete new ones.
func writeFileAtomic(path string, data []byte, perm os.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	// CreateTemp makes the file with mode 0600, so a key is never readable
	// by others, even briefly.
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("pki: writing %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("pki: writing %s: %w", path, err)
	}
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("pki: writing %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("pki: writing %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("pki: writing %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("pki: writing %s: %w", path, err)
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename in dir durable where the platform supports it;
// failures are ignored because not every file system allows syncing a
// directory.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
