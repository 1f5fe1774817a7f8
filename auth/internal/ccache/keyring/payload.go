package keyring

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/krbhttp/krbhttp/auth/internal/ccache"
)

// indexVersion is the version of MIT's primary index (krb_ccache:primary).
const indexVersion = 1

// ErrBadKey: a key in a cache keyring does not hold what MIT's layout puts
// there (a key that is not a credential, a primary index of another
// version). It matches ccache.ErrMalformed.
var ErrBadKey = fmt.Errorf("key does not hold what the cache layout expects: %w", ccache.ErrMalformed)

// marshalIndex is the payload of krb_ccache:primary: version 1, then the
// primary cache's name as a counted string.
func marshalIndex(primary string) []byte {
	b := binary.BigEndian.AppendUint32(nil, indexVersion)
	b = binary.BigEndian.AppendUint32(b, uint32(len(primary)))
	return append(b, primary...)
}

// parseIndex reads krb_ccache:primary (MIT's parse_index): a version other
// than 1 is refused, as MIT refuses it.
func parseIndex(b []byte) (string, error) {
	if len(b) < 8 {
		return "", fmt.Errorf("primary index of %d bytes: %w", len(b), ErrBadKey)
	}
	if v := binary.BigEndian.Uint32(b); v != indexVersion {
		return "", fmt.Errorf("primary index version %d: %w", v, ErrBadKey)
	}
	n := binary.BigEndian.Uint32(b[4:])
	if uint64(n) > uint64(len(b)-8) {
		return "", fmt.Errorf("primary index name of %d bytes in %d: %w", n, len(b)-8, ErrBadKey)
	}
	return string(b[8 : 8+n]), nil
}

// parsePrincipal reads __krb5_princ__.
func parsePrincipal(b []byte) (ccache.Principal, error) {
	p, _, err := ccache.ParsePrincipal(b)
	if err != nil {
		return p, errors.Join(ErrBadKey, err)
	}
	return p, nil
}

// parseCredential reads one credential key.
func parseCredential(b []byte) (*ccache.Credential, error) {
	c, err := ccache.ParseCredential(b)
	if err != nil {
		return nil, errors.Join(ErrBadKey, err)
	}
	return c, nil
}

// parseKeyList reads a keyring's payload: the serials of the keys it
// links, as host-order 32-bit integers.
func parseKeyList(b []byte) []int {
	ids := make([]int, 0, len(b)/4)
	for i := 0; i+4 <= len(b); i += 4 {
		ids = append(ids, int(int32(binary.NativeEndian.Uint32(b[i:]))))
	}
	return ids
}

// description splits a key description, "type;uid;gid;perm;description"
// (the description may itself contain ';').
func description(d string) (typ, desc string, ok bool) {
	typ, rest, ok := strings.Cut(d, ";")
	for range 3 {
		if !ok {
			return "", "", false
		}
		_, rest, ok = strings.Cut(rest, ";")
	}
	return typ, rest, ok
}
