package auth_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/internal/krbtest"
)

// fixedReply answers 401 Negotiate to unauthenticated requests and then a
// 200 with a WWW-Authenticate value chosen by the fuzzer.
type fixedReply struct{ header string }

func (f fixedReply) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		r.Body.Close()
	}
	resp := &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("x")), Request: r, ProtoMajor: 1, ProtoMinor: 1}
	if r.Header.Get("Authorization") == "" {
		resp.StatusCode = 401
		resp.Header.Set("WWW-Authenticate", "Negotiate")
		return resp, nil
	}
	resp.Header.Set("WWW-Authenticate", f.header)
	return resp, nil
}

// FuzzReplyHeader feeds hostile reply headers to the verification path: it
// must return a response or an error, never panic.
func FuzzReplyHeader(f *testing.F) {
	for _, s := range []string{"Negotiate", "Negotiate oRQwEqADCgEAoQsGCSqGSIb3EgECAg==", "Negotiate YII=", "NTLM, Negotiate !!", "Negotiate " + strings.Repeat("A", 1000)} {
		f.Add(s)
	}
	svc := krbtest.NewService(f, "HTTP/fuzz.example.test", realm)
	src := &fakeSource{t: f, svc: svc}
	f.Fuzz(func(t *testing.T, header string) {
		tr, err := auth.NewTransport(fixedReply{header}, auth.WithCredentials(src), auth.WithConfig(testConfig(t)))
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", "http://fuzz.example.test/", nil)
		resp, err := tr.RoundTrip(req)
		if (resp == nil) == (err == nil) {
			t.Fatalf("RoundTrip returned response %v and error %v", resp, err)
		}
		if resp != nil {
			resp.Body.Close()
		}
	})
}
