// Package e2e holds the end-to-end suite: the rules R1..R13, the banking
// API, sessions, revocation, CRL and OCSP, mails and attacks, each tested
// through a whole bank on its real TLS listeners with real clients, on
// both database engines. It has no code of its own besides this comment;
// the package under test is kinko as a user and an attacker reach it.
package e2e
