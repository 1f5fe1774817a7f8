package auth_test

import (
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/krbhttp/krbhttp/auth"
)

// respond returns a handler that answers status with a body and secret
// headers, after doing what token says to the acceptor's reply token:
// "keep", "strip" or "corrupt".
func respond(status int, token string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		switch token {
		case "strip":
			h.Del("WWW-Authenticate")
		case "corrupt":
			v := h.Get("WWW-Authenticate")
			raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(v, "Negotiate "))
			if err == nil && len(raw) > 0 {
				raw[len(raw)-3] ^= 0xff
				h.Set("WWW-Authenticate", "Negotiate "+base64.StdEncoding.EncodeToString(raw))
			}
		}
		h.Set("X-Secret", "leak")
		h.Set("Set-Cookie", "s=1")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "body the server wrote")
	})
}

func TestMutualAuthenticationMatrix(t *testing.T) {
	t.Parallel()
	type want struct {
		err       bool // a MutualAuthenticationError
		sanitized bool
	}
	tests := []struct {
		name   string
		mode   auth.MutualMode
		status int
		token  string
		opts   []auth.Option
		want   want
	}{
		{"required/verified 200", auth.MutualRequired, 200, "keep", nil, want{}},
		{"required/verified 500 kept", auth.MutualRequired, 500, "keep", nil, want{}},
		{"required/bad token", auth.MutualRequired, 200, "corrupt", nil, want{err: true}},
		{"required/bad token on 500", auth.MutualRequired, 500, "corrupt", nil, want{err: true}},
		{"required/no token 200", auth.MutualRequired, 200, "strip", nil, want{err: true}},
		{"required/no token 302", auth.MutualRequired, 302, "strip", nil, want{err: true}},
		{"required/no token 500 sanitized", auth.MutualRequired, 500, "strip", nil, want{sanitized: true}},
		{"required/no token 404 sanitized", auth.MutualRequired, 404, "strip", nil, want{sanitized: true}},
		{"required/no token 500 unsanitized", auth.MutualRequired, 500, "strip", []auth.Option{auth.WithSanitize(false)}, want{}},
		{"optional/verified", auth.MutualOptional, 200, "keep", nil, want{}},
		{"optional/bad token", auth.MutualOptional, 200, "corrupt", nil, want{err: true}},
		{"optional/no token 200", auth.MutualOptional, 200, "strip", nil, want{}},
		{"optional/no token 500", auth.MutualOptional, 500, "strip", nil, want{}},
		{"disabled/no token", auth.MutualDisabled, 200, "strip", nil, want{}},
		{"disabled/bad token", auth.MutualDisabled, 200, "corrupt", nil, want{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLab(t, respond(tc.status, tc.token))
			c := l.client(t, append(tc.opts, auth.WithMutualAuthentication(tc.mode))...)
			c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			resp, err := c.Get(l.srv.URL)
			if tc.want.err {
				var me *auth.MutualAuthenticationError
				if !errors.As(err, &me) || !errors.Is(err, auth.ErrMutualAuthentication) {
					t.Fatalf("error %v, want a MutualAuthenticationError", err)
				}
				if me.Response == nil || me.Response.StatusCode != tc.status {
					t.Fatalf("error carries response %+v, want status %d", me.Response, tc.status)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.want.sanitized {
				if len(body) != 0 || resp.Header.Get("X-Secret") != "" || resp.Header.Get("Set-Cookie") != "" ||
					resp.Header.Get("Content-Length") != "0" || resp.Header.Get("Date") == "" {
					t.Fatalf("not sanitized: headers %v body %q", resp.Header, body)
				}
				return
			}
			if string(body) != "body the server wrote" || resp.Header.Get("X-Secret") != "leak" {
				t.Fatalf("response altered: headers %v body %q", resp.Header, body)
			}
		})
	}
}
