package web_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"kinko/internal/pki"
)

// jsDir holds the ES modules that make the key pair, the certificate
// signing request and the PKCS#12 file in the browser; their Node unit
// tests are in its test folder.
const jsDir = "static/js"

// TestBrowserCryptoModules runs the Node unit tests of the browser's
// DER, CSR and PKCS#12 modules (node --test, Node 20 or later, whose
// WebCrypto is the browser's API), which check their output with openssl
// and, when it is installed, NSS's pk12util. It also checks that kinko's
// own CSR parser accepts a request the module builds.
func TestBrowserCryptoModules(t *testing.T) {
	node := nodeForTest(t)
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl not installed: the Node tests of " + jsDir + " check the CSR and PKCS#12 file with it")
	}
	readAllForTestCache(t, jsDir)

	files, err := filepath.Glob(filepath.Join(jsDir, "test", "*.test.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no Node test files in %s/test", jsDir)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".test.mjs"), func(t *testing.T) {
			t.Parallel()
			out, err := runNode(t, node, "--test", "--test-reporter=spec", file)
			if err != nil {
				t.Fatalf("node --test %s: %v\n%s", file, err, out)
			}
			// A file whose tests never ran (a syntax error before the
			// first test) must not pass quietly.
			if !regexp.MustCompile(`(?m)^ℹ pass [1-9]`).MatchString(out) || !strings.Contains(out, "ℹ fail 0") {
				t.Fatalf("node --test %s: no passing tests or some failed\n%s", file, out)
			}
		})
	}

	t.Run("kinko parses the CSR", func(t *testing.T) {
		t.Parallel()
		for _, cn := range []string{"tanaka01", "田中 花子"} {
			t.Run(cn, func(t *testing.T) {
				pem, err := runNode(t, node, "--input-type=module", "-e", `
					import { pathToFileURL } from 'node:url';
					const { buildCSR, generateKeyPair } = await import(pathToFileURL(process.argv[1]));
					process.stdout.write(await buildCSR(await generateKeyPair(), process.argv[2]));
				`, filepath.Join(jsDir, "csr.js"), cn)
				if err != nil {
					t.Fatalf("node: %v\n%s", err, pem)
				}
				csr, err := pki.ParseCSR([]byte(pem))
				if err != nil {
					t.Fatalf("pki.ParseCSR: %v\n%s", err, pem)
				}
				if csr.Subject.CommonName != cn {
					t.Errorf("CommonName = %q, want %q", csr.Subject.CommonName, cn)
				}
				if csr.SignatureAlgorithm != x509.ECDSAWithSHA256 {
					t.Errorf("SignatureAlgorithm = %v, want ECDSA-SHA256", csr.SignatureAlgorithm)
				}
				if pub, ok := csr.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
					t.Errorf("PublicKey = %T, want an ECDSA P-256 key", csr.PublicKey)
				}
			})
		}
	})
}

// nodeForTest returns the path of node, skipping the test when it is not
// installed and failing it when it is older than Node 20.
func nodeForTest(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		msg := "node not installed: the unit tests of the browser's key, CSR and PKCS#12 modules (" + jsDir + ") need Node 20 or later"
		if os.Getenv("KINKO_REQUIRE_NODE") != "" {
			t.Fatal(msg + " (KINKO_REQUIRE_NODE is set)")
		}
		t.Skip(msg)
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		t.Fatalf("node --version: %v", err)
	}
	version := strings.TrimSpace(string(out))
	major, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(version, "v"), ".", 2)[0])
	if err != nil || major < 20 {
		t.Fatalf("node %s found: the tests of %s need Node 20 or later (WebCrypto as globalThis.crypto, node:test)", version, jsDir)
	}
	return node
}

// runNode runs node with args in the package directory and returns its
// combined output.
func runNode(t *testing.T, node string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "NODE_OPTIONS=")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// readAllForTestCache reads every file under dir, so that go test's cache
// of this test's result is dropped when one of them changes (node reads
// them, and go test sees only the files this process opens).
func readAllForTestCache(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		_, err = os.ReadFile(path)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
