// Package harness holds what the test harnesses of real peers (Apache,
// Squid, dnsmasq...) share when they start a daemon in a temporary
// directory: a free loopback port and private copies of the files the
// daemon reads.
package harness

import (
	"errors"
	"net"
	"os"
	"strconv"
)

// FreePort returns a loopback TCP port that was free a moment ago. The
// kernel picks it, so it is never one that a connection (or one in
// TIME_WAIT) holds; another process can still take it before the daemon
// binds it, so callers retry a start that fails to bind.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// FreePortTCPUDP is FreePort for a daemon that listens on both TCP and
// UDP on the same port (DNS, a KDC).
func FreePortTCPUDP() (int, error) {
	for range 20 {
		port, err := FreePort()
		if err != nil {
			return 0, err
		}
		u, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			_ = u.Close()
			return port, nil
		}
	}
	return 0, errors.New("harness: no loopback port free for both TCP and UDP")
}

// CopyPrivate copies the file from to the path to, readable by its owner
// only (keytabs and krb5.conf files handed to a daemon).
func CopyPrivate(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o600)
}
