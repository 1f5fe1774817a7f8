package auth

import (
	"encoding/base64"
	"errors"
	"net/http"
	"testing"
)

func TestFindChallenge(t *testing.T) {
	tests := []struct {
		name      string
		values    []string
		wantToken string
		wantFound bool
	}{
		{"bare", []string{"Negotiate"}, "", true},
		{"token", []string{"Negotiate YIIBhg=="}, "YIIBhg==", true},
		{"case-insensitive", []string{"nEgOtIaTe abc"}, "abc", true},
		{"separate lines", []string{"NTLM", "Negotiate tok"}, "tok", true},
		{"comma joined", []string{"NTLM, Negotiate tok, Basic realm=\"x\""}, "tok", true},
		{"basic first with params", []string{`Basic realm="a, b", charset="UTF-8", Negotiate`}, "", true},
		{"basic realm named Negotiate", []string{`Basic realm="Negotiate"`}, "", false},
		{"basic realm param unquoted", []string{`Basic realm=Negotiate`}, "", false},
		{"absent", []string{"NTLM", "Basic realm=x"}, "", false},
		{"empty", nil, "", false},
		{"first of two", []string{"Negotiate one", "Negotiate two"}, "one", true},
		{"non-token68 rest", []string{"Negotiate a b c"}, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tc.values {
				h.Add("WWW-Authenticate", v)
			}
			tok, found := findChallenge(h, "WWW-Authenticate", "Negotiate")
			if tok != tc.wantToken || found != tc.wantFound {
				t.Fatalf("findChallenge(%q) = %q, %v; want %q, %v", tc.values, tok, found, tc.wantToken, tc.wantFound)
			}
		})
	}
}

func TestDecodeToken(t *testing.T) {
	if b, err := decodeToken("YWJj"); err != nil || string(b) != "abc" {
		t.Fatalf("decodeToken padded = %q, %v", b, err)
	}
	if b, err := decodeToken("YWI"); err != nil || string(b) != "ab" {
		t.Fatalf("decodeToken unpadded = %q, %v", b, err)
	}
	if _, err := decodeToken("!!!"); !errors.Is(err, ErrMalformedHeader) {
		t.Fatalf("decodeToken garbage error = %v, want ErrMalformedHeader", err)
	}
	huge := make([]byte, 200<<10)
	for i := range huge {
		huge[i] = 'A'
	}
	if _, err := decodeToken(string(huge)); !errors.Is(err, ErrMalformedHeader) {
		t.Fatalf("decodeToken oversized error = %v, want ErrMalformedHeader", err)
	}
}

func FuzzParseChallenges(f *testing.F) {
	for _, s := range []string{"Negotiate", "Negotiate abc==", `Basic realm="x, y", Negotiate`, `a="\"`, ",,,", "= = ="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range parseChallenges([]string{s}) {
			if c.scheme == "" && c.token != "" {
				t.Fatalf("token without scheme in %q", s)
			}
		}
	})
}

func TestEncodeToken(t *testing.T) {
	t.Parallel()
	for _, raw := range [][]byte{{}, {0xff}, []byte("any token bytes\x00\x01")} {
		want := "Negotiate " + base64.StdEncoding.EncodeToString(raw)
		if got := encodeToken(SchemeNegotiate, raw); got != want {
			t.Errorf("encodeToken(%x) = %q, want %q", raw, got, want)
		}
	}
}
