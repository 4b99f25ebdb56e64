package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// runCert is "kinko cert": the user's side of issuance.
func runCert(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 || args[0] != "enroll" {
		return usageErr("kinko cert enroll --portal URL --ca FILE --login-id ID --out PREFIX")
	}
	fs := newFlags("cert enroll", env)
	portal := fs.String("portal", "https://127.0.0.1:8443", "the portal's URL")
	caFile := fs.String("ca", "", "PEM file of the CA that signed the portal's server certificate")
	loginID := fs.String("login-id", "", "your login ID")
	out := fs.String("out", "", "prefix of the files to write: PREFIX.key (private key) and PREFIX.pem (certificate and chain)")
	pwFile := fs.String("password-file", "", "read the login password from this file instead of asking")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *caFile == "" || *loginID == "" || *out == "" {
		return usageErr("--ca, --login-id and --out are required")
	}
	password, err := readPassword(env, *pwFile)
	if err != nil {
		return err
	}
	caPEM, err := os.ReadFile(*caFile)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return fmt.Errorf("no certificate in %s", *caFile)
	}
	// The key is made here and never leaves this machine.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: *loginID}}, key)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]string{"login_id": *loginID, "password": password,
		"csr": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr}))})
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(*portal, "/")+"/api/v1/certificates", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusCreated {
		var e struct{ Error, Message string }
		_ = json.Unmarshal(b, &e)
		return fmt.Errorf("%s: %s", e.Error, e.Message)
	}
	var issued struct {
		Serial, Certificate, Chain string
		NotAfter                   string `json:"not_after"`
	}
	if err := json.Unmarshal(b, &issued); err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out+".key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(*out+".pem", []byte(issued.Certificate+issued.Chain), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Certificate %s issued to %s, valid until %s.\nWrote %s.key (private key, keep it on this PC) and %s.pem.\n",
		issued.Serial, *loginID, issued.NotAfter, *out, *out)
	return nil
}

// readPassword reads the login password from a file, or from standard input.
func readPassword(env Env, file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	fmt.Fprint(env.Stderr, "Login password: ")
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}
