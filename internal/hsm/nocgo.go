//go:build !cgo

package hsm

import (
	"crypto"
	"crypto/elliptic"
	"errors"
	"io"
)

// errNoCgo is the answer of a kinko built without cgo, which cannot load
// a PKCS#11 module.
var errNoCgo = errors.New("hsm: this kinko was built without cgo and cannot load a PKCS#11 module; build it with CGO_ENABLED=1")

// Key is a private key in a module; without cgo there is none.
type Key struct{}

// Open fails: without cgo no module can be loaded.
func Open(string) (*Key, error) { return nil, errNoCgo }

// Generate fails: without cgo no module can be loaded.
func Generate(string, elliptic.Curve) (*Key, error) { return nil, errNoCgo }

// Public returns nil.
func (k *Key) Public() crypto.PublicKey { return nil }

// Sign fails.
func (k *Key) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) { return nil, errNoCgo }

// Close does nothing.
func (k *Key) Close() error { return nil }
