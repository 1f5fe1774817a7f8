package auth_test

import (
	"bytes"
	"encoding/base64"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/krbhttp/krbhttp/auth"
)

// tokenSpy records every Authorization value and reply token that passes.
type tokenSpy struct {
	base http.RoundTripper
	mu   sync.Mutex
	seen []string
}

func (s *tokenSpy) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.base.RoundTrip(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if v := r.Header.Get("Authorization"); v != "" {
		s.seen = append(s.seen, strings.TrimPrefix(v, "Negotiate "))
	}
	if resp != nil {
		if v := resp.Header.Get("WWW-Authenticate"); strings.HasPrefix(v, "Negotiate ") {
			s.seen = append(s.seen, strings.TrimPrefix(v, "Negotiate "))
		}
	}
	return resp, err
}

func TestLogsNeverCarryTokens(t *testing.T) {
	t.Parallel()
	l := newLab(t, nil)
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	spy := &tokenSpy{base: l.srv.Client().Transport}
	tr, err := auth.NewTransport(spy, auth.WithCredentials(l.src), auth.WithConfig(testConfig(t)), auth.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: tr}).Get(l.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if buf.Len() == 0 {
		t.Fatal("nothing was logged at debug level")
	}
	if len(spy.seen) < 2 {
		t.Fatalf("spy saw %d tokens, want the request's and the reply's", len(spy.seen))
	}
	for _, tok := range spy.seen {
		raw, _ := base64.StdEncoding.DecodeString(tok)
		// Any 16-character run of the token or its hex would be a leak.
		for _, frag := range []string{tok[:16], tok[len(tok)-16:], string(raw[len(raw)-16:])} {
			if strings.Contains(buf.String(), frag) {
				t.Fatalf("log carries token material %q:\n%s", frag, buf.String())
			}
		}
	}
}
