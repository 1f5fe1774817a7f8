package wsman

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"testing"
)

func TestPinnedDialer(t *testing.T) {
	t.Parallel()
	var dials int
	d := &pinnedDialer{dial: func(context.Context, string, string) (net.Conn, error) {
		dials++
		c, _ := net.Pipe()
		return c, nil
	}}
	ctx := t.Context()
	first, _ := d.dialContext(ctx, "tcp", "h:80")
	// Before the context is established, dialing again is allowed (a
	// server may close the connection that carried a 401).
	second, err := d.dialContext(ctx, "tcp", "h:80")
	if err != nil {
		t.Fatal(err)
	}
	if d.pin(first) {
		t.Fatal("pinned to a connection that is not the last one dialed")
	}
	if _, err := d.dialContext(ctx, "tcp", "h:80"); !errors.Is(err, ErrConnectionLost) || dials != 2 {
		t.Fatalf("dial after pin: %v (%d dials)", err, dials)
	}
	d = &pinnedDialer{dial: func(context.Context, string, string) (net.Conn, error) { return second, nil }}
	raw, _ := d.dialContext(ctx, "tcp", "h:443")
	if !d.pin(tls.Client(tls.Client(raw, &tls.Config{}), &tls.Config{})) {
		t.Fatal("TLS inside TLS around the dialed connection not recognized")
	}
	if d.pin(nil) {
		t.Fatal("pinned to no connection")
	}
}
