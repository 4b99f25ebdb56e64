package testutil

import (
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"kinko/internal/hsm"
	"kinko/internal/pki"
)

// softHSMModules are where Debian's softhsm2 package puts the module.
var softHSMModules = []string{
	"/usr/lib/softhsm/libsofthsm2.so",
	"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
}

// SoftHSM starts SoftHSM2 for one test: a token directory of its own
// (SOFTHSM2_CONF points at it for the rest of the test, so the test must
// not be parallel) and a new token, initialised with softhsm2-util. It
// returns the PKCS#11 URI of a key named object in that token, the PIN
// in a pin-source file. Without softhsm2 the test is skipped, unless
// KINKO_TEST_SOFTHSM=1 says it must run.
func SoftHSM(t testing.TB, object string) string {
	t.Helper()
	module := ""
	for _, m := range softHSMModules {
		if _, err := os.Stat(m); err == nil {
			module = m
			break
		}
	}
	util, err := exec.LookPath("softhsm2-util")
	if module == "" || err != nil {
		if os.Getenv("KINKO_TEST_SOFTHSM") == "1" {
			t.Fatal("SoftHSM2 is not installed (apt-get install softhsm2) and KINKO_TEST_SOFTHSM=1")
		}
		t.Skip("SoftHSM2 is not installed (apt-get install softhsm2); set KINKO_TEST_SOFTHSM=1 to require it")
	}
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	if err := os.WriteFile(conf, []byte("directories.tokendir = "+tokens+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	pin := hex.EncodeToString(b)
	label := "kinko-" + hex.EncodeToString(b[:4])
	out, err := exec.Command(util, "--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", pin+"so").CombinedOutput()
	if err != nil {
		t.Fatalf("softhsm2-util --init-token: %v\n%s", err, out)
	}
	pinFile := filepath.Join(dir, "pin")
	if err := os.WriteFile(pinFile, []byte(pin+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("pkcs11:token=%s;object=%s?module-path=%s&pin-source=%s", label, object, module, pinFile)
}

// HSMAuthority makes an authority like NewBankAt's, at at, whose issuing
// CA's key is generated in SoftHSM2: the root signs a certificate for it, the
// issuing key file is removed, and the authority is loaded with the key in
// the token. It returns the authority and the key's URI; the key is
// closed when the test ends.
func HSMAuthority(t testing.TB, dir string, at time.Time) (*pki.Authority, string) {
	t.Helper()
	uri := SoftHSM(t, "issuing-ca")
	rootDir := filepath.Join(filepath.Dir(dir), "hsm-root")
	if err := pki.Create(dir, pki.CreateOptions{Name: "kinko test bank", RootDir: rootDir, Now: at,
		ServerNames: []string{"localhost", "127.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	key, err := hsm.Generate(uri, elliptic.P256())
	if err != nil {
		t.Fatalf("generate the issuing key in SoftHSM2: %v", err)
	}
	t.Cleanup(func() { key.Close() })
	ceremony, err := pki.LoadWithRoot(dir, rootDir)
	if err != nil {
		t.Fatal(err)
	}
	der, err := ceremony.SignIssuing(key.Public(), ceremony.Issuing.NotBefore, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pki.WriteIssuing(dir, der, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, pki.IssuingKeyFile)); err != nil {
		t.Fatal(err)
	}
	a, err := pki.LoadWithSigner(dir, key)
	if err != nil {
		t.Fatalf("load the authority with the key in SoftHSM2: %v", err)
	}
	return a, uri
}
