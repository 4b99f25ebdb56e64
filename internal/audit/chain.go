package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
)

// The audit log is a hash chain. Each linked row holds the hash of the row
// before it in the chain (prev_hash) and its own hash:
//
//	hash = SHA-256(prev_hash as 32 bytes || Canonical(row))
//
// Rows written before the chain was linked after commit (version 1 and 2)
// were linked as they were inserted, in order of id; they come first. Every
// later row is inserted without prev_hash and hash (unlinked), and is given
// its place in the chain (chain_seq: 1, 2, 3, …), prev_hash and hash by
// the linker, after its transaction committed, in one transaction at a time
// (see the store). The chain's order is the order of linking, not of id:
// a transaction that took an id early and committed late is linked when it
// is seen committed, so the linker never waits for a gap in the ids.
//
// Canonical encodes, in this order, every column of the row except hash:
// id, (versions 3 and 4) chain_seq, at, type, actor, organization_id,
// user_id, serial, request_ref, (versions 3 and 4) request_id, (version 4)
// transfer_id, batch_id, (versions 2, 3 and 4) reason, cause, password,
// then detail, prev_hash. A row with a chain_seq and a transfer_id or a
// batch_id is version 4; any other row with a chain_seq is version 3; of
// the others, a row whose reason, cause and password are all NULL is
// version 1, any other version 2. A row keeps the version it was linked
// with: version 4 added columns that are NULL in every older row. The first row's prev_hash is
// GenesisHash. Hashes are stored as 64 lowercase hexadecimal digits. A
// changed row no longer matches its hash; a removed or reordered row breaks
// the link of the row after it; a removed last row no longer matches the
// head (the last id, chain_seq and hash linked, which the store keeps apart
// and updates with every link).

// GenesisHash is the prev_hash of the first row: 32 zero bytes, in hex.
var GenesisHash = strings.Repeat("0", 2*sha256.Size)

// canonicalMagic starts every canonical encoding of version 1, and
// canonicalMagicV2 of version 2; they name the version.
const (
	canonicalMagic   = "kinko audit v1\n"
	canonicalMagicV2 = "kinko audit v2\n"
	canonicalMagicV3 = "kinko audit v3\n"
	canonicalMagicV4 = "kinko audit v4\n"
)

// Field tags of the canonical encoding.
const (
	tagNull byte = 0
	tagInt  byte = 1
	tagText byte = 2
)

// Row is one row of the audit log as stored: nullable columns keep their
// NULL apart from zero and the empty string, so that no change of a stored
// value goes unnoticed.
type Row struct {
	ID             int64
	ChainSeq       NullInt // the row's place in the chain; version 3
	At             int64   // Unix microseconds
	Type           Type
	Actor          string
	OrganizationID NullInt
	UserID         NullInt
	Serial         NullText
	RequestRef     NullText
	RequestID      NullText // versions 3 and 4
	TransferID     NullInt  // version 4
	BatchID        NullInt  // version 4
	Reason         NullText // version 2
	Cause          NullText // version 2
	Password       NullText // version 2
	Detail         string
	PrevHash       string // hex
	Hash           string // hex; "" when the row has none
}

// NullInt is an integer column that may be NULL.
type NullInt struct {
	V     int64
	Valid bool
}

// NullText is a text column that may be NULL.
type NullText struct {
	V     string
	Valid bool
}

// Version returns the version of r's canonical encoding: 4 when it has a
// chain_seq and a transfer_id or a batch_id, 3 when it has a chain_seq and
// neither, else 1 when its reason, cause and password are all NULL, else 2.
func Version(r Row) int {
	if r.ChainSeq.Valid {
		if r.TransferID.Valid || r.BatchID.Valid {
			return 4
		}
		return 3
	}
	if r.Reason.Valid || r.Cause.Valid || r.Password.Valid {
		return 2
	}
	return 1
}

// Canonical returns the canonical encoding of every column of r except its
// hash: the bytes of the magic of its Version, then each column in the
// order of Row (chain_seq and request_id only in versions 3 and 4,
// transfer_id and batch_id only in version 4, reason, cause and password
// only in versions 2, 3 and 4) as one byte
// tag followed by its value: tag 0 for NULL (no value), tag 1 for an
// integer (8 bytes, big-endian two's complement), tag 2 for text (its length
// in bytes as 4 bytes big-endian, then its UTF-8 bytes). The encoding is
// injective: two rows that differ in any column encode differently.
func Canonical(r Row) []byte {
	b := make([]byte, 0, 160+len(r.Detail))
	version := Version(r)
	switch version {
	case 4:
		b = append(b, canonicalMagicV4...)
	case 3:
		b = append(b, canonicalMagicV3...)
	case 2:
		b = append(b, canonicalMagicV2...)
	default:
		b = append(b, canonicalMagic...)
	}
	num := func(v int64) { b = binary.BigEndian.AppendUint64(append(b, tagInt), uint64(v)) }
	text := func(s string) {
		b = binary.BigEndian.AppendUint32(append(b, tagText), uint32(len(s)))
		b = append(b, s...)
	}
	nullNum := func(v NullInt) {
		if !v.Valid {
			b = append(b, tagNull)
			return
		}
		num(v.V)
	}
	nullText := func(v NullText) {
		if !v.Valid {
			b = append(b, tagNull)
			return
		}
		text(v.V)
	}
	num(r.ID)
	if version >= 3 {
		nullNum(r.ChainSeq)
	}
	num(r.At)
	text(string(r.Type))
	text(r.Actor)
	nullNum(r.OrganizationID)
	nullNum(r.UserID)
	nullText(r.Serial)
	nullText(r.RequestRef)
	if version >= 3 {
		nullText(r.RequestID)
	}
	if version == 4 {
		nullNum(r.TransferID)
		nullNum(r.BatchID)
	}
	if version >= 2 {
		nullText(r.Reason)
		nullText(r.Cause)
		nullText(r.Password)
	}
	text(r.Detail)
	text(r.PrevHash)
	return b
}

