package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"kinko/internal/testutil/zlint"
)

// handshake runs a TLS handshake over an in-memory connection between a
// server presenting cert and a client trusting only root, asking for
// serverName.
func handshake(t *testing.T, cert tls.Certificate, root *x509.Certificate, serverName string) error {
	t.Helper()
	sc, cc := net.Pipe()
	defer sc.Close()
	defer cc.Close()
	deadline := time.Now().Add(10 * time.Second)
	_ = sc.SetDeadline(deadline)
	_ = cc.SetDeadline(deadline)

	roots := x509.NewCertPool()
	roots.AddCert(root)
	server := tls.Server(sc, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	client := tls.Client(cc, &tls.Config{RootCAs: roots, ServerName: serverName, MinVersion: tls.VersionTLS12})

	done := make(chan error, 1)
	go func() {
		err := server.Handshake()
		// Unblock the client if the server gave up first.
		_ = sc.Close()
		done <- err
	}()
	clientErr := client.Handshake()
	_ = cc.Close()
	serverErr := <-done
	if clientErr != nil {
		return clientErr
	}
	if serverErr != nil {
		return serverErr
	}
	if got := client.ConnectionState().PeerCertificates; len(got) != 2 || !got[1].Equal(root) {
		t.Errorf("server sent %d certificates, want leaf and root", len(got))
	}
	return nil
}

func TestServerCertificate(t *testing.T) {
	for _, curve := range []elliptic.Curve{elliptic.P256(), elliptic.P384()} {
		t.Run(curve.Params().Name, func(t *testing.T) {
			a := newTestAuthority(t, "bank", curve)
			now := time.Now()
			names := []string{"localhost", "127.0.0.1", "::1"}
			cert, err := a.ServerCertificate(names, now, nil)
			if err != nil {
				t.Fatalf("ServerCertificate: %v", err)
			}
			leaf := cert.Leaf
			if leaf == nil {
				t.Fatal("no Leaf")
			}

			for _, name := range []string{"localhost", "LOCALHOST", "127.0.0.1", "::1"} {
				t.Run("handshake "+name, func(t *testing.T) {
					if err := handshake(t, cert, a.Root, name); err != nil {
						t.Errorf("handshake for %s: %v", name, err)
					}
				})
			}
			for _, name := range []string{"bank.example", "127.0.0.2"} {
				t.Run("handshake fails "+name, func(t *testing.T) {
					if err := handshake(t, cert, a.Root, name); err == nil {
						t.Errorf("handshake for %s succeeded", name)
					}
				})
			}
			t.Run("handshake fails with other root", func(t *testing.T) {
				other := newTestAuthority(t, "bank", nil)
				if err := handshake(t, cert, other.Root, "localhost"); err == nil {
					t.Error("handshake succeeded against a foreign root")
				}
			})

			t.Run("profile", func(t *testing.T) {
				if leaf.Subject.String() != "CN=localhost" {
					t.Errorf("subject %q, want CN=localhost", leaf.Subject)
				}
				if !slices.Equal(leaf.DNSNames, []string{"localhost"}) {
					t.Errorf("DNS names %q", leaf.DNSNames)
				}
				var ips []string
				for _, ip := range leaf.IPAddresses {
					ips = append(ips, ip.String())
				}
				if !slices.Equal(ips, []string{"127.0.0.1", "::1"}) {
					t.Errorf("IP addresses %q", ips)
				}
				k, ok := leaf.PublicKey.(*ecdsa.PublicKey)
				if !ok || k.Curve != elliptic.P256() {
					t.Errorf("leaf key %T, want ECDSA P-256", leaf.PublicKey)
				}
				if leaf.NotAfter.Sub(leaf.NotBefore) != 397*24*time.Hour {
					t.Errorf("validity %s", leaf.NotAfter.Sub(leaf.NotBefore))
				}
				if leaf.NotBefore.After(now) || now.Sub(leaf.NotBefore) > 2*time.Hour {
					t.Errorf("not before %s for now %s", leaf.NotBefore, now)
				}
				if leaf.KeyUsage != x509.KeyUsageDigitalSignature {
					t.Errorf("key usage %#x", leaf.KeyUsage)
				}
				if !slices.Equal(leaf.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
					t.Errorf("extended key usage %v", leaf.ExtKeyUsage)
				}
				if !leaf.BasicConstraintsValid || leaf.IsCA {
					t.Errorf("basic constraints valid=%v CA=%v", leaf.BasicConstraintsValid, leaf.IsCA)
				}
				if err := leaf.CheckSignatureFrom(a.Root); err != nil {
					t.Errorf("not signed by the root: %v", err)
				}
				if len(leaf.SubjectKeyId) == 0 || string(leaf.AuthorityKeyId) != string(a.Root.SubjectKeyId) {
					t.Errorf("SKI %x AKI %x", leaf.SubjectKeyId, leaf.AuthorityKeyId)
				}
				fi, err := os.Stat(filepath.Join(a.Dir, ServerKeyFile))
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm() != 0o600 {
					t.Errorf("%s mode %04o", ServerKeyFile, fi.Mode().Perm())
				}
				zlint.LintCertificate(t, leaf.Raw)
			})

			serial := SerialHex(leaf.SerialNumber)
			reissue := []struct {
				name  string
				names []string
				at    time.Time
				reuse bool
			}{
				{"same names", names, now, true},
				{"other order and case", []string{"::1", "LOCALHOST", "127.0.0.1", "localhost"}, now.Add(time.Minute), true},
				{"31 days left", names, leaf.NotAfter.Add(-31 * 24 * time.Hour), true},
				{"29 days left", names, leaf.NotAfter.Add(-29 * 24 * time.Hour), false},
				{"other names", []string{"bank.example"}, now, false},
				{"name dropped", []string{"localhost", "127.0.0.1"}, now, false},
				{"before validity", names, leaf.NotBefore.Add(-time.Minute), false},
			}
			for _, tt := range reissue {
				t.Run("reuse "+tt.name, func(t *testing.T) {
					// Start every case from the original certificate.
					if err := os.WriteFile(filepath.Join(a.Dir, ServerCertFile), pemBlocks("CERTIFICATE", leaf.Raw, a.Root.Raw), 0o644); err != nil {
						t.Fatal(err)
					}
					if err := writeFileAtomic(filepath.Join(a.Dir, ServerKeyFile), mustMarshalKey(t, cert), 0o600); err != nil {
						t.Fatal(err)
					}
					got, err := a.ServerCertificate(tt.names, tt.at, nil)
					if err != nil {
						t.Fatalf("ServerCertificate: %v", err)
					}
					if reused := SerialHex(got.Leaf.SerialNumber) == serial; reused != tt.reuse {
						t.Fatalf("reused = %v, want %v", reused, tt.reuse)
					}
					if !tt.reuse {
						want := []string{}
						for _, n := range tt.names {
							if net.ParseIP(n) == nil {
								want = append(want, strings.ToLower(n))
							}
						}
						if !slices.Equal(got.Leaf.DNSNames, want) && len(want) > 0 {
							t.Errorf("reissued DNS names %q, want %q", got.Leaf.DNSNames, want)
						}
						again, err := a.ServerCertificate(tt.names, tt.at, nil)
						if err != nil {
							t.Fatal(err)
						}
						if !again.Leaf.Equal(got.Leaf) {
							t.Errorf("reissued certificate was not stored for reuse")
						}
					}
				})
			}
		})
	}
}

// mustMarshalKey returns the PKCS#8 PEM of a TLS certificate's private key.
func mustMarshalKey(t *testing.T, cert tls.Certificate) []byte {
	t.Helper()
	pem, err := marshalPrivateKey(cert.PrivateKey.(*FileSigner))
	if err != nil {
		t.Fatal(err)
	}
	return pem
}

func TestServerCertificateStoredFiles(t *testing.T) {
	tests := []struct {
		name    string
		damage  func(t *testing.T, dir string)
		reissue bool
		wantErr bool
	}{
		{"untouched", func(*testing.T, string) {}, false, false},
		{"corrupt certificate", func(t *testing.T, dir string) {
			writeOrFail(t, filepath.Join(dir, ServerCertFile), []byte("junk"), 0o644)
		}, true, false},
		{"certificate deleted", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, ServerCertFile)); err != nil {
				t.Fatal(err)
			}
		}, true, false},
		{"key deleted", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, ServerKeyFile)); err != nil {
				t.Fatal(err)
			}
		}, true, false},
		{"foreign key", func(t *testing.T, dir string) {
			writeOrFail(t, filepath.Join(dir, ServerKeyFile), mustPKCS8(t, "p256"), 0o600)
		}, true, false},
		{"certificate from another root", func(t *testing.T, dir string) {
			other := newTestAuthority(t, "other", nil)
			if _, err := other.ServerCertificate([]string{"localhost"}, time.Now(), nil); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{ServerCertFile, ServerKeyFile} {
				data, err := os.ReadFile(filepath.Join(other.Dir, f))
				if err != nil {
					t.Fatal(err)
				}
				writeOrFail(t, filepath.Join(dir, f), data, 0o600)
			}
		}, true, false},
		{"key readable by others", func(t *testing.T, dir string) {
			if err := os.Chmod(filepath.Join(dir, ServerKeyFile), 0o644); err != nil {
				t.Fatal(err)
			}
		}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestAuthority(t, "bank", nil)
			now := time.Now()
			first, err := a.ServerCertificate([]string{"localhost"}, now, nil)
			if err != nil {
				t.Fatal(err)
			}
			tt.damage(t, a.Dir)
			got, err := a.ServerCertificate([]string{"localhost"}, now, nil)
			if tt.wantErr {
				if err == nil {
					t.Fatal("ServerCertificate succeeded")
				}
				if !strings.Contains(err.Error(), ServerKeyFile) {
					t.Errorf("error %q does not name the key file", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ServerCertificate: %v", err)
			}
			if reissued := !got.Leaf.Equal(first.Leaf); reissued != tt.reissue {
				t.Errorf("reissued = %v, want %v", reissued, tt.reissue)
			}
			if err := handshake(t, got, a.Root, "localhost"); err != nil {
				t.Errorf("handshake: %v", err)
			}
		})
	}
}

func TestServerCertificateRejects(t *testing.T) {
	a := newTestAuthority(t, "bank", nil)
	tests := []struct {
		name  string
		names []string
	}{
		{"no names", nil},
		{"empty name", []string{"localhost", ""}},
		{"space", []string{"local host"}},
		{"slash", []string{"localhost/x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := a.ServerCertificate(tt.names, time.Now(), nil); err == nil {
				t.Fatal("ServerCertificate succeeded")
			}
			if _, err := os.Stat(filepath.Join(a.Dir, ServerCertFile)); err == nil {
				t.Errorf("a certificate was written")
			}
		})
	}
}

func writeOrFail(t *testing.T, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := writeFileAtomic(path, data, mode); err != nil {
		t.Fatal(err)
	}
}

func mustPKCS8(t *testing.T, kind string) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(testKey(t, kind))
	if err != nil {
		t.Fatal(err)
	}
	return pemEncode("PRIVATE KEY", der)
}
