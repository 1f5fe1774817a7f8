package kdc

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// fakeServer listens on one loopback port over UDP and TCP and answers
// with udpReply / tcpReply (nil: stay silent).
type fakeServer struct {
	addr     string
	udpHits  atomic.Int32
	tcpHits  atomic.Int32
	udpReply func(req []byte) []byte
	tcpReply func(req []byte) []byte
	wg       sync.WaitGroup
}

func startFake(t *testing.T, udpReply, tcpReply func([]byte) []byte) *fakeServer {
	t.Helper()
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ul, err := net.ListenPacket("udp", tl.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{addr: tl.Addr().String(), udpReply: udpReply, tcpReply: tcpReply}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		buf := make([]byte, 65535)
		for {
			n, from, err := ul.ReadFrom(buf)
			if err != nil {
				return
			}
			s.udpHits.Add(1)
			if s.udpReply != nil {
				if r := s.udpReply(buf[:n]); r != nil {
					_, _ = ul.WriteTo(r, from)
				}
			}
		}
	}()
	go func() {
		defer s.wg.Done()
		for {
			c, err := tl.Accept()
			if err != nil {
				return
			}
			s.tcpHits.Add(1)
			var hdr [4]byte
			if _, err := io.ReadFull(c, hdr[:]); err == nil {
				req := make([]byte, binary.BigEndian.Uint32(hdr[:]))
				if _, err := io.ReadFull(c, req); err == nil && s.tcpReply != nil {
					if r := s.tcpReply(req); r != nil {
						_, _ = c.Write(binary.BigEndian.AppendUint32(nil, uint32(len(r))))
						_, _ = c.Write(r)
					}
				}
			}
			_ = c.Close()
		}
	}()
	t.Cleanup(func() {
		_ = tl.Close()
		_ = ul.Close()
		s.wg.Wait()
	})
	return s
}

func cfgWithKDC(addrs ...string) *config.Config {
	cfg := config.New()
	cfg.Realms = []config.Realm{{Realm: "R", KDC: addrs}}
	return cfg
}

func krbErr(code int32) []byte {
	e := messages.NewKRBError(types.PrincipalName{NameType: 2, NameString: []string{"krbtgt", "R"}}, "R", code, "")
	b, _ := e.Marshal()
	return b
}

func echo(tag byte) func([]byte) []byte {
	return func(req []byte) []byte { return append([]byte{tag}, req...) }
}

func TestUDPThenTooBigThenTCP(t *testing.T) {
	s := startFake(t, func([]byte) []byte { return krbErr(errorcode.KRB_ERR_RESPONSE_TOO_BIG) }, echo('T'))
	tr := &NetTransport{Config: cfgWithKDC(s.addr)}
	reply, err := tr.Exchange(context.Background(), "R", []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if string(reply) != "Thello" || s.udpHits.Load() != 1 || s.tcpHits.Load() != 1 {
		t.Fatalf("reply %q udp %d tcp %d", reply, s.udpHits.Load(), s.tcpHits.Load())
	}
}

func TestUDPAnswer(t *testing.T) {
	s := startFake(t, echo('U'), echo('T'))
	tr := &NetTransport{Config: cfgWithKDC(s.addr)}
	reply, err := tr.Exchange(context.Background(), "R", []byte("x"))
	if err != nil || string(reply) != "Ux" || s.tcpHits.Load() != 0 {
		t.Fatalf("reply %q err %v tcp %d", reply, err, s.tcpHits.Load())
	}
}

func TestLargeRequestGoesTCP(t *testing.T) {
	s := startFake(t, echo('U'), echo('T'))
	tr := &NetTransport{Config: cfgWithKDC(s.addr)}
	big := bytes.Repeat([]byte{1}, DefaultUDPPreferenceLimit+1)
	reply, err := tr.Exchange(context.Background(), "R", big)
	if err != nil || reply[0] != 'T' || s.udpHits.Load() != 0 {
		t.Fatalf("err %v udp %d", err, s.udpHits.Load())
	}
}

func TestSecondKDCAfterFirstRefuses(t *testing.T) {
	dead := deadAddr(t)
	s := startFake(t, echo('U'), nil)
	tr := &NetTransport{Config: cfgWithKDC(dead, s.addr)}
	reply, err := tr.Exchange(context.Background(), "R", []byte("x"))
	if err != nil || string(reply) != "Ux" {
		t.Fatalf("reply %q err %v", reply, err)
	}
}

// deadAddr is a loopback port with nothing listening.
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

func TestUnreachable(t *testing.T) {
	addr := deadAddr(t)
	tr := &NetTransport{Config: cfgWithKDC(addr)}
	start := time.Now()
	_, err := tr.Exchange(context.Background(), "R", []byte("x"))
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "KDC unreachable: ") || !strings.Contains(msg, "udp") || !strings.Contains(msg, "tcp") || !strings.Contains(msg, "refused") {
		t.Errorf("message %q", msg)
	}
	_, err = (&NetTransport{Config: cfgWithKDC()}).Exchange(context.Background(), "R", []byte("x"))
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "no KDC known for realm R") {
		t.Errorf("no KDC: %v", err)
	}
}

