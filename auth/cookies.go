package auth

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"
)

// retryHeader copies h for the request that answers a 401 and adds the
// cookies the 401 set. http.Client's jar only sees them after RoundTrip
// returns, too late for the retry, and a RoundTripper cannot reach the
// jar; so they go through a throwaway net/http/cookiejar, which applies
// the same rules the client's jar would: a cookie is sent only if its
// Domain and Path match u, Secure ones only over https, and an expired
// one (Max-Age <= 0 or Expires in the past) removes the caller's cookie
// of that name instead. Cookies the caller set stay unless the server
// replaced or removed them.
func retryHeader(h http.Header, u *url.URL, resp *http.Response) http.Header {
	set := resp.Cookies()
	if len(set) == 0 {
		return h
	}
	now := time.Now()
	// A nil public suffix list accepts any Domain attribute the host
	// domain-matches, which is all the one URL here needs.
	jar, _ := cookiejar.New(nil)
	jar.SetCookies(u, set)
	fresh := jar.Cookies(u)
	drop := make(map[string]bool, len(set))
	for _, c := range fresh {
		drop[c.Name] = true
	}
	for _, c := range set {
		if expired(c, now) && appliesTo(c, u) {
			drop[c.Name] = true
		}
	}
	parts := make([]string, 0, len(fresh))
	for _, c := range fresh {
		parts = append(parts, (&http.Cookie{Name: c.Name, Value: c.Value}).String())
	}
	for _, c := range (&http.Request{Header: h}).Cookies() {
		if !drop[c.Name] {
			parts = append(parts, c.String())
		}
	}
	out := h.Clone()
	if out == nil {
		out = make(http.Header)
	}
	out.Del("Cookie")
	if len(parts) > 0 {
		out.Set("Cookie", strings.Join(parts, "; "))
	}
	return out
}

func expired(c *http.Cookie, now time.Time) bool {
	return c.MaxAge < 0 || !c.Expires.IsZero() && !c.Expires.After(now)
}

// appliesTo reports whether c, were it alive, would be sent to u.
func appliesTo(c *http.Cookie, u *url.URL) bool {
	alive := *c
	alive.MaxAge, alive.Expires, alive.RawExpires = 0, time.Time{}, ""
	if alive.Value == "" {
		alive.Value = "x"
	}
	jar, _ := cookiejar.New(nil)
	jar.SetCookies(u, []*http.Cookie{&alive})
	return len(jar.Cookies(u)) > 0
}
