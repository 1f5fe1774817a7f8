package endpoint

import (
	"net/http"
	"strings"
	"testing"

	"github.com/krbhttp/krbhttp/auth"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	for raw, ok := range map[string]bool{
		"https://namenode.example.com:9871":            true,
		"http://127.0.0.1:9870":                        true,
		"HTTPS://reports.example.com/reports/api/v2.0": true,
		"":                            false,
		"namenode:9871":               false,
		"ftp://host/":                 false,
		"https://":                    false,
		"https://host/?op=LISTSTATUS": false,
		"https://host/#x":             false,
		"https://host:port/":          false,
	} {
		err := Check("pkg", raw, http.DefaultClient)
		if (err == nil) != ok {
			t.Errorf("Check(%q) = %v, want ok %v", raw, err, ok)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "pkg: ") {
			t.Errorf("Check(%q) = %q, want the package prefix", raw, err)
		}
	}
	if err := Check("pkg", "https://host", nil); err == nil || err.Error() != "pkg: nil HTTP client" {
		t.Errorf("Check with a nil client = %v", err)
	}
}

func TestNewClient(t *testing.T) {
	t.Parallel()
	if _, err := NewClient("pkg", "https://host", []auth.Option{auth.WithPassword("pw")}); err == nil ||
		!strings.HasPrefix(err.Error(), "pkg: auth: ") {
		t.Errorf("NewClient with an invalid option set = %v, want auth's error prefixed", err)
	}
	hc, err := NewClient("pkg", "https://host", []auth.Option{auth.WithService("HTTP")})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := hc.Transport.(*auth.Transport); !ok {
		t.Errorf("transport %T, want *auth.Transport", hc.Transport)
	}
}
