package kdc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Protocol is how a KDC is reached.
type Protocol int

const (
	// ProtoAny: UDP or TCP, chosen per request (a krb5.conf host entry).
	ProtoAny Protocol = iota
	ProtoUDP
	ProtoTCP
	// ProtoKKDCP: MS-KKDCP, a KDC proxy over HTTPS.
	ProtoKKDCP
)

// Server is one KDC (or KDC proxy) of a realm.
type Server struct {
	Protocol Protocol
	Addr     string // host:port, for UDP and TCP
	URL      string // https://host:port/path, for a KDC proxy
	Primary  bool   // announced as the primary KDC (URI flag "m")
}

func (s Server) String() string {
	if s.Protocol == ProtoKKDCP {
		return s.URL
	}
	return s.Addr
}

// Settings are the krb5.conf relations that say where a realm's KDCs are,
// with MIT's defaults when made by [DefaultSettings].
type Settings struct {
	// Realms holds the [realms] section, by realm name.
	Realms map[string]RealmSettings
	// DNSLookupKDC is [libdefaults] dns_lookup_kdc: locate KDCs through DNS
	// when a realm lists none (MIT's default: true).
	DNSLookupKDC bool
	// DNSURILookup is [libdefaults] dns_uri_lookup: try URI records before
	// SRV records (MIT's default: true).
	DNSURILookup bool
	// UDPPreferenceLimit is [libdefaults] udp_preference_limit; zero
	// means DefaultUDPPreferenceLimit.
	UDPPreferenceLimit int
}

// RealmSettings is one realm's subsection of [realms].
type RealmSettings struct {
	// KDCs are the kdc values in order: "host", "host:port", "[v6]:port"
	// or a KDC proxy "https://host[:port][/path]".
	KDCs []string
	// PrimaryKDCs are primary_kdc (or master_kdc) values.
	PrimaryKDCs []string
	// HTTPAnchors are http_anchors values ("FILE:ca.pem", "DIR:/certs",
	// "ENV:VAR"): the only certificates a KDC proxy of the realm is
	// verified against. None: the system's roots.
	HTTPAnchors []string
}

// DefaultSettings returns MIT's defaults: DNS lookups of KDCs (URI, then
// SRV) on, no realm configured.
func DefaultSettings() *Settings {
	return &Settings{Realms: map[string]RealmSettings{}, DNSLookupKDC: true, DNSURILookup: true}
}

// settings returns t.Settings, or what gokrb5's Config says.
func (t *NetTransport) settings() *Settings {
	if t.Settings != nil {
		return t.Settings
	}
	s := &Settings{Realms: map[string]RealmSettings{}, DNSURILookup: true}
	if t.Config == nil {
		return s
	}
	s.DNSLookupKDC = t.Config.LibDefaults.DNSLookupKDC
	s.UDPPreferenceLimit = t.Config.LibDefaults.UDPPreferenceLimit
	for _, r := range t.Config.Realms {
		rs := s.Realms[r.Realm]
		rs.KDCs = append(rs.KDCs, r.KDC...)
		rs.PrimaryKDCs = append(rs.PrimaryKDCs, r.MasterKDC...)
		s.Realms[r.Realm] = rs
	}
	return s
}

// ParseKDC parses a krb5.conf kdc value as MIT's locate_srv_conf_1 does:
// "https://host[:port][/path]" is a KDC proxy (port 443 by default),
// anything else host[:port] (port 88). A trailing "*" (gokrb5 keeps
// profile final markers) is ignored.
func ParseKDC(v string) (Server, error) {
	v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "*"))
	if v == "" {
		return Server{}, errors.New("empty kdc value")
	}
	if strings.HasPrefix(v, "https://") {
		return parseProxyURL(v)
	}
	if strings.HasPrefix(v, "/") {
		return Server{}, fmt.Errorf("kdc %q: UNIX-domain sockets are not supported", v)
	}
	if strings.Contains(v, "://") {
		return Server{}, fmt.Errorf("kdc %q: only https:// URLs (a KDC proxy) are understood", v)
	}
	return Server{Protocol: ProtoAny, Addr: normalizeAddr(v)}, nil
}

func parseProxyURL(v string) (Server, error) {
	u, err := url.Parse(v)
	if err != nil {
		return Server{}, fmt.Errorf("kdc %q: %w", v, err)
	}
	if u.Host == "" || u.Hostname() == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return Server{}, fmt.Errorf("kdc %q: want https://host[:port][/path]", v)
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), "443")
	} else if p, err := strconv.Atoi(u.Port()); err != nil || p <= 0 || p > 65535 {
		return Server{}, fmt.Errorf("kdc %q: bad port", v)
	}
	if u.Path == "" {
		u.Path = "/"
	}
	return Server{Protocol: ProtoKKDCP, URL: u.String()}, nil
}

// normalizeAddr turns a krb5.conf kdc value into host:port. gokrb5 already
// appends ":88" when no port is given, but cannot tell an IPv6 literal's
// colons from a port.
func normalizeAddr(v string) string {
	v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "*"))
	if v == "" {
		return ""
	}
	if strings.HasPrefix(v, "[") {
		if _, _, err := net.SplitHostPort(v); err == nil {
			return v
		}
		return net.JoinHostPort(strings.Trim(strings.TrimSuffix(v, ":88"), "[]"), "88")
	}
	if strings.Count(v, ":") > 1 {
		// An IPv6 literal without brackets; gokrb5 may have added ":88".
		host := strings.TrimSuffix(v, ":88")
		if net.ParseIP(host) != nil {
			return net.JoinHostPort(host, "88")
		}
		return net.JoinHostPort(v, "88")
	}
	if _, _, err := net.SplitHostPort(v); err == nil {
		return v
	}
	return net.JoinHostPort(v, "88")
}

