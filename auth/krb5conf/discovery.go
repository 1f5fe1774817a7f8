package krb5conf

import "strings"

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
