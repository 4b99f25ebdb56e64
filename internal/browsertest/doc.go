// Package browsertest holds kinko's tests in a real browser: Debian's
// Chromium, driven through the DevTools protocol, against a whole bank on
// real TLS listeners. Each browser user has its own HOME, whose NSS
// database holds the client certificates that Chromium presents, as on a
// user's PC; the certificates go in with pk12util, as a user imports the
// downloaded file. The package has tests only; it must never be imported by
// kinko itself.
//
// The tests run when KINKO_TEST_BROWSER=1 and skip with a message
// otherwise. With KINKO_SCREENSHOTS=DIR they also save screenshots of the
// main pages into DIR (internal/web/static/screenshots/ holds those of a run, shown in the manual page and the README).
package browsertest
