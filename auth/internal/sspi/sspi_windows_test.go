package sspi

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/auth/gss"
)

// The tests below need a logged-on Kerberos user and a service keytab:
// KRBHTTP_SSPI_KEYTAB names the keytab of the service KRBHTTP_SSPI_SPN
// ("HTTP/host"). The integration module runs this package's test binary
// under Wine with both set, after a kinit on the host
// (TestWineSSPIPackage); elsewhere there is no user to test with.
func lab(t *testing.T) (*gss.Acceptor, string) {
	t.Helper()
	ktPath, spn := os.Getenv("KRBHTTP_SSPI_KEYTAB"), os.Getenv("KRBHTTP_SSPI_SPN")
	if ktPath == "" || spn == "" {
		t.Skip("needs KRBHTTP_SSPI_KEYTAB and KRBHTTP_SSPI_SPN and a Kerberos logon; see integration's TestWineSSPIPackage")
	}
	kt, err := credentials.LoadKeytab(ktPath)
	if err != nil {
		t.Fatal(err)
	}
	a, err := gss.NewAcceptor(gss.AcceptorConfig{Keytab: kt})
	if err != nil {
		t.Fatal(err)
	}
	return a, spn
}

// TestSSPIAgainstGoAcceptor: an SSPI context for the logged-on user is
// accepted by the pure-Go acceptor, completes with its AP-REP, and both
// sides seal and open each other's WinRM messages in order.
func TestSSPIAgainstGoAcceptor(t *testing.T) {
	a, spn := lab(t)
	creds, err := AcquireCurrentUser(Negotiate)
	if err != nil {
		t.Fatal(err)
	}
	c, tok, err := creds.Start(Request{Target: spn, Mutual: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Protector(); err == nil {
		t.Fatal("a Protector before the reply")
	}
	acc, err := a.Accept(tok)
	if err != nil {
		t.Fatal(err)
	}
	if acc.Flags&gss.FlagMutual == 0 || acc.Flags&gss.FlagConf == 0 {
		t.Fatalf("flags %v: mutual and confidentiality asked for", acc.Flags)
	}
	if err := c.Accept(acc.ReplyToken); err != nil {
		t.Fatal(err)
	}
	if !c.Complete() {
		t.Fatal("not complete after the reply")
	}
	if err := c.Accept(acc.ReplyToken); err == nil {
		t.Fatal("Accept twice")
	}
	server, err := gss.NewSealer(acc.Context)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Protector()
	if err != nil {
		t.Fatal(err)
	}
	// Many messages, so that the layout recognition meets every kind of
	// ciphertext (one in 256 of Wine's TOKEN buffers starts with 0x60,
	// the RFC 2743 tag), and one as large as a WinRM envelope may be.
	msgs := []string{"", "x", string(bytes.Repeat([]byte("y"), 150<<10))}
	for i := range 1000 {
		msgs = append(msgs, fmt.Sprintf("<s:Envelope>message %d</s:Envelope>", i))
	}
	for i, msg := range msgs {
		h, d, err := p.SealParts([]byte(msg))
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		got, err := server.OpenParts(h, d)
		if err != nil || string(got) != msg {
			t.Fatalf("message %d: the acceptor opens %d bytes, %v", i, len(got), err)
		}
		h, d, err = server.SealParts([]byte("reply " + msg))
		if err != nil {
			t.Fatal(err)
		}
		got, err = p.OpenParts(h, d)
		if err != nil || string(got) != "reply "+msg {
			t.Fatalf("reply %d: %v", i, err)
		}
	}
	// A flipped bit and a replayed reply are both refused.
	h, d, _ := server.SealParts([]byte("last"))
	bad := bytes.Clone(d)
	bad[0] ^= 1
	if _, err := p.OpenParts(h, bad); !errors.Is(err, gss.ErrIntegrity) {
		t.Fatalf("flipped bit: %v", err)
	}
	if _, err := p.OpenParts(h, d); err != nil {
		t.Fatalf("the intact message after a refused one: %v", err)
	}
	if _, err := p.OpenParts(h, d); err == nil {
		t.Fatal("a replayed message was opened")
	}
}

// TestSSPICorruptedReply: a reply token SSPI does not accept is
// gss.ErrMutualAuth, as in the pure-Go initiator; so is no reply at all
// when mutual authentication was asked for.
func TestSSPICorruptedReply(t *testing.T) {
	a, spn := lab(t)
	creds, err := AcquireCurrentUser(Kerberos)
	if err != nil {
		t.Fatal(err)
	}
	for _, corrupt := range []bool{true, false} {
		c, tok, err := creds.Start(Request{Target: spn, Mutual: true})
		if err != nil {
			t.Fatal(err)
		}
		acc, err := a.Accept(tok)
		if err != nil {
			t.Fatal(err)
		}
		reply := bytes.Clone(acc.ReplyToken)
		if corrupt {
			reply[len(reply)-10] ^= 1
		} else {
			reply = nil
		}
		if err := c.Accept(reply); !errors.Is(err, gss.ErrMutualAuth) {
			t.Fatalf("corrupt=%v: %v", corrupt, err)
		}
		if c.Complete() {
			t.Fatalf("corrupt=%v: complete after a refused reply", corrupt)
		}
		if _, _, err := c.SealParts([]byte("x")); err == nil {
			t.Fatalf("corrupt=%v: sealing on a failed context", corrupt)
		}
	}
}

// TestSSPIUnknownService: a service the KDC does not know fails
// InitializeSecurityContext with an *Error. Windows reports
// SEC_E_TARGET_UNKNOWN, which matches credentials.ErrPrincipalUnknown
// (TestStatusErrors); Wine 8 reports SEC_E_INTERNAL_ERROR, as for every
// GSS_S_FAILURE, the KDC's error code being lost on the way.
func TestSSPIUnknownService(t *testing.T) {
	_, _ = lab(t)
	creds, err := AcquireCurrentUser(Negotiate)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = creds.Start(Request{Target: "HTTP/no-such-host.invalid", Mutual: true})
	var se *Error
	if !errors.As(err, &se) || se.Op != "InitializeSecurityContext" {
		t.Fatalf("err %v, want an *Error from InitializeSecurityContext", err)
	}
	t.Logf("unknown service: %v", err)
	if se.Status == statusTargetUnknown && !errors.Is(err, credentials.ErrPrincipalUnknown) {
		t.Fatalf("err %v does not match credentials.ErrPrincipalUnknown", err)
	}
}
