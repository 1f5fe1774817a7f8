package krb5conf

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/jcmturner/gokrb5/v8/config"
)

// Canonicalization is MIT's dns_canonicalize_hostname setting: whether a
// host name is replaced by its DNS canonical name before it becomes part
// of a service principal name.
type Canonicalization int

const (
	// CanonicalizeTrue: always use the canonical name (MIT's default).
	CanonicalizeTrue Canonicalization = iota
	// CanonicalizeFalse: use the name as given.
	CanonicalizeFalse
	// CanonicalizeFallback: the name as given first, the canonical name
	// if the KDC does not know the first.
	CanonicalizeFallback
)

func (c Canonicalization) String() string {
	switch c {
	case CanonicalizeTrue:
		return "true"
	case CanonicalizeFalse:
		return "false"
	case CanonicalizeFallback:
		return "fallback"
	}
	return fmt.Sprintf("Canonicalization(%d)", int(c))
}

// Config is a krb5.conf as MIT reads it. The embedded gokrb5 config
// carries what gokrb5 understands (realms, KDCs, domain_realm, enctypes,
// lifetimes), filled from this package's parser rather than gokrb5's; the
// fields below are what gokrb5 gets wrong or does not read.
type Config struct {
	*config.Config
	// DNSCanonicalizeHostname is [libdefaults] dns_canonicalize_hostname
	// (default CanonicalizeTrue). gokrb5 fails on "fallback".
	DNSCanonicalizeHostname Canonicalization
	// RDNS is [libdefaults] rdns (default true): canonicalize through a
	// reverse lookup too.
	RDNS bool
	// DefaultCCacheName is [libdefaults] default_ccache_name as written
	// (tokens such as %{uid} not yet expanded); empty when not set. See
	// [Config.CCacheName] for the name MIT would use.
	DefaultCCacheName string
	// DefaultClientKeytabName is [libdefaults] default_client_keytab_name
	// as written; empty when not set. See [Config.ClientKeytabName].
	DefaultClientKeytabName string
	// Files lists the files read, includes too, in reading order.
	Files []string
	// Env is where the environment variables and user ids that MIT's
	// rules consult come from; nil means this process's.
	Env *Env
}

// Load loads the configuration as MIT's library does: the files listed in
// KRB5_CONFIG (colon-separated) if set, else /etc/krb5.conf. Files that do
// not exist or cannot be read are skipped; when none is left the
// configuration is empty (all defaults), as with MIT.
func Load() (*Config, error) { return load(nil) }

func load(env *Env) (*Config, error) {
	list := "/etc/krb5.conf"
	if v := env.getenv("KRB5_CONFIG"); v != "" {
		list = v
	}
	var paths []string
	for _, p := range filepath.SplitList(list) {
		if p == "" {
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
				continue
			}
			return nil, fmt.Errorf("krb5conf: %w", err)
		}
		_ = f.Close()
		paths = append(paths, p)
	}
	cfg, err := LoadFiles(paths...)
	if err != nil {
		return nil, err
	}
	cfg.Env = env
	return cfg, nil
}

// LoadFiles loads and merges the given files; unlike [Load], every file
// must exist. Earlier files win where values conflict.
func LoadFiles(paths ...string) (*Config, error) {
	p := &profile{}
	for _, path := range paths {
		if err := p.parseFile(path, 0); err != nil {
			return nil, fmt.Errorf("krb5conf: %w", err)
		}
	}
	return fromProfile(p)
}

// Parse parses krb5.conf text. include and includedir directives in it are
// followed (relative paths from the working directory).
func Parse(text string) (*Config, error) {
	p := &profile{}
	if err := p.parse(text, "krb5.conf", 0); err != nil {
		return nil, fmt.Errorf("krb5conf: %w", err)
	}
	return fromProfile(p)
}

