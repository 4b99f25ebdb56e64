package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// The entity tag of a transfer or batch names it and its version (the
// count of its changes the database keeps): "t12-3" is version 3 of
// transfer 12, "b4-1" version 1 of batch 4. It is strong: a version is one
// exact state of the row. An approver's decision sends it back in If-Match,
// and banking refuses the decision when the transfer or batch is no longer
// at that version.
const (
	transferTag = 't'
	batchTag    = 'b'
)

// etag returns the entity tag of version of the transfer or batch id.
func etag(kind byte, id, version int64) string {
	return fmt.Sprintf(`"%c%d-%d"`, kind, id, version)
}

// noVersion is what seenVersion returns for an If-Match that names no
// version of the transfer or batch: banking refuses it as changed.
const noVersion = -1

// seenVersion returns the version of transfer or batch id that the
// request's If-Match names, for banking to check: 0 when it names none (no
// If-Match, or "*", which does not say what the client saw), which banking
// refuses as banking.ErrVersionRequired; noVersion when it names only other
// resources, a weak tag, several versions or something that is not an
// entity tag, which banking refuses as banking.ErrTransferChanged.
func seenVersion(r *http.Request, kind byte, id int64) int64 {
	values := r.Header.Values("If-Match")
	var tags []string
	for _, v := range values {
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				tags = append(tags, f)
			}
		}
	}
	if len(tags) == 0 || (len(tags) == 1 && tags[0] == "*") {
		return 0
	}
	prefix := fmt.Sprintf(`"%c%d-`, kind, id)
	var seen int64
	for _, t := range tags {
		rest, ok := strings.CutPrefix(t, prefix)
		if !ok {
			continue
		}
		digits, ok := strings.CutSuffix(rest, `"`)
		if !ok {
			continue
		}
		v, err := strconv.ParseInt(digits, 10, 64)
		if err != nil || v <= 0 {
			continue
		}
		if seen != 0 && v != seen {
			// Two versions of one transfer: the client cannot have seen
			// both as the one it decides on.
			return noVersion
		}
		seen = v
	}
	if seen == 0 {
		return noVersion
	}
	return seen
}
