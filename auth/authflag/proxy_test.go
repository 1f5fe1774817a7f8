package authflag_test

import (
	"net/http"
	"testing"

	"github.com/krbhttp/krbhttp/auth/authflag"
)

// TestProxyFunc: -x sends every request to the proxy (localhost too, as
// curl does), and --noproxy exempts hosts as curl's list does.
func TestProxyFunc(t *testing.T) {
	for _, c := range []struct {
		proxy, noProxy, target, want string
	}{
		{"proxy.test:3128", "", "http://localhost:8080/", "http://proxy.test:3128"},
		{"http://proxy.test:3128", "", "https://web.example.test/", "http://proxy.test:3128"},
		{"proxy.test:3128", "*", "https://web.example.test/", ""},
		{"proxy.test:3128", "example.test", "https://web.example.test/", ""},
		{"proxy.test:3128", ".example.test", "https://example.test/", ""},
		{"proxy.test:3128", "example.test", "https://badexample.test/", "http://proxy.test:3128"},
		{"proxy.test:3128", "10.0.0.0/8, 127.0.0.1", "http://10.1.2.3/", ""},
		{"proxy.test:3128", "10.0.0.0/8, 127.0.0.1", "http://127.0.0.1:99/", ""},
		{"proxy.test:3128", "10.0.0.0/8, 127.0.0.1", "http://127.0.0.2/", "http://proxy.test:3128"},
		{"proxy.test:3128", "[::1]", "http://[::1]:80/", ""},
		{"proxy.test:3128", "web.example.test:443", "https://web.example.test/", ""},
	} {
		f, err := authflag.ProxyFunc(c.proxy, c.noProxy)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", c.target, nil)
		u, err := f(req)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if u != nil {
			got = u.String()
		}
		if got != c.want {
			t.Errorf("-x %s --noproxy %q, %s: proxy %q, want %q", c.proxy, c.noProxy, c.target, got, c.want)
		}
	}
	if _, err := authflag.ProxyFunc("ftp://p:21", ""); err == nil {
		t.Error("an ftp proxy URL was accepted")
	}
}
