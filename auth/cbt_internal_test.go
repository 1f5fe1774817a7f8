package auth

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

func TestProbeCert(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	base := srv.Client().Transport.(*http.Transport)
	req := httptest.NewRequest(http.MethodGet, srv.URL, nil)
	ctx := context.Background()

	cert, err := probeCert(ctx, base, req)
	if err != nil || !cert.Equal(srv.Certificate()) {
		t.Fatalf("direct: %v", err)
	}

	viaDialTLS := base.Clone()
	viaDialTLS.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return (&tls.Dialer{Config: base.TLSClientConfig}).DialContext(ctx, network, addr)
	}
	if cert, err := probeCert(ctx, viaDialTLS, req); err != nil || !cert.Equal(srv.Certificate()) {
		t.Fatalf("DialTLSContext: %v", err)
	}

	plain := base.Clone()
	plain.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	if _, err := probeCert(ctx, plain, req); err == nil {
		t.Fatal("a connection without TLS state gave a certificate")
	}

	proxied := base.Clone()
	proxied.Proxy = http.ProxyURL(&url.URL{Scheme: "http", Host: "proxy.example.test:3128"})
	if _, err := probeCert(ctx, proxied, req); !errors.Is(err, errProxied) {
		t.Fatalf("proxied: %v, want errProxied", err)
	}

	untrusted := base.Clone()
	untrusted.TLSClientConfig = &tls.Config{}
	if _, err := probeCert(ctx, untrusted, req); err == nil {
		t.Fatal("an untrusted certificate was taken: the probe must verify as the real request does")
	}
}
