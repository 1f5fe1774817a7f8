package gss_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/auth/gss"
	"github.com/krbhttp/krbhttp/auth/internal/ccache"
	"github.com/krbhttp/krbhttp/auth/internal/krbtest"
	"github.com/krbhttp/krbhttp/auth/ticket"
)

// The interoperability tests run MIT's GSS-API (libgssapi_krb5 through
// Debian's python3-gssapi) against this package, with no KDC: the keytab
// and tickets come from krbtest. MIT accepting our AP-REQ and verifying
// our AP-REP, and us verifying MIT's AP-REP and accepting its AP-REQ,
// covers the token formats, the checksum, channel bindings and the
// AP-REP both ways.

const python = "/usr/bin/python3"

// mitScript drives one side of a context. Arguments: mode (accept or
// initiate), channel-binding application data in hex or "-", mechanism
// OID, target principal, flags. Tokens go through stdin and stdout as hex
// lines; results come back as JSON lines.
const mitScript = `
import json, sys
import gssapi
from gssapi.raw import ChannelBindings

mode, cb, mech, target, flags = sys.argv[1:6]
bindings = None if cb == "-" else ChannelBindings(application_data=bytes.fromhex(cb))

def say(**kw):
    print(json.dumps(kw), flush=True)

def read_token():
    return bytes.fromhex(sys.stdin.readline().strip())

try:
    if mode == "accept":
        ctx = gssapi.SecurityContext(usage="accept", channel_bindings=bindings)
        out = ctx.step(read_token())
        deleg = ctx.delegated_creds
        say(complete=ctx.complete, initiator=str(ctx.initiator_name), mech=ctx.mech.dotted_form,
            flags=int(ctx.actual_flags), token=(out or b"").hex(),
            delegated=str(deleg.name) if deleg else "", delegated_lifetime=deleg.lifetime if deleg else 0)
    else:
        ctx = gssapi.SecurityContext(
            name=gssapi.Name(target, gssapi.NameType.kerberos_principal), usage="initiate",
            mech=gssapi.OID.from_int_seq(mech),
            flags=[gssapi.RequirementFlag(1 << i) for i in range(8) if int(flags) & (1 << i)],
            channel_bindings=bindings)
        say(token=ctx.step().hex(), complete=ctx.complete)
        reply = read_token()
        if not ctx.complete:
            ctx.step(reply)
        say(complete=ctx.complete, flags=int(ctx.actual_flags))
except gssapi.exceptions.GSSError as e:
    say(error=str(e), kind=type(e).__name__)
`

const (
	mechKRB5   = "1.2.840.113554.1.2.2"
	mechSPNEGO = "1.3.6.1.5.5.2"
)

// mitResult is one JSON line of the script.
type mitResult struct {
	Complete  bool   `json:"complete"`
	Initiator string `json:"initiator"`
	Mech      string `json:"mech"`
	Flags     uint32 `json:"flags"`
	Token     string `json:"token"`
	// Delegated names the delegated credentials MIT's acceptor got, and
	// DelegatedLifetime is their remaining lifetime in seconds.
	Delegated         string `json:"delegated"`
	DelegatedLifetime int64  `json:"delegated_lifetime"`
	Error             string `json:"error"`
	Kind              string `json:"kind"`
}

// mit is a running script.
type mit struct {
	t     *testing.T
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Reader
	trace string
}

// requirePythonGSSAPI fails (not skips) when MIT's GSS-API is not
// reachable from Python: the interoperability tests are the proof that the
// tokens are right, and a silent skip would hide their absence.
func requirePythonGSSAPI(t *testing.T) {
	t.Helper()
	if out, err := exec.Command(python, "-c", "import gssapi").CombinedOutput(); err != nil {
		t.Fatalf("MIT interoperability tests need python3-gssapi and krb5-user: "+
			"apt-get install -y python3-gssapi krb5-user (%s -c 'import gssapi': %v: %s)", python, err, out)
	}
}

// startMIT runs the script with a private MIT environment: our krb5.conf,
// keytab and credential cache, no replay cache, a trace file for failures.
func startMIT(t *testing.T, env []string, args ...string) *mit {
	t.Helper()
	requirePythonGSSAPI(t)
	m := &mit{t: t, trace: filepath.Join(t.TempDir(), "krb5.trace")}
	// Not t.Context(): it is cancelled before Cleanup runs, which would
	// kill the script before Wait could report how it ended.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	m.cmd = exec.CommandContext(ctx, python, append([]string{"-c", mitScript}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KRB5") {
			m.cmd.Env = append(m.cmd.Env, kv)
		}
	}
	m.cmd.Env = append(m.cmd.Env, "KRB5RCACHETYPE=none", "KRB5_TRACE="+m.trace)
	m.cmd.Env = append(m.cmd.Env, env...)
	m.cmd.Stderr = &strings.Builder{}
	var err error
	if m.in, err = m.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := m.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	m.out = bufio.NewReader(stdout)
	if err := m.cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		defer cancel()
		m.in.Close()
		if err := m.cmd.Wait(); err != nil {
			t.Errorf("python: %v: %s", err, m.cmd.Stderr)
		}
	})
	return m
}

