package config

import (
	"strings"
	"testing"
)

// The settings of the mails: the SMTP server and the From address.

func TestLoadMailSettings(t *testing.T) {
	secret := writeFile(t, "smtp-password", "pa ss\n")
	p := writeFile(t, "kinko.json", `{
  "smtp_host": "smtp.bank.example",
  "smtp_user": "kinko",
  "smtp_password_file": "`+secret+`",
  "mail_from": "テスト労働金庫 <noreply@bank.example>"
}`)
	got, err := Load(p, envOf(nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got.SMTPHost != "smtp.bank.example" || got.SMTPPort != 587 || got.SMTPUser != "kinko" || got.SMTPPassword != "pa ss" ||
		got.SMTPTLS != "" || got.MailFrom != "テスト労働金庫 <noreply@bank.example>" {
		t.Errorf("mail settings: %+v", got)
	}
	if r := got.Redacted(); strings.Contains(r, "pa ss") || !strings.Contains(r, `"smtp_password_file"`) {
		t.Errorf("Redacted() shows the SMTP password or hides the file: %s", r)
	}
	t.Run("from the environment", func(t *testing.T) {
		got, err := Load(p, envOf(map[string]string{"KINKO_SMTP_PORT": "2525", "KINKO_SMTP_TLS": "tls", "KINKO_SMTP_HOST": "127.0.0.1"}))
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if got.SMTPPort != 2525 || got.SMTPTLS != "tls" || got.SMTPHost != "127.0.0.1" {
			t.Errorf("port %d, tls %q, host %q", got.SMTPPort, got.SMTPTLS, got.SMTPHost)
		}
	})
	t.Run("the password is never taken from the environment", func(t *testing.T) {
		got, err := Load(p, envOf(map[string]string{"KINKO_SMTP_PASSWORD": "other", "KINKO_-": "other"}))
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if got.SMTPPassword != "pa ss" {
			t.Errorf("SMTPPassword = %q", got.SMTPPassword)
		}
	})
	t.Run("default ports", func(t *testing.T) {
		for tlsMode, port := range map[string]int{"": 587, "starttls": 587, "tls": 465, "none": 25} {
			c := Config{SMTPHost: "localhost", SMTPTLS: tlsMode, MailFrom: "noreply@bank.example"}.WithDefaults()
			if c.SMTPPort != port {
				t.Errorf("smtp_tls %q: port %d, want %d", tlsMode, c.SMTPPort, port)
			}
			if err := c.Validate(); err != nil {
				t.Errorf("smtp_tls %q: %v", tlsMode, err)
			}
		}
		if c := (Config{}).WithDefaults(); c.SMTPPort != 0 {
			t.Errorf("port %d without smtp_host", c.SMTPPort)
		}
	})
}

func TestMailSettingsErrors(t *testing.T) {
	secret := writeFile(t, "smtp-password", "pw")
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no From", map[string]string{"KINKO_SMTP_HOST": "smtp.bank.example"}, "mail_from is required"},
		{"bad From", map[string]string{"KINKO_MAIL_FROM": "noreply at bank"}, `mail_from "noreply at bank"`},
		{"no TLS to a remote host", map[string]string{"KINKO_SMTP_HOST": "smtp.bank.example", "KINKO_MAIL_FROM": "a@bank.example",
			"KINKO_SMTP_TLS": "none"}, `smtp_tls "none" is allowed only`},
		{"unknown TLS mode", map[string]string{"KINKO_SMTP_TLS": "ssl"}, `smtp_tls "ssl"`},
		{"port not a number", map[string]string{"KINKO_SMTP_PORT": "smtp"}, "KINKO_SMTP_PORT"},
		{"port out of range", map[string]string{"KINKO_SMTP_HOST": "smtp.bank.example", "KINKO_MAIL_FROM": "a@bank.example",
			"KINKO_SMTP_PORT": "70000"}, "smtp_port 70000"},
		{"port without host", map[string]string{"KINKO_SMTP_PORT": "25"}, "smtp_port needs smtp_host"},
		{"host with a port", map[string]string{"KINKO_SMTP_HOST": "smtp.bank.example:587", "KINKO_MAIL_FROM": "a@bank.example"}, "without a port"},
		{"user without password", map[string]string{"KINKO_SMTP_HOST": "smtp.bank.example", "KINKO_MAIL_FROM": "a@bank.example",
			"KINKO_SMTP_USER": "kinko"}, "smtp_user and smtp_password_file go together"},
		{"user without host", map[string]string{"KINKO_SMTP_USER": "kinko", "KINKO_SMTP_PASSWORD_FILE": secret}, "smtp_user needs smtp_host"},
		{"password file missing", map[string]string{"KINKO_SMTP_HOST": "smtp.bank.example", "KINKO_MAIL_FROM": "a@bank.example",
			"KINKO_SMTP_USER": "kinko", "KINKO_SMTP_PASSWORD_FILE": secret + ".none"}, "smtp_password_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("", envOf(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load error = %v, want one containing %q", err, tt.want)
			}
		})
	}
	t.Run("no TLS on loopback", func(t *testing.T) {
		for _, host := range []string{"localhost", "127.0.0.1", "::1"} {
			c := Config{SMTPHost: host, SMTPTLS: "none", MailFrom: "a@bank.example"}.WithDefaults()
			if err := c.Validate(); err != nil {
				t.Errorf("%s: %v", host, err)
			}
		}
	})
}
