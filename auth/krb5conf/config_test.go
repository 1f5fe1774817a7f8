package krb5conf

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
)

func TestParseMITValues(t *testing.T) {
	cfg, err := Parse(`
# comment before any section
[libdefaults]
	default_realm = EXAMPLE.TEST
	dns_canonicalize_hostname = fallback
	rdns = off
	forwardable = yes
	default_ccache_name = KEYRING:persistent:%{uid}
	default_client_keytab_name = FILE:/etc/krb5/%{euid}.keytab
	default_tkt_enctypes = aes -aes-sha2
	EXAMPLE.TEST = {
		forwardable = false
	}
	ticket_lifetime = 10h
	; second value of a tag: MIT uses the first
	default_realm = OTHER.TEST
[realms]
	EXAMPLE.TEST = {
		kdc = kdc1.example.test
		kdc = kdc2.example.test:750
		auth_to_local = RULE:[1:$1@$0](.*@EXAMPLE\.TEST)s/@.*//
		auth_to_local_names = {
			alice = al
		}
	}
[domain_realm]
	.example.test = EXAMPLE.TEST
	special.example.test = SPECIAL.TEST
[capaths]
	A = {
		B = .
	}
`)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DNSCanonicalizeHostname != CanonicalizeFallback || cfg.RDNS {
		t.Errorf("canonicalize %v rdns %v", cfg.DNSCanonicalizeHostname, cfg.RDNS)
	}
	if !cfg.LibDefaults.Forwardable {
		t.Error("forwardable = yes not applied (the realm subsection must not override it)")
	}
	if cfg.LibDefaults.DefaultRealm != "EXAMPLE.TEST" {
		t.Errorf("default realm %q: first value must win", cfg.LibDefaults.DefaultRealm)
	}
	if cfg.DefaultCCacheName != "KEYRING:persistent:%{uid}" || cfg.DefaultClientKeytabName != "FILE:/etc/krb5/%{euid}.keytab" {
		t.Errorf("names %q %q", cfg.DefaultCCacheName, cfg.DefaultClientKeytabName)
	}
	if want := []int32{etypeID.AES256_CTS_HMAC_SHA1_96, etypeID.AES128_CTS_HMAC_SHA1_96}; !slices.Equal(cfg.LibDefaults.DefaultTktEnctypeIDs, want) {
		t.Errorf("enctypes %v, want %v", cfg.LibDefaults.DefaultTktEnctypeIDs, want)
	}
	if len(cfg.Realms) != 1 || !slices.Equal(cfg.Realms[0].KDC, []string{"kdc1.example.test:88", "kdc2.example.test:750"}) {
		t.Errorf("realms %+v", cfg.Realms)
	}
	for host, want := range map[string]string{
		"web.example.test":     "EXAMPLE.TEST",
		"WEB.Example.Test.":    "EXAMPLE.TEST",
		"special.example.test": "SPECIAL.TEST",
		"elsewhere.invalid":    "EXAMPLE.TEST", // default realm
	} {
		if got := cfg.RealmForHost(host); got != want {
			t.Errorf("RealmForHost(%q) = %q, want %q", host, got, want)
		}
	}
}

