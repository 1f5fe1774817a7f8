package credentials

import (
	"context"
	"net"
	"strings"

	"github.com/krbhttp/krbhttp/auth/internal/kdc"
)

// MIT's defaults for DNS discovery (locate_kdc.c; Debian builds without
// --enable-dns-for-realm).
const (
	defaultDNSLookupKDC   = true
	defaultDNSLookupRealm = false
	defaultDNSURILookup   = true
)

// readDiscovery fills the settings that say where KDCs and realms are
// found, which gokrb5 does not read or reads with other defaults:
// dns_lookup_kdc and dns_lookup_realm (with dns_fallback standing in for
// either when unset, as MIT's maybe_use_dns does), dns_uri_lookup, each
// realm's http_anchors and primary_kdc, and [capaths].
func (c *Config) readDiscovery(p *profile) error {
	lookup := func(tag string, def bool) (bool, error) {
		v, ok := p.first("libdefaults", tag)
		if !ok {
			v, ok = p.first("libdefaults", "dns_fallback")
		}
		if !ok {
			return def, nil
		}
		return parseBool(tag, v)
	}
	var err error
	if c.DNSLookupKDC, err = lookup("dns_lookup_kdc", defaultDNSLookupKDC); err != nil {
		return err
	}
	if c.DNSLookupRealm, err = lookup("dns_lookup_realm", defaultDNSLookupRealm); err != nil {
		return err
	}
	c.DNSURILookup = defaultDNSURILookup
	if v, ok := p.first("libdefaults", "dns_uri_lookup"); ok {
		if c.DNSURILookup, err = parseBool("dns_uri_lookup", v); err != nil {
			return err
		}
	}
	// gokrb5 reads dns_lookup_kdc with its own default (false).
	c.LibDefaults.DNSLookupKDC = c.DNSLookupKDC
	c.LibDefaults.DNSLookupRealm = c.DNSLookupRealm
	c.HTTPAnchors = map[string][]string{}
	c.PrimaryKDCs = map[string][]string{}
	if s := p.find("realms"); s != nil {
		for _, r := range s.rels {
			if r.sub == nil {
				continue
			}
			for _, rr := range r.sub.rels {
				switch {
				case rr.sub != nil:
				case rr.tag == "http_anchors":
					c.HTTPAnchors[r.tag] = append(c.HTTPAnchors[r.tag], rr.value)
				case rr.tag == "primary_kdc" || rr.tag == "master_kdc":
					c.PrimaryKDCs[r.tag] = append(c.PrimaryKDCs[r.tag], rr.value)
				}
			}
		}
	}
	c.Capaths = map[string]map[string][]string{}
	if s := p.find("capaths"); s != nil {
		for _, r := range s.rels {
			if r.sub == nil {
				continue
			}
			m := c.Capaths[r.tag]
			if m == nil {
				m = map[string][]string{}
				c.Capaths[r.tag] = m
			}
			for _, rr := range r.sub.rels {
				// MIT takes the realm name up to the first blank.
				if f := strings.Fields(rr.value); rr.sub == nil && len(f) > 0 {
					m[rr.tag] = append(m[rr.tag], f[0])
				}
			}
		}
	}
	return nil
}

// CapathsFor returns the [capaths] values for the way from client realm
// to server realm, in order ("." for a direct trust); nil when there is
// no entry.
func (c *Config) CapathsFor(client, server string) []string {
	if c == nil {
		return nil
	}
	return c.Capaths[client][server]
}

// kdcSettings is what the KDC client's locator needs of cfg.
func kdcSettings(cfg *Config) *kdc.Settings {
	st := &kdc.Settings{
		Realms:             map[string]kdc.RealmSettings{},
		DNSLookupKDC:       cfg.DNSLookupKDC,
		DNSURILookup:       cfg.DNSURILookup,
		UDPPreferenceLimit: cfg.LibDefaults.UDPPreferenceLimit,
	}
	for _, r := range cfg.Realms {
		rs := st.Realms[r.Realm]
		rs.KDCs = append(rs.KDCs, r.KDC...)
		st.Realms[r.Realm] = rs
	}
	for realm, a := range cfg.HTTPAnchors {
		rs := st.Realms[realm]
		rs.HTTPAnchors = a
		st.Realms[realm] = rs
	}
	for realm, p := range cfg.PrimaryKDCs {
		rs := st.Realms[realm]
		rs.PrimaryKDCs = p
		st.Realms[realm] = rs
	}
	return st
}

// fallbackRealm is MIT's krb5_get_fallback_host_realm: a _kerberos TXT
// record for the host or a parent domain (with dns_lookup_realm), else
// the upper-cased parent domain of the host, else the default realm. The
// KDC client asks for it when referrals for a host without a
// [domain_realm] entry fail.
func fallbackRealm(cfg *Config, dns *kdc.DNS) func(ctx context.Context, host string) string {
	return func(ctx context.Context, host string) string {
		host = strings.TrimSuffix(strings.ToLower(host), ".")
		if net.ParseIP(strings.Trim(host, "[]")) != nil {
			return cfg.LibDefaults.DefaultRealm
		}
		if cfg.DNSLookupRealm {
			if r := TXTRealm(ctx, dns, host); r != "" {
				return r
			}
		}
		if _, parent, ok := strings.Cut(host, "."); ok && parent != "" {
			return strings.ToUpper(parent)
		}
		return cfg.LibDefaults.DefaultRealm
	}
}

// maxTXTLabels bounds the parent domains tried for a TXT record.
const maxTXTLabels = 10

// TXTRealm looks up the realm of host in DNS as MIT's dns_lookup_realm
// does: the first string of a _kerberos TXT record for the host, then for
// each parent domain; "" when there is none.
func TXTRealm(ctx context.Context, dns *kdc.DNS, host string) string {
	name := strings.TrimSuffix(host, ".")
	for range maxTXTLabels {
		if name == "" {
			break
		}
		if txt, err := dns.LookupTXT(ctx, "_kerberos."+name); err == nil && len(txt) > 0 && txt[0] != "" {
			return txt[0]
		}
		_, name, _ = strings.Cut(name, ".")
	}
	return ""
}
