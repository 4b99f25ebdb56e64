package pki

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestParseCSR(t *testing.T) {
	flipLast := func(der []byte) []byte {
		out := bytes.Clone(der)
		out[len(out)-1] ^= 0x01
		return out
	}
	p256 := csrDER(t, testKey(t, "p256"), nil)

	tests := []struct {
		name    string
		data    []byte
		wantErr error
	}{
		{"P-256 DER", p256, nil},
		{"P-256 PEM", pemEncode("CERTIFICATE REQUEST", p256), nil},
		{"P-256 NEW PEM", pemEncode("NEW CERTIFICATE REQUEST", p256), nil},
		{"P-256 PEM after another block", append(pemEncode("PRIVATE KEY", []byte("not a key")), pemEncode("CERTIFICATE REQUEST", p256)...), nil},
		{"P-384 DER", csrDER(t, testKey(t, "p384"), nil), nil},
		{"P-384 PEM", pemEncode("CERTIFICATE REQUEST", csrDER(t, testKey(t, "p384"), nil)), nil},
		{"RSA-2048 DER", csrDER(t, testKey(t, "rsa2048"), nil), nil},
		{"RSA-2048 PEM", pemEncode("CERTIFICATE REQUEST", csrDER(t, testKey(t, "rsa2048"), nil)), nil},
		{"RSA-4096 DER", csrDER(t, testKey(t, "rsa4096"), nil), nil},
		{"RSA-4096 PEM", pemEncode("CERTIFICATE REQUEST", csrDER(t, testKey(t, "rsa4096"), nil)), nil},
		{"RSA-1024", csrDER(t, testKey(t, "rsa1024"), nil), ErrUnsupportedKey},
		{"P-521", csrDER(t, testKey(t, "p521"), nil), ErrUnsupportedKey},
		{"Ed25519", csrDER(t, testKey(t, "ed25519"), nil), ErrUnsupportedKey},
		{"Ed25519 PEM", pemEncode("CERTIFICATE REQUEST", csrDER(t, testKey(t, "ed25519"), nil)), ErrUnsupportedKey},
		{"Ed25519 with bad signature", flipLast(csrDER(t, testKey(t, "ed25519"), nil)), ErrUnsupportedKey},
		{"RSA-1024 with bad signature", flipLast(csrDER(t, testKey(t, "rsa1024"), nil)), ErrUnsupportedKey},
		{"garbage", []byte("this is not a certificate request"), ErrInvalidCSR},
		{"empty", nil, ErrInvalidCSR},
		{"garbage PEM", pemEncode("CERTIFICATE REQUEST", []byte("junk")), ErrInvalidCSR},
		{"wrong PEM type", pemEncode("CERTIFICATE", p256), ErrInvalidCSR},
		{"truncated DER", p256[:len(p256)-10], ErrInvalidCSR},
		{"trailing data", append(bytes.Clone(p256), 0), ErrInvalidCSR},
		{"P-256 flipped signature byte", flipLast(p256), ErrInvalidCSR},
		{"P-256 PEM flipped signature byte", pemEncode("CERTIFICATE REQUEST", flipLast(p256)), ErrInvalidCSR},
		{"P-384 flipped signature byte", flipLast(csrDER(t, testKey(t, "p384"), nil)), ErrInvalidCSR},
		{"RSA-2048 flipped signature byte", flipLast(csrDER(t, testKey(t, "rsa2048"), nil)), ErrInvalidCSR},
		{"too large", append(pemEncode("CERTIFICATE REQUEST", p256), make([]byte, maxCSRSize)...), ErrInvalidCSR},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			csr, err := ParseCSR(tt.data)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ParseCSR error = %v, want %v", err, tt.wantErr)
				}
				if csr != nil {
					t.Errorf("ParseCSR returned a request along with error %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseCSR: %v", err)
			}
			if csr.PublicKey == nil || csr.Subject.CommonName != "applicant" {
				t.Errorf("ParseCSR returned %+v", csr.Subject)
			}
		})
	}
}

// TestParseCSROpenSSL checks a request made by the openssl command-line
// tool, in PEM and DER, and that a certificate can be issued for it.
func TestParseCSROpenSSL(t *testing.T) {
	const openssl = "/usr/bin/openssl"
	if _, err := os.Stat(openssl); err != nil {
		t.Skipf("%s not available", openssl)
	}
	dir := t.TempDir()
	cmd := exec.Command(openssl, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
		"-nodes", "-subj", "/CN=x", "-keyout", filepath.Join(dir, "key.pem"), "-out", filepath.Join(dir, "req.pem"))
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl req: %v\n%s", err, out)
	}
	cmd = exec.Command(openssl, "req", "-in", filepath.Join(dir, "req.pem"), "-outform", "DER", "-out", filepath.Join(dir, "req.der"))
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl req -outform DER: %v\n%s", err, out)
	}
	a := newTestAuthority(t, "kinko test bank", nil)
	iss := newTestIssuer(t, a)

	for _, file := range []string{"req.pem", "req.der"} {
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, file))
			if err != nil {
				t.Fatal(err)
			}
			csr, err := ParseCSR(data)
			if err != nil {
				t.Fatalf("ParseCSR: %v", err)
			}
			if csr.Subject.CommonName != "x" {
				t.Errorf("CN = %q, want x", csr.Subject.CommonName)
			}
			_, _, c := issue(t, iss, clientRequest(t, csr.PublicKey, testNow))
			if !publicKeysEqual(c.PublicKey, csr.PublicKey) {
				t.Errorf("issued certificate does not carry the request's key")
			}
		})
	}
}
