package credentials

import (
	"errors"
	"strings"
	"testing"

	"github.com/krbhttp/krbhttp/auth/ticket"
)

func TestDefaultCCacheName(t *testing.T) {
	cfg := func(name string, env map[string]string) *Config {
		c, _ := ParseConfig("[libdefaults]\n default_ccache_name = " + name + "\n")
		c.env = fakeEnv(env)
		return c
	}
	for _, tc := range []struct {
		conf string
		env  map[string]string
		want string
	}{
		{"", nil, "FILE:/tmp/krb5cc_1000"},
		{"", map[string]string{"KRB5CCNAME": "DIR:/run/user/1000/krb5cc"}, "DIR:/run/user/1000/krb5cc"},
		{"FILE:/var/cache/krb5/%{uid}-%{euid}-%{USERID}%{null}", nil, "FILE:/var/cache/krb5/1000-1001-1000"},
		{"%{TEMP}/cc_%{username}", map[string]string{"TMPDIR": "/scratch"}, "/scratch/cc_tester"},
		{"%{TEMP}/cc", nil, "/tmp/cc"},
		{"FILE:/x/%{unknown}", nil, "FILE:/tmp/krb5cc_1000"}, // MIT's default after a bad token
	} {
		if got := DefaultCCacheName(cfg(tc.conf, tc.env)); got != tc.want {
			t.Errorf("conf %q env %v: got %q, want %q", tc.conf, tc.env, got, tc.want)
		}
	}
}

func TestParseCCacheName(t *testing.T) {
	for name, want := range map[string]ccacheLoc{
		"FILE:/tmp/cc":        {file: "/tmp/cc"},
		"/tmp/cc":             {file: "/tmp/cc"},
		"relative/cc":         {file: "relative/cc"},
		"/tmp/odd:name":       {file: "/tmp/odd:name"},
		"DIR:/run/cc":         {dir: "/run/cc"},
		"DIR::/run/cc/tktABC": {dir: "/run/cc", file: "/run/cc/tktABC"},
		"file:/tmp/lowercase": {file: "/tmp/lowercase"},
	} {
		got, err := parseCCacheName(name)
		want.name = name
		if err != nil || got != want {
			t.Errorf("%q: got %+v, %v; want %+v", name, got, err, want)
		}
	}
	for _, name := range []string{"KEYRING:persistent:1000", "KCM:1000", "MEMORY:x", "API:y", "MSLSA:"} {
		_, err := parseCCacheName(name)
		typ, _, _ := strings.Cut(name, ":")
		if !errors.Is(err, ErrUnsupportedCCache) || !strings.Contains(err.Error(), typ+":") {
			t.Errorf("%q: err = %v", name, err)
		}
	}
	if _, err := parseCCacheName(""); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("empty name: %v", err)
	}
	if _, err := parseCCacheName("FILE:"); !errors.Is(err, ErrMalformed) {
		t.Errorf("FILE: without path: %v", err)
	}
}

// A malformed principal name is the caller's mistake, reported with both
// sentinels: this package's ErrMalformed and package ticket's.
func TestMalformedPrincipal(t *testing.T) {
	cfg, err := ParseConfig(testConf)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"a@b@c", "a//b", `a\`} {
		_, err := NewPasswordSource(cfg, bad, "pw")
		if !errors.Is(err, ErrMalformed) || !errors.Is(err, ticket.ErrMalformedName) {
			t.Errorf("password source for %q: %v", bad, err)
		}
		_, err = NewCCacheSource(cfg, "FILE:/nonexistent", bad)
		if !errors.Is(err, ErrMalformed) || !errors.Is(err, ticket.ErrMalformedName) {
			t.Errorf("cache source for %q: %v", bad, err)
		}
	}
}

func TestDefaultClientKeytabName(t *testing.T) {
	cfg, _ := ParseConfig("")
	cfg.env = fakeEnv(nil)
	if got, _ := DefaultClientKeytabName(cfg); got != "FILE:/var/lib/krb5/user/1001/client.keytab" {
		t.Errorf("MIT default: %q", got)
	}
	cfg.DefaultClientKeytabName = "FILE:/etc/ckt/%{uid}"
	if got, _ := DefaultClientKeytabName(cfg); got != "FILE:/etc/ckt/1000" {
		t.Errorf("config: %q", got)
	}
	cfg.env = fakeEnv(map[string]string{"KRB5_CLIENT_KTNAME": "/env/keytab"})
	if got, _ := DefaultClientKeytabName(cfg); got != "/env/keytab" {
		t.Errorf("env: %q", got)
	}
	_, path, err := DefaultClientKeytab(cfg)
	if !errors.Is(err, ErrNoCredentials) || path != "/env/keytab" {
		t.Errorf("missing keytab: %q %v", path, err)
	}
	cfg.env = fakeEnv(map[string]string{"KRB5_CLIENT_KTNAME": "MEMORY:kt"})
	if _, _, err := DefaultClientKeytab(cfg); err == nil || !strings.Contains(err.Error(), "MEMORY") {
		t.Errorf("memory keytab: %v", err)
	}
}
