// Package hsm opens a private key that lives in a hardware security
// module, named by a PKCS#11 URI (RFC 7512), as a crypto.Signer. The key
// never leaves the module: every signature is made inside it.
//
// The URI names the token (token, serial or slot-id), the key (object, its
// label, and/or id), the module (module-path) and the user PIN (pin-value,
// or pin-source: a file holding it):
//
//	pkcs11:token=kinko;object=issuing-ca?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=/etc/kinko/hsm-pin
package hsm

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// URI is a parsed PKCS#11 URI.
type URI struct {
	// Token is the token's label; Serial its serial number; Slot its
	// slot's number. At least one of them is set.
	Token  string
	Serial string
	Slot   *int
	// Object is the key's label and ID its CKA_ID; at least one is set.
	Object string
	ID     []byte
	// ModulePath is the PKCS#11 library to load. Required.
	ModulePath string
	// PIN is the user PIN given in the URI (pin-value); PINSource names a
	// file holding it (pin-source).
	PIN       string
	PINSource string
}

// ParseURI parses a PKCS#11 URI that names one private key. It refuses
// attributes it does not know (other than vendor ones, x-...), a type
// other than private, and a URI that does not name a token, a key and a
// module.
func ParseURI(s string) (URI, error) {
	rest, ok := strings.CutPrefix(s, "pkcs11:")
	if !ok {
		return URI{}, errors.New("hsm: a PKCS#11 URI starts with \"pkcs11:\" and this does not")
	}
	path, query, _ := strings.Cut(rest, "?")
	var u URI
	for attr := range strings.SplitSeq(path, ";") {
		if attr == "" {
			continue
		}
		k, v, err := attribute(attr)
		if err != nil {
			return URI{}, err
		}
		switch k {
		case "token":
			u.Token = v
		case "serial":
			u.Serial = v
		case "slot-id":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return URI{}, fmt.Errorf("hsm: slot-id %q is not a number", v)
			}
			u.Slot = &n
		case "object":
			u.Object = v
		case "id":
			u.ID = []byte(v)
		case "type":
			if v != "private" {
				return URI{}, fmt.Errorf("hsm: type=%s: the key must be a private key", v)
			}
		case "manufacturer", "model", "library-manufacturer", "library-description", "library-version", "slot-manufacturer", "slot-description":
			// Descriptions of the token or library: nothing to choose by.
		default:
			if !strings.HasPrefix(k, "x-") {
				return URI{}, fmt.Errorf("hsm: unknown PKCS#11 URI attribute %q", k)
			}
		}
	}
	if query != "" {
		for attr := range strings.SplitSeq(query, "&") {
			if attr == "" {
				continue
			}
			k, v, err := attribute(attr)
			if err != nil {
				return URI{}, err
			}
			switch k {
			case "module-path":
				u.ModulePath = v
			case "pin-value":
				u.PIN = v
			case "pin-source":
				u.PINSource = strings.TrimPrefix(v, "file:")
			case "module-name":
				return URI{}, errors.New("hsm: module-name is not supported; give module-path, the library's full path")
			default:
				if !strings.HasPrefix(k, "x-") {
					return URI{}, fmt.Errorf("hsm: unknown PKCS#11 URI query attribute %q", k)
				}
			}
		}
	}
	switch {
	case u.Token == "" && u.Serial == "" && u.Slot == nil:
		return URI{}, errors.New("hsm: the PKCS#11 URI names no token (token=, serial= or slot-id=)")
	case u.Object == "" && len(u.ID) == 0:
		return URI{}, errors.New("hsm: the PKCS#11 URI names no key (object= or id=)")
	case u.ModulePath == "":
		return URI{}, errors.New("hsm: the PKCS#11 URI names no module (?module-path=)")
	case u.PIN != "" && u.PINSource != "":
		return URI{}, errors.New("hsm: the PKCS#11 URI has both pin-value and pin-source")
	}
	return u, nil
}

// attribute splits name=value and percent-decodes the value.
func attribute(s string) (string, string, error) {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return "", "", fmt.Errorf("hsm: PKCS#11 URI attribute %q is not name=value", s)
	}
	dv, err := url.PathUnescape(v)
	if err != nil {
		return "", "", fmt.Errorf("hsm: PKCS#11 URI attribute %s: %w", k, err)
	}
	return strings.ToLower(k), dv, nil
}

// pin returns the user PIN: pin-value, or the first line of pin-source.
func (u URI) pin() (string, error) {
	if u.PINSource == "" {
		return u.PIN, nil
	}
	b, err := os.ReadFile(u.PINSource)
	if err != nil {
		return "", fmt.Errorf("hsm: pin-source: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// Redact returns s with the value of pin-value replaced, for logs.
func Redact(s string) string {
	path, query, ok := strings.Cut(s, "?")
	if !ok {
		return s
	}
	attrs := strings.Split(query, "&")
	for i, a := range attrs {
		if k, _, _ := strings.Cut(a, "="); strings.EqualFold(k, "pin-value") {
			attrs[i] = k + "=REDACTED"
		}
	}
	return path + "?" + strings.Join(attrs, "&")
}