func fromProfile(p *profile) (*Config, error) {
	fail := func(err error) (*Config, error) { return nil, fmt.Errorf("krb5conf: %w", err) }
	text, err := p.gokrb5Text()
	if err != nil {
		return fail(err)
	}
	gc, err := config.NewFromString(text)
	if err != nil {
		// gokrb5 reports directives it skips (v4 realm settings) as an
		// error next to a usable config.
		var unsupported config.UnsupportedDirective
		if !errors.As(err, &unsupported) || gc == nil {
			return fail(fmt.Errorf("%w: %w", ErrMalformed, err))
		}
	}
	c := &Config{Config: gc, RDNS: true, Files: p.files}
	if v, ok := p.first("libdefaults", "dns_canonicalize_hostname"); ok {
		if strings.EqualFold(v, "fallback") {
			c.DNSCanonicalizeHostname = CanonicalizeFallback
		} else if b, err := parseBool("dns_canonicalize_hostname", v); err != nil {
			return fail(err)
		} else if !b {
			c.DNSCanonicalizeHostname = CanonicalizeFalse
		}
	}
	if v, ok := p.first("libdefaults", "rdns"); ok {
		b, err := parseBool("rdns", v)
		if err != nil {
			return fail(err)
		}
		c.RDNS = b
	}
	c.DefaultCCacheName, _ = p.first("libdefaults", "default_ccache_name")
	c.DefaultClientKeytabName, _ = p.first("libdefaults", "default_client_keytab_name")
	// gokrb5 keeps its own compiled-in default; keep it in step with what
	// MIT would use when the file names one.
	if c.DefaultClientKeytabName != "" {
		c.LibDefaults.DefaultClientKeytabName = c.DefaultClientKeytabName
	}
	return c, nil
}

// RealmForHost maps a host name to its realm through [domain_realm] (the
// longest matching entry, exact host first), else the default realm.
func (c *Config) RealmForHost(host string) string {
	if r := c.DomainRealm(host); r != "" {
		return r
	}
	return c.LibDefaults.DefaultRealm
}

// DomainRealm is the realm [domain_realm] maps host to, or "" when no
// entry matches: RealmForHost without the default-realm fallback, for
// callers that prefer another fallback (the client's own realm, whose KDC
// may refer them on).
func (c *Config) DomainRealm(host string) string {
	return c.ResolveRealm(strings.TrimSuffix(strings.ToLower(host), "."))
}

// KDCs returns the kdc entries of realm in [realms], as host:port, in the
// order written; nil when the realm has none (DNS may still know some:
// dns_lookup_kdc).
func (c *Config) KDCs(realm string) []string {
	for _, r := range c.Realms {
		if r.Realm == realm {
			return r.KDC
		}
	}
	return nil
}

var (
	mitTrue  = []string{"y", "yes", "true", "t", "1", "on"}
	mitFalse = []string{"n", "no", "false", "nil", "0", "off"}
)

// parseBool accepts MIT's boolean spellings (profile_parse_boolean).
func parseBool(tag, v string) (bool, error) {
	l := strings.ToLower(strings.TrimSpace(v))
	switch {
	case slices.Contains(mitTrue, l):
		return true, nil
	case slices.Contains(mitFalse, l):
		return false, nil
	}
	return false, fmt.Errorf("%w: [libdefaults] %s = %q is not a boolean", ErrMalformed, tag, v)
}

// libdefaults booleans that gokrb5 parses with strconv.ParseBool, which
// rejects MIT spellings such as "on" or "nil".
var boolTags = []string{
	"allow_weak_crypto", "canonicalize", "dns_lookup_kdc", "dns_lookup_realm",
	"forwardable", "ignore_acceptor_hostname", "k5login_authoritative",
	"noaddresses", "proxiable", "rdns", "verify_ap_req_nofail",
}

var enctypeTags = []string{"default_tkt_enctypes", "default_tgs_enctypes", "permitted_enctypes"}

// realmTags are the [realms] relations gokrb5 reads.
var realmTags = []string{"kdc", "admin_server", "kpasswd_server", "master_kdc", "default_domain"}

