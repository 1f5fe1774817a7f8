package ccache

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/auth/kdctest"
)

func kinitCache(t *testing.T) []byte {
	t.Helper()
	r := kdctest.Start(t)
	if err := r.AddPrincipal("alice", "alice-pw"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.AddService("HTTP/web.krbhttp.test", false); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ccache")
	r.Kinit(t, "alice", "FILE:"+path, "-f")
	if out, err := r.Run("kvno", "-c", "FILE:"+path, "HTTP/web.krbhttp.test"); err != nil {
		t.Fatalf("kvno: %v: %s", err, out)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseKinitFile reads a cache written by MIT kinit and kvno against a
// throwaway KDC: credential caches hold keys, so none is committed.
func TestParseKinitFile(t *testing.T) {
	b := kinitCache(t)
	c, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != 4 {
		t.Errorf("version = %d", c.Version)
	}
	if got := c.Principal.String(); got != "alice@KRBHTTP.TEST" {
		t.Errorf("principal = %q", got)
	}
	if len(c.Credentials) != 2 {
		t.Fatalf("got %d credentials, want the TGT and one service ticket", len(c.Credentials))
	}
	tgt := c.Credentials[0]
	if got := tgt.Server.String(); got != "krbtgt/KRBHTTP.TEST@KRBHTTP.TEST" {
		t.Errorf("server = %q", got)
	}
	if tgt.Key.EncType != 18 || len(tgt.Key.Value) != 32 {
		t.Errorf("key = %d/%d bytes", tgt.Key.EncType, len(tgt.Key.Value))
	}
	if tgt.Flags&0x40000000 == 0 {
		t.Errorf("flags %#x: TGT not forwardable", tgt.Flags)
	}
	if !tgt.EndTime.After(tgt.StartTime) || tgt.AuthTime.IsZero() {
		t.Errorf("times: %v %v %v", tgt.AuthTime, tgt.StartTime, tgt.EndTime)
	}
	if len(tgt.Ticket) == 0 || tgt.Ticket[0] != 0x61 {
		t.Errorf("ticket does not start with [APPLICATION 1]")
	}
	if got := c.Credentials[1].Server.String(); got != "HTTP/web.krbhttp.test@KRBHTTP.TEST" {
		t.Errorf("service = %q", got)
	}
	if string(c.Config["fast_avail krbtgt/KRBHTTP.TEST@KRBHTTP.TEST"]) != "yes" {
		t.Errorf("config = %q", c.Config)
	}
	// What we write reads back the same.
	c2, err := Parse(Marshal(c))
	if err != nil {
		t.Fatal(err)
	}
	if !equalCache(c, c2) {
		t.Errorf("round trip differs")
	}
}

func sampleCache() *Cache {
	now := time.Unix(1_800_000_000, 0).UTC()
	alice := Principal{NameType: 1, Components: []string{"alice"}, Realm: "EXAMPLE.TEST"}
	return &Cache{
		Version:   4,
		KDCOffset: 3*time.Second + 5*time.Microsecond,
		Principal: alice,
		Credentials: []*Credential{{
			Client:       alice,
			Server:       Principal{NameType: 2, Components: []string{"krbtgt", "EXAMPLE.TEST"}, Realm: "EXAMPLE.TEST"},
			Key:          Key{EncType: 18, Value: bytes.Repeat([]byte{7}, 32)},
			AuthTime:     now,
			StartTime:    now,
			EndTime:      now.Add(10 * time.Hour),
			RenewTill:    now.Add(24 * time.Hour),
			Flags:        0x40e00000,
			Addresses:    []Address{{Type: 2, Value: []byte{127, 0, 0, 1}}},
			AuthData:     []AuthData{{Type: 1, Value: []byte("ad")}},
			Ticket:       []byte{0x61, 0x03, 0x02, 0x01, 0x05},
			SecondTicket: []byte{},
		}},
		Config: map[string][]byte{"pa_type krbtgt/EXAMPLE.TEST@EXAMPLE.TEST": []byte("2")},
	}
}

func equalCache(a, b *Cache) bool {
	return bytes.Equal(Marshal(a), Marshal(b))
}

// toV3 rewrites a version 4 file as version 3: no header, the enctype
// written twice.
func toV3(v4 []byte) []byte {
	c, _ := Parse(v4)
	return MarshalVersion(c, 3)
}

func TestParseV3(t *testing.T) {
	want := sampleCache()
	want.Config = nil
	c, err := Parse(toV3(Marshal(want)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != 3 || c.KDCOffset != 0 {
		t.Errorf("version %d offset %v", c.Version, c.KDCOffset)
	}
	want.KDCOffset = 0
	if !equalCache(c, want) {
		t.Errorf("v3 parse differs:\n%+v\n%+v", c.Credentials[0], want.Credentials[0])
	}
}

func TestParseV4HeaderAndConfig(t *testing.T) {
	want := sampleCache()
	c, err := Parse(Marshal(want))
	if err != nil {
		t.Fatal(err)
	}
	if c.KDCOffset != want.KDCOffset {
		t.Errorf("offset = %v", c.KDCOffset)
	}
	if len(c.Credentials) != 1 || string(c.Config["pa_type krbtgt/EXAMPLE.TEST@EXAMPLE.TEST"]) != "2" {
		t.Errorf("credentials %d config %q", len(c.Credentials), c.Config)
	}
	if !equalCache(c, want) {
		t.Error("round trip differs")
	}
}

func TestParseV1V2LittleEndian(t *testing.T) {
	// Version 2: little-endian, no header; version 1 also has no name type
	// and counts the realm among the components.
	le := func(version uint8) []byte {
		b := []byte{5, version}
		u32 := func(v uint32) { b = binary.LittleEndian.AppendUint32(b, v) }
		str := func(s string) { u32(uint32(len(s))); b = append(b, s...) }
		if version == 2 {
			u32(1)
			u32(1)
		} else {
			u32(2)
		}
		str("R")
		str("bob")
		return b
	}
	for _, v := range []uint8{1, 2} {
		c, err := Parse(le(v))
		if err != nil {
			t.Fatalf("v%d: %v", v, err)
		}
		if c.Principal.String() != "bob@R" {
			t.Errorf("v%d principal = %s", v, c.Principal)
		}
	}
}

func TestParseMalformed(t *testing.T) {
	full := Marshal(sampleCache())
	huge := append([]byte{5, 4, 0, 0, 0, 0, 0, 1}, 0xff, 0xff, 0xff, 0xf0) // component count 4G
	hugeLen := append([]byte{5, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1}, 0x7f, 0xff, 0xff, 0xff)
	for name, b := range map[string][]byte{
		"empty":            nil,
		"one byte":         {5},
		"bad magic":        {4, 4},
		"bad version":      {5, 9},
		"short header":     {5, 4, 0, 10, 0},
		"huge count":       huge,
		"huge length":      hugeLen,
		"bad offset field": {5, 4, 0, 6, 0, 1, 0, 2, 0, 0},
	} {
		if _, err := Parse(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
	// Every truncation of a valid file fails cleanly, except the cuts that
	// fall exactly between credentials.
	ok := 0
	for i := range len(full) {
		_, err := Parse(full[:i])
		if err == nil {
			ok++
			continue
		}
		var fe *FormatError
		if !errors.As(err, &fe) || !errors.Is(err, ErrMalformed) {
			t.Fatalf("cut at %d: %v", i, err)
		}
	}
	if ok != 2 {
		t.Errorf("%d truncations parsed, want 2 (after the principal, after the credential)", ok)
	}
}

func TestPrincipalString(t *testing.T) {
	p := Principal{Components: []string{"HTTP", "a/b@c\\"}, Realm: "R"}
	if got, want := p.String(), `HTTP/a\/b\@c\\@R`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if !p.Equal(Principal{NameType: 3, Components: []string{"HTTP", "a/b@c\\"}, Realm: "R"}) {
		t.Error("name type must not matter")
	}
	if p.Equal(Principal{Components: []string{"http", "a/b@c\\"}, Realm: "R"}) {
		t.Error("comparison must be case-sensitive")
	}
}
