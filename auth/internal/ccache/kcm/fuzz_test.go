package kcm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/krbhttp/krbhttp/auth/internal/ccache"
	"github.com/krbhttp/krbhttp/auth/internal/ccache/ccachetest"
)

// FuzzReply feeds arbitrary bytes to the client as a daemon's reply and
// parses the results as every operation would: errors must be typed, and
// nothing may panic or allocate beyond the input.
func FuzzReply(f *testing.F) {
	p := ccache.Principal{NameType: 1, Components: []string{"alice"}, Realm: "R"}
	cred := &ccache.Credential{Client: p, Server: ccache.Principal{NameType: 2, Components: []string{"krbtgt", "R"}, Realm: "R"},
		Key: ccache.Key{EncType: 18, Value: make([]byte, 32)}, Ticket: []byte{0x61, 0}}
	cb := ccache.MarshalCredential(nil, cred)
	list := binary.BigEndian.AppendUint32(nil, 1)
	list = binary.BigEndian.AppendUint32(list, uint32(len(cb)))
	list = append(list, cb...)
	f.Add(ccachetest.KCMReply(0, []byte("0:1234\x00")))
	f.Add(ccachetest.KCMReply(0, ccache.MarshalPrincipal(nil, p)))
	f.Add(ccachetest.KCMReply(0, list))
	f.Add(ccachetest.KCMReply(0, cb))
	f.Add(ccachetest.KCMReply(0, make([]byte, 32)))
	f.Add(ccachetest.KCMReply(-1765328189, nil))
	f.Add([]byte{0, 0, 0, 0, 0xa6, 0x38, 0xc7, 0x44})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		results, err := readReply(bytes.NewReader(b), opGetCredList)
		if err != nil {
			checkTyped(t, err)
			return
		}
		if len(results) > len(b) {
			t.Fatalf("results of %d bytes from %d of input", len(results), len(b))
		}
		_, err = parseName(opGetDefaultCache, results)
		checkTyped(t, err)
		_, err = parseUUIDs(opGetCacheUUIDList, results)
		checkTyped(t, err)
		_, err = parsePrincipal(opGetPrincipal, "0", results)
		checkTyped(t, err)
		_, err = parseCredential(opGetCredByUUID, results)
		checkTyped(t, err)
		creds, err := parseCredList(opGetCredList, results)
		checkTyped(t, err)
		for _, c := range creds {
			// What parsed writes back and reads again the same.
			again, err := ccache.ParseCredential(ccache.MarshalCredential(nil, c))
			if err != nil || !again.Client.Equal(c.Client) || !bytes.Equal(again.Ticket, c.Ticket) {
				t.Fatalf("credential does not survive a round trip: %v", err)
			}
		}
	})
}

func checkTyped(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var re *ReplyError
	if errors.As(err, &re) || errors.Is(err, ccache.ErrMalformed) || errors.Is(err, ccache.ErrNotFound) {
		return
	}
	t.Fatalf("untyped error: %v", err)
}