// gokrb5Text renders the profile in the subset of the syntax gokrb5 parses
// correctly: one section each, first value of each libdefaults tag (MIT's
// precedence, where gokrb5 would let the last one win), no subsections in
// libdefaults, booleans and enctype lists normalized, and
// dns_canonicalize_hostname left out (it is read here, and gokrb5 fails on
// "fallback").
func (p *profile) gokrb5Text() (string, error) {
	var b strings.Builder
	safe := func(v string) bool { return !strings.ContainsAny(v, "\n#;=") }
	b.WriteString("[libdefaults]\n")
	if s := p.find("libdefaults"); s != nil {
		var seen []string
		for _, r := range s.rels {
			if r.sub != nil || slices.Contains(seen, r.tag) {
				continue
			}
			seen = append(seen, r.tag)
			tag, v := strings.ToLower(r.tag), r.value
			switch {
			case tag == "dns_canonicalize_hostname":
				continue
			case slices.Contains(boolTags, tag):
				on, err := parseBool(tag, v)
				if err != nil {
					return "", err
				}
				v = fmt.Sprint(on)
			case slices.Contains(enctypeTags, tag):
				v = expandEnctypes(v)
			}
			if safe(v) {
				fmt.Fprintf(&b, "  %s = %s\n", tag, v)
			}
		}
	}
	b.WriteString("[realms]\n")
	if s := p.find("realms"); s != nil {
		for _, r := range s.rels {
			if r.sub == nil || !safe(r.tag) || strings.ContainsAny(r.tag, "{}") {
				continue
			}
			fmt.Fprintf(&b, "  %s = {\n", r.tag)
			for _, rr := range r.sub.rels {
				if rr.sub == nil && slices.Contains(realmTags, rr.tag) && safe(rr.value) && !strings.ContainsAny(rr.value, "{}") {
					fmt.Fprintf(&b, "    %s = %s\n", rr.tag, rr.value)
				}
			}
			b.WriteString("  }\n")
		}
	}
	b.WriteString("[domain_realm]\n")
	if s := p.find("domain_realm"); s != nil {
		var seen []string
		for _, r := range s.rels {
			tag := strings.ToLower(r.tag)
			if r.sub != nil || slices.Contains(seen, tag) || !safe(tag) || !safe(r.value) {
				continue
			}
			seen = append(seen, tag)
			fmt.Fprintf(&b, "  %s = %s\n", tag, r.value)
		}
	}
	return b.String(), nil
}

// MIT's enctype families (krb5_string_to_enctype plus the list syntax of
// krb5.conf), spelled as gokrb5 knows the members.
var enctypeFamilies = map[string][]string{
	"default":  {"aes256-cts-hmac-sha1-96", "aes128-cts-hmac-sha1-96", "aes256-cts-hmac-sha384-192", "aes128-cts-hmac-sha256-128", "des3-cbc-sha1-kd", "arcfour-hmac-md5", "camellia256-cts-cmac", "camellia128-cts-cmac"},
	"aes":      {"aes256-cts-hmac-sha1-96", "aes128-cts-hmac-sha1-96", "aes256-cts-hmac-sha384-192", "aes128-cts-hmac-sha256-128"},
	"aes-sha1": {"aes256-cts-hmac-sha1-96", "aes128-cts-hmac-sha1-96"},
	"aes-sha2": {"aes256-cts-hmac-sha384-192", "aes128-cts-hmac-sha256-128"},
	"rc4":      {"arcfour-hmac-md5"},
	"des3":     {"des3-cbc-sha1-kd"},
	"camellia": {"camellia256-cts-cmac", "camellia128-cts-cmac"},
	"des":      {"des-cbc-crc", "des-cbc-md5", "des-cbc-md4"},
	// gokrb5 maps this MIT name to the old non-KD enctype 7.
	"des3-cbc-sha1": {"des3-cbc-sha1-kd"},
}

// expandEnctypes turns an MIT enctype list (names, families, "+x", "-x",
// separated by spaces or commas) into the explicit names gokrb5 parses;
// gokrb5 silently drops family names, which can leave no enctype at all.
func expandEnctypes(v string) string {
	var out []string
	for _, w := range strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' }) {
		w = strings.ToLower(w)
		remove := strings.HasPrefix(w, "-")
		w = strings.TrimLeft(w, "+-")
		names, ok := enctypeFamilies[w]
		if !ok {
			names = []string{w}
		}
		for _, n := range names {
			if remove {
				out = slices.DeleteFunc(out, func(s string) bool { return s == n })
			} else if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return strings.Join(out, " ")
}
