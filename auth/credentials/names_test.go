package credentials

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/krbhttp/krbhttp/auth/krb5conf"
	"github.com/krbhttp/krbhttp/auth/ticket"
)

// parseCCacheName and resolveCCache add this package's policy to
// ccache.ParseName: which types it reads, and which sentinel each refusal
// matches.
func TestParseCCacheName(t *testing.T) {
	cfg, err := krb5conf.Parse("[libdefaults]\n kcm_socket = /run/test-kcm\n")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"FILE:/tmp/cc":            "FILE:/tmp/cc",
		"/tmp/cc":                 "FILE:/tmp/cc",
		"DIR::/run/cc/tktABC":     "DIR::/run/cc/tktABC",
		"KCM:1000":                "KCM:1000",
		"KCM:1000:x":              "KCM:1000:x",
		"KEYRING:session:a:b":     "KEYRING:session:a:b",
		"MEMORY:x":                "MEMORY:x",
		"DIR:/run/cc":             "collection DIR:/run/cc",
		"KCM:":                    "collection KCM:",
		"KEYRING:persistent:1000": "collection KEYRING:persistent:1000",
		"KEYRING:legacy":          "collection KEYRING:legacy:legacy",
		"KEYRING:process:":        "collection KEYRING:process:",
	} {
		n, err := parseCCacheName(name)
		if err != nil || n.String() != name {
			t.Errorf("%q: %v %v", name, n, err)
			continue
		}
		target, err := resolveCCache(n, cfg)
		var got string
		switch {
		case err != nil:
			got = err.Error()
		case target.single != nil:
			got = target.single.Name()
		default:
			got = "collection " + target.coll.Name()
		}
		if got != want {
			t.Errorf("%q resolves to %q, want %q", name, got, want)
		}
	}
	for _, name := range []string{"API:y", "MSLSA:"} {
		n, err := parseCCacheName(name)
		if err == nil {
			_, err = resolveCCache(n, cfg)
		}
		typ, _, _ := strings.Cut(name, ":")
		if !errors.Is(err, ErrUnsupportedCCache) || !strings.Contains(err.Error(), typ+":") {
			t.Errorf("%q: err = %v", name, err)
		}
	}
	n, _ := parseCCacheName("KEYRING:bogus:x")
	if _, err := resolveCCache(n, cfg); !errors.Is(err, ErrMalformed) {
		t.Errorf("unknown keyring anchor: %v", err)
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
	cfg, err := krb5conf.Parse(testConf)
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

func TestDefaultClientKeytab(t *testing.T) {
	cfg, err := krb5conf.Parse("")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Env = fakeEnv(map[string]string{"KRB5_CLIENT_KTNAME": "/env/keytab"})
	_, name, err := DefaultClientKeytab(cfg)
	if !errors.Is(err, ErrNoCredentials) || name != "/env/keytab" {
		t.Errorf("missing keytab: %q %v", name, err)
	}
	cfg.Env = fakeEnv(map[string]string{"KRB5_CLIENT_KTNAME": "MEMORY:kt"})
	if _, _, err := DefaultClientKeytab(cfg); err == nil || !strings.Contains(err.Error(), "MEMORY") {
		t.Errorf("memory keytab: %v", err)
	}
	cfg.Env = fakeEnv(map[string]string{"KRB5_CLIENT_KTNAME": "FILE:/x/%{nonsense}"})
	if _, _, err := DefaultClientKeytab(cfg); !errors.Is(err, ErrMalformed) {
		t.Errorf("bad token: %v", err)
	}
}

func TestLoadKeytab(t *testing.T) {
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt")
	// A keytab header (0x0502) and an entry length that runs past the end.
	writeFile(t, corrupt, []byte{5, 2, 0, 0, 0, 40, 0, 1})
	for _, name := range []string{corrupt, "FILE:" + corrupt, "WRFILE:" + corrupt} {
		if _, err := LoadKeytab(name); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := LoadKeytab(filepath.Join(dir, "missing")); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("missing: %v", err)
	}
	// A drive letter is no keytab type (MIT's rule): a missing file.
	if _, err := LoadKeytab(`C:\missing\krb5.keytab`); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("drive letter: %v", err)
	}
}
