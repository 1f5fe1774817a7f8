package auth_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jcmturner/gokrb5/v8/iana/flags"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/auth/internal/krbtest"
	"github.com/krbhttp/krbhttp/auth/ticket"
)

// tgtSource is a TGTSource of forged tickets: service tickets for svc with
// the given flags, and a forwarded TGT of alice's.
type tgtSource struct {
	svc       *krbtest.Service
	flags     []int // service ticket flags; nil means krbtest's default
	tgt       *ticket.Ticket
	fwdErr    error
	forwarded atomic.Int32
}

// forwardedTGT forges the forwarded TGT a KDC would hand alice.
func forwardedTGT(t testing.TB) *ticket.Ticket {
	krbtgt := krbtest.NewService(t, "krbtgt/"+realm, realm)
	return krbtgt.Ticket(t, "alice", krbtest.WithFlags(flags.Forwardable, flags.Forwarded))
}

func (s *tgtSource) ServiceTicket(context.Context, string) (*ticket.Ticket, error) {
	if s.flags == nil {
		return s.svc.NewTicket("alice")
	}
	return s.svc.NewTicket("alice", krbtest.WithFlags(s.flags...))
}

func (s *tgtSource) TGT(context.Context) (*ticket.Ticket, error) { return s.tgt, nil }

func (s *tgtSource) ForwardedTGT(context.Context) (*ticket.Ticket, error) {
	s.forwarded.Add(1)
	if s.fwdErr != nil {
		return nil, s.fwdErr
	}
	return s.tgt, nil
}

// delegationReport answers what the acceptor made of the delegation:
// "<principal> delegated=<bool> credentials=<principal or none>", and
// checks the handler's TGT is the one forwarded.
func delegationReport(want *ticket.Ticket) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := acceptor.IdentityFromContext(r.Context())
		creds := "none"
		if id.Credentials != nil {
			creds = id.Credentials.Principal()
			tgt, err := id.Credentials.TGT(r.Context())
			if err != nil || !bytes.Equal(tgt.SessionKey.KeyValue, want.SessionKey.KeyValue) {
				creds = fmt.Sprintf("wrong TGT (%v)", err)
			}
		}
		fmt.Fprintf(w, "%s delegated=%v credentials=%s", id.Principal, id.Delegated, creds)
	})
}

func (l *lab) delegatingClient(t *testing.T, src credentials.Source, opts ...auth.Option) *http.Client {
	t.Helper()
	tr, err := auth.NewTransport(l.srv.Client().Transport, append([]auth.Option{auth.WithCredentials(src), auth.WithConfig(testConfig(t))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: tr}
}

// fetch GETs url and returns the status and body.
func fetch(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestDelegation(t *testing.T) {
	t.Parallel()
	const delegated = "alice@" + realm + " delegated=true credentials=alice@" + realm
	const undelegated = "alice@" + realm + " delegated=false credentials=none"
	for _, c := range []struct {
		name        string
		policy      auth.DelegationPolicy
		okAsDeleg   bool
		want        string
		wantForward int32
	}{
		{"never", auth.DelegateNever, true, undelegated, 0},
		{"always, plain service", auth.DelegateAlways, false, delegated, 1},
		{"policy, plain service", auth.DelegatePolicy, false, undelegated, 0},
		{"policy, service trusted for delegation", auth.DelegatePolicy, true, delegated, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tgt := forwardedTGT(t)
			l := newLab(t, delegationReport(tgt), acceptor.WithConfig(testConfig(t)))
			src := &tgtSource{svc: l.src.svc, flags: []int{flags.Forwardable, flags.PreAuthent}, tgt: tgt}
			if c.okAsDeleg {
				src.flags = append(src.flags, flags.OKAsDelegate)
			}
			status, got := fetch(t, l.delegatingClient(t, src, auth.WithDelegation(c.policy)), l.srv.URL)
			if status != http.StatusOK || got != c.want {
				t.Fatalf("got %d %q, want %q", status, got, c.want)
			}
			if n := src.forwarded.Load(); n != c.wantForward {
				t.Fatalf("%d forwarded TGT requests, want %d", n, c.wantForward)
			}
		})
	}
}

func TestDelegationNotForwardable(t *testing.T) {
	t.Parallel()
	l := newLab(t, nil)
	src := &tgtSource{svc: l.src.svc, tgt: forwardedTGT(t)}
	src.fwdErr = &credentials.Error{Op: "forwarded TGT", Principal: "alice@" + realm, Err: credentials.ErrNotForwardable}
	resp, err := l.delegatingClient(t, src, auth.WithDelegation(auth.DelegateAlways)).Get(l.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// No undelegated token went out: the server only saw the first request.
	if resp.StatusCode != http.StatusUnauthorized || l.requests.Load() != 1 {
		t.Fatalf("status %d after %d requests, want 401 after 1", resp.StatusCode, l.requests.Load())
	}
	reason := auth.ResponseError(resp)
	var de *auth.DelegationError
	var ne *auth.NegotiateError
	if !errors.As(reason, &de) || !errors.As(reason, &ne) || !errors.Is(reason, credentials.ErrNotForwardable) {
		t.Fatalf("ResponseError %v: want a NegotiateError wrapping a DelegationError matching ErrNotForwardable", reason)
	}
	if msg := reason.Error(); !strings.Contains(msg, "kinit -f") || !strings.Contains(msg, "forwardable = true") {
		t.Fatalf("%q does not name the fix", msg)
	}
}

func TestDelegationNeedsTGTSource(t *testing.T) {
	t.Parallel()
	svc := krbtest.NewService(t, "HTTP/127.0.0.1", realm)
	_, err := auth.NewTransport(nil, auth.WithCredentials(&fakeSource{t: t, svc: svc}), auth.WithDelegation(auth.DelegateAlways))
	if err == nil || !strings.Contains(err.Error(), "TGTSource") {
		t.Fatalf("error %v", err)
	}
	if _, err := auth.NewTransport(nil, auth.WithDelegation(auth.DelegationPolicy(9))); err == nil {
		t.Fatal("unknown policy accepted")
	}
	// Without delegation any Source will do.
	if _, err := auth.NewTransport(nil, auth.WithCredentials(&fakeSource{t: t, svc: svc}), auth.WithDelegation(auth.DelegateNever)); err != nil {
		t.Fatal(err)
	}
}

func TestParseDelegationPolicy(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]auth.DelegationPolicy{
		"never": auth.DelegateNever, "none": auth.DelegateNever, "Always": auth.DelegateAlways, "POLICY": auth.DelegatePolicy,
	} {
		got, err := auth.ParseDelegationPolicy(in)
		if err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
		if again, _ := auth.ParseDelegationPolicy(got.String()); again != got {
			t.Errorf("%v does not round-trip", got)
		}
	}
	if _, err := auth.ParseDelegationPolicy("sometimes"); err == nil {
		t.Error("unknown policy parsed")
	}
	if s := auth.DelegationPolicy(7).String(); s != "DelegationPolicy(7)" {
		t.Error(s)
	}
}