func TestContextDeadline(t *testing.T) {
	s := startFake(t, nil, nil) // silent over UDP; TCP closes without answer
	tr := &NetTransport{Config: cfgWithKDC(s.addr)}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := tr.Exchange(ctx, "R", []byte("x"))
	// The caller gave up: the context's error, not "KDC unreachable".
	var ie *InterruptedError
	if errors.Is(err, ErrUnreachable) || !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ie) || ie.Realm != "R" {
		t.Fatalf("err = %v", err)
	}
	if msg := err.Error(); strings.Contains(msg, "unreachable") || !strings.Contains(msg, "deadline exceeded") {
		t.Errorf("message %q", msg)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v with a 150ms deadline", d)
	}
}

func TestAttemptTimeout(t *testing.T) {
	s := startFake(t, nil, nil)
	tr := &NetTransport{Config: cfgWithKDC(s.addr), AttemptTimeout: 50 * time.Millisecond}
	_, err := tr.Exchange(context.Background(), "R", []byte("x"))
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "no reply within 50ms") {
		t.Fatalf("err = %v", err)
	}
}

func TestCancel(t *testing.T) {
	s := startFake(t, nil, nil)
	tr := &NetTransport{Config: cfgWithKDC(s.addr)}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := tr.Exchange(ctx, "R", []byte("x"))
	if !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
		t.Fatalf("err = %v after %v", err, time.Since(start))
	}
}

func TestTCPReplyLengthBounded(t *testing.T) {
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := tl.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = c.Write([]byte{0x7f, 0xff, 0xff, 0xff})
		_, _ = io.Copy(io.Discard, c)
	}()
	cfg := cfgWithKDC(tl.Addr().String())
	cfg.LibDefaults.UDPPreferenceLimit = 1 // TCP only
	_, err = (&NetTransport{Config: cfg}).Exchange(context.Background(), "R", []byte("x"))
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "out of range") {
		t.Fatalf("err = %v", err)
	}
	<-done
}

func TestNormalizeAddr(t *testing.T) {
	for in, want := range map[string]string{
		"kdc.example.test":     "kdc.example.test:88",
		"kdc.example.test:750": "kdc.example.test:750",
		"kdc.example.test:88*": "kdc.example.test:88",
		"[::1]:1088":           "[::1]:1088",
		"::1:88":               "[::1]:88",
		"[::1]":                "[::1]:88",
		"  127.0.0.1:5000 ":    "127.0.0.1:5000",
		"":                     "",
	} {
		if got := normalizeAddr(in); got != want {
			t.Errorf("normalizeAddr(%q) = %q, want %q", in, got, want)
		}
	}
}