func (m *mit) send(token []byte) {
	m.t.Helper()
	if _, err := fmt.Fprintf(m.in, "%x\n", token); err != nil {
		m.t.Fatal(err)
	}
}

func (m *mit) result() mitResult {
	m.t.Helper()
	line, err := m.out.ReadString('\n')
	if err != nil {
		m.t.Fatalf("reading from python: %v; stderr: %s", err, m.cmd.Stderr)
	}
	var r mitResult
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		m.t.Fatalf("python said %q: %v", line, err)
	}
	return r
}

// failf reports a failure with MIT's trace, which says why it refused.
func (m *mit) failf(format string, args ...any) {
	m.t.Helper()
	trace, _ := os.ReadFile(m.trace)
	m.t.Fatalf(format+"\nKRB5_TRACE:\n%s", append(args, trace)...)
}

func (r mitResult) token(t *testing.T) []byte {
	t.Helper()
	b, err := hex.DecodeString(r.Token)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// cbArg encodes channel-binding application data for the script.
func cbArg(b []byte) string {
	if b == nil {
		return "-"
	}
	return hex.EncodeToString(b)
}

// MIT's GSS flag values, as gss_init_sec_context reports them.
const (
	mitMutual = 0x02
	mitDeleg  = 0x01
)

// TestMITAcceptsOurTokens: MIT accepts our AP-REQ (both formats, with and
// without channel bindings) and we verify its AP-REP.
func TestMITAcceptsOurTokens(t *testing.T) {
	t.Parallel()
	svc := krbtest.NewService(t, spn, realm)
	env := []string{"KRB5_CONFIG=" + krbtest.Krb5Conf(t, realm), "KRB5_KTNAME=" + svc.KeytabFile(t)}
	for _, format := range []gss.Format{gss.FormatSPNEGO, gss.FormatKRB5} {
		for _, mutual := range []bool{true, false} {
			for _, cb := range [][]byte{nil, bindingsA} {
				t.Run(fmt.Sprintf("%v/mutual=%v/cb=%v", format, mutual, cb != nil), func(t *testing.T) {
					t.Parallel()
					fl := gss.FlagSequence | gss.FlagInteg | gss.FlagConf
					if mutual {
						fl |= gss.FlagMutual
					}
					tkt := svc.Ticket(t, "alice")
					init, tok := newInitiator(t, svc, gss.InitiatorConfig{Ticket: tkt, Flags: fl, Format: format, ChannelBindings: cb})
					m := startMIT(t, env, "accept", cbArg(cb), "-", "-", "0")
					m.send(tok)
					r := m.result()
					if r.Error != "" || !r.Complete {
						m.failf("MIT refused our token: %s %s", r.Kind, r.Error)
					}
					// MIT reports the negotiated mechanism, Kerberos in both cases.
					if r.Initiator != "alice@"+realm || r.Mech != mechKRB5 {
						t.Errorf("MIT saw %q with mechanism %s", r.Initiator, r.Mech)
					}
					if (r.Flags&mitMutual != 0) != mutual {
						t.Errorf("MIT flags %#x, mutual %v", r.Flags, mutual)
					}
					if err := init.Accept(r.token(t)); err != nil {
						t.Fatalf("verifying MIT's reply %s: %v", r.Token, err)
					}
					ctx := init.SecurityContext()
					if ctx == nil {
						t.Fatal("no context")
					}
					if mutual && len(ctx.AcceptorSubkey.KeyValue) == 0 {
						t.Error("MIT's AP-REP carried no acceptor subkey")
					}
				})
			}
		}
	}
}

// TestMITRefusesWrongBindings: MIT compares our Bnd with its own
// computation of the bindings; a different certificate hash must fail.
func TestMITRefusesWrongBindings(t *testing.T) {
	t.Parallel()
	svc := krbtest.NewService(t, spn, realm)
	env := []string{"KRB5_CONFIG=" + krbtest.Krb5Conf(t, realm), "KRB5_KTNAME=" + svc.KeytabFile(t)}
	_, tok := newInitiator(t, svc, gss.InitiatorConfig{Flags: gss.FlagMutual, Format: gss.FormatKRB5, ChannelBindings: bindingsA})
	m := startMIT(t, env, "accept", cbArg(bindingsB), "-", "-", "0")
	m.send(tok)
	if r := m.result(); r.Error == "" || !strings.Contains(r.Kind, "Binding") {
		t.Fatalf("MIT accepted wrong bindings: %+v", r)
	}
}

// TestMITInitiatesToUs: MIT's initiator, holding a forged ticket in a
// credential cache, authenticates to our acceptor and verifies our AP-REP.
func TestMITInitiatesToUs(t *testing.T) {
	t.Parallel()
	svc := krbtest.NewService(t, spn, realm)
	conf := krbtest.Krb5Conf(t, realm)
	for _, mech := range []string{mechKRB5, mechSPNEGO} {
		for _, mutual := range []bool{true, false} {
			for _, cb := range []struct{ client, server []byte }{{nil, nil}, {bindingsA, bindingsA}, {nil, bindingsA}} {
				name := fmt.Sprintf("%s/mutual=%v/cb=%v,%v", mech, mutual, cb.client != nil, cb.server != nil)
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					tkt := svc.Ticket(t, "alice")
					env := []string{"KRB5_CONFIG=" + conf, "KRB5CCNAME=FILE:" + writeCCache(t, tkt)}
					flags := 0x08 // sequence
					if mutual {
						flags |= mitMutual
					}
					m := startMIT(t, env, "initiate", cbArg(cb.client), mech, spn+"@"+realm, fmt.Sprint(flags))
					r := m.result()
					if r.Error != "" {
						m.failf("MIT initiator: %s %s", r.Kind, r.Error)
					}
					acc, err := newAcceptor(t, svc, func(c *gss.AcceptorConfig) { c.ChannelBindings = cb.server }).Accept(r.token(t))
					if err != nil {
						m.failf("accepting MIT's token %s: %v", r.Token, err)
					}
					wantFormat := gss.FormatKRB5
					if mech == mechSPNEGO {
						wantFormat = gss.FormatSPNEGO
					}
					if acc.Principal != "alice@"+realm || acc.Format != wantFormat || (acc.Flags&gss.FlagMutual != 0) != mutual {
						t.Errorf("accepted %s format %v flags %v", acc.Principal, acc.Format, acc.Flags)
					}
					if acc.BindingsPresent != (cb.client != nil) || acc.BindingsMatch != (cb.client != nil && cb.server != nil) {
						t.Errorf("bindings present %v match %v", acc.BindingsPresent, acc.BindingsMatch)
					}
					m.send(acc.ReplyToken)
					if r := m.result(); r.Error != "" || !r.Complete {
						m.failf("MIT refused our reply %x: %s %s", acc.ReplyToken, r.Kind, r.Error)
					}
				})
			}
		}
	}
}

