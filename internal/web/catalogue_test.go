package web_test

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"kinko/internal/auth"
	"kinko/internal/certs"
	"kinko/internal/identity"
	"kinko/internal/web"
)

var placeholder = regexp.MustCompile(`\{[0-9]+\}`)

func TestCatalogueLanguagesHaveTheSameKeys(t *testing.T) {
	ja, en := catalogue()["ja"], catalogue()["en"]
	if len(ja) < 100 {
		t.Fatalf("the Japanese catalogue has %d messages; did it load?", len(ja))
	}
	for _, tt := range []struct {
		name     string
		from, to map[string]string
	}{{"ja to en", ja, en}, {"en to ja", en, ja}} {
		t.Run(tt.name, func(t *testing.T) {
			for k := range tt.from {
				if _, ok := tt.to[k]; !ok {
					t.Errorf("message %q is missing", k)
				}
			}
		})
	}
	t.Run("not empty, same placeholders", func(t *testing.T) {
		for k, j := range ja {
			e := en[k]
			if strings.TrimSpace(j) == "" || strings.TrimSpace(e) == "" {
				t.Errorf("message %q is empty in a language", k)
			}
			pj, pe := placeholder.FindAllString(j, -1), placeholder.FindAllString(e, -1)
			sort.Strings(pj)
			sort.Strings(pe)
			if !slices.Equal(pj, pe) {
				t.Errorf("message %q: placeholders ja %v, en %v", k, pj, pe)
			}
		}
	})
	t.Run("no kana in English", func(t *testing.T) {
		for k, e := range en {
			for _, r := range e {
				if unicode.In(r, unicode.Hiragana, unicode.Katakana) {
					t.Errorf("English message %q has Japanese text: %s", k, e)
					break
				}
			}
		}
	})
}

func TestCatalogueHasEveryKeyTheTemplatesUse(t *testing.T) {
	keys, err := web.TemplateKeys()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) < 100 {
		t.Fatalf("found only %d keys in the templates; is the walk broken?", len(keys))
	}
	for _, must := range []string{"page.faq.q13", "page.password.done_login", "page.login.title"} {
		if _, ok := keys[must]; !ok {
			t.Errorf("the walk of the templates missed %q", must)
		}
	}
	for k, where := range keys {
		for _, l := range []string{"ja", "en"} {
			if _, ok := catalogue()[l][k]; !ok {
				t.Errorf("%s: message %q is not in the %s catalogue", where[0], k, l)
			}
		}
	}
}

func TestCatalogueHasEveryKeyTheCodeUses(t *testing.T) {
	for _, k := range web.GoKeys() {
		for _, l := range []string{"ja", "en"} {
			if _, ok := catalogue()[l][k]; !ok {
				t.Errorf("message %q is not in the %s catalogue", k, l)
			}
		}
	}
}

// TestCatalogueHasEveryErrorOfTheAPI: the pages show the domain errors
// under the API's error codes.
func TestCatalogueHasEveryErrorOfTheAPI(t *testing.T) {
	errs := []error{
		certs.ErrInvalidCSR, certs.ErrUnsupportedKey, certs.ErrInvalidReason, identity.ErrInvalidCredentials, auth.ErrNoSession,
		identity.ErrInvalidConfirmation, auth.ErrCertificateLoginRequired, certs.ErrCertificateLoginNotEnabled,
		auth.ErrCertificateRequired, auth.ErrCertificateMismatch, auth.ErrUnknownCertificate, auth.ErrCertificateRevoked,
		auth.ErrCertificateExpired, auth.ErrCertificateNotYetValid, auth.ErrUserUnavailable, identity.ErrMasterUnlockByBank,
		identity.ErrForbidden, identity.ErrNotFound, certs.ErrNotFound, certs.ErrNoActiveCertificate,
		certs.ErrActiveCertificateExists, certs.ErrOrganizationLimit, identity.ErrOrganizationUserLimit,
		identity.ErrLoginIDTaken, certs.ErrAlreadyRevoked, identity.ErrNotLocked, identity.ErrAccountLocked,
		identity.ErrInvalidName, identity.ErrInvalidEmail, &identity.LoginIDError{Reason: "length"},
		&identity.PasswordError{Reason: "length"}, &identity.PasswordError{Reason: "same_as_other"},
		errors.New("anything else"),
	}
	tests := map[string]string{
		"certificate_login_required": "error.certificate_login_required",
		"account_locked":             "error.account_locked",
		"invalid_credentials":        "error.invalid_credentials",
		"internal":                   "error.internal_error",
	}
	seen := map[string]bool{}
	for _, err := range errs {
		_, key := web.ErrorKey(err)
		seen[key] = true
		if _, ok := catalogue()["ja"][key]; !ok {
			t.Errorf("%v: message %q is not in the catalogue", err, key)
		}
	}
	for name, key := range tests {
		if !seen[key] {
			t.Errorf("%s: no error maps to %q", name, key)
		}
	}
}

// japanese reports whether s has Japanese characters.
func japanese(s string) bool {
	for _, r := range s {
		if unicode.In(r, unicode.Hiragana, unicode.Katakana, unicode.Han) || r >= 0x3000 && r <= 0x303f || r >= 0xff00 && r <= 0xffef {
			return true
		}
	}
	return false
}

// TestNoJapaneseOutsideTheCatalogue: the strings of the Go code and the
// templates of the pages are not Japanese; the catalogue holds them all.
func TestNoJapaneseOutsideTheCatalogue(t *testing.T) {
	t.Run("Go string literals", func(t *testing.T) {
		files, err := filepath.Glob("*.go")
		if err != nil {
			t.Fatal(err)
		}
		fset := token.NewFileSet()
		n := 0
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			n++
			af, err := parser.ParseFile(fset, f, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(af, func(node ast.Node) bool {
				if lit, ok := node.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if s, err := strconv.Unquote(lit.Value); err == nil && japanese(s) {
						t.Errorf("%s: Japanese string literal %s", fset.Position(lit.Pos()), lit.Value)
					}
				}
				return true
			})
		}
		if n < 5 {
			t.Fatalf("checked only %d Go files", n)
		}
	})
	t.Run("templates", func(t *testing.T) {
		n := 0
		err := fs.WalkDir(os.DirFS("templates"), ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			n++
			b, err := os.ReadFile(filepath.Join("templates", p))
			if err != nil {
				return err
			}
			for i, line := range strings.Split(string(b), "\n") {
				if japanese(line) {
					t.Errorf("templates/%s:%d: Japanese text outside the catalogue: %s", p, i+1, strings.TrimSpace(line))
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n < 10 {
			t.Fatalf("checked only %d templates", n)
		}
	})
}
