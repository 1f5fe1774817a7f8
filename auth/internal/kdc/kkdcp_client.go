package kdc

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/net/http/httpproxy"
)

// exchangeKKDCP sends req to a KDC proxy (MS-KKDCP): one POST of a
// KDC-PROXY-MESSAGE naming the realm, one KDC-PROXY-MESSAGE back. MIT reads
// the body whatever the status; a status other than 200 is reported here
// instead, since such a body is an error page, not a KDC reply.
func (t *NetTransport) exchangeKKDCP(ctx context.Context, realm string, srv Server, req []byte) ([]byte, error) {
	body, err := EncodeProxyMessage(ProxyMessage{Message: req, Realm: realm})
	if err != nil {
		return nil, err
	}
	client, err := t.httpClient(realm)
	if err != nil {
		return nil, err
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Content-Type", KKDCPContentType)
	hreq.Header.Set("Cache-Control", "no-cache")
	hreq.Header.Set("Pragma", "no-cache")
	resp, err := client.Do(hreq)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			// url.Error repeats the method and URL; the attempt's
			// prefix already names the URL.
			err = ue.Err
		}
		return nil, err
	}
	defer resp.Body.Close()
	u := redacted(hreq.URL)
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, &ProxyError{URL: u, StatusCode: resp.StatusCode, Status: resp.Status}
	}
	if resp.ContentLength > MaxKKDCPMessage {
		return nil, &ProxyError{URL: u, Err: malformed(fmt.Sprintf("KDC proxy reply of %d bytes exceeds %d", resp.ContentLength, MaxKKDCPMessage), nil)}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxKKDCPMessage+1))
	if err != nil {
		return nil, err
	}
	m, err := DecodeProxyMessage(b)
	if err != nil {
		return nil, &ProxyError{URL: u, Err: err}
	}
	return m.Message, nil
}

// httpClient returns the client for realm's KDC proxies: t.HTTPClient, or
// one per set of http_anchors, made once.
func (t *NetTransport) httpClient(realm string) (*http.Client, error) {
	if t.HTTPClient != nil {
		return t.HTTPClient, nil
	}
	anchors := t.settings().Realms[realm].HTTPAnchors
	key := strings.Join(anchors, "\n")
	if c, ok := t.clients.Load(key); ok {
		return c.(*http.Client), nil
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(anchors) > 0 {
		pool, err := LoadAnchors(anchors, os.Getenv)
		if err != nil {
			return nil, fmt.Errorf("http_anchors of realm %s: %w", realm, err)
		}
		tlsConf.RootCAs = pool
	}
	proxy := httpproxy.FromEnvironment().ProxyFunc()
	tr := &http.Transport{
		Proxy:                  func(r *http.Request) (*url.URL, error) { return proxy(r.URL) },
		DialContext:            t.dialer().DialContext,
		TLSClientConfig:        tlsConf,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    10 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        90 * time.Second,
	}
	c := &http.Client{
		Transport: tr,
		// MIT does not follow redirects either; a 3xx is an error, and a
		// redirect loop costs one request.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	actual, _ := t.clients.LoadOrStore(key, c)
	return actual.(*http.Client), nil
}

// maxAnchorDepth bounds ENV: indirections (MIT follows them without a
// bound).
const maxAnchorDepth = 4

// LoadAnchors builds a certificate pool from MIT http_anchors values:
// "FILE:path" (PEM certificates), "DIR:path" (every file not starting with
// "." holding PEM certificates; at least one must) and "ENV:NAME" (the
// value of the environment variable NAME is itself an anchor value). As
// with MIT's k5tls, a value that cannot be loaded is an error.
func LoadAnchors(anchors []string, getenv func(string) string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	for _, a := range anchors {
		if err := loadAnchor(pool, a, getenv, 0); err != nil {
			return nil, err
		}
	}
	return pool, nil
}

func loadAnchor(pool *x509.CertPool, loc string, getenv func(string) string, depth int) error {
	switch {
	case strings.HasPrefix(loc, "FILE:"):
		return loadAnchorFile(pool, loc[len("FILE:"):])
	case strings.HasPrefix(loc, "DIR:"):
		dir := loc[len("DIR:"):]
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		found := false
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") || e.IsDir() {
				continue
			}
			if loadAnchorFile(pool, filepath.Join(dir, e.Name())) == nil {
				found = true
			}
		}
		if !found {
			return fmt.Errorf("%s: no PEM certificate in the directory", loc)
		}
		return nil
	case strings.HasPrefix(loc, "ENV:"):
		if depth >= maxAnchorDepth {
			return fmt.Errorf("%s: ENV: anchors nested deeper than %d", loc, maxAnchorDepth)
		}
		v := getenv(loc[len("ENV:"):])
		if v == "" {
			return fmt.Errorf("%s: the variable is not set", loc)
		}
		return loadAnchor(pool, v, getenv, depth+1)
	}
	return fmt.Errorf("http_anchors value %q: want a FILE:, DIR: or ENV: location", loc)
}

func loadAnchorFile(pool *x509.CertPool, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if !pool.AppendCertsFromPEM(b) {
		return fmt.Errorf("%s: no PEM certificate", path)
	}
	return nil
}
