package auth_test

import (
	"net/http"
	"testing"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/credentials"
)

// TestCredentialStats: the transport reports the counters of the source it
// made: one login and one service ticket for many requests, the rest
// answered from memory.
func TestCredentialStats(t *testing.T) {
	t.Parallel()
	r, conf, kt := rotationRealm(t)
	s := newRotatingServer(t, r, kt)
	tr, err := auth.NewTransport(nil, auth.WithConfig(conf), auth.WithHostnameOverride("web.krbhttp.test"),
		auth.WithPrincipal("alice"), auth.WithPassword("alice-password"), auth.WithRefreshFraction(0.5))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.CloseIdleConnections()
	if st := tr.CredentialStats(); st != (credentials.Stats{}) {
		t.Fatalf("before any request: %+v", st)
	}
	c := &http.Client{Transport: tr}
	const requests = 10
	for range requests {
		resp, err := c.Get(s.srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d, %v", resp.StatusCode, auth.ResponseError(resp))
		}
	}
	st := tr.CredentialStats()
	as, _ := r.ASCount("alice")
	tgs, _ := r.TGSCount("alice", rotatedSPN)
	t.Logf("%d requests: %+v; KDC log: %d AS, %d TGS", requests, st, as, tgs)
	if st.Logins != 1 || st.ServiceTickets != 1 || as != 1 || tgs != 1 || st.CacheHits == 0 {
		t.Fatalf("%d requests: stats %+v, KDC log %d AS and %d TGS; want one login and one service ticket, the rest cache hits", requests, st, as, tgs)
	}
}

func TestRefreshFractionOption(t *testing.T) {
	t.Parallel()
	for _, f := range []float64{0, 1, -1, 1.5} {
		if _, err := auth.NewTransport(nil, auth.WithRefreshFraction(f)); err == nil {
			t.Errorf("WithRefreshFraction(%v) accepted", f)
		}
	}
	if _, err := auth.NewTransport(nil, auth.WithRefreshFraction(0.5), auth.WithCredentials(&fakeSource{})); err == nil {
		t.Error("WithRefreshFraction with WithCredentials accepted; the source has its own")
	}
}
