package config

import (
	"slices"
	"strings"
	"testing"
)

// TestProxyKeys: trusted_proxies and proxy_protocol are read from the
// file and the environment.
func TestProxyKeys(t *testing.T) {
	p := writeFile(t, "kinko.json", `{"trusted_proxies": ["10.0.0.0/8", "192.0.2.10"], "proxy_protocol": true}`)
	got, err := Load(p, envOf(nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !slices.Equal(got.TrustedProxies, []string{"10.0.0.0/8", "192.0.2.10"}) || !got.ProxyProtocol {
		t.Errorf("trusted_proxies = %q, proxy_protocol = %v", got.TrustedProxies, got.ProxyProtocol)
	}
	got, err = Load("", envOf(map[string]string{"KINKO_TRUSTED_PROXIES": "10.1.0.0/16, 2001:db8::/32", "KINKO_PROXY_PROTOCOL": "true"}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !slices.Equal(got.TrustedProxies, []string{"10.1.0.0/16", "2001:db8::/32"}) || !got.ProxyProtocol {
		t.Errorf("from the environment: trusted_proxies = %q, proxy_protocol = %v", got.TrustedProxies, got.ProxyProtocol)
	}
}

// TestProxyKeysErrors: a trusted proxy that is not an address or CIDR, a
// PROXY protocol trusted from nobody, and a boolean that is not one stop
// the start.
func TestProxyKeysErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"host name", map[string]string{"KINKO_TRUSTED_PROXIES": "lb.bank.example"}, `trusted_proxies: "lb.bank.example"`},
		{"bad CIDR", map[string]string{"KINKO_TRUSTED_PROXIES": "10.0.0.0/40"}, `trusted_proxies: "10.0.0.0/40"`},
		{"PROXY protocol without trusted proxies", map[string]string{"KINKO_PROXY_PROTOCOL": "1"}, "proxy_protocol needs trusted_proxies"},
		{"not a boolean", map[string]string{"KINKO_PROXY_PROTOCOL": "yes please"}, "KINKO_PROXY_PROTOCOL"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("", envOf(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load: %v, want an error with %q", err, tt.want)
			}
		})
	}
}
