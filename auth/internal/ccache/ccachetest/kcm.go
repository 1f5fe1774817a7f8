package ccachetest

import (
	"encoding/binary"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// FakeKCM listens on a Unix socket (its path is returned) and answers
// each KCM request with whatever respond returns for its opcode and
// arguments, written raw (so it can be any garbage), closing the
// connection after each reply with closeAfter, or at once when respond
// returns nil. respond may block. Real daemons are tested with
// kdctest.StartKCM; this is for the answers no real daemon gives.
func FakeKCM(t testing.TB, closeAfter bool, respond func(op uint16, args []byte) []byte) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "kcm-fake-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	sock := filepath.Join(dir, "s")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	t.Cleanup(func() { close(done); _ = l.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer conn.Close()
				go func() { <-done; _ = conn.Close() }()
				for {
					var n [4]byte
					if _, err := io.ReadFull(conn, n[:]); err != nil {
						return
					}
					req := make([]byte, binary.BigEndian.Uint32(n[:]))
					if _, err := io.ReadFull(conn, req); err != nil || len(req) < 4 {
						return
					}
					out := respond(binary.BigEndian.Uint16(req[2:4]), req[4:])
					if out == nil {
						return
					}
					if _, err := conn.Write(out); err != nil || closeAfter {
						return
					}
				}
			})
		}
	})
	return sock
}

// KCMReply frames a KCM reply as MIT's test server (kcmserver.py) and sssd
// do: length, transport status 0, then the operation status and results.
func KCMReply(status int32, results []byte) []byte {
	body := binary.BigEndian.AppendUint32(nil, uint32(status))
	body = append(body, results...)
	out := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	out = binary.BigEndian.AppendUint32(out, 0)
	return append(out, body...)
}

// KCM opcodes the fakes answer (MIT's src/include/kcm.h).
const (
	KCMOpInitialize      = 4
	KCMOpStore           = 6
	KCMOpGetPrincipal    = 8
	KCMOpGetCredUUIDList = 9
	KCMOpGetCredByUUID   = 10
	KCMOpGetDefaultCache = 20
	KCMOpGetCredList     = 13001
)
