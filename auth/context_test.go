package auth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/gss"
	"github.com/krbhttp/krbhttp/auth/internal/krbtest"
)

// TestInitiate: the token Initiate makes is the one the transport would
// send (same SPN, flags and bindings), and its initiator verifies the
// acceptor's reply and then holds the context WinRM encryption needs.
func TestInitiate(t *testing.T) {
	t.Parallel()
	svc := krbtest.NewService(t, "HTTP/winrm.example.test", realm)
	src := &fakeSource{t: t, svc: svc}
	tr, err := auth.NewTransport(nil, auth.WithCredentials(src), auth.WithConfig(testConfig(t)))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewTLSServer(http.NotFoundHandler())
	defer ts.Close()
	cert := ts.Certificate()
	for _, c := range []struct {
		url      string
		bindings bool
	}{
		{"http://winrm.example.test:5985/wsman", false},
		{"https://winrm.example.test:5986/wsman", true},
	} {
		u, _ := url.Parse(c.url)
		init, tok, err := tr.Initiate(t.Context(), u, cert)
		if err != nil {
			t.Fatalf("%s: %v", c.url, err)
		}
		a, err := gss.NewAcceptor(gss.AcceptorConfig{Keytab: svc.Keytab(), ChannelBindings: gss.TLSServerEndPoint(cert)})
		if err != nil {
			t.Fatal(err)
		}
		acc, err := a.Accept(tok)
		if err != nil {
			t.Fatalf("%s: %v", c.url, err)
		}
		if acc.Format != gss.FormatSPNEGO || acc.Flags&gss.FlagMutual == 0 || acc.BindingsMatch != c.bindings {
			t.Fatalf("%s: format %v flags %v bindings %v", c.url, acc.Format, acc.Flags, acc.BindingsMatch)
		}
		if err := init.Accept(acc.ReplyToken); err != nil {
			t.Fatal(err)
		}
		gi, ok := init.(*gss.Initiator)
		if !ok {
			t.Fatalf("%s: %T, want the pure-Go initiator for a credentials source", c.url, init)
		}
		if ctx := gi.SecurityContext(); ctx == nil || len(ctx.AcceptorSubkey.KeyValue) == 0 {
			t.Fatalf("%s: no context with an acceptor subkey", c.url)
		}
		if p, err := init.Protector(); err != nil || p == nil {
			t.Fatalf("%s: Protector: %v", c.url, err)
		}
	}
	if spns := src.spns(); len(spns) != 2 || spns[0] != "HTTP/winrm.example.test" {
		t.Fatalf("asked for %v", spns)
	}

	if _, _, err := tr.Initiate(t.Context(), &url.URL{Path: "/wsman"}, nil); err == nil {
		t.Fatal("a URL without a host was accepted")
	}
	failing, err := auth.NewTransport(nil, auth.WithCredentials(&fakeSource{t: t, svc: svc, err: errors.New("no ticket")}), auth.WithConfig(testConfig(t)))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("http://winrm.example.test/wsman")
	var ne *auth.NegotiateError
	if _, _, err := failing.Initiate(t.Context(), u, nil); !errors.As(err, &ne) || ne.SPN != "HTTP/winrm.example.test" {
		t.Fatalf("failing source: %v", err)
	}
}
