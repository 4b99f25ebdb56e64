package identity

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are the argon2id parameters for password hashes. The defaults are
// OWASP's minimum recommendation for argon2id: m=19 MiB, t=2, p=1.
type Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// DefaultParams are the parameters new hashes are made with.
var DefaultParams = Params{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}

// Bounds on the parameters read from a stored hash.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 64
	maxThreads   = 64
)

const (
	saltLen = 16
	keyLen  = 32
)

// Hasher hashes and verifies passwords with argon2id. Hashes are stored in
// the PHC string format: $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>.
type Hasher struct {
	Params Params
	Rand   io.Reader
	// Gate bounds the hashes and verifications that run at once; nil:
	// no bound. Past its queue, Hash and Verify return a *BusyError.
	Gate *Gate
}

// Hash returns the PHC-format argon2id hash of password.
func (h Hasher) Hash(password string) (string, error) {
	p := h.Params
	if p.MemoryKiB == 0 {
		p = DefaultParams
	}
	r := h.Rand
	if r == nil {
		r = rand.Reader
	}
	salt := make([]byte, saltLen)
	if _, err := io.ReadFull(r, salt); err != nil {
		return "", fmt.Errorf("identity: password salt: %w", err)
	}
	var key []byte
	if err := h.Gate.run(func() { key = argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, keyLen) }); err != nil {
		return "", err
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

var errBadHash = errors.New("identity: malformed password hash")

// Verify reports whether password matches the PHC-format hash encoded.
// A malformed hash is refused before the gate.
func (h Hasher) Verify(password, encoded string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil || p.Time == 0 || p.Threads == 0 ||
		p.MemoryKiB > maxMemoryKiB || p.Time > maxTime || p.Threads > maxThreads {
		// argon2 panics on zero time or threads; a tampered hash must not make
		// a login take gigabytes or minutes.
		return false, errBadHash
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := enc.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, errBadHash
	}
	var got []byte
	if err := h.Gate.run(func() { got = argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(want))) }); err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// passwordAlphabet leaves out characters that are easy to misread when an
// initial password is handed over on paper (0/O, 1/l/I).
const (
	passwordLetters = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
	passwordDigits  = "23456789"
)

// GeneratePassword returns a random 12-character password with letters and
// digits, for initial passwords that a user must change at first login.
func GeneratePassword(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	const n = 12
	alphabet := passwordLetters + passwordDigits
	for {
		b := make([]byte, n)
		for i := range b {
			c, err := pick(r, len(alphabet))
			if err != nil {
				return "", fmt.Errorf("identity: generate password: %w", err)
			}
			b[i] = alphabet[c]
		}
		s := string(b)
		if strings.ContainsAny(s, passwordLetters) && strings.ContainsAny(s, passwordDigits) {
			return s, nil
		}
	}
}

// pick returns a uniform random index below n by rejection sampling.
func pick(r io.Reader, n int) (int, error) {
	limit := 256 - 256%n
	var b [1]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, err
		}
		if int(b[0]) < limit {
			return int(b[0]) % n, nil
		}
	}
}
