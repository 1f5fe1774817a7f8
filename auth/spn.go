package auth

import (
	"context"
	"net"
	"net/url"
	"strings"

	"github.com/krbhttp/krbhttp/auth/krb5conf"
)

// urlHost is the host part of u as the SPN wants it: lowercase, no port,
// no IPv6 brackets, no trailing dot.
func urlHost(u *url.URL) string {
	return strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
}

// spnCandidates lists the service principal names to try for host, in
// order, following MIT's dns_canonicalize_hostname and rdns settings: with
// "true" only the canonical name is used, with "false" only the given name,
// and with "fallback" the given name first and the canonical one when the
// KDC does not know the first.
func (t *Transport) spnCandidates(ctx context.Context, host string) []string {
	service := t.cfg.service + "/"
	mode := krb5conf.CanonicalizeFalse
	rdns := false
	if kc := t.krb5conf(); kc != nil {
		mode, rdns = kc.DNSCanonicalizeHostname, kc.RDNS
	}
	switch mode {
	case krb5conf.CanonicalizeFalse:
		return []string{service + host}
	case krb5conf.CanonicalizeFallback:
		c := t.canonicalHost(ctx, host, rdns)
		if c == host {
			return []string{service + host}
		}
		return []string{service + host, service + c}
	default:
		return []string{service + t.canonicalHost(ctx, host, rdns)}
	}
}

// canonicalHost resolves host as MIT's krb5_sname_to_principal does: the
// forward lookup's canonical name, then with rdns the reverse lookup of the
// first address. Any lookup failure leaves the name as it was, as MIT does.
func (t *Transport) canonicalHost(ctx context.Context, host string, rdns bool) string {
	r := t.cfg.resolver
	if r == nil {
		r = net.DefaultResolver
	}
	name := host
	if net.ParseIP(host) == nil {
		if cname, err := r.LookupCNAME(ctx, host); err == nil && cname != "" {
			name = strings.TrimSuffix(strings.ToLower(cname), ".")
		}
	}
	if !rdns {
		return name
	}
	addrs, err := r.LookupIPAddr(ctx, name)
	if err != nil || len(addrs) == 0 {
		return name
	}
	names, err := r.LookupAddr(ctx, addrs[0].IP.String())
	if err != nil || len(names) == 0 {
		return name
	}
	return strings.TrimSuffix(strings.ToLower(names[0]), ".")
}
