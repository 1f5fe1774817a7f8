package integration

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestKrbcurlSlowKDCTimesOut: a KDC that accepts and never answers, and
// krbcurl -m 2: the deadline ends the KDC exchange, RoundTrip returns the
// context's error, and krbcurl exits 28 (curl's "operation timed out")
// instead of printing the server's 401.
func TestKrbcurlSlowKDCTimesOut(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	held := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			held <- c
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		_ = pc.Close()
		close(held)
		for c := range held {
			_ = c.Close()
		}
	})
	conf := strings.Replace(mustRead(t, env.realm.ConfigPath), "kdc = "+env.realm.KDCAddr, "kdc = "+l.Addr().String(), 1)
	path := filepath.Join(t.TempDir(), "krb5.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, env.httpKeytab, nil)
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte(alicePassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := krbcurl(t)
	start := time.Now()
	code, out, errOut := runWith(t, path, "FILE:"+filepath.Join(t.TempDir(), "none"), "", bin,
		"-m", "2", "--principal", env.realm.Principal("alice"), "--password-file", pwFile, srv.URL)
	if code != 28 || !strings.Contains(errOut, "deadline exceeded") {
		t.Fatalf("exit %d (want 28), stdout %q, stderr %q", code, out, errOut)
	}
	if d := time.Since(start); d > 6*time.Second {
		t.Errorf("took %v with -m 2", d)
	}
	t.Logf("krbcurl -m 2 against a silent KDC: exit %d, %s", code, strings.TrimSpace(errOut))
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
