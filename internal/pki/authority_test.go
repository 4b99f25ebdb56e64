package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"kinko/internal/testutil/zlint"
)

func TestCreateLoad(t *testing.T) {
	tests := []struct {
		name       string
		curve      elliptic.Curve
		wantCurve  elliptic.Curve
		wantSigAlg x509.SignatureAlgorithm
	}{
		{"default curve", nil, elliptic.P256(), x509.ECDSAWithSHA256},
		{"P-256", elliptic.P256(), elliptic.P256(), x509.ECDSAWithSHA256},
		{"P-384", elliptic.P384(), elliptic.P384(), x509.ECDSAWithSHA384},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "authority")
			o := CreateOptions{Name: "kinko demo bank", Curve: tt.curve, Now: testNow}
			if err := Create(dir, o); err != nil {
				t.Fatalf("Create: %v", err)
			}

			fi, err := os.Stat(dir)
			if err != nil {
				t.Fatal(err)
			}
			if perm := fi.Mode().Perm(); perm != 0o700 {
				t.Errorf("directory mode %04o, want 0700", perm)
			}
			for _, name := range []string{RootKeyFile, IssuingKeyFile, OperatorKeyFile} {
				fi, err := os.Stat(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				if perm := fi.Mode().Perm(); perm != 0o600 {
					t.Errorf("%s mode %04o, want 0600", name, perm)
				}
				data, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				if b, _ := pem.Decode(data); b == nil || b.Type != "PRIVATE KEY" {
					t.Errorf("%s is not a PKCS#8 PEM key", name)
				}
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			slices.Sort(names)
			if want := []string{IssuingKeyFile, IssuingCertFile, OperatorKeyFile, OperatorCertFile, RootKeyFile, RootCertFile}; !slices.Equal(names, want) {
				t.Errorf("directory holds %q, want %q", names, want)
			}

			a, err := LoadWithRoot(dir, dir)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if a.Dir != dir {
				t.Errorf("Dir = %q, want %q", a.Dir, dir)
			}
			start := testNow.Truncate(time.Second)
			root, ica := a.Root, a.Issuing

			// Root CA.
			if got, want := root.Subject.String(), "CN=kinko demo bank Root CA,O=kinko demo bank"; got != want {
				t.Errorf("root subject %q, want %q", got, want)
			}
			if !bytes.Equal(root.RawIssuer, root.RawSubject) {
				t.Errorf("root is not self-issued")
			}
			if err := root.CheckSignatureFrom(root); err != nil {
				t.Errorf("root is not self-signed: %v", err)
			}
			if !root.BasicConstraintsValid || !root.IsCA || root.MaxPathLen != 1 {
				t.Errorf("root basic constraints: valid=%v CA=%v pathlen=%d", root.BasicConstraintsValid, root.IsCA, root.MaxPathLen)
			}
			if root.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
				t.Errorf("root key usage %#x", root.KeyUsage)
			}
			if len(root.ExtKeyUsage) != 0 {
				t.Errorf("root has extended key usage %v", root.ExtKeyUsage)
			}
			if ski, _ := subjectKeyID(root.PublicKey); len(root.SubjectKeyId) == 0 || !bytes.Equal(ski, root.SubjectKeyId) {
				t.Errorf("root SKI %x, want %x", root.SubjectKeyId, ski)
			}
			if !root.NotBefore.Equal(start) || !root.NotAfter.Equal(start.AddDate(20, 0, 0)) {
				t.Errorf("root validity %s..%s", root.NotBefore, root.NotAfter)
			}

			// Client-issuing CA.
			if got, want := ica.Subject.String(), "CN=kinko demo bank Client Issuing CA,O=kinko demo bank"; got != want {
				t.Errorf("issuing subject %q, want %q", got, want)
			}
			if err := ica.CheckSignatureFrom(root); err != nil {
				t.Errorf("issuing CA not signed by root: %v", err)
			}
			if !ica.BasicConstraintsValid || !ica.IsCA || ica.MaxPathLen != 0 || !ica.MaxPathLenZero {
				t.Errorf("issuing basic constraints: valid=%v CA=%v pathlen=%d zero=%v", ica.BasicConstraintsValid, ica.IsCA, ica.MaxPathLen, ica.MaxPathLenZero)
			}
			if ica.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign|x509.KeyUsageDigitalSignature {
				t.Errorf("issuing key usage %#x", ica.KeyUsage)
			}
			if !slices.Equal(ica.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) {
				t.Errorf("issuing extended key usage %v", ica.ExtKeyUsage)
			}
			if len(ica.SubjectKeyId) == 0 || bytes.Equal(ica.SubjectKeyId, root.SubjectKeyId) {
				t.Errorf("issuing SKI %x", ica.SubjectKeyId)
			}
			if !bytes.Equal(ica.AuthorityKeyId, root.SubjectKeyId) {
				t.Errorf("issuing AKI %x, want root SKI %x", ica.AuthorityKeyId, root.SubjectKeyId)
			}
			if !ica.NotBefore.Equal(start) || !ica.NotAfter.Equal(start.AddDate(10, 0, 0)) {
				t.Errorf("issuing validity %s..%s", ica.NotBefore, ica.NotAfter)
			}

			for _, c := range []*x509.Certificate{root, ica} {
				k, ok := c.PublicKey.(*ecdsa.PublicKey)
				if !ok || k.Curve != tt.wantCurve {
					t.Errorf("%s key is %T, want ECDSA %s", c.Subject.CommonName, c.PublicKey, tt.wantCurve.Params().Name)
				}
				if c.SignatureAlgorithm != tt.wantSigAlg {
					t.Errorf("%s signature algorithm %v, want %v", c.Subject.CommonName, c.SignatureAlgorithm, tt.wantSigAlg)
				}
				zlint.LintCertificate(t, c.Raw)
			}
			if !publicKeysEqual(a.RootKey.Public(), root.PublicKey) || !publicKeysEqual(a.IssuingKey.Public(), ica.PublicKey) {
				t.Errorf("loaded keys do not match certificates")
			}

			// The chain served to clients.
			var chain []*x509.Certificate
			for rest := a.ClientCAChainPEM(); ; {
				var b *pem.Block
				if b, rest = pem.Decode(rest); b == nil {
					break
				}
				c, err := x509.ParseCertificate(b.Bytes)
				if err != nil {
					t.Fatal(err)
				}
				chain = append(chain, c)
			}
			if len(chain) != 2 || !chain[0].Equal(ica) || !chain[1].Equal(root) {
				t.Errorf("ClientCAChainPEM is not issuing CA then root")
			}

			// A second Create must not touch the authority.
			before, _ := os.ReadFile(filepath.Join(dir, RootKeyFile))
			if err := Create(dir, o); !errors.Is(err, ErrExists) {
				t.Errorf("second Create error = %v, want ErrExists", err)
			}
			after, _ := os.ReadFile(filepath.Join(dir, RootKeyFile))
			if !bytes.Equal(before, after) {
				t.Errorf("second Create changed %s", RootKeyFile)
			}
		})
	}
}

