package auth

import (
	"context"
	"net"
	"net/url"
	"strings"
	"time"

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
	return t.spnCandidatesFor(ctx, t.cfg.service, host)
}

// spnCandidatesFor is spnCandidates for another service class (a proxy's
// is always HTTP).
func (t *Transport) spnCandidatesFor(ctx context.Context, class, host string) []string {
	service := class + "/"
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

// Canonical names are cached, because krb5.conf's default
// (dns_canonicalize_hostname = true) would otherwise cost one or more DNS
// lookups per request. net.Resolver does not report the records' TTLs, so
// an answer is kept for a fixed canonTTL, short enough that a changed
// CNAME is followed soon; failed lookups are not cached. The cache holds
// at most maxCanonHosts names.
const (
	canonTTL      = time.Minute
	maxCanonHosts = 1024
)

type canonKey struct {
	host string
	rdns bool
}

type canonEntry struct {
	name    string
	expires time.Time
}

// canonicalHost resolves host as MIT's krb5_sname_to_principal does: the
// forward lookup's canonical name, then with rdns the reverse lookup of the
// first address. Any lookup failure leaves the name as it was, as MIT does.
func (t *Transport) canonicalHost(ctx context.Context, host string, rdns bool) string {
	key := canonKey{host, rdns}
	if e, ok := t.canon.get(key); ok && time.Now().Before(e.expires) {
		return e.name
	}
	name, ok := t.lookupCanonical(ctx, host, rdns)
	if ok {
		t.canon.put(key, canonEntry{name: name, expires: time.Now().Add(canonTTL)})
	}
	return name
}

// lookupCanonical does canonicalHost's lookups; ok is false when one of
// them failed.
func (t *Transport) lookupCanonical(ctx context.Context, host string, rdns bool) (name string, ok bool) {
	r := t.cfg.resolver
	if r == nil {
		r = net.DefaultResolver
	}
	name = host
	if net.ParseIP(host) == nil {
		cname, err := r.LookupCNAME(ctx, host)
		if err != nil {
			return host, false
		}
		if cname != "" {
			name = strings.TrimSuffix(strings.ToLower(cname), ".")
		}
	}
	if !rdns {
		return name, true
	}
	addrs, err := r.LookupIPAddr(ctx, name)
	if err != nil || len(addrs) == 0 {
		return name, false
	}
	names, err := r.LookupAddr(ctx, addrs[0].IP.String())
	if err != nil || len(names) == 0 {
		return name, false
	}
	return strings.TrimSuffix(strings.ToLower(names[0]), "."), true
}
