package config

import (
	"strings"
	"testing"
)

// The settings of the keys: the issuing key in an HSM and a server
// certificate from files.

func TestLoadKeySettings(t *testing.T) {
	uri := "pkcs11:token=kinko;object=issuing-ca?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=/etc/kinko/hsm-pin"
	p := writeFile(t, "kinko.json", `{
  "issuing_key": "`+uri+`",
  "server_cert_file": "/etc/kinko/server.pem",
  "server_key_file": "/etc/kinko/server.key"
}`)
	got, err := Load(p, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got.IssuingKey != uri || got.ServerCertFile != "/etc/kinko/server.pem" || got.ServerKeyFile != "/etc/kinko/server.key" {
		t.Errorf("loaded %q %q %q", got.IssuingKey, got.ServerCertFile, got.ServerKeyFile)
	}
	env, err := Load("", envOf(map[string]string{"KINKO_ISSUING_KEY": uri}))
	if err != nil || env.IssuingKey != uri {
		t.Errorf("KINKO_ISSUING_KEY: %q %v", env.IssuingKey, err)
	}
}

func TestKeySettingsErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"issuing key not a PKCS#11 URI", map[string]string{"KINKO_ISSUING_KEY": "/etc/kinko/client-ca.key"}, "issuing_key"},
		{"certificate without key", map[string]string{"KINKO_SERVER_CERT_FILE": "/etc/kinko/server.pem"}, "server_cert_file and server_key_file"},
		{"key without certificate", map[string]string{"KINKO_SERVER_KEY_FILE": "/etc/kinko/server.key"}, "server_cert_file and server_key_file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("", envOf(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestRedacted_HidesTheHSMPIN(t *testing.T) {
	c := defaults()
	c.IssuingKey = "pkcs11:token=kinko;object=issuing-ca?module-path=/m.so&pin-value=s3cret-pin"
	s := c.Redacted()
	if strings.Contains(s, "s3cret-pin") || !strings.Contains(s, "pin-value=REDACTED") || !strings.Contains(s, "object=issuing-ca") {
		t.Errorf("Redacted() = %s", s)
	}
	if !strings.Contains(c.IssuingKey, "s3cret-pin") {
		t.Errorf("Redacted changed the config")
	}
}
