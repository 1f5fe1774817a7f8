package gss_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/auth/gss"
	"github.com/krbhttp/krbhttp/auth/internal/krbtest"
)

// mitWrapPeer is the MIT side of the wrap cross-checks: a Python process
// that holds one context and answers JSON requests, one per line, with the
// GSS-API call named by "op". Messages travel hex-encoded. wrap_iov with
// HEADER | DATA | PADDING is how WinRM peers split a token (C4b in the
// WinRM wire notes); gss_wrap makes a plain RRC 0 token.
const mitWrapPeer = `
import json, sys
import gssapi
from gssapi.raw import IOV, IOVBufferType, wrap_iov, unwrap_iov

KRB5 = gssapi.OID.from_int_seq("1.2.840.113554.1.2.2")
ctx = None
for line in sys.stdin:
    req = json.loads(line)
    op = req["op"]
    try:
        if op == "accept":
            ctx = gssapi.SecurityContext(usage="accept")
            out = ctx.step(bytes.fromhex(req["token"]))
            # python-gssapi reports some acceptor errors only here.
            res = {"token": (out or b"").hex(), "complete": ctx.complete, "flags": int(ctx.actual_flags)}
        elif op == "initiate":
            flags = [gssapi.RequirementFlag(1 << i) for i in range(8) if req["flags"] & (1 << i)]
            ctx = gssapi.SecurityContext(name=gssapi.Name(req["target"], gssapi.NameType.kerberos_principal),
                                         usage="initiate", mech=KRB5, flags=flags)
            res = {"token": ctx.step().hex()}
        elif op == "finish":
            ctx.step(bytes.fromhex(req["token"]))
            res = {"complete": ctx.complete}
        elif op == "wrap_iov":
            iov = IOV(IOVBufferType.header, bytes.fromhex(req["data"]), IOVBufferType.padding, std_layout=False)
            wrap_iov(ctx, iov, confidential=True)
            res = {"header": iov[0].value.hex(), "data": iov[1].value.hex(), "padding": (iov[2].value or b"").hex()}
        elif op == "wrap":
            res = {"token": ctx.wrap(bytes.fromhex(req["data"]), True).message.hex()}
        elif op == "unwrap":
            out = ctx.unwrap(bytes.fromhex(req["token"]))
            res = {"data": out.message.hex(), "encrypted": out.encrypted}
        elif op == "unwrap_iov":
            iov = IOV((IOVBufferType.header, False, bytes.fromhex(req["header"])), bytes.fromhex(req["data"]), std_layout=False)
            unwrap_iov(ctx, iov)
            res = {"data": iov[1].value.hex()}
        else:
            res = {"error": "unknown op " + op}
    except gssapi.exceptions.GSSError as e:
        res = {"error": str(e), "kind": type(e).__name__}
    print(json.dumps(res), flush=True)
`

// mitReply is any answer of mitWrapPeer.
type mitReply struct {
	Token     string `json:"token"`
	Complete  bool   `json:"complete"`
	Header    string `json:"header"`
	Data      string `json:"data"`
	Padding   string `json:"padding"`
	Encrypted bool   `json:"encrypted"`
	Error     string `json:"error"`
	Kind      string `json:"kind"`
}

type mitPeer struct {
	t   *testing.T
	enc *json.Encoder
	dec *json.Decoder
}

// newMITPeer starts mitWrapPeer with env added to a KRB5-free environment.
func newMITPeer(t *testing.T, env ...string) *mitPeer {
	t.Helper()
	requirePythonGSSAPI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := exec.CommandContext(ctx, python, "-c", mitWrapPeer)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KRB5") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "KRB5RCACHETYPE=none")
	cmd.Env = append(cmd.Env, env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("MIT peer: %v: %s", err, stderr.String())
		}
		cancel()
	})
	return &mitPeer{t: t, enc: json.NewEncoder(in), dec: json.NewDecoder(bufio.NewReaderSize(out, 1<<20))}
}

// call sends one request and fails the test when MIT reports an error.
func (p *mitPeer) call(req map[string]any) mitReply {
	p.t.Helper()
	if err := p.enc.Encode(req); err != nil {
		p.t.Fatal(err)
	}
	var r mitReply
	if err := p.dec.Decode(&r); err != nil {
		p.t.Fatalf("reading MIT's answer to %v: %v", req["op"], err)
	}
	if r.Error != "" {
		p.t.Fatalf("MIT %v: %s %s", req["op"], r.Kind, r.Error)
	}
	return r
}

// wrapPayloads are the plaintexts exchanged: empty, tiny, a SOAP envelope
// and a full 150 KiB envelope.
var wrapPayloads = [][]byte{
	{},
	[]byte("x"),
	bytes.Repeat([]byte("<rsp:Stream>aGVsbG8=</rsp:Stream>"), 40),
	bytes.Repeat([]byte{0xa5}, 150<<10),
}