// ErrNoService: DNS says the realm offers no KDC (an SRV record whose
// target is ".", RFC 2782).
var ErrNoService = errors.New("realm announces no KDC service in DNS")

// Locate lists the KDCs of realm as MIT's locate_server does: krb5.conf
// first; when it lists none and dns_lookup_kdc is on, DNS URI records
// (_kerberos.REALM, when dns_uri_lookup is on), then SRV records
// (_kerberos._udp.REALM, then _kerberos._tcp.REALM). primary asks for the
// primary KDCs (primary_kdc, URI entries flagged "m",
// _kerberos-master SRV records). At most maxKDCs servers are returned.
func (t *NetTransport) Locate(ctx context.Context, realm string, primary bool) ([]Server, error) {
	return t.locate(ctx, realm, primary)
}

func (t *NetTransport) locate(ctx context.Context, realm string, primary bool) ([]Server, error) {
	if realm == "" {
		return nil, errors.New("no realm given")
	}
	st := t.settings()
	rs := st.Realms[realm]
	listed := rs.KDCs
	if primary {
		listed = rs.PrimaryKDCs
	}
	var out []Server
	var bad []error
	for _, v := range listed {
		s, err := ParseKDC(v)
		if err != nil {
			bad = append(bad, err)
			continue
		}
		s.Primary = primary
		out = appendServer(out, s)
	}
	if len(listed) > 0 {
		if len(out) == 0 {
			return nil, fmt.Errorf("no usable kdc entry for realm %s: %w", realm, errors.Join(bad...))
		}
		return capServers(out), nil
	}
	if !st.DNSLookupKDC {
		return nil, fmt.Errorf("no KDC known for realm %s (none in krb5.conf, dns_lookup_kdc off)", realm)
	}
	dns := t.DNS
	if dns == nil {
		dns = &DNS{}
	}
	var dnsErrs []error
	if st.DNSURILookup {
		uris, err := dns.LookupURI(ctx, "_kerberos."+realm)
		if err != nil {
			dnsErrs = append(dnsErrs, err)
		}
		for _, u := range uris {
			s, ok := parseKrb5srv(u.Target)
			if !ok || (primary && !s.Primary) {
				continue
			}
			out = appendServer(out, s)
		}
	}
	if len(out) == 0 {
		service := "_kerberos"
		if primary {
			service = "_kerberos-master"
		}
		for _, proto := range []Protocol{ProtoUDP, ProtoTCP} {
			name := service + "._udp." + realm
			if proto == ProtoTCP {
				name = service + "._tcp." + realm
			}
			srvs, err := dns.LookupSRV(ctx, name)
			if err != nil {
				dnsErrs = append(dnsErrs, err)
				continue
			}
			if len(srvs) == 1 && srvs[0].Target == "." {
				return nil, fmt.Errorf("%s: %w", name, ErrNoService)
			}
			for _, r := range srvs {
				if r.Target == "." || r.Port == 0 {
					continue
				}
				out = appendServer(out, Server{Protocol: proto, Addr: net.JoinHostPort(strings.TrimSuffix(r.Target, "."), strconv.Itoa(int(r.Port))), Primary: primary})
			}
		}
	}
	if len(out) == 0 {
		if err := ctx.Err(); err != nil {
			return nil, context.Cause(ctx)
		}
		what := "KDC"
		if primary {
			what = "primary KDC"
		}
		msg := fmt.Sprintf("no %s known for realm %s (none in krb5.conf, none in DNS)", what, realm)
		if len(dnsErrs) > 0 {
			return nil, fmt.Errorf("%s: %w", msg, errors.Join(dnsErrs...))
		}
		return nil, errors.New(msg)
	}
	return capServers(out), nil
}

func appendServer(list []Server, s Server) []Server {
	for _, v := range list {
		if v.Protocol == s.Protocol && v.Addr == s.Addr && v.URL == s.URL {
			return list
		}
	}
	return append(list, s)
}

func capServers(s []Server) []Server {
	if len(s) > maxKDCs {
		return s[:maxKDCs]
	}
	return s
}

// parseKrb5srv parses the target of a Kerberos URI record (MIT's
// parse_uri_fields): "krb5srv:FLAGS:TRANSPORT:RESIDUAL", FLAGS holding "m"
// for a primary KDC, TRANSPORT udp, tcp or kkdcp, RESIDUAL host[:port] or,
// for kkdcp, an https URL. Anything else is skipped, as MIT does.
func parseKrb5srv(target string) (Server, bool) {
	scheme, rest, ok := strings.Cut(target, ":")
	if !ok || !strings.EqualFold(scheme, "krb5srv") {
		return Server{}, false
	}
	flags, rest, ok := strings.Cut(rest, ":")
	if !ok {
		return Server{}, false
	}
	transport, residual, ok := strings.Cut(rest, ":")
	if !ok || residual == "" {
		return Server{}, false
	}
	s := Server{Primary: strings.ContainsAny(flags, "mM")}
	switch strings.ToLower(transport) {
	case "udp", "tcp":
		if strings.Contains(residual, "/") {
			return Server{}, false
		}
		s.Protocol = ProtoUDP
		if strings.EqualFold(transport, "tcp") {
			s.Protocol = ProtoTCP
		}
		s.Addr = normalizeAddr(residual)
		host, _, err := net.SplitHostPort(s.Addr)
		if err != nil || host == "" {
			return Server{}, false
		}
	case "kkdcp":
		if !strings.HasPrefix(residual, "https://") {
			return Server{}, false
		}
		p, err := parseProxyURL(residual)
		if err != nil {
			return Server{}, false
		}
		s.Protocol, s.URL = ProtoKKDCP, p.URL
	default:
		return Server{}, false
	}
	return s, true
}
