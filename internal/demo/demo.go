// Package demo is the seed data of "kinko demo" (体験版): two organizations,
// one that uses certificate login and one that logs in with ID and password,
// with fixed, published passwords, and their accounts with about three
// months of history (banking.go). It must never be used by "kinko serve".
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"kinko/internal/banking"
	"kinko/internal/calendar"
	"kinko/internal/identity"
)

// User is a demo user.
type User struct {
	LoginID              string `json:"login_id"`
	Name                 string `json:"-"`
	Email                string `json:"-"`
	Password             string `json:"password"`
	ConfirmationPassword string `json:"confirmation_password"`
	Role                 string `json:"role"`
}

// Organization is a demo organization.
type Organization struct {
	Code             string `json:"code"`
	Name             string `json:"name"`
	CertificateLogin bool   `json:"certificate_login"`
	Users            []User `json:"users"` // the master first
	// Accounts are the organization's accounts at the demo bank.
	Accounts []Account `json:"accounts"`
	// Pending is the transfer awaiting the master's approval, if there is
	// one (it changes while the demo runs, so demo.json leaves it out).
	Pending *PendingTransfer `json:"-"`
}

// Organizations are the demo's organizations, without their codes.
func Organizations() []Organization {
	return []Organization{
		{
			Name: "ひかり労働組合 中央支部", CertificateLogin: true,
			Users: []User{
				{LoginID: "sato0001", Name: "佐藤 花子", Email: "sato@hikari-union.example", Password: "Hikari-Sato1", ConfirmationPassword: "Kakunin-Sato1", Role: "master"},
				{LoginID: "tanaka01", Name: "田中 一郎", Email: "tanaka@hikari-union.example", Password: "Hikari-Tanaka1", ConfirmationPassword: "Kakunin-Tanaka1", Role: "general"},
				{LoginID: "suzuki01", Name: "鈴木 次郎", Email: "suzuki@hikari-union.example", Password: "Hikari-Suzuki1", ConfirmationPassword: "Kakunin-Suzuki1", Role: "general"},
			},
			Accounts: []Account{
				{Type: "ordinary", Branch: "001", Number: "2010001", Holder: hikariHolder},
			},
		},
		{
			Name: "みどり生活協同組合", CertificateLogin: false,
			Users: []User{
				{LoginID: "kato0001", Name: "加藤 美咲", Email: "kato@midori-coop.example", Password: "Midori-Kato1", ConfirmationPassword: "Kakunin-Kato1", Role: "master"},
				{LoginID: "ito00001", Name: "伊藤 健", Email: "ito@midori-coop.example", Password: "Midori-Ito1", ConfirmationPassword: "Kakunin-Ito1", Role: "general"},
			},
			Accounts: []Account{
				{Type: "ordinary", Branch: "002", Number: "3020001", Holder: midoriHolder},
				{Type: "current", Branch: "002", Number: "0300001", Holder: midoriHolder},
			},
		},
	}
}

// Config is what Seed needs: the database and the bank's settings, as the
// server uses them.
type Config struct {
	Store    Store
	Hasher   identity.Params
	BankCode string
	Calendar *calendar.Calendar // default calendar.Default()
	Cutoff   calendar.Clock     // zero: calendar.DefaultCutoff
	Now      func() time.Time   // default time.Now
	// Fees is the bank's table of transfer fees the history is booked
	// with; nil: banking.DefaultFees, so that the demo shows fees.
	Fees *banking.FeeTable
}

// Store is the database of identity and banking.
type Store interface {
	identity.Store
	banking.Store
}

// Seed creates the demo organizations and users unless their master users
// exist already, and on first start their accounts with about three months
// of history (seedBanking), and returns the organizations with their codes
// and accounts. Demo users need not change their passwords at first login.
// The organizations, accounts and history are made at the past times they
// tell of, on a clock that the seed moves forward day by day.
func Seed(ctx context.Context, c Config) ([]Organization, error) {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Calendar == nil {
		c.Calendar = calendar.Default()
	}
	if c.Cutoff == (calendar.Clock{}) {
		c.Cutoff = calendar.DefaultCutoff
	}
	sd, err := newSeeder(c)
	if err != nil {
		return nil, err
	}
	orgs, err := seedOrganizations(ctx, sd.ident)
	if err != nil {
		return nil, err
	}
	if err := sd.seedBanking(ctx, orgs); err != nil {
		return nil, err
	}
	return orgs, nil
}

