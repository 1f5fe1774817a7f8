package auth_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/internal/krbtest"
	"github.com/krbhttp/krbhttp/auth/ticket"
)

// rotatedSource caches one ticket, first issued with the service's old
// key, and drops it when told the server refused it: the next ticket
// comes from issue (the KDC after a key rotation).
type rotatedSource struct {
	issue func() (*ticket.Ticket, error)

	mu      sync.Mutex
	cur     *ticket.Ticket
	fetches int
	drops   int
	refuse  bool // DropTicket keeps the ticket (a source in its hold-off)
}

func (s *rotatedSource) ServiceTicket(context.Context, string) (*ticket.Ticket, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil {
		tkt, err := s.issue()
		if err != nil {
			return nil, err
		}
		s.cur = tkt
		s.fetches++
	}
	return s.cur, nil
}

func (s *rotatedSource) DropTicket(_ string, tkt *ticket.Ticket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refuse || s.cur == nil || !bytes.Equal(s.cur.Ticket.EncPart.Cipher, tkt.Ticket.EncPart.Cipher) {
		return
	}
	s.cur = nil
	s.drops++
}

func (s *rotatedSource) counts() (fetches, drops int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches, s.drops
}

// rotatedLab is a server whose key changed after src got its ticket.
func rotatedLab(t *testing.T, opts ...auth.Option) (*lab, *rotatedSource, *http.Client) {
	t.Helper()
	l := newLab(t, nil)
	old := krbtest.NewService(t, "HTTP/127.0.0.1", realm) // the key before the rotation
	src := &rotatedSource{issue: func() (*ticket.Ticket, error) { return l.src.svc.NewTicket("alice") }}
	tkt, err := old.NewTicket("alice")
	if err != nil {
		t.Fatal(err)
	}
	src.cur = tkt
	tr, err := auth.NewTransport(l.srv.Client().Transport, append([]auth.Option{auth.WithCredentials(src), auth.WithConfig(testConfig(t))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return l, src, &http.Client{Transport: tr}
}

func getOK(t *testing.T, c *http.Client, url string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	if got := decode(t, resp)["principal"]; resp.StatusCode != http.StatusOK || got != "alice@"+realm {
		t.Fatalf("status %d, principal %v", resp.StatusCode, got)
	}
}

// TestRefusedTicketReplaced: a ticket the server refuses (its key was
// rotated) is dropped and the request retried once with a fresh one; the
// request succeeds, and later ones use the fresh ticket.
func TestRefusedTicketReplaced(t *testing.T) {
	t.Parallel()
	for _, mode := range []auth.PreemptiveMode{auth.PreemptiveNever, auth.PreemptiveAlways} {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			l, src, c := rotatedLab(t, auth.WithPreemptive(mode))
			getOK(t, c, l.srv.URL)
			want := int32(3) // 401 to no token, 401 to the old ticket, 200
			if mode == auth.PreemptiveAlways {
				want = 2
			}
			if fetches, drops := src.counts(); fetches != 1 || drops != 1 || l.requests.Load() != want {
				t.Fatalf("%d fetches, %d drops, %d requests; want 1, 1, %d", fetches, drops, l.requests.Load(), want)
			}
			getOK(t, c, l.srv.URL)
			if fetches, drops := src.counts(); fetches != 1 || drops != 1 {
				t.Fatalf("the second request: %d fetches, %d drops", fetches, drops)
			}
		})
	}
}

// TestRefusedTicketBounded: when the source keeps its ticket (no fresh one
// to offer), or the fresh one is refused too, the 401 is returned after at
// most three sends.
func TestRefusedTicketBounded(t *testing.T) {
	t.Parallel()
	t.Run("source keeps the ticket", func(t *testing.T) {
		t.Parallel()
		l, src, c := rotatedLab(t)
		src.refuse = true
		resp, err := c.Get(l.srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || l.requests.Load() != 2 {
			t.Fatalf("status %d after %d sends, want 401 after 2", resp.StatusCode, l.requests.Load())
		}
		var ne *auth.NegotiateError
		if err := auth.ResponseError(resp); !errors.Is(err, auth.ErrTokenRefused) || !errors.As(err, &ne) || ne.SPN != "HTTP/127.0.0.1" {
			t.Fatalf("ResponseError = %v, want ErrTokenRefused for HTTP/127.0.0.1", err)
		}
	})
	t.Run("fresh ticket refused too", func(t *testing.T) {
		t.Parallel()
		l, src, c := rotatedLab(t)
		wrong := krbtest.NewService(t, "HTTP/127.0.0.1", realm)
		src.issue = func() (*ticket.Ticket, error) { return wrong.NewTicket("alice") }
		resp, err := c.Get(l.srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if fetches, drops := src.counts(); resp.StatusCode != http.StatusUnauthorized || l.requests.Load() != 3 || fetches != 1 || drops != 1 {
			t.Fatalf("status %d after %d sends, %d fetches, %d drops; want 401 after 3, 1, 1", resp.StatusCode, l.requests.Load(), fetches, drops)
		}
	})
}

// TestRefusedTicketBurst: 64 requests at once with a refused ticket cost
// one drop and one fresh ticket, and all succeed.
func TestRefusedTicketBurst(t *testing.T) {
	t.Parallel()
	l, src, c := rotatedLab(t, auth.WithPreemptive(auth.PreemptiveAlways))
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.Get(l.srv.URL)
			if err != nil {
				t.Error(err)
				failed.Add(1)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	if fetches, drops := src.counts(); failed.Load() != 0 || fetches != 1 || drops != 1 {
		t.Fatalf("%d failed, %d fetches, %d drops; want 0, 1, 1", failed.Load(), fetches, drops)
	}
}
