package pki

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/big"
	"strings"
	"testing"
)

func TestNewSerial(t *testing.T) {
	t.Run("random", func(t *testing.T) {
		seen := make(map[string]bool, 1000)
		for n := range 1000 {
			s, err := NewSerial(nil)
			if err != nil {
				t.Fatalf("draw %d: %v", n, err)
			}
			if s.Sign() <= 0 {
				t.Fatalf("draw %d: serial %v not positive", n, s)
			}
			if s.BitLen() > 128 {
				t.Fatalf("draw %d: serial has %d bits", n, s.BitLen())
			}
			if o := serialOctets(s); o > 20 {
				t.Fatalf("draw %d: serial encodes to %d octets", n, o)
			}
			h := SerialHex(s)
			if seen[h] {
				t.Fatalf("draw %d: serial %s repeated", n, h)
			}
			seen[h] = true
		}
	})

	tests := []struct {
		name    string
		r       io.Reader
		want    *big.Int
		wantErr bool
	}{
		{"all ones", bytes.NewReader(bytes.Repeat([]byte{0xff}, 16)), new(big.Int).Sub(bigPow2(128), big.NewInt(1)), false},
		{"zeros then one", bytes.NewReader(append(make([]byte, 32), append(make([]byte, 15), 1)...)), big.NewInt(1), false},
		{"only zeros", bytes.NewReader(make([]byte, 16*maxSerialAttempts)), nil, true},
		{"short read", bytes.NewReader(make([]byte, 7)), nil, true},
		{"reader error", iotestErrReader{}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewSerial(tt.r)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("NewSerial = %v, want error", s)
				}
				if !strings.HasPrefix(err.Error(), "pki: ") {
					t.Errorf("error %q lacks the pki prefix", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewSerial: %v", err)
			}
			if s.Cmp(tt.want) != 0 {
				t.Errorf("NewSerial = %x, want %x", s, tt.want)
			}
		})
	}
}

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, errors.New("broken") }

func TestSerialHex(t *testing.T) {
	tests := []struct {
		name string
		in   *big.Int
		want string
	}{
		{"one", big.NewInt(1), "1"},
		{"lowercase", big.NewInt(0xABCDEF), "abcdef"},
		{"no leading zero", big.NewInt(0x0102), "102"},
		{"128 bits", new(big.Int).Sub(bigPow2(128), big.NewInt(1)), strings.Repeat("f", 32)},
		{"nil", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SerialHex(tt.in); got != tt.want {
				t.Errorf("SerialHex(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFingerprint(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", []byte("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Fingerprint(tt.in)
			if got != tt.want {
				t.Errorf("Fingerprint = %q, want %q", got, tt.want)
			}
			sum := sha256.Sum256(tt.in)
			if got != hex.EncodeToString(sum[:]) {
				t.Errorf("Fingerprint disagrees with crypto/sha256")
			}
		})
	}
}
