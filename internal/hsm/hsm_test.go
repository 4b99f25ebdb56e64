package hsm_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"

	"kinko/internal/hsm"
	"kinko/internal/testutil"
)

func TestParseURI(t *testing.T) {
	u, err := hsm.ParseURI("pkcs11:token=kinko%20bank;object=issuing-ca;id=%01%02;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234")
	if err != nil {
		t.Fatal(err)
	}
	if u.Token != "kinko bank" || u.Object != "issuing-ca" || string(u.ID) != "\x01\x02" || u.ModulePath != "/usr/lib/softhsm/libsofthsm2.so" || u.PIN != "1234" {
		t.Errorf("parsed %+v", u)
	}
	u, err = hsm.ParseURI("pkcs11:slot-id=3;object=k?module-path=/m.so&pin-source=file:/etc/kinko/pin")
	if err != nil || u.Slot == nil || *u.Slot != 3 || u.PINSource != "/etc/kinko/pin" {
		t.Errorf("slot and pin-source: %+v %v", u, err)
	}
	for _, tt := range []struct{ uri, want string }{
		{"token=kinko;object=k?module-path=/m.so", `starts with "pkcs11:"`},
		{"pkcs11:object=k?module-path=/m.so", "no token"},
		{"pkcs11:token=kinko?module-path=/m.so", "no key"},
		{"pkcs11:token=kinko;object=k", "no module"},
		{"pkcs11:token=kinko;object=k;type=cert?module-path=/m.so", "private key"},
		{"pkcs11:token=kinko;object=k;colour=red?module-path=/m.so", `unknown PKCS#11 URI attribute "colour"`},
		{"pkcs11:token=kinko;object=k?module-path=/m.so&pin-value=1&pin-source=/p", "both pin-value and pin-source"},
		{"pkcs11:token=kinko;object=k?module-name=softhsm2", "module-path"},
		{"pkcs11:token=kinko;object=%zz?module-path=/m.so", "object"},
	} {
		if _, err := hsm.ParseURI(tt.uri); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseURI(%q): %v, want an error with %q", tt.uri, err, tt.want)
		}
	}
}

func TestRedact_HidesThePIN(t *testing.T) {
	got := hsm.Redact("pkcs11:token=kinko;object=k?module-path=/m.so&pin-value=s3cret")
	if strings.Contains(got, "s3cret") || !strings.Contains(got, "pin-value=REDACTED") || !strings.Contains(got, "module-path=/m.so") {
		t.Errorf("Redact: %q", got)
	}
}

// TestSoftHSM_KeySignsInTheToken generates a key in SoftHSM2, opens it
// again by its URI and checks that its signatures verify; a second
// generation of the same key, a wrong PIN and a missing key are refused.
func TestSoftHSM_KeySignsInTheToken(t *testing.T) {
	uri := testutil.SoftHSM(t, "issuing-ca")
	k, err := hsm.Generate(uri, elliptic.P256())
	if err != nil {
		t.Fatal(err)
	}
	pub := k.Public()
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := hsm.Generate(uri, elliptic.P256()); err == nil {
		t.Errorf("a second key of the same label was generated")
	}
	k, err = hsm.Open(uri)
	if err != nil {
		t.Fatal(err)
	}
	if !k.Public().(*ecdsa.PublicKey).Equal(pub) {
		t.Fatalf("the opened key is not the generated one")
	}
	digest := sha256.Sum256([]byte("kinko"))
	sig, err := k.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if !ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), digest[:], sig) {
		t.Errorf("the token's signature does not verify")
	}
	if s := fmt.Sprint(k); strings.Contains(s, "pin") && !strings.Contains(s, "pin-source") {
		t.Errorf("the key prints as %q", s)
	}
	// The token's login is shared by every session of the process: the
	// PIN is checked again only once the key is closed.
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	before, _, _ := strings.Cut(uri, "?")
	module := strings.Split(strings.Split(uri, "module-path=")[1], "&")[0]
	if _, err := hsm.Open(before + "?module-path=" + module + "&pin-value=wrong"); err == nil {
		t.Errorf("a wrong PIN opened the key")
	}
	if _, err := hsm.Open(strings.Replace(uri, "object=issuing-ca", "object=none", 1)); err == nil || !strings.Contains(err.Error(), "0 key pairs") {
		t.Errorf("a missing key: %v", err)
	}
}
