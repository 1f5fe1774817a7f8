package kdcproxy_test

import (
	"bytes"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/auth/internal/kdc"
	"github.com/krbhttp/krbhttp/auth/kdcproxy"
)

// FuzzServeHTTP: whatever is posted, the handler answers with a status
// python3-kdcproxy would use and never panics; only a well-formed AS-REQ
// or TGS-REQ for a served realm reaches the (here unreachable) KDC.
func FuzzServeHTTP(f *testing.F) {
	good, _ := kdc.EncodeProxyMessage(kdc.ProxyMessage{Message: []byte{0x6a, 0x03, 0x02, 0x01, 0x05}, Realm: "R"})
	for _, seed := range [][]byte{good, nil, []byte("garbage"), good[:len(good)-2]} {
		f.Add(seed)
	}
	h, err := kdcproxy.New(kdcproxy.WithRealm("R", "127.0.0.1:1"), kdcproxy.WithKDCTimeout(100*time.Millisecond))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/KdcProxy", bytes.NewReader(body))
		r.TLS = &tls.ConnectionState{}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch w.Code {
		case 400, 413, 503:
		default:
			t.Fatalf("status %d for %x", w.Code, body)
		}
	})
}
