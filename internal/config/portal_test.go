package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The settings of the customer portal's pages: public URLs and service
// hours.

func TestLoadPortalSettings(t *testing.T) {
	p := writeFile(t, "kinko.json", `{
  "portal_url": "https://ib.example.jp",
  "cert_portal_url": "https://ib.example.jp:8444/",
  "service_hours": {"weekdays": "00:00-24:00", "weekends": "closed"}
}`)
	got, err := Load(p, envOf(nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := defaults()
	want.PortalURL, want.CertPortalURL = "https://ib.example.jp", "https://ib.example.jp:8444/"
	want.ServiceHours = ServiceHours{Weekdays: "00:00-24:00", Weekends: "closed"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	t.Run("from the environment", func(t *testing.T) {
		got, err := Load(p, envOf(map[string]string{
			"KINKO_SERVICE_HOURS":   `{"weekdays": "08:30-17:00"}`,
			"KINKO_CERT_PORTAL_URL": "https://cert.example.jp",
		}))
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if got.ServiceHours != (ServiceHours{Weekdays: "08:30-17:00"}) || got.CertPortalURL != "https://cert.example.jp" {
			t.Errorf("service_hours = %+v, cert_portal_url = %q", got.ServiceHours, got.CertPortalURL)
		}
	})
}

func TestPortalSettingsErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"hours not JSON", map[string]string{"KINKO_SERVICE_HOURS": "08:00-21:00"}, "KINKO_SERVICE_HOURS"},
		{"hours unknown key", map[string]string{"KINKO_SERVICE_HOURS": `{"sundays": "closed"}`}, `unknown field "sundays"`},
		{"end before start", map[string]string{"KINKO_SERVICE_HOURS": `{"weekdays": "21:00-08:00"}`}, `service_hours.weekdays "21:00-08:00"`},
		{"after 24:00", map[string]string{"KINKO_SERVICE_HOURS": `{"weekends": "09:00-24:30"}`}, `service_hours.weekends`},
		{"no leading zero", map[string]string{"KINKO_SERVICE_HOURS": `{"weekends": "9:00-17:00"}`}, `service_hours.weekends`},
		{"http URL", map[string]string{"KINKO_PORTAL_URL": "http://ib.example.jp"}, `portal_url "http://ib.example.jp"`},
		{"URL with a path", map[string]string{"KINKO_CERT_PORTAL_URL": "https://ib.example.jp/cert"}, "cert_portal_url"},
		{"URL without a host", map[string]string{"KINKO_CERT_PORTAL_URL": "https://"}, "cert_portal_url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("", envOf(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestValidHours(t *testing.T) {
	for s, want := range map[string]bool{
		"00:00-24:00": true, "08:00-21:00": true, "closed": true, "08:00-08:00": false, "24:00-24:00": false,
		"08:60-09:00": false, "0800-2100": false, "08:00-21:00-22:00": false, "": false, "Closed": false,
	} {
		if got := ValidHours(s); got != want {
			t.Errorf("ValidHours(%q) = %v, want %v", s, got, want)
		}
	}
}