func TestParseDefaults(t *testing.T) {
	cfg, err := Parse("")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DNSCanonicalizeHostname != CanonicalizeTrue || !cfg.RDNS || cfg.DefaultCCacheName != "" {
		t.Errorf("defaults: %v %v %q", cfg.DNSCanonicalizeHostname, cfg.RDNS, cfg.DefaultCCacheName)
	}
	for v, want := range map[string]Canonicalization{"true": CanonicalizeTrue, "false": CanonicalizeFalse, "FALLBACK": CanonicalizeFallback, "0": CanonicalizeFalse} {
		cfg, err := Parse("[libdefaults]\ndns_canonicalize_hostname = " + v + "\n")
		if err != nil || cfg.DNSCanonicalizeHostname != want {
			t.Errorf("%s: %v %v", v, cfg, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for name, text := range map[string]string{
		"bad boolean":      "[libdefaults]\nrdns = maybe\n",
		"bad canonicalize": "[libdefaults]\ndns_canonicalize_hostname = sometimes\n",
		"no equals":        "[libdefaults]\njust words\n",
		"unbalanced brace": "[realms]\nR = {\nkdc = x\n",
		"stray brace":      "[realms]\n}\n",
		"missing include":  "include /nonexistent/krb5.conf\n",
	} {
		_, err := Parse(text)
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), "krb5conf: ") {
			t.Errorf("%s: message %q", name, err)
		}
	}
}

func TestIncludes(t *testing.T) {
	dir := t.TempDir()
	incdir := filepath.Join(dir, "krb5.conf.d")
	files := map[string]string{
		"main.conf": "[libdefaults]\n\tdefault_realm = MAIN.TEST\ninclude " + filepath.Join(dir, "extra") + "\n\trdns = false\nincludedir " + incdir + "\n",
		"extra":     "[realms]\n\tMAIN.TEST = {\n\t\tkdc = 10.0.0.1\n\t}\n",
		// includedir takes these...
		"krb5.conf.d/10-realm":    "[domain_realm]\n\tmain.test = MAIN.TEST\n",
		"krb5.conf.d/crypto.conf": "[libdefaults]\n\tdns_canonicalize_hostname = fallback\n",
		"krb5.conf.d/a_b-c":       "[libdefaults]\n\tforwardable = true\n",
		// ...and skips these, as MIT does.
		"krb5.conf.d/backup~":        "[libdefaults]\n\tdefault_realm = WRONG\n",
		"krb5.conf.d/x.conf.rpmsave": "[libdefaults]\n\tdefault_realm = WRONG\n",
		"krb5.conf.d/.hidden":        "[libdefaults]\n\tdefault_realm = WRONG\n",
	}
	for name, content := range files {
		writeFile(t, filepath.Join(dir, name), []byte(content))
	}
	cfg, err := LoadFiles(filepath.Join(dir, "main.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LibDefaults.DefaultRealm != "MAIN.TEST" || cfg.RDNS || !cfg.LibDefaults.Forwardable || cfg.DNSCanonicalizeHostname != CanonicalizeFallback {
		t.Errorf("libdefaults: realm %q rdns %v fwd %v canon %v", cfg.LibDefaults.DefaultRealm, cfg.RDNS, cfg.LibDefaults.Forwardable, cfg.DNSCanonicalizeHostname)
	}
	if len(cfg.Realms) != 1 || cfg.Realms[0].KDC[0] != "10.0.0.1:88" || cfg.RealmForHost("main.test") != "MAIN.TEST" {
		t.Errorf("realms %+v", cfg.Realms)
	}
	wantFiles := []string{"main.conf", "extra", "krb5.conf.d/10-realm", "krb5.conf.d/a_b-c", "krb5.conf.d/crypto.conf"}
	if len(cfg.Files) != len(wantFiles) {
		t.Fatalf("files %v", cfg.Files)
	}
	for i, f := range wantFiles {
		if cfg.Files[i] != filepath.Join(dir, f) {
			t.Errorf("file %d = %s, want %s", i, cfg.Files[i], f)
		}
	}
}

func TestIncludeCycle(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	writeFile(t, a, []byte("include "+b+"\n"))
	writeFile(t, b, []byte("include "+a+"\n"))
	_, err := LoadFiles(a)
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "include cycle") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadEnv(t *testing.T) {
	dir := t.TempDir()
	first, second := filepath.Join(dir, "first"), filepath.Join(dir, "second")
	writeFile(t, first, []byte("[libdefaults]\n default_realm = FIRST.TEST\n"))
	writeFile(t, second, []byte("[libdefaults]\n default_realm = SECOND.TEST\n rdns = false\n"))
	missing := filepath.Join(dir, "missing")
	cfg, err := load(fakeEnv(map[string]string{"KRB5_CONFIG": missing + ":" + first + ":" + second}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LibDefaults.DefaultRealm != "FIRST.TEST" || cfg.RDNS || len(cfg.Files) != 2 {
		t.Errorf("realm %q rdns %v files %v", cfg.LibDefaults.DefaultRealm, cfg.RDNS, cfg.Files)
	}
	// No file at all: MIT runs on defaults.
	cfg, err = load(fakeEnv(map[string]string{"KRB5_CONFIG": missing}))
	if err != nil || len(cfg.Files) != 0 || cfg.LibDefaults.DefaultRealm != "" {
		t.Errorf("all missing: %v %v", cfg, err)
	}
	if _, err := LoadFiles(missing); err == nil {
		t.Error("LoadFiles must fail on a missing file")
	}
}

func TestQuotedValues(t *testing.T) {
	p := &profile{}
	if err := p.parse("[libdefaults]\n x = \"a \\\"b\\\"\\tc\"\n", "t", 0); err != nil {
		t.Fatal(err)
	}
	if v, _ := p.first("libdefaults", "x"); v != "a \"b\"\tc" {
		t.Errorf("got %q", v)
	}
}

func TestExpandEnctypes(t *testing.T) {
	for in, want := range map[string]string{
		"DEFAULT -rc4 -des3 -camellia -aes-sha2": "aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96",
		"aes256-cts,aes128-cts":                  "aes256-cts aes128-cts",
		"des3-cbc-sha1 +rc4":                     "des3-cbc-sha1-kd arcfour-hmac-md5",
	} {
		if got := expandEnctypes(in); got != want {
			t.Errorf("expandEnctypes(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIncludeDirName(t *testing.T) {
	for name, want := range map[string]bool{"a": true, "10-x_y": true, "x.conf": true, ".conf": false, "a.b": false, "a~": false, "": false, "x.conf.bak": false} {
		if includeDirName(name) != want {
			t.Errorf("includeDirName(%q) != %v", name, want)
		}
	}
}

// fakeEnv is an Env with fixed values, for hermetic tests.
func fakeEnv(vars map[string]string) *Env {
	return &Env{
		Getenv:   func(k string) string { return vars[k] },
		UID:      func() int { return 1000 },
		EUID:     func() int { return 1001 },
		Username: func() (string, error) { return "tester", nil },
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCCacheName(t *testing.T) {
	cfg := func(name string, env map[string]string) *Config {
		c, err := Parse("[libdefaults]\n default_ccache_name = " + name + "\n")
		if err != nil {
			t.Fatal(err)
		}
		c.Env = fakeEnv(env)
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
		{"KEYRING:persistent:%{uid}", nil, "KEYRING:persistent:1000"},
		{"FILE:/x/%{unknown}", nil, "FILE:/tmp/krb5cc_1000"}, // MIT's default after a bad token
	} {
		if got := cfg(tc.conf, tc.env).CCacheName(); got != tc.want {
			t.Errorf("conf %q env %v: got %q, want %q", tc.conf, tc.env, got, tc.want)
		}
	}
}

func TestClientKeytabName(t *testing.T) {
	cfg, err := Parse("")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Env = fakeEnv(nil)
	if got, _ := cfg.ClientKeytabName(); got != "FILE:/var/lib/krb5/user/1001/client.keytab" {
		t.Errorf("MIT default: %q", got)
	}
	cfg.DefaultClientKeytabName = "FILE:/etc/ckt/%{uid}"
	if got, _ := cfg.ClientKeytabName(); got != "FILE:/etc/ckt/1000" {
		t.Errorf("config: %q", got)
	}
	cfg.Env = fakeEnv(map[string]string{"KRB5_CLIENT_KTNAME": "/env/keytab"})
	if got, _ := cfg.ClientKeytabName(); got != "/env/keytab" {
		t.Errorf("env: %q", got)
	}
}

func TestExpandPathErrors(t *testing.T) {
	cfg := &Config{Env: fakeEnv(nil)}
	for _, bad := range []string{"/x/%{unknown}", "/x/%{uid"} {
		if _, err := cfg.ExpandPath(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	cfg.Env.Username = func() (string, error) { return "", errors.New("no such user") }
	if _, err := cfg.ExpandPath("%{username}"); err == nil || errors.Is(err, ErrMalformed) {
		t.Errorf("username lookup failure: %v", err)
	}
}

// A nil Env reads the process: KRB5CCNAME set with t.Setenv must be seen.
func TestProcessEnv(t *testing.T) {
	t.Setenv("KRB5CCNAME", "FILE:/from/the/process")
	cfg, err := Parse("")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.CCacheName(); got != "FILE:/from/the/process" {
		t.Errorf("got %q", got)
	}
	if got, _ := cfg.ExpandPath("%{uid}/%{euid}"); got != fmt.Sprintf("%d/%d", os.Getuid(), os.Geteuid()) {
		t.Errorf("uids: %q", got)
	}
}

func TestKDCs(t *testing.T) {
	cfg, err := Parse("[realms]\n A.TEST = {\n  kdc = one\n  kdc = two:750\n }\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.KDCs("A.TEST"); !slices.Equal(got, []string{"one:88", "two:750"}) {
		t.Errorf("KDCs = %q", got)
	}
	if got := cfg.KDCs("B.TEST"); got != nil {
		t.Errorf("unknown realm: %q", got)
	}
}