// exchangeWithMIT runs the wrap cross-checks over an established context
// whose enctype makes wrap_iov headers of 32+rrc bytes:
// MIT wraps (WinRM split and plain gss_wrap), we open; we seal, MIT
// unwraps (whole token and split header / data). Sequence numbers run on
// across all messages, which MIT checks.
func exchangeWithMIT(t *testing.T, p *mitPeer, ours *gss.SecurityContext, rrc int) {
	t.Helper()
	s, err := gss.NewSealer(ours)
	if err != nil {
		t.Fatal(err)
	}
	wantFromMIT, wantFromUs := byte(0x06), byte(0x07)
	if ours.Initiator {
		wantFromMIT, wantFromUs = 0x07, 0x06
	}
	for _, msg := range wrapPayloads {
		r := p.call(map[string]any{"op": "wrap_iov", "data": hex.EncodeToString(msg)})
		header, data := mustHex(t, r.Header), mustHex(t, r.Data)
		if len(header) != 32+rrc || len(data) != len(msg) || r.Padding != "" || header[2] != wantFromMIT ||
			binary.BigEndian.Uint16(header[4:]) != 0 || int(binary.BigEndian.Uint16(header[6:])) != rrc {
			t.Fatalf("MIT's wrap_iov: header %x (%d bytes), data %d bytes, padding %q", header[:16], len(header), len(data), r.Padding)
		}
		if pt, err := s.Open(append(header, data...)); err != nil || !bytes.Equal(pt, msg) {
			t.Fatalf("opening MIT's %d-byte wrap_iov token: %v", len(msg), err)
		}

		r = p.call(map[string]any{"op": "wrap", "data": hex.EncodeToString(msg)})
		if pt, err := s.Open(mustHex(t, r.Token)); err != nil || !bytes.Equal(pt, msg) {
			t.Fatalf("opening MIT's %d-byte gss_wrap token: %v", len(msg), err)
		}

		tok, err := s.Seal(msg)
		if err != nil {
			t.Fatal(err)
		}
		if tok[2] != wantFromUs {
			t.Fatalf("our flags %#x, want %#x", tok[2], wantFromUs)
		}
		r = p.call(map[string]any{"op": "unwrap", "token": hex.EncodeToString(tok)})
		if !r.Encrypted || !bytes.Equal(mustHex(t, r.Data), msg) {
			t.Fatalf("MIT unwrapped our %d-byte token to %d bytes (encrypted %v)", len(msg), len(r.Data)/2, r.Encrypted)
		}

		if tok, err = s.Seal(msg); err != nil {
			t.Fatal(err)
		}
		split := len(tok) - len(msg)
		r = p.call(map[string]any{"op": "unwrap_iov", "header": hex.EncodeToString(tok[:split]), "data": hex.EncodeToString(tok[split:])})
		if !bytes.Equal(mustHex(t, r.Data), msg) {
			t.Fatalf("MIT's unwrap_iov of our %d-byte token differs", len(msg))
		}
	}
}

// TestWrapInteropMITInitiator: MIT initiates (mutual, sequence), our
// acceptor answers with an acceptor subkey, and wrap tokens flow both ways.
func TestWrapInteropMITInitiator(t *testing.T) {
	t.Parallel()
	svc := krbtest.NewService(t, spn, realm)
	p := newMITPeer(t, "KRB5_CONFIG="+krbtest.Krb5Conf(t, realm), "KRB5CCNAME=FILE:"+writeCCache(t, svc.Ticket(t, "alice")))
	const mutualSequenceConfInteg = 0x02 | 0x08 | 0x10 | 0x20
	r := p.call(map[string]any{"op": "initiate", "target": spn + "@" + realm, "flags": mutualSequenceConfInteg})
	acc, err := newAcceptor(t, svc, nil).Accept(mustHex(t, r.Token))
	if err != nil {
		t.Fatal(err)
	}
	if r := p.call(map[string]any{"op": "finish", "token": hex.EncodeToString(acc.ReplyToken)}); !r.Complete {
		t.Fatal("MIT did not complete the context")
	}
	exchangeWithMIT(t, p, acc.Context, 28)
}

// TestWrapInteropMITAcceptor: we initiate, MIT accepts (and always sends
// an acceptor subkey), and wrap tokens flow both ways, for both token
// formats and every AES enctype.
func TestWrapInteropMITAcceptor(t *testing.T) {
	t.Parallel()
	svc := krbtest.NewService(t, spn, realm)
	p := newMITPeer(t, "KRB5_CONFIG="+krbtest.Krb5Conf(t, realm), "KRB5_KTNAME="+svc.KeytabFile(t))
	for i, ks := range keySizes {
		format := []gss.Format{gss.FormatKRB5, gss.FormatSPNEGO}[i%2]
		tkt := svc.Ticket(t, "alice", krbtest.WithEType(ks.et))
		init, tok := newInitiator(t, svc, gss.InitiatorConfig{Ticket: tkt, Flags: gss.FlagMutual | gss.FlagSequence | gss.FlagConf | gss.FlagInteg, Format: format})
		r := p.call(map[string]any{"op": "accept", "token": hex.EncodeToString(tok)})
		if !r.Complete {
			t.Fatal("MIT did not complete the context")
		}
		if err := init.Accept(mustHex(t, r.Token)); err != nil {
			t.Fatal(err)
		}
		ctx := init.SecurityContext()
		if len(ctx.AcceptorSubkey.KeyValue) == 0 || ctx.AcceptorSubkey.KeyType != ks.et {
			t.Fatalf("MIT's acceptor subkey has enctype %d, want %d", ctx.AcceptorSubkey.KeyType, ks.et)
		}
		exchangeWithMIT(t, p, ctx, 16+ks.check)
	}
}