// seedOrganizations creates the organizations and users that do not exist
// yet.
func seedOrganizations(ctx context.Context, ident *identity.Service) ([]Organization, error) {
	orgs := Organizations()
	for i := range orgs {
		o := &orgs[i]
		m := o.Users[0]
		_, existing, err := ident.UserByLoginID(ctx, m.LoginID)
		if err == nil {
			o.Code = existing.Code
			continue
		}
		if !errors.Is(err, identity.ErrNotFound) {
			return nil, err
		}
		org, _, _, err := ident.CreateOrganization(ctx, identity.NewOrganization{
			Name: o.Name, MasterLoginID: m.LoginID, MasterName: m.Name, MasterEmail: m.Email,
			Passwords: identity.InitialPasswords{Password: m.Password, ConfirmationPassword: m.ConfirmationPassword},
		}, "system:demo")
		if err != nil {
			return nil, fmt.Errorf("demo: %s: %w", o.Name, err)
		}
		o.Code = org.Code
		master, _, err := ident.UserByLoginID(ctx, m.LoginID)
		if err != nil {
			return nil, err
		}
		for _, g := range o.Users[1:] {
			if _, _, err := ident.CreateGeneralUserWithPasswords(ctx, master, g.LoginID, g.Name, g.Email,
				identity.InitialPasswords{Password: g.Password, ConfirmationPassword: g.ConfirmationPassword}); err != nil {
				return nil, fmt.Errorf("demo: %s: %w", g.LoginID, err)
			}
		}
		if o.CertificateLogin {
			if _, err := ident.SetCertificateLogin(ctx, o.Code, true, "system:demo", "DEMO-APPLICATION-0001"); err != nil {
				return nil, fmt.Errorf("demo: %s: %w", o.Name, err)
			}
		}
	}
	return orgs, nil
}

// File is demo.json: what a newcomer or a test needs to use the demo.
type File struct {
	PortalURL     string         `json:"portal_url"`
	CertPortalURL string         `json:"cert_portal_url"`
	PKIURL        string         `json:"pki_url"` // the CRL at /pki/crl, OCSP at /pki/ocsp
	ServerCA      string         `json:"server_ca"`
	Organizations []Organization `json:"organizations"`
	// ConsoleURL is the operator console's; Operators are the bank's
	// demo operators with their certificates (PKCS#12 files) for it.
	ConsoleURL string     `json:"console_url,omitempty"`
	Operators  []Operator `json:"operators,omitempty"`
}

// Operator is a demo operator of the bank: their name, role, and the
// PKCS#12 file of their certificate for the operator console with its file
// password.
type Operator struct {
	Name           string `json:"name"`
	DisplayName    string `json:"display_name"`
	Role           string `json:"role"`       // clerk, approver
	RoleLabel      string `json:"role_label"` // 担当者 (clerk)
	PKCS12File     string `json:"pkcs12_file"`
	PKCS12Password string `json:"pkcs12_password"`
}

// Operators are the demo's operators: a clerk (担当者) who files the
// written requests and an approver (承認者) who approves them.
func Operators() []Operator {
	return []Operator{
		{Name: "yamada", DisplayName: "山田 太郎", Role: "clerk"},
		{Name: "kimura", DisplayName: "木村 花子", Role: "approver"},
	}
}

// Read reads a demo.json written before; an error when there is none.
func Read(path string) (File, error) {
	var f File
	b, err := os.ReadFile(path)
	if err != nil {
		return f, err
	}
	err = json.Unmarshal(b, &f)
	return f, err
}

// Write writes f to path (mode 0600: it holds passwords).
func (f File) Write(path string) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}

// Path is demo.json's place in a data directory.
func Path(dataDir string) string { return filepath.Join(dataDir, "demo.json") }
