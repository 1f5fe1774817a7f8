package ccache

import (
	"errors"
	"testing"
)

func TestMarshalVersionRoundTrip(t *testing.T) {
	want := sampleCache()
	want.Config = nil
	want.KDCOffset = 0 // only version 4 has a header
	for v := uint8(1); v <= 4; v++ {
		b := MarshalVersion(want, v)
		if b[1] != v {
			t.Fatalf("v%d: version byte %d", v, b[1])
		}
		got, err := Parse(b)
		if err != nil {
			t.Fatalf("v%d: %v", v, err)
		}
		got.Version = want.Version
		if v == 1 {
			// Version 1 has no name types: compare names only.
			if !got.Principal.Equal(want.Principal) || len(got.Credentials) != 1 || !got.Credentials[0].Server.Equal(want.Credentials[0].Server) {
				t.Errorf("v1 differs: %+v", got)
			}
			continue
		}
		if !equalCache(got, want) {
			t.Errorf("v%d round trip differs", v)
		}
	}
}

func TestHeaderAndAppend(t *testing.T) {
	c := sampleCache()
	c.Config = nil
	for _, v := range []uint8{2, 3, 4} {
		file := MarshalVersion(&Cache{Principal: c.Principal}, v)
		h, err := ParseHeader(file)
		if err != nil || h.Version != v || h.Len != len(file) || !h.Principal.Equal(c.Principal) {
			t.Fatalf("v%d header %+v %v", v, h, err)
		}
		file = AppendCredential(file, c.Credentials[0], v)
		got, err := Parse(file)
		if err != nil || len(got.Credentials) != 1 || got.Credentials[0].Key.EncType != c.Credentials[0].Key.EncType {
			t.Fatalf("v%d after append: %v %+v", v, err, got)
		}
	}
	if _, err := ParseHeader([]byte{5, 4, 0}); !errors.Is(err, ErrMalformed) {
		t.Errorf("short header: %v", err)
	}
}

func TestOneCredentialCodec(t *testing.T) {
	c := sampleCache().Credentials[0]
	b := MarshalCredential([]byte("prefix"), c)
	got, err := ParseCredential(b[len("prefix"):])
	if err != nil || !got.Server.Equal(c.Server) || string(got.Ticket) != string(c.Ticket) {
		t.Fatalf("%v %+v", err, got)
	}
	// Trailing bytes are ignored, as MIT ignores them.
	if _, err := ParseCredential(append(b[len("prefix"):], 0, 1, 2)); err != nil {
		t.Errorf("trailing bytes: %v", err)
	}
	p, n, err := ParsePrincipal(append(MarshalPrincipal(nil, c.Client), 0))
	if err != nil || !p.Equal(c.Client) || n != len(MarshalPrincipal(nil, c.Client)) {
		t.Errorf("principal %v %d %v", p, n, err)
	}
	if _, err := ParseCredential(b[len("prefix") : len(b)-1]); !errors.Is(err, ErrMalformed) {
		t.Errorf("cut credential: %v", err)
	}
}

func TestNewCacheSplitsConfig(t *testing.T) {
	src := sampleCache()
	parsed, err := Parse(Marshal(src))
	if err != nil {
		t.Fatal(err)
	}
	var all []*Credential
	all = append(all, parsed.Credentials...)
	// The configuration entry as a daemon would list it.
	conf := &Credential{Client: src.Principal, Server: Principal{NameType: 2, Components: []string{"krb5_ccache_conf_data", "pa_type", "krbtgt/EXAMPLE.TEST@EXAMPLE.TEST"}, Realm: ConfigRealm}, Ticket: []byte("2")}
	all = append(all, conf)
	c := NewCache(src.Principal, all)
	if len(c.Credentials) != len(parsed.Credentials) || string(c.Config["pa_type krbtgt/EXAMPLE.TEST@EXAMPLE.TEST"]) != "2" {
		t.Errorf("%d credentials, config %q", len(c.Credentials), c.Config)
	}
}
