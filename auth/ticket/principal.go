package ticket

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/types"
)

// ErrMalformedName is matched (errors.Is) by every error of
// [ParsePrincipal] and [ParseSPN].
var ErrMalformedName = errors.New("malformed principal name")

// NameError is a principal name that cannot be parsed, and why.
type NameError struct {
	Name   string // as given
	Reason string
}

func (e *NameError) Error() string {
	return fmt.Sprintf("invalid principal name %q: %s", e.Name, e.Reason)
}

// Is makes errors.Is(err, ErrMalformedName) true.
func (e *NameError) Is(target error) bool { return target == ErrMalformedName }

// ParsePrincipal parses a principal name as MIT's krb5_parse_name does:
// components separated by "/", the realm after the first unescaped "@",
// and backslash escapes (\/ \@ \\ \n \t \b \0). A name without a realm
// gets defaultRealm; with neither, it is an error. The name type is
// nameType (a gokrb5 iana/nametype value), since the text does not carry
// one.
func ParsePrincipal(s, defaultRealm string, nameType int32) (types.PrincipalName, string, error) {
	var comps []string
	var cur strings.Builder
	realm, inRealm := "", false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' {
			i++
			if i == len(s) {
				return types.PrincipalName{}, "", &NameError{s, "trailing backslash"}
			}
			switch s[i] {
			case 'n':
				cur.WriteByte('\n')
			case 't':
				cur.WriteByte('\t')
			case 'b':
				cur.WriteByte('\b')
			case '0':
				cur.WriteByte(0)
			default:
				cur.WriteByte(s[i])
			}
			continue
		}
		switch {
		case c == '/' && !inRealm:
			comps = append(comps, cur.String())
			cur.Reset()
		case c == '@' && !inRealm:
			comps = append(comps, cur.String())
			cur.Reset()
			inRealm = true
		case c == '@':
			return types.PrincipalName{}, "", &NameError{s, "more than one @"}
		default:
			cur.WriteByte(c)
		}
	}
	if inRealm {
		realm = cur.String()
		if realm == "" {
			return types.PrincipalName{}, "", &NameError{s, "empty realm after @"}
		}
	} else {
		comps = append(comps, cur.String())
		realm = defaultRealm
	}
	for _, c := range comps {
		if c == "" {
			return types.PrincipalName{}, "", &NameError{s, "empty component"}
		}
	}
	if realm == "" {
		return types.PrincipalName{}, "", &NameError{s, "no realm given and no default realm (default_realm in krb5.conf)"}
	}
	return types.PrincipalName{NameType: nameType, NameString: comps}, realm, nil
}

// ParseSPN parses a service principal name, "service/host" or
// "service/host@REALM", with the name type KRB_NT_SRV_HST that MIT's
// krb5_sname_to_principal gives. The realm is "" when the name has none:
// which realm serves a host is the caller's decision (krb5.conf's
// domain_realm, or a referral).
func ParseSPN(spn string) (types.PrincipalName, string, error) {
	// A placeholder default realm lets ParsePrincipal accept a realm-less
	// name; NUL cannot come out of the text as a realm unescaped.
	const none = "\x00"
	name, realm, err := ParsePrincipal(spn, none, nametype.KRB_NT_SRV_HST)
	if err != nil {
		return name, "", err
	}
	if len(name.NameString) < 2 {
		return name, "", &NameError{spn, "a service principal is service/host"}
	}
	if realm == none {
		realm = ""
	}
	return name, realm, nil
}

// PrincipalString writes name@realm as MIT's krb5_unparse_name does:
// components joined by "/", and "/", "@", "\" and control characters
// inside components and realm escaped, so that [ParsePrincipal] gives the
// name back.
func PrincipalString(name types.PrincipalName, realm string) string {
	// One allocation: the common name has nothing to escape, and the
	// acceptor writes names on every request.
	n := len(name.NameString) + len(realm)
	for _, c := range name.NameString {
		n += len(c)
	}
	var b strings.Builder
	b.Grow(n)
	for i, c := range name.NameString {
		if i > 0 {
			b.WriteByte('/')
		}
		writeEscaped(&b, c)
	}
	b.WriteByte('@')
	writeEscaped(&b, realm)
	return b.String()
}

func writeEscaped(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '/', '@', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case 0:
			b.WriteString(`\0`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		default:
			b.WriteByte(c)
		}
	}
}
