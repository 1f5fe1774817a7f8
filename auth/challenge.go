package auth

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"unsafe"
)

// maxTokenLen bounds the decoded size of a token taken from a header. Real
// Kerberos tokens with a PAC stay well under 64 KiB; anything larger is
// hostile or broken.
const maxTokenLen = 64 << 10

// challenge is one parsed authentication challenge (RFC 7235 section 2.1).
type challenge struct {
	scheme string
	token  string // token68, "" when absent
}

// parseChallenges splits WWW-Authenticate (or Proxy-Authenticate) header
// values into challenges. Several header lines and comma-joined challenges
// are both allowed, as are auth-params (which are skipped). It is a single
// linear pass, so hostile input cannot make it backtrack.
func parseChallenges(values []string) []challenge {
	var out []challenge
	for _, v := range values {
		for _, item := range splitCommas(v) {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			if isAuthParam(item) {
				continue // belongs to the previous challenge
			}
			scheme, rest, _ := strings.Cut(item, " ")
			rest = strings.TrimSpace(rest)
			c := challenge{scheme: scheme}
			if isToken68(rest) {
				c.token = rest
			}
			out = append(out, c)
		}
	}
	return out
}

// splitCommas splits on commas outside quoted strings.
func splitCommas(s string) []string {
	var parts []string
	start, quoted, escaped := 0, false, false
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case escaped:
			escaped = false
		case quoted && ch == '\\':
			escaped = true
		case ch == '"':
			quoted = !quoted
		case ch == ',' && !quoted:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// isAuthParam reports whether item is "name=value" rather than the start of
// a new challenge ("Scheme ..." or a bare "Scheme").
func isAuthParam(item string) bool {
	eq := strings.IndexByte(item, '=')
	if eq <= 0 {
		return false
	}
	name := strings.TrimRight(item[:eq], " \t")
	return name != "" && !strings.ContainsAny(name, " \t") && eq+1 < len(item) && item[eq+1] != '='
}

// isToken68 reports whether s is a token68: base64-like characters
// followed only by '=' padding.
func isToken68(s string) bool {
	if s == "" {
		return false
	}
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}

// findChallenge finds the first challenge of the given scheme
// (case-insensitive). found is false when the scheme is absent; token is
// "" for a bare "Negotiate".
func findChallenge(h http.Header, field, scheme string) (token string, found bool) {
	for _, c := range parseChallenges(h.Values(field)) {
		if strings.EqualFold(c.scheme, scheme) {
			return c.token, true
		}
	}
	return "", false
}

// decodeToken decodes a token68 taken from a header, accepting missing
// padding, and bounds its size.
func decodeToken(s string) ([]byte, error) {
	if len(s) > base64.StdEncoding.EncodedLen(maxTokenLen) {
		return nil, fmt.Errorf("%w: token of %d characters exceeds the limit", ErrMalformedHeader, len(s))
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: token is not base64", ErrMalformedHeader)
	}
	return b, nil
}

// encodeToken returns the header value "scheme base64(raw)" with one
// allocation (a token goes with every request sent with one). As
// strings.Builder does, the string shares the buffer, which nothing
// writes after.
func encodeToken(scheme Scheme, raw []byte) string {
	b := make([]byte, 0, len(scheme)+1+base64.StdEncoding.EncodedLen(len(raw)))
	b = append(b, scheme...)
	b = append(b, ' ')
	b = base64.StdEncoding.AppendEncode(b, raw)
	return unsafe.String(unsafe.SliceData(b), len(b))
}
