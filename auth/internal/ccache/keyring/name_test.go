package keyring_test

import (
	"errors"
	"testing"

	"github.com/krbhttp/krbhttp/auth/internal/ccache"
	"github.com/krbhttp/krbhttp/auth/internal/ccache/keyring"
)

func TestParseName(t *testing.T) {
	for residual, want := range map[string]keyring.Name{
		"x":                  {Anchor: "legacy", Collection: "x"},
		"session:x":          {Anchor: "session", Collection: "x"},
		"session:":           {Anchor: "session"},
		"process:":           {Anchor: "process"},
		"thread:":            {Anchor: "thread"},
		"user:c:krb_ccache_": {Anchor: "user", Collection: "c", Subsidiary: "krb_ccache_", HasSubsidiary: true},
		"persistent:1000":    {Anchor: "persistent", Collection: "1000"},
		"persistent:":        {Anchor: "persistent"},
		"persistent:0:s:t":   {Anchor: "persistent", Collection: "0", Subsidiary: "s:t", HasSubsidiary: true},
	} {
		got, err := keyring.ParseName(residual)
		if err != nil || got != want {
			t.Errorf("%q: %+v %v, want %+v", residual, got, err, want)
		}
	}
	for _, bad := range []string{"persistent:alice", "persistent:-1", "bogus:x"} {
		if _, err := keyring.ParseName(bad); !errors.Is(err, ccache.ErrMalformed) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	n, _ := keyring.ParseName("session:x")
	if c := keyring.NewCollection(n); c.Name() != "KEYRING:session:x" {
		t.Errorf("collection name %s", c.Name())
	}
	n.Subsidiary = "y"
	if c := keyring.NewCache(n); c.Name() != "KEYRING:session:x:y" {
		t.Errorf("cache name %s", c.Name())
	}
}