func TestCreateExistsPartial(t *testing.T) {
	for _, name := range []string{RootCertFile, RootKeyFile, IssuingCertFile, IssuingKeyFile, OperatorCertFile, OperatorKeyFile} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := Create(dir, CreateOptions{Name: "bank", Now: testNow}); !errors.Is(err, ErrExists) {
				t.Fatalf("Create error = %v, want ErrExists", err)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("Create wrote files despite ErrExists")
			}
		})
	}
}

func TestCreateRejects(t *testing.T) {
	tests := []struct {
		name    string
		o       CreateOptions
		wantErr error
	}{
		{"P-521", CreateOptions{Name: "bank", Curve: elliptic.P521()}, ErrUnsupportedKey},
		{"P-224", CreateOptions{Name: "bank", Curve: elliptic.P224()}, ErrUnsupportedKey},
		{"empty name", CreateOptions{Name: " "}, nil},
		{"failing random source", CreateOptions{Name: "bank", Rand: iotestErrReader{}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			err := Create(dir, tt.o)
			if err == nil {
				t.Fatal("Create succeeded")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Create error = %v, want %v", err, tt.wantErr)
			}
			if _, statErr := os.Stat(filepath.Join(dir, RootCertFile)); statErr == nil {
				t.Errorf("failed Create left %s behind", RootCertFile)
			}
		})
	}
}

func TestLoadRefusesKeyMode(t *testing.T) {
	tests := []struct {
		file string
		mode os.FileMode
	}{
		{RootKeyFile, 0o644},
		{IssuingKeyFile, 0o644},
		{IssuingKeyFile, 0o640},
		{RootKeyFile, 0o604},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %04o", tt.file, tt.mode), func(t *testing.T) {
			dir := t.TempDir()
			if err := Create(dir, CreateOptions{Name: "bank", Now: testNow}); err != nil {
				t.Fatal(err)
			}
			if _, err := LoadWithRoot(dir, dir); err != nil {
				t.Fatalf("Load before chmod: %v", err)
			}
			path := filepath.Join(dir, tt.file)
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			a, err := LoadWithRoot(dir, dir)
			if err == nil {
				t.Fatalf("Load accepted %s with mode %04o", tt.file, tt.mode)
			}
			if a != nil {
				t.Errorf("Load returned an authority with error %v", err)
			}
			if !strings.Contains(err.Error(), path) || !strings.HasPrefix(err.Error(), "pki: ") {
				t.Errorf("error %q does not name %s", err, path)
			}
		})
	}
}