// ComputeHash returns the hash r must hold, in hex. A prev_hash that is not
// 64 hex digits is hashed as 32 zero bytes; it cannot match the chain anyway.
func ComputeHash(r Row) string {
	prev, err := hex.DecodeString(r.PrevHash)
	if err != nil || len(prev) != sha256.Size {
		prev = make([]byte, sha256.Size)
	}
	h := sha256.New()
	h.Write(prev)
	h.Write(Canonical(r))
	return hex.EncodeToString(h.Sum(nil))
}

// Break is the first row where the chain is broken.
type Break struct {
	ID     int64  // the row's id; 0 for the head
	Reason string // what is wrong
}

func (b *Break) Error() string {
	if b.ID == 0 {
		return "audit head: " + b.Reason
	}
	return fmt.Sprintf("audit row %d: %s", b.ID, b.Reason)
}

// Verifier checks a chain row by row, in the order of the chain: the rows
// linked at insert in order of id, then the rows linked after commit in
// order of chain_seq.
type Verifier struct {
	count   int
	lastID  int64
	lastSeq int64
	last    string
	broken  *Break
}

// NewVerifier returns a verifier at the start of a chain.
func NewVerifier() *Verifier { return &Verifier{last: GenesisHash} }

// Add checks the next row and returns the first break found so far, if any.
func (v *Verifier) Add(r Row) *Break {
	if v.broken != nil {
		return v.broken
	}
	switch {
	case r.PrevHash != v.last:
		if v.lastID == 0 {
			v.broken = &Break{ID: r.ID, Reason: fmt.Sprintf("prev_hash %s is not the start of the chain (a row before it removed, or its prev_hash changed)", short(r.PrevHash))}
		} else {
			v.broken = &Break{ID: r.ID, Reason: fmt.Sprintf("prev_hash %s does not match the hash of row %d (a row removed or reordered, or its prev_hash changed)", short(r.PrevHash), v.lastID)}
		}
	case r.Hash == "":
		v.broken = &Break{ID: r.ID, Reason: "the row has no hash (written outside the chain)"}
	case ComputeHash(r) != r.Hash:
		v.broken = &Break{ID: r.ID, Reason: "its content does not match its hash (the row was changed)"}
	case r.ChainSeq.Valid && r.ChainSeq.V != v.lastSeq+1:
		v.broken = &Break{ID: r.ID, Reason: fmt.Sprintf("chain_seq %d, where %d comes next (a row removed or its chain_seq changed)", r.ChainSeq.V, v.lastSeq+1)}
	case !r.ChainSeq.Valid && v.lastSeq != 0:
		v.broken = &Break{ID: r.ID, Reason: "a row linked at insert after rows linked after commit (written outside the chain)"}
	default:
		v.count++
		v.lastID, v.last = r.ID, r.Hash
		if r.ChainSeq.Valid {
			v.lastSeq = r.ChainSeq.V
		}
	}
	return v.broken
}

// Unlinked checks a row not linked yet (no chain_seq, no hash), after the
// linked ones: it must carry nothing of the chain. It returns the first
// break found so far, if any.
func (v *Verifier) Unlinked(r Row) *Break {
	if v.broken != nil {
		return v.broken
	}
	if r.ChainSeq.Valid || r.Hash != "" || r.PrevHash != "" {
		v.broken = &Break{ID: r.ID, Reason: "the row has no hash but a prev_hash or chain_seq (written outside the chain)"}
	}
	return v.broken
}

// End checks the end of the chain against the head the store keeps (the
// id, chain_seq and hash of the last row linked; 0, 0 and GenesisHash for
// none; the chain_seq 0 while only rows linked at insert exist) and returns
// the first break, if any.
func (v *Verifier) End(headID, headSeq int64, headHash string) *Break {
	if v.broken != nil {
		return v.broken
	}
	if headID != v.lastID || headSeq != v.lastSeq || headHash != v.last {
		v.broken = &Break{Reason: fmt.Sprintf("the last row linked was %d with hash %s, the chain ends at row %d with hash %s (rows removed from the end, or added outside the chain)",
			headID, short(headHash), v.lastID, short(v.last))}
	}
	return v.broken
}

// Count returns the number of good rows so far.
func (v *Verifier) Count() int { return v.count }

// LastHash returns the hash of the last good row (GenesisHash for none).
func (v *Verifier) LastHash() string { return v.last }

// LastID returns the id of the last good row (0 for none).
func (v *Verifier) LastID() int64 { return v.lastID }

func short(h string) string {
	if len(h) > 16 {
		return h[:16] + "…"
	}
	if h == "" {
		return `""`
	}
	return h
}
