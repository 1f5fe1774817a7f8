package keyring

import (
	"bytes"
	"errors"
	"testing"

	"github.com/krbhttp/krbhttp/auth/internal/ccache"
)

// FuzzPayload feeds arbitrary bytes to every parser of key payloads: the
// primary index, the principal key, a credential key, a keyring's list and
// a key description. Errors must match ccache.ErrMalformed; nothing may
// panic.
func FuzzPayload(f *testing.F) {
	p := ccache.Principal{NameType: 1, Components: []string{"alice"}, Realm: "R"}
	f.Add(marshalIndex("krb_ccache_AbCdEfGh"))
	f.Add(ccache.MarshalPrincipal(nil, p))
	f.Add(ccache.MarshalCredential(nil, &ccache.Credential{Client: p, Server: p, Ticket: []byte{0x61, 0}}))
	f.Add([]byte("keyring;0;0;3f010000;_krb_x"))
	f.Add([]byte{0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		if name, err := parseIndex(b); err == nil {
			if !bytes.Equal(marshalIndex(name), b[:8+len(name)]) {
				t.Fatal("index does not round-trip")
			}
		} else if !errors.Is(err, ccache.ErrMalformed) {
			t.Fatalf("index: %v", err)
		}
		if _, err := parsePrincipal(b); err != nil && !errors.Is(err, ccache.ErrMalformed) {
			t.Fatalf("principal: %v", err)
		}
		if c, err := parseCredential(b); err == nil {
			if _, err := parseCredential(ccache.MarshalCredential(nil, c)); err != nil {
				t.Fatalf("credential does not round-trip: %v", err)
			}
		} else if !errors.Is(err, ccache.ErrMalformed) {
			t.Fatalf("credential: %v", err)
		}
		if ids := parseKeyList(b); len(ids) != len(b)/4 {
			t.Fatalf("%d ids from %d bytes", len(ids), len(b))
		}
		description(string(b))
	})
}
