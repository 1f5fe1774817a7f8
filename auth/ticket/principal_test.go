package ticket_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/jcmturner/gokrb5/v8/iana/nametype"

	"github.com/krbhttp/krbhttp/auth/ticket"
)

func TestParsePrincipal(t *testing.T) {
	for in, want := range map[string]string{
		"alice":                  "alice@DEF.TEST",
		"alice@EXAMPLE.TEST":     "alice@EXAMPLE.TEST",
		"HTTP/web@R":             "HTTP/web@R",
		`a\/b@R`:                 `a\/b@R`,
		`odd\@name`:              `odd\@name@DEF.TEST`,
		`tab\there@R`:            `tab\there@R`,
		"host/a.b.c/extra@REALM": "host/a.b.c/extra@REALM",
	} {
		n, r, err := ticket.ParsePrincipal(in, "DEF.TEST", nametype.KRB_NT_PRINCIPAL)
		if got := ticket.PrincipalString(n, r); err != nil || got != want {
			t.Errorf("%q: %q %v, want %q", in, got, err, want)
		}
	}
	if n, _, _ := ticket.ParsePrincipal(`a\/b@R`, "", 1); !slices.Equal(n.NameString, []string{"a/b"}) {
		t.Errorf("escaped slash split: %q", n.NameString)
	}
	for _, bad := range []string{"", "a@b@c", "a//b", "/a", `a\`, "alice@"} {
		_, _, err := ticket.ParsePrincipal(bad, "DEF.TEST", 1)
		var ne *ticket.NameError
		if !errors.Is(err, ticket.ErrMalformedName) || !errors.As(err, &ne) || ne.Name != bad {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
	if _, _, err := ticket.ParsePrincipal("alice", "", 1); !errors.Is(err, ticket.ErrMalformedName) || !strings.Contains(err.Error(), "default_realm") {
		t.Errorf("no realm: %v", err)
	}
}

func TestParseSPN(t *testing.T) {
	n, r, err := ticket.ParseSPN("HTTP/web.example.test@R")
	if err != nil || r != "R" || n.NameType != nametype.KRB_NT_SRV_HST || !slices.Equal(n.NameString, []string{"HTTP", "web.example.test"}) {
		t.Errorf("with realm: %v %q %v", n, r, err)
	}
	if _, r, err := ticket.ParseSPN("HTTP/web.example.test"); err != nil || r != "" {
		t.Errorf("without realm: %q %v", r, err)
	}
	for _, bad := range []string{"HTTP", "HTTP@R", "HTTP/", ""} {
		if _, _, err := ticket.ParseSPN(bad); !errors.Is(err, ticket.ErrMalformedName) {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
}

// FuzzParsePrincipal checks that parsing never panics and that what it
// accepts is written back into text that parses to the same name.
func FuzzParsePrincipal(f *testing.F) {
	for _, s := range []string{"alice", "HTTP/web@R", `a\/b\@c\\d\n\t\b\0@R`, "a@b@c", `x\`, "@", "/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, r, err := ticket.ParsePrincipal(s, "DEF", 1)
		if err != nil {
			if !errors.Is(err, ticket.ErrMalformedName) {
				t.Fatalf("%q: error %v does not match ErrMalformedName", s, err)
			}
			return
		}
		text := ticket.PrincipalString(n, r)
		n2, r2, err := ticket.ParsePrincipal(text, "", 1)
		if err != nil || r2 != r || !slices.Equal(n2.NameString, n.NameString) {
			t.Fatalf("%q -> %q -> %q@%q, %v", s, text, n2.NameString, r2, err)
		}
	})
}
