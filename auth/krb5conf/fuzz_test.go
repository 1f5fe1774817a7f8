package krb5conf

import (
	"errors"
	"testing"
)

// FuzzParse feeds arbitrary text to the parser: it must never panic, and
// every error about the text must match ErrMalformed. Includes are not
// followed (a fuzzer must not read the machine's files): the text is
// handed to the profile parser through gokrb5Text and fromProfile the same
// way Parse does, minus include directives.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"",
		"[libdefaults]\n default_realm = A\n rdns = off\n",
		"[realms]\n A = {\n  kdc = h:88\n  sub = {\n   x = y\n  }\n }\n",
		"[libdefaults]\n x = \"quoted \\\"value\\\"\"\n default_tkt_enctypes = aes -aes-sha2 +rc4\n",
		"[domain_realm]\n .a = A\n",
		"[realms]\n}\n",
		"[x\n",
		"[libdefaults]\n dns_canonicalize_hostname = fallback\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		p := &profile{}
		err := p.parse(text, "fuzz", maxIncludeDepth+1) // any include fails at once
		if err == nil {
			_, err = fromProfile(p)
		}
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("%q: error %v does not match ErrMalformed", text, err)
		}
	})
}
