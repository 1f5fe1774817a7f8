package auth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// defaultProbeTimeout bounds a certificate probe when the base transport
// sets no TLSHandshakeTimeout.
const defaultProbeTimeout = 10 * time.Second

// certProbes lets one goroutine per origin learn a server certificate
// while the others that want it wait, so that a burst of first requests
// costs one extra handshake. The zero value is ready to use.
type certProbes struct {
	mu       sync.Mutex               // guards inflight
	inflight map[string]chan struct{} // origin -> closed when its probe ends
}

// preemptiveCert returns the certificate a token sent before any response
// should be bound to: the one last seen for the origin, else, over TLS
// with channel binding on, the one a probe handshake finds. Nil means no
// bindings. Why a probe, and when there is none, is documented on
// WithChannelBinding.
func (t *Transport) preemptiveCert(ctx context.Context, req *http.Request, origin string) *x509.Certificate {
	if cert := t.cachedCert(origin); cert != nil || !t.cfg.channelBinding || !strings.EqualFold(req.URL.Scheme, "https") {
		return cert
	}
	base, ok := httpTransport(t.base)
	if !ok {
		return nil
	}
	p := &t.probes
	p.mu.Lock()
	if done, ok := p.inflight[origin]; ok {
		p.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
		}
		return t.cachedCert(origin)
	}
	if p.inflight == nil {
		p.inflight = make(map[string]chan struct{})
	}
	done := make(chan struct{})
	p.inflight[origin] = done
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.inflight, origin)
		p.mu.Unlock()
		close(done)
	}()
	cert, err := probeCert(ctx, base, req)
	if err != nil {
		t.log(ctx, slog.LevelDebug, "negotiate: no certificate for the preemptive token's channel bindings", "origin", origin, "error", err)
		return nil
	}
	t.certs.put(origin, cert)
	return cert
}

// httpTransport finds the *http.Transport under rt, following
// WrappedRoundTripper methods (client-go's convention for transport
// wrappers, which Transport follows too).
func httpTransport(rt http.RoundTripper) (*http.Transport, bool) {
	// Bounded: wrappers could point at each other.
	for range 16 {
		switch b := rt.(type) {
		case *http.Transport:
			return b, true
		case interface{ WrappedRoundTripper() http.RoundTripper }:
			rt = b.WrappedRoundTripper()
		default:
			return nil, false
		}
	}
	return nil, false
}

var errProxied = errors.New("the request goes through a proxy")

// probeCert makes a TLS handshake with the server of req the way base
// would (its dialers, TLS configuration and handshake timeout) and returns
// the leaf certificate. The connection is closed at once: base's pool is
// neither used nor changed.
func probeCert(ctx context.Context, base *http.Transport, req *http.Request) (*x509.Certificate, error) {
	if base.Proxy != nil {
		// Through a proxy the certificate seen directly may not be the
		// one the request meets, and a direct connection may be blocked.
		if u, err := base.Proxy(req); err != nil || u != nil {
			return nil, errors.Join(errProxied, err)
		}
	}
	timeout := base.TLSHandshakeTimeout
	if timeout <= 0 {
		timeout = defaultProbeTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	host, port := req.URL.Hostname(), req.URL.Port()
	if port == "" {
		port = "443"
	}
	addr := net.JoinHostPort(host, port)
	var conn net.Conn
	if base.DialTLSContext != nil {
		c, err := base.DialTLSContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		conn = c
	} else {
		dial := base.DialContext
		if dial == nil {
			dial = (&net.Dialer{}).DialContext
		}
		raw, err := dial(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		cfg := &tls.Config{}
		if base.TLSClientConfig != nil {
			cfg = base.TLSClientConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = host
		}
		tc := tls.Client(raw, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = raw.Close()
			return nil, err
		}
		conn = tc
	}
	defer conn.Close()
	st, ok := conn.(interface{ ConnectionState() tls.ConnectionState })
	if !ok {
		return nil, errors.New("the base transport's DialTLSContext returned a connection without TLS state")
	}
	certs := st.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return nil, errors.New("the server sent no certificate")
	}
	return certs[0], nil
}