// writeCCache stores tkt in a credential cache file for MIT.
func writeCCache(t *testing.T, tkt *ticket.Ticket) string {
	t.Helper()
	c, err := ccache.ForTickets(tkt)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ccache")
	if err := os.WriteFile(path, ccache.Marshal(c), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestMITCBTAwareInitiator: with client_aware_channel_bindings MIT marks
// its authenticator with KERB_AP_OPTIONS_CBT. Sent without bindings to an
// acceptor that expects some, that must fail (it is what a client talking
// through a TLS-terminating proxy looks like); with bindings it passes.
func TestMITCBTAwareInitiator(t *testing.T) {
	t.Parallel()
	svc := krbtest.NewService(t, spn, realm)
	conf := krbtest.Krb5Conf(t, realm)
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte("[libdefaults]\n"), []byte("[libdefaults]\n\tclient_aware_channel_bindings = true\n"), 1)
	if err := os.WriteFile(conf, b, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, cb := range [][]byte{nil, bindingsA} {
		t.Run(fmt.Sprintf("cb=%v", cb != nil), func(t *testing.T) {
			t.Parallel()
			env := []string{"KRB5_CONFIG=" + conf, "KRB5CCNAME=FILE:" + writeCCache(t, svc.Ticket(t, "alice"))}
			m := startMIT(t, env, "initiate", cbArg(cb), mechKRB5, spn+"@"+realm, "0")
			r := m.result()
			if r.Error != "" {
				m.failf("MIT initiator: %s %s", r.Kind, r.Error)
			}
			acc, err := newAcceptor(t, svc, func(c *gss.AcceptorConfig) { c.ChannelBindings = bindingsA }).Accept(r.token(t))
			switch {
			case cb == nil && !errors.Is(err, gss.ErrBadBindings):
				t.Errorf("CBT-aware client without bindings: %v, want ErrBadBindings", err)
			case cb != nil && (err != nil || !acc.BindingsMatch):
				t.Errorf("CBT-aware client with bindings: %v", err)
			}
			m.send(nil)
			m.result()
		})
	}
}
