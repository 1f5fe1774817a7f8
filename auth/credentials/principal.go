package credentials

import (
	"fmt"
	"strings"

	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth/internal/ccache"
)

// parsePrincipal parses a principal as MIT's krb5_parse_name does:
// components separated by "/", the realm after the last unescaped "@", and
// backslash escapes (\/ \@ \\ \n \t \b \0). Without a realm, defaultRealm
// is used.
func parsePrincipal(s, defaultRealm string, nameType int32) (types.PrincipalName, string, error) {
	var comps []string
	var cur strings.Builder
	realm, hasRealm := "", false
	inRealm := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' {
			i++
			if i == len(s) {
				return types.PrincipalName{}, "", principalError(s, "trailing backslash")
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
			inRealm, hasRealm = true, true
		case c == '@':
			return types.PrincipalName{}, "", principalError(s, "more than one @")
		default:
			cur.WriteByte(c)
		}
	}
	if inRealm {
		realm = cur.String()
	} else {
		comps = append(comps, cur.String())
	}
	for _, c := range comps {
		if c == "" {
			return types.PrincipalName{}, "", principalError(s, "empty component")
		}
	}
	if !hasRealm {
		realm = defaultRealm
	}
	if realm == "" {
		return types.PrincipalName{}, "", principalError(s, "no realm given and no default_realm in krb5.conf")
	}
	return types.PrincipalName{NameType: nameType, NameString: comps}, realm, nil
}

func principalError(s, why string) error {
	return withSentinel(ErrMalformed, fmt.Sprintf("invalid principal name %q: %s", s, why), nil)
}

// principalString writes name@realm with MIT's escaping.
func principalString(name types.PrincipalName, realm string) string {
	return ccache.Principal{Components: name.NameString, Realm: realm}.String()
}

// parseSPN parses "service/host" or "service/host@REALM", the name type
// being KRB_NT_SRV_HST as MIT's krb5_sname_to_principal gives.
func parseSPN(spn string) (types.PrincipalName, string, error) {
	// A placeholder default realm lets parsePrincipal accept a realm-less
	// name; the caller picks the realm from the host.
	const none = "\x00"
	name, realm, err := parsePrincipal(spn, none, nametype.KRB_NT_SRV_HST)
	if err != nil {
		return name, "", err
	}
	if len(name.NameString) < 2 {
		return name, "", withSentinel(ErrMalformed, fmt.Sprintf("invalid service principal name %q: want service/host", spn), nil)
	}
	if realm == none {
		realm = ""
	}
	return name, realm, nil
}
