package kcm_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/auth/internal/ccache"
	"github.com/krbhttp/krbhttp/auth/internal/ccache/ccachetest"
	"github.com/krbhttp/krbhttp/auth/internal/ccache/kcm"
)

func fakeDaemon(t *testing.T, closeAfter bool, respond func(op uint16, args []byte) []byte) *kcm.Client {
	return &kcm.Client{Socket: ccachetest.FakeKCM(t, closeAfter, respond)}
}

var reply = ccachetest.KCMReply

const (
	opGetPrincipal    = ccachetest.KCMOpGetPrincipal
	opGetDefaultCache = ccachetest.KCMOpGetDefaultCache
)

// TestBadDaemons: whatever a daemon answers, the client returns a typed
// error in bounded time and never panics.
func TestBadDaemons(t *testing.T) {
	alice := ccache.MarshalPrincipal(nil, ccachetest.Principal("alice@R"))
	cases := []struct {
		name       string
		respond    func(op uint16, args []byte) []byte
		want       error
		closeAfter bool
	}{
		{"garbage", func(uint16, []byte) []byte { return []byte("HTTP/1.1 400 Bad Request\r\n\r\n") }, ccache.ErrMalformed, false},
		{"too long", func(uint16, []byte) []byte { return []byte{0x00, 0xa0, 0x00, 0x01, 0, 0, 0, 0} }, ccache.ErrMalformed, false},
		{"closed mid-reply", func(uint16, []byte) []byte { return []byte{0, 0, 0, 100, 0, 0, 0, 0, 1, 2, 3} }, ccache.ErrMalformed, true},
		{"hang up", func(uint16, []byte) []byte { return nil }, ccache.ErrMalformed, false},
		{"no status", func(uint16, []byte) []byte { return []byte{0, 0, 0, 2, 0, 0, 0, 0, 1, 2} }, ccache.ErrMalformed, false},
		{"not found", func(uint16, []byte) []byte { return reply(-1765328189, nil) }, ccache.ErrNotFound, false},
		{"name not terminated", func(op uint16, _ []byte) []byte { return reply(0, []byte("0")) }, ccache.ErrMalformed, false},
		{"bad principal", func(op uint16, _ []byte) []byte {
			if op == opGetDefaultCache {
				return reply(0, []byte("0\x00"))
			}
			return reply(0, []byte{0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff})
		}, ccache.ErrMalformed, false},
		{"huge credential count", func(op uint16, _ []byte) []byte {
			switch op {
			case opGetDefaultCache:
				return reply(0, []byte("0\x00"))
			case opGetPrincipal:
				return reply(0, alice)
			}
			return reply(0, []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1})
		}, ccache.ErrMalformed, false},
		{"credential length beyond reply", func(op uint16, _ []byte) []byte {
			switch op {
			case opGetDefaultCache:
				return reply(0, []byte("0\x00"))
			case opGetPrincipal:
				return reply(0, alice)
			}
			return reply(0, []byte{0, 0, 0, 1, 0x7f, 0, 0, 0, 1, 2, 3, 4})
		}, ccache.ErrMalformed, false},
		{"credential not a credential", func(op uint16, _ []byte) []byte {
			switch op {
			case opGetDefaultCache:
				return reply(0, []byte("0\x00"))
			case opGetPrincipal:
				return reply(0, alice)
			}
			return reply(0, []byte{0, 0, 0, 1, 0, 0, 0, 4, 1, 2, 3, 4})
		}, ccache.ErrMalformed, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := fakeDaemon(t, tc.closeAfter, tc.respond)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			p, err := c.Collection().Primary(ctx)
			if err == nil {
				_, err = p.Load(ctx)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestHangingDaemon: a daemon that accepts and never answers costs the
// caller its context's deadline, or the client's timeout without one; a
// cancelled context ends the wait at once.
func TestHangingDaemon(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	c := fakeDaemon(t, false, func(uint16, []byte) []byte { <-block; return nil })

	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.DefaultName(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("with a deadline: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}

	c.Timeout = 150 * time.Millisecond
	start = time.Now()
	_, err = c.DefaultName(context.Background())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("with the client timeout: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}

	c.Timeout = time.Hour
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start = time.Now()
	_, err = c.DefaultName(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
}

// oldDaemon behaves as MIT's kcmserver.py with --fallback (a daemon
// without GET_CRED_LIST, RETRIEVE and REPLACE, like sssd before 2.4 and
// Heimdal): unknown operations get KRB5_FCC_INTERNAL.
type oldDaemon struct {
	mu     sync.Mutex
	princ  map[string][]byte
	creds  map[string][][]byte
	defalt string
}

func (d *oldDaemon) respond(op uint16, args []byte) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	name, rest, _ := bytes.Cut(args, []byte{0})
	n := string(name)
	uuid := func(i int) []byte { return binary.BigEndian.AppendUint32(make([]byte, 12), uint32(i)) }
	switch op {
	case ccachetest.KCMOpInitialize:
		d.princ[n] = rest
		d.creds[n] = nil
		return reply(0, nil)
	case ccachetest.KCMOpStore:
		d.creds[n] = append(d.creds[n], rest)
		return reply(0, nil)
	case opGetPrincipal:
		p, ok := d.princ[n]
		if !ok {
			return reply(-1765328189, nil)
		}
		return reply(0, p)
	case ccachetest.KCMOpGetCredUUIDList:
		var b []byte
		for i := range d.creds[n] {
			b = append(b, uuid(i)...)
		}
		return reply(0, b)
	case ccachetest.KCMOpGetCredByUUID:
		i := int(binary.BigEndian.Uint32(rest[12:16]))
		if i >= len(d.creds[n]) {
			return reply(-1765328242, nil)
		}
		return reply(0, d.creds[n][i])
	case opGetDefaultCache:
		return reply(0, append([]byte(d.defalt), 0))
	}
	return reply(-1765328188, nil) // KRB5_FCC_INTERNAL
}

// TestOldDaemonFallbacks: Initialize and Load work against a daemon
// without the MIT extensions, as MIT's client falls back.
func TestOldDaemonFallbacks(t *testing.T) {
	d := &oldDaemon{princ: map[string][]byte{}, creds: map[string][][]byte{}, defalt: "1000"}
	c := fakeDaemon(t, false, d.respond)
	ctx := context.Background()
	alice := ccachetest.Principal("alice@R")
	tgt := ccachetest.Credential("alice@R", "krbtgt/R@R")
	if err := c.Initialize(ctx, "1000", alice, []*ccache.Credential{tgt}); err != nil {
		t.Fatal(err)
	}
	s, err := c.Collection().Primary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Add(ctx, ccachetest.Credential("alice@R", "HTTP/x@R")); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Principal.Equal(alice) || len(got.Credentials) != 2 || got.Credentials[1].Server.String() != "HTTP/x@R" {
		t.Fatalf("%+v", got)
	}
}
