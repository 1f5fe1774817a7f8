package auth_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/auth/gss"
)

// TestSSPIPerRequestMutual: on Windows, with no credential option, the
// token comes from SSPI, and the request's mutual authentication mode
// (its context's, else the policy's, else the transport's) decides
// whether the context asks for ISC_REQ_MUTUAL_AUTH and how the response
// is checked, as it decides gss.FlagMutual on the pure-Go path.
//
// It needs a logged-on Kerberos user and the keytab of a service:
// KRBHTTP_SSPI_KEYTAB names the keytab of KRBHTTP_SSPI_SPN ("HTTP/host",
// whose host name reaches this machine). The integration module runs
// this package's test binary under Wine with both set, after a kinit on
// the host (TestWineSSPIPackage).
func TestSSPIPerRequestMutual(t *testing.T) {
	ktPath, spn := os.Getenv("KRBHTTP_SSPI_KEYTAB"), os.Getenv("KRBHTTP_SSPI_SPN")
	if ktPath == "" || spn == "" {
		t.Skip("needs KRBHTTP_SSPI_KEYTAB and KRBHTTP_SSPI_SPN and a Kerberos logon; see integration's TestWineSSPIPackage")
	}
	_, host, ok := strings.Cut(spn, "/")
	if !ok {
		t.Fatalf("KRBHTTP_SSPI_SPN %q is not service/host", spn)
	}
	kt, err := credentials.LoadKeytab(ktPath)
	if err != nil {
		t.Fatal(err)
	}
	acceptor, err := gss.NewAcceptor(gss.AcceptorConfig{Keytab: kt})
	if err != nil {
		t.Fatal(err)
	}
	// The server answers as mod_auth_gssapi does: a reply token only
	// when the client asked for mutual authentication, and it records
	// whether the client did.
	var (
		mu     sync.Mutex
		mutual []bool
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Negotiate ")
		if !ok {
			w.Header().Set("WWW-Authenticate", "Negotiate")
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		tok, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		acc, err := acceptor.Accept(tok)
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		mu.Lock()
		mutual = append(mutual, acc.Flags&gss.FlagMutual != 0)
		mu.Unlock()
		if acc.Flags&gss.FlagMutual != 0 {
			w.Header().Set("WWW-Authenticate", "Negotiate "+base64.StdEncoding.EncodeToString(acc.ReplyToken))
		}
		_, _ = io.WriteString(w, acc.Principal)
	}))
	defer srv.Close()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = host + ":" + u.Port()

	byHost := func(mode auth.MutualMode) auth.Option {
		return auth.WithMutualAuthenticationPolicy(func(*http.Request) auth.MutualMode { return mode })
	}
	for _, c := range []struct {
		name    string
		opts    []auth.Option
		request auth.MutualMode // -1: the request's context names none
		want    bool            // ISC_REQ_MUTUAL_AUTH asked for and the reply verified
	}{
		{"transport default", nil, -1, true},
		{"context disables", nil, auth.MutualDisabled, false},
		{"context requires over a disabled transport", []auth.Option{auth.WithMutualAuthentication(auth.MutualDisabled)}, auth.MutualRequired, true},
		{"policy disables", []auth.Option{byHost(auth.MutualDisabled)}, -1, false},
		{"policy requires over a disabled transport", []auth.Option{auth.WithMutualAuthentication(auth.MutualDisabled), byHost(auth.MutualRequired)}, -1, true},
		{"context wins over the policy", []auth.Option{byHost(auth.MutualRequired)}, auth.MutualDisabled, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			tr, err := auth.NewTransport(nil, append(c.opts, auth.WithLogger(logger))...)
			if err != nil {
				t.Fatal(err)
			}
			defer tr.CloseIdleConnections()
			req, err := http.NewRequest(http.MethodGet, u.String(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if c.request >= 0 {
				req = req.WithContext(auth.WithMutualAuthenticationFor(req.Context(), c.request))
			}
			mu.Lock()
			mutual = nil
			mu.Unlock()
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatalf("%v\n%s", err, logs.String())
			}
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(logs.String(), "token from SSPI") {
				t.Fatalf("status %d, %q; not through SSPI?\n%s", resp.StatusCode, body, logs.String())
			}
			mu.Lock()
			got := append([]bool(nil), mutual...)
			mu.Unlock()
			if len(got) != 1 || got[0] != c.want {
				t.Errorf("the server saw mutual authentication asked for %v, want [%v]", got, c.want)
			}
			if auth.MutuallyAuthenticated(resp) != c.want {
				t.Errorf("MutuallyAuthenticated %v, want %v", auth.MutuallyAuthenticated(resp), c.want)
			}
		})
	}
}