func TestLoadRejectsMismatch(t *testing.T) {
	a := newTestAuthority(t, "bank a", nil)
	b := newTestAuthority(t, "bank b", nil)
	tests := []struct {
		name string
		file string
		from *Authority
	}{
		{"foreign root key", RootKeyFile, b},
		{"foreign issuing key", IssuingKeyFile, b},
		{"foreign issuing certificate", IssuingCertFile, b},
		{"missing root certificate", RootCertFile, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, name := range []string{RootCertFile, RootKeyFile, IssuingCertFile, IssuingKeyFile} {
				src := filepath.Join(a.Dir, name)
				if name == tt.file {
					if tt.from == nil {
						continue
					}
					src = filepath.Join(tt.from.Dir, name)
				}
				data, err := os.ReadFile(src)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := LoadWithRoot(dir, dir); err == nil {
				t.Fatal("Load succeeded")
			}
		})
	}
}

func TestLoadSigner(t *testing.T) {
	write := func(t *testing.T, data []byte, mode os.FileMode) string {
		t.Helper()
		p := filepath.Join(t.TempDir(), "key.pem")
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ecDER, err := x509.MarshalECPrivateKey(testKey(t, "p256").(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		data    []byte
		mode    os.FileMode
		ok      bool
		wantErr error
	}{
		{"P-256", mustPKCS8(t, "p256"), 0o600, true, nil},
		{"P-384 read-only", mustPKCS8(t, "p384"), 0o400, true, nil},
		{"RSA-2048", mustPKCS8(t, "rsa2048"), 0o600, true, nil},
		{"group readable", mustPKCS8(t, "p256"), 0o640, false, nil},
		{"world readable", mustPKCS8(t, "p256"), 0o644, false, nil},
		{"group writable", mustPKCS8(t, "p256"), 0o620, false, nil},
		{"not PEM", []byte("hello"), 0o600, false, nil},
		{"SEC 1 instead of PKCS#8", pemEncode("EC PRIVATE KEY", ecDER), 0o600, false, nil},
		{"corrupt PKCS#8", pemEncode("PRIVATE KEY", []byte("junk")), 0o600, false, nil},
		{"P-521", mustPKCS8(t, "p521"), 0o600, false, ErrUnsupportedKey},
		{"RSA-1024", mustPKCS8(t, "rsa1024"), 0o600, false, ErrUnsupportedKey},
		{"Ed25519", mustPKCS8(t, "ed25519"), 0o600, false, ErrUnsupportedKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := write(t, tt.data, tt.mode)
			s, err := LoadSigner(p)
			if tt.ok {
				if err != nil {
					t.Fatalf("LoadSigner: %v", err)
				}
				if _, ok := s.(*FileSigner); !ok {
					t.Errorf("LoadSigner returned %T, want *FileSigner", s)
				}
				return
			}
			if err == nil {
				t.Fatal("LoadSigner succeeded")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("LoadSigner error = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), p) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		if _, err := LoadSigner(filepath.Join(t.TempDir(), "absent")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("LoadSigner error = %v, want not-exist", err)
		}
	})
}

// TestSignerRedacted checks that formatting a loaded authority or its keys
// never prints the private scalar, and that printing the bare key would
// (so the check is meaningful).
func TestSignerRedacted(t *testing.T) {
	a := newTestAuthority(t, "bank", nil)
	data, err := os.ReadFile(filepath.Join(a.Dir, IssuingKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	raw, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	scalar, err := raw.(*ecdsa.PrivateKey).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	d := new(big.Int).SetBytes(scalar)
	secrets := []string{d.String(), d.Text(16), fmt.Sprintf("%x", d.Bytes())}

	if bare := fmt.Sprintf("%+v", raw); !strings.Contains(bare, d.String()) {
		t.Fatalf("control: formatting the bare key does not show D, the check below proves nothing")
	}
	jsonAuthority, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v authority":   fmt.Sprintf("%v", a),
		"%+v authority":  fmt.Sprintf("%+v", *a),
		"%#v authority":  fmt.Sprintf("%#v", *a),
		"%v key":         fmt.Sprintf("%v", a.IssuingKey),
		"%+v key":        fmt.Sprintf("%+v", a.IssuingKey),
		"%#v key":        fmt.Sprintf("%#v", a.IssuingKey),
		"%x key":         fmt.Sprintf("%x", a.IssuingKey),
		"%d key":         fmt.Sprintf("%d", a.IssuingKey),
		"%s key":         fmt.Sprintf("%s", a.IssuingKey),
		"json authority": string(jsonAuthority),
	}
	for name, out := range outputs {
		t.Run(name, func(t *testing.T) {
			for _, s := range secrets {
				if strings.Contains(out, s) {
					t.Errorf("output contains the private key")
				}
			}
		})
	}
}
