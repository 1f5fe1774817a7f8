package wsman_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/gss"
	"github.com/krbhttp/krbhttp/auth/ticket"
	"github.com/krbhttp/krbhttp/wsman"
	"github.com/krbhttp/krbhttp/wsman/encryption"
)

// The encrypted path is tested without a KDC: a keytab made here, a
// ticket for it forged with gokrb5, our acceptor in front of fakeShell.

const testRealm = "WSMAN.TEST"

// kerberos returns a service keytab for HTTP/<host> and a ticket of
// alice's for it.
func kerberos(t *testing.T, host string) (*keytab.Keytab, *ticket.Ticket) {
	t.Helper()
	spn := "HTTP/" + host
	kt := keytab.New()
	if err := kt.AddEntry(spn, testRealm, "service password", time.Now(), 2, etypeID.AES256_CTS_HMAC_SHA1_96); err != nil {
		t.Fatal(err)
	}
	cname := types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, "alice")
	sname := types.NewPrincipalName(nametype.KRB_NT_SRV_HST, spn)
	now := time.Now().UTC().Truncate(time.Second)
	tkt, key, err := messages.NewTicket(cname, testRealm, sname, testRealm, types.NewKrbFlags(), kt,
		etypeID.AES256_CTS_HMAC_SHA1_96, 2, now, now, now.Add(time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return kt, &ticket.Ticket{Ticket: tkt, SessionKey: key, Client: cname, ClientRealm: testRealm, AuthTime: now, StartTime: now, EndTime: now.Add(time.Hour)}
}

// ticketInitiator starts contexts with one ticket, with channel bindings
// for the certificate it is given.
type ticketInitiator struct{ tkt *ticket.Ticket }

func (i ticketInitiator) Initiate(_ context.Context, _ *url.URL, cert *x509.Certificate) (gss.ClientContext, []byte, error) {
	var cb []byte
	if cert != nil {
		cb = gss.TLSServerEndPoint(cert)
	}
	return gss.NewInitiator(gss.InitiatorConfig{Ticket: i.tkt, Flags: gss.FlagMutual | gss.FlagSequence, ChannelBindings: cb})
}

// encServer is fakeShell behind our acceptor with Windows' message
// encryption. Its switches make the next reply misbehave.
type encServer struct {
	f         *fakeShell
	tamper    atomic.Bool // flip a bit of the next encrypted reply
	clear     atomic.Bool // send the next reply unencrypted
	tooLarge  atomic.Bool // answer the next request 413
	setups    atomic.Int32
	encrypted atomic.Int32 // encrypted requests served

	mu        sync.Mutex
	sessions  map[*gss.SecurityContext]*encryption.Session
	protocols map[string]bool
}

func (s *encServer) handler(t *testing.T) http.Handler {
	s.sessions, s.protocols = map[*gss.SecurityContext]*encryption.Session{}, map[string]bool{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := acceptor.IdentityFromContext(r.Context())
		body, _ := io.ReadAll(r.Body)
		if len(body) == 0 {
			s.setups.Add(1)
			return
		}
		if r.Header.Get("Authorization") != "" || !id.ConnectionAuth {
			t.Error("an encrypted request carried its own token")
		}
		if s.tooLarge.Swap(false) {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			return
		}
		ct := r.Header.Get("Content-Type")
		_, params, _ := mime.ParseMediaType(ct)
		s.mu.Lock()
		sess := s.sessions[id.Context]
		if sess == nil {
			var err error
			if sess, err = encryption.NewSession(id.Context, params["protocol"]); err != nil {
				t.Error(err)
			}
			s.sessions[id.Context] = sess
		}
		s.protocols[params["protocol"]] = true
		s.mu.Unlock()
		envelope, err := sess.Decrypt(ct, body)
		if err != nil {
			t.Errorf("decrypting a request: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.encrypted.Add(1)
		status, reply := s.f.serve(t, envelope)
		if s.clear.Swap(false) {
			w.Header().Set("Content-Type", encryption.SOAPContentType)
			w.WriteHeader(status)
			_, _ = w.Write(reply)
			return
		}
		ct, out, err := sess.Encrypt(reply)
		if err != nil {
			t.Error(err)
		}
		if s.tamper.Swap(false) {
			out[len(out)-40] ^= 0x04
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(status)
		_, _ = w.Write(out)
	})
}

// startEncrypted serves an encServer over http (or https with channel
// bindings required) and returns a client that encrypts.
func startEncrypted(t *testing.T, s *encServer, useTLS bool, opts ...wsman.Option) *wsman.Client {
	t.Helper()
	// The acceptor needs the certificate of the started server; until it
	// is made, nothing connects.
	var (
		mu    sync.Mutex
		a     *acceptor.Authenticator
		inner http.Handler
	)
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		h := inner
		mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	ts.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		mu.Lock()
		defer mu.Unlock()
		return a.ConnContext(ctx, c)
	}
	if useTLS {
		ts.StartTLS()
	} else {
		ts.Start()
	}
	t.Cleanup(ts.Close)
	kt, tkt := kerberos(t, "127.0.0.1")
	aopts := []acceptor.Option{acceptor.WithConnectionBound(true)}
	all := []wsman.Option{wsman.WithTransport(http.DefaultTransport), wsman.WithInitiator(ticketInitiator{tkt}), wsman.WithEncryption(wsman.EncryptAlways)}
	if useTLS {
		aopts = append(aopts, acceptor.WithChannelBinding(acceptor.BindingStrict, ts.Certificate()))
		pool := x509.NewCertPool()
		pool.AddCert(ts.Certificate())
		all = append(all, wsman.WithTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	}
	mu.Lock()
	var err error
	if a, err = acceptor.New(kt, aopts...); err != nil {
		mu.Unlock()
		t.Fatal(err)
	}
	inner = a.Wrap(s.handler(t))
	mu.Unlock()
	c, err := wsman.NewClient(ts.URL+"/wsman", append(all, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestEncryptedRun(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		tls      bool
		scheme   wsman.AuthScheme
		protocol string
	}{
		{"http/Negotiate", false, wsman.SchemeNegotiate, encryption.ProtocolSPNEGO},
		{"http/Kerberos", false, wsman.SchemeKerberos, encryption.ProtocolKerberos},
		{"https/Negotiate", true, wsman.SchemeNegotiate, encryption.ProtocolSPNEGO},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := &encServer{f: &fakeShell{waitForEnd: true, receive: func(n int) (int, string) {
				if n == 0 {
					return http.StatusOK, receiveOutput("secret output", "")
				}
				return http.StatusOK, receiveDone(5)
			}}}
			client := startEncrypted(t, s, c.tls, wsman.WithAuthScheme(c.scheme))
			var out strings.Builder
			code, err := client.Run(t.Context(), wsman.RunRequest{Command: "cat", Stdin: strings.NewReader("in"), Stdout: &out})
			if err != nil || code != 5 || out.String() != "secret output" || string(s.f.stdin) != "in" {
				t.Fatalf("exit %d, %v, stdout %q, stdin %q", code, err, out.String(), s.f.stdin)
			}
			// Stdin and output flow at once, so two connections at most,
			// each set up once; every message after a setup rode on it.
			setups, requests := s.setups.Load(), s.encrypted.Load()
			if setups < 1 || setups > 2 || requests < 5 || len(s.protocols) != 1 || !s.protocols[c.protocol] {
				t.Fatalf("%d setups for %d requests, protocols %v", setups, requests, s.protocols)
			}
		})
	}
}

// TestEncryptedFailures: a tampered reply, a reply in the clear and a 413
// each fail the request with a typed error and cost the connection; the
// next request sets up a new one and succeeds. Faults arrive encrypted and
// readable.
func TestEncryptedFailures(t *testing.T) {
	t.Parallel()
	s := &encServer{f: &fakeShell{receive: func(int) (int, string) {
		return http.StatusInternalServerError, faultBody(2150858843, "w:InvalidSelectors", "no such shell")
	}}}
	c := startEncrypted(t, s, false)
	ctx := t.Context()
	if _, err := c.CreateShell(ctx, wsman.ShellOptions{}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		arm   *atomic.Bool
		check func(error) bool
	}{
		{"tampered", &s.tamper, func(err error) bool {
			var te *wsman.TamperedError
			return errors.Is(err, wsman.ErrTampered) && errors.As(err, &te) && errors.Is(err, gss.ErrIntegrity)
		}},
		{"clear", &s.clear, func(err error) bool { return errors.Is(err, wsman.ErrTampered) }},
		{"413", &s.tooLarge, func(err error) bool { return errors.Is(err, wsman.ErrEnvelopeTooLarge) }},
	}
	for _, tc := range cases {
		before := s.setups.Load()
		tc.arm.Store(true)
		if _, err := c.CreateShell(ctx, wsman.ShellOptions{}); err == nil || !tc.check(err) {
			t.Fatalf("%s: %T %v", tc.name, err, err)
		}
		if _, err := c.CreateShell(ctx, wsman.ShellOptions{}); err != nil {
			t.Fatalf("%s: the next request: %v", tc.name, err)
		}
		if s.setups.Load() != before+1 {
			t.Fatalf("%s: %d new setups, want 1", tc.name, s.setups.Load()-before)
		}
	}
	_, err := c.Receive(ctx, "SHELL-1", "CMD-1")
	var f *wsman.Fault
	if !errors.As(err, &f) || f.Message != "no such shell" || f.StatusCode != 500 {
		t.Fatalf("encrypted fault: %v", err)
	}
}

// TestEncryptedSetupNeedsMutualAuthentication: a server that does not
// prove itself on the setup POST is refused before any message is sent.
func TestEncryptedSetupNeedsMutualAuthentication(t *testing.T) {
	t.Parallel()
	var messages atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength != 0 {
			messages.Add(1)
		}
	}))
	t.Cleanup(ts.Close)
	_, tkt := kerberos(t, "127.0.0.1")
	c, err := wsman.NewClient(ts.URL+"/wsman", wsman.WithTransport(http.DefaultTransport), wsman.WithInitiator(ticketInitiator{tkt}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateShell(t.Context(), wsman.ShellOptions{})
	var mutual *auth.MutualAuthenticationError
	if !errors.As(err, &mutual) || messages.Load() != 0 {
		t.Fatalf("%v; %d messages sent", err, messages.Load())
	}
}
