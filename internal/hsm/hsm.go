//go:build cgo

package hsm

import (
	"crypto"
	"crypto/elliptic"
	"errors"
	"fmt"
	"io"

	"github.com/ThalesGroup/crypto11"
)

// Key is a private key in a module: a crypto.Signer whose signatures are
// made inside the module. It is safe for concurrent use. Close ends the
// sessions with the module.
type Key struct {
	signer crypto.Signer
	ctx    *crypto11.Context
	uri    string
}

// Open opens the private key a PKCS#11 URI names.
func Open(uri string) (*Key, error) {
	ctx, u, err := configure(uri)
	if err != nil {
		return nil, err
	}
	var label []byte
	if u.Object != "" {
		label = []byte(u.Object)
	}
	found, err := ctx.FindKeyPairs(u.ID, label)
	if err != nil {
		ctx.Close()
		return nil, fmt.Errorf("hsm: finding the key of %s: %w", Redact(uri), err)
	}
	if len(found) != 1 {
		ctx.Close()
		return nil, fmt.Errorf("hsm: %s: %d key pairs in the token match, want exactly one", Redact(uri), len(found))
	}
	return &Key{signer: found[0], ctx: ctx, uri: uri}, nil
}

// Generate makes a new ECDSA key pair on curve in the token, labelled and
// identified as the URI says, and returns it open. It refuses when the
// token already has a key of that label or ID.
func Generate(uri string, curve elliptic.Curve) (*Key, error) {
	ctx, u, err := configure(uri)
	if err != nil {
		return nil, err
	}
	var label []byte
	if u.Object != "" {
		label = []byte(u.Object)
	}
	if found, err := ctx.FindKeyPairs(u.ID, label); err != nil || len(found) != 0 {
		ctx.Close()
		if err == nil {
			err = errors.New("the token already has this key")
		}
		return nil, fmt.Errorf("hsm: generating %s: %w", Redact(uri), err)
	}
	id := u.ID
	if len(id) == 0 {
		if id, err = randomID(); err != nil {
			ctx.Close()
			return nil, err
		}
	}
	s, err := ctx.GenerateECDSAKeyPairWithLabel(id, label, curve)
	if err != nil {
		ctx.Close()
		return nil, fmt.Errorf("hsm: generating %s: %w", Redact(uri), err)
	}
	return &Key{signer: s, ctx: ctx, uri: uri}, nil
}

func configure(uri string) (*crypto11.Context, URI, error) {
	u, err := ParseURI(uri)
	if err != nil {
		return nil, URI{}, err
	}
	pin, err := u.pin()
	if err != nil {
		return nil, URI{}, err
	}
	ctx, err := crypto11.Configure(&crypto11.Config{Path: u.ModulePath, TokenLabel: u.Token, TokenSerial: u.Serial,
		SlotNumber: u.Slot, Pin: pin})
	if err != nil {
		return nil, URI{}, fmt.Errorf("hsm: opening the token of %s: %w", Redact(uri), err)
	}
	return ctx, u, nil
}

// Public returns the public key.
func (k *Key) Public() crypto.PublicKey { return k.signer.Public() }

// Sign signs digest inside the module.
func (k *Key) Sign(rnd io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return k.signer.Sign(rnd, digest, opts)
}

// Close ends the sessions with the module.
func (k *Key) Close() error { return k.ctx.Close() }

// String names the key by its URI, the PIN hidden.
func (k *Key) String() string { return "hsm.Key(" + Redact(k.uri) + ")" }
