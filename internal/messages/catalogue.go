package messages

import (
	"fmt"
	"strconv"
	"strings"
)

// Catalogue is the catalogue loaded for the pages, which ask it for each
// sentence in the reader's language.
type Catalogue struct {
	msgs map[string]map[string]string
}

// LoadCatalogue reads the catalogue (Load).
func LoadCatalogue() (*Catalogue, error) {
	m, err := Load()
	if err != nil {
		return nil, err
	}
	return &Catalogue{msgs: m}, nil
}

// Text returns the message key in lang with {0}, {1}, ... replaced by args.
// A missing key shows as itself in brackets (the pages' tests make sure
// none is missing).
func (c *Catalogue) Text(lang, key string, args ...any) string {
	m, ok := c.msgs[lang][key]
	if !ok {
		return "[" + key + "]"
	}
	for i, a := range args {
		m = strings.ReplaceAll(m, "{"+strconv.Itoa(i)+"}", fmt.Sprint(a))
	}
	return m
}

// Has reports whether the catalogue has the message key in lang.
func (c *Catalogue) Has(lang, key string) bool {
	_, ok := c.msgs[lang][key]
	return ok
}
