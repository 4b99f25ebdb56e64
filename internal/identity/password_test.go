package identity_test

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"

	"kinko/internal/identity"
)

// fastParams keep the tests quick; the real parameters are tested where
// they are the point.
var fastParams = identity.Params{MemoryKiB: 64, Time: 1, Threads: 1}

func TestDefaultParamsAreOWASPMinimum(t *testing.T) {
	// OWASP's password storage cheat sheet: argon2id, m=19 MiB, t=2, p=1.
	want := identity.Params{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}
	if identity.DefaultParams != want {
		t.Errorf("DefaultParams %+v, want %+v", identity.DefaultParams, want)
	}
}

var phc = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$`)

func TestHasherDefaultParamsPHCFormat(t *testing.T) {
	for _, tc := range []struct {
		name  string
		h     identity.Hasher
		check bool // recompute and verify: slow with the real parameters
	}{
		{"DefaultParams", identity.Hasher{Params: identity.DefaultParams}, true},
		{"zero Params", identity.Hasher{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const pw = "Correct-Horse-9"
			enc, err := tc.h.Hash(pw)
			if err != nil {
				t.Fatal(err)
			}
			m := phc.FindStringSubmatch(enc)
			if m == nil {
				t.Fatalf("hash %q is not $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>", enc)
			}
			if !tc.check {
				return
			}
			// Recompute independently: the string must be what it says.
			salt, _ := base64.RawStdEncoding.DecodeString(m[1])
			key, _ := base64.RawStdEncoding.DecodeString(m[2])
			if want := argon2.IDKey([]byte(pw), salt, 2, 19456, 1, 32); subtle.ConstantTimeCompare(want, key) != 1 {
				t.Error("key is not argon2id(password, salt, t=2, m=19456, p=1)")
			}
			for _, v := range []struct {
				pw   string
				want bool
			}{{pw, true}, {"correct-horse-9", false}} {
				ok, err := tc.h.Verify(v.pw, enc)
				if err != nil || ok != v.want {
					t.Errorf("Verify(%q) = %v, %v; want %v", v.pw, ok, err, v.want)
				}
			}
		})
	}
}

func TestHasherSaltsEveryHash(t *testing.T) {
	h := identity.Hasher{Params: fastParams}
	a, err := h.Hash("same-password")
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.Hash("same-password")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatalf("two hashes of one password are equal: %s", a)
	}
	if !strings.HasPrefix(a, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash %q does not carry its parameters", a)
	}
	// Verification reads the parameters from the hash, whatever the
	// hasher's own.
	ok, err := identity.Hasher{Params: identity.DefaultParams}.Verify("same-password", a)
	if err != nil || !ok {
		t.Errorf("Verify with other hasher parameters = %v, %v; want true", ok, err)
	}
}

func TestHasherSaltFromRand(t *testing.T) {
	h := identity.Hasher{Params: fastParams, Rand: bytes.NewReader(bytes.Repeat([]byte{7}, 16))}
	enc, err := h.Hash("password1")
	if err != nil {
		t.Fatal(err)
	}
	if want := base64.RawStdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 16)); strings.Split(enc, "$")[4] != want {
		t.Errorf("salt of %q, want %s from the injected reader", enc, want)
	}
	if _, err := h.Hash("password1"); err == nil {
		t.Error("Hash with an exhausted random source succeeded")
	}
}

func TestHasherVerifyMalformed(t *testing.T) {
	good, err := identity.Hasher{Params: fastParams}.Hash("password1")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$") // "", argon2id, v=19, m=..., salt, key
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	cases := []struct{ name, hash string }{
		{"empty", ""},
		{"plain text", "password1"},
		{"too few fields", strings.Join(parts[:5], "$")},
		{"too many fields", good + "$x"},
		{"argon2i", with(1, "argon2i")},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"other version", with(2, "v=16")},
		{"no version", with(2, "x")},
		{"params missing", with(3, "m=64,t=1")},
		{"params not numbers", with(3, "m=a,t=1,p=1")},
		{"threads overflow", with(3, "m=64,t=1,p=300")},
		{"zero time", with(3, "m=64,t=0,p=1")},
		{"zero threads", with(3, "m=64,t=1,p=0")},
		{"salt not base64", with(4, "!!!!")},
		{"key not base64", with(5, "!!!!")},
		{"empty key", with(5, "")},
	}
	h := identity.Hasher{Params: fastParams}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := h.Verify("password1", tc.hash)
			if err == nil || ok {
				t.Errorf("Verify(%q) = %v, %v; want false and an error", tc.hash, ok, err)
			}
		})
	}
}

func TestGeneratePassword(t *testing.T) {
	seen := map[string]bool{}
	for range 300 {
		pw, err := identity.GeneratePassword(nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(pw) != 12 {
			t.Fatalf("password %q has %d characters, want 12", pw, len(pw))
		}
		if !regexp.MustCompile(`^[A-Za-z0-9]+$`).MatchString(pw) || !strings.ContainsAny(pw, "0123456789") ||
			!strings.ContainsAny(pw, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
			t.Fatalf("password %q is not letters and digits with both", pw)
		}
		if strings.ContainsAny(pw, "0O1lI") {
			t.Fatalf("password %q has a character that is easy to misread", pw)
		}
		if err := identity.ValidatePassword(pw, "user1234"); err != nil {
			t.Fatalf("generated password %q fails the password rule: %v", pw, err)
		}
		if seen[pw] {
			t.Fatalf("password %q generated twice", pw)
		}
		seen[pw] = true
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

func TestGeneratePasswordRandomFailure(t *testing.T) {
	if pw, err := identity.GeneratePassword(failingReader{}); err == nil {
		t.Fatalf("GeneratePassword with a failing reader = %q, want an error", pw)
	}
	// Only digits from the reader: it must keep drawing until it has a letter.
	digitsThenAny := &patternReader{}
	pw, err := identity.GeneratePassword(digitsThenAny)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.ContainsAny(pw, "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ") {
		t.Errorf("password %q has no letter", pw)
	}
}

// patternReader returns bytes that pick digits for the first 12 draws and
// then count up, so that the first candidate has no letter.
type patternReader struct{ n int }

func (r *patternReader) Read(p []byte) (int, error) {
	for i := range p {
		if r.n < 12 {
			p[i] = 48 // index 48 of the 56-character alphabet: a digit
		} else {
			p[i] = byte(r.n)
		}
		r.n++
	}
	return len(p), nil
}
