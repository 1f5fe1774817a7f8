package credentials

import (
	"context"
	"net"
	"strings"

	"github.com/krbhttp/krbhttp/auth/internal/kdc"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
)

// kdcSettings is what the KDC client's locator needs of cfg.
func kdcSettings(cfg *krb5conf.Config) *kdc.Settings {
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
func fallbackRealm(cfg *krb5conf.Config, dns *kdc.DNS) func(ctx context.Context, host string) string {
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
