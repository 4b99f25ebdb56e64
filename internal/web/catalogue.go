package web

import (
	"fmt"
	"net/http"
	"time"

	"kinko/internal/calendar"
	"kinko/internal/httpedge"
	"kinko/internal/messages"
)

// lang is a language of the pages.
type lang string

// Languages: Japanese first.
const (
	langJA lang = "ja"
	langEN lang = "en"
)

// languages are the supported languages, the default first.
var languages = []lang{langJA, langEN}

// language returns the language of a request (httpedge.Language).
func language(r *http.Request) lang { return lang(httpedge.Language(r)) }

// catalogue is the message catalogue (package messages) in the pages'
// languages.
type catalogue struct{ *messages.Catalogue }

// loadCatalogue reads the message catalogue.
func loadCatalogue() (*catalogue, error) {
	c, err := messages.LoadCatalogue()
	if err != nil {
		return nil, fmt.Errorf("web: catalogue: %w", err)
	}
	return &catalogue{c}, nil
}

// text returns the message for key in language l with {0}, {1}, ...
// replaced by args; a missing key shows as itself in brackets.
func (c *catalogue) text(l lang, key string, args ...any) string {
	return c.Text(string(l), key, args...)
}

// dateTime formats t for language l, in Japan's time.
func (c *catalogue) dateTime(l lang, t time.Time) string {
	return t.In(calendar.JST).Format(c.text(l, "format.datetime"))
}

// date formats the day of t for language l, in Japan's time.
func (c *catalogue) date(l lang, t time.Time) string {
	return t.In(calendar.JST).Format(c.text(l, "format.date"))
}
