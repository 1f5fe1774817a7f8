package authflag

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// ProxyFunc returns the Proxy function of the tools' base transport, as
// curl chooses a proxy: proxyURL (-x/--proxy; "host:port" means
// http://host:port) for every request when given, else the proxy the
// environment names (HTTP_PROXY, HTTPS_PROXY and NO_PROXY, as
// http.ProxyFromEnvironment reads them: it never proxies requests to
// localhost or loopback addresses); and no proxy for hosts noProxy
// (--noproxy, which wins over NO_PROXY) lists. noProxy is curl's list:
// comma-separated host names, each matching itself and its subdomains
// (a leading dot is ignored), IP addresses, CIDR ranges, and "*" for
// every host. Ports in the list are ignored, as curl ignores them.
func ProxyFunc(proxyURL, noProxy string) (func(*http.Request) (*url.URL, error), error) {
	next := http.ProxyFromEnvironment
	if proxyURL != "" {
		if !strings.Contains(proxyURL, "://") {
			proxyURL = "http://" + proxyURL
		}
		u, err := url.Parse(proxyURL)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "socks5") {
			return nil, fmt.Errorf("bad proxy URL %q: want http://host:port, https://host:port or socks5://host:port", proxyURL)
		}
		next = http.ProxyURL(u)
	}
	if noProxy == "" {
		return next, nil
	}
	match := parseNoProxy(noProxy)
	return func(req *http.Request) (*url.URL, error) {
		if match(req.URL.Hostname()) {
			return nil, nil
		}
		return next(req)
	}, nil
}

// parseNoProxy returns whether a host is exempt under list.
func parseNoProxy(list string) func(host string) bool {
	var (
		all   bool
		names []string
		nets  []*net.IPNet
	)
	for _, e := range strings.Split(list, ",") {
		e = strings.ToLower(strings.TrimSpace(e))
		if e == "" {
			continue
		}
		if e == "*" {
			all = true
			continue
		}
		if _, n, err := net.ParseCIDR(e); err == nil {
			nets = append(nets, n)
			continue
		}
		if h, _, err := net.SplitHostPort(e); err == nil {
			e = h
		}
		e = strings.Trim(e, "[]")
		if ip := net.ParseIP(e); ip != nil {
			bits := 8 * len(ip.To16())
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			nets = append(nets, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		names = append(names, strings.TrimSuffix(strings.TrimPrefix(e, "."), "."))
	}
	return func(host string) bool {
		if all {
			return true
		}
		host = strings.TrimSuffix(strings.ToLower(host), ".")
		if ip := net.ParseIP(host); ip != nil {
			for _, n := range nets {
				if n.Contains(ip) {
					return true
				}
			}
			return false
		}
		for _, n := range names {
			if host == n || strings.HasSuffix(host, "."+n) {
				return true
			}
		}
		return false
	}
}
