package auth_test

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/gss"
)

// flagRecorder records whether the last authenticated request asked for
// mutual authentication, then lets next answer.
type flagRecorder struct {
	next   http.Handler
	mutual atomic.Int32 // 0 unknown, 1 asked, 2 not asked
}

func (f *flagRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if id, ok := acceptor.IdentityFromContext(r.Context()); ok {
		if id.Flags&gss.FlagMutual != 0 {
			f.mutual.Store(1)
		} else {
			f.mutual.Store(2)
		}
	}
	f.next.ServeHTTP(w, r)
}

// put sends a PUT with ctx's mode, if any, and returns the response
// (body read and closed) or the error.
func put(t *testing.T, c *http.Client, u string, mode *auth.MutualMode) (*http.Response, error) {
	t.Helper()
	ctx := t.Context()
	if mode != nil {
		ctx = auth.WithMutualAuthenticationFor(ctx, *mode)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u, strings.NewReader("data"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	return resp, err
}

func TestMutualModePerRequest(t *testing.T) {
	t.Parallel()
	rec := &flagRecorder{next: respond(http.StatusCreated, "strip")}
	l := newLab(t, rec)
	c := l.client(t) // MutualRequired, the default

	// The server wrote the data and answered 201 without a reply token:
	// the refusal must say the request was processed.
	_, err := put(t, c, l.srv.URL, nil)
	var me *auth.MutualAuthenticationError
	if !errors.As(err, &me) || me.Response.StatusCode != http.StatusCreated {
		t.Fatalf("PUT under MutualRequired: %v, want a MutualAuthenticationError for the 201", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "already processed the request and answered 201 Created") ||
		!strings.Contains(msg, "PUT "+l.srv.URL) {
		t.Errorf("error %q does not say the server processed the PUT and answered 201 Created", msg)
	}
	if rec.mutual.Load() != 1 {
		t.Error("the token of a MutualRequired request did not ask for mutual authentication")
	}

	optional, disabled := auth.MutualOptional, auth.MutualDisabled
	resp, err := put(t, c, l.srv.URL, &optional)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT with MutualOptional in its context: %v, want the 201", err)
	}
	if auth.MutuallyAuthenticated(resp) {
		t.Error("MutuallyAuthenticated is true for a response without a reply token")
	}
	if rec.mutual.Load() != 1 {
		t.Error("a MutualOptional request did not ask for mutual authentication")
	}
	if _, err := put(t, c, l.srv.URL, &disabled); err != nil {
		t.Fatal(err)
	}
	if rec.mutual.Load() != 2 {
		t.Error("a MutualDisabled request asked for mutual authentication")
	}
	// The override is the request's only: the transport's mode is intact.
	if _, err := put(t, c, l.srv.URL, nil); !errors.As(err, &me) {
		t.Errorf("PUT after the overrides: %v, want a MutualAuthenticationError", err)
	}
}

func TestMutualPolicyPerHost(t *testing.T) {
	t.Parallel()
	strict, lax := newLab(t, respond(http.StatusOK, "strip")), newLab(t, respond(http.StatusOK, "strip"))
	laxHost := hostOf(t, lax.srv.URL)
	var asked atomic.Int32
	policy := auth.WithMutualAuthenticationPolicy(func(r *http.Request) auth.MutualMode {
		asked.Add(1)
		if r.URL.Host == laxHost {
			return auth.MutualOptional
		}
		return auth.MutualRequired
	})
	// One transport for both hosts, with tickets for both (the labs share
	// the forged service name HTTP/127.0.0.1 but not their keys, so each
	// client holds its own lab's source).
	if _, err := put(t, strict.client(t, policy), strict.srv.URL, nil); !errors.Is(err, auth.ErrMutualAuthentication) {
		t.Errorf("the strict host's response without a token: %v, want refused", err)
	}
	if resp, err := put(t, lax.client(t, policy), lax.srv.URL, nil); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("the lax host's response without a token: %v, want the 200", err)
	}
	if asked.Load() == 0 {
		t.Error("the policy was never asked")
	}
	// The request's context wins over the policy.
	required := auth.MutualRequired
	if _, err := put(t, lax.client(t, policy), lax.srv.URL, &required); !errors.Is(err, auth.ErrMutualAuthentication) {
		t.Errorf("MutualRequired in the context on the lax host: %v, want refused", err)
	}
	// A policy answering nonsense counts as MutualRequired.
	bad := auth.WithMutualAuthenticationPolicy(func(*http.Request) auth.MutualMode { return auth.MutualMode(42) })
	if _, err := put(t, lax.client(t, bad), lax.srv.URL, nil); !errors.Is(err, auth.ErrMutualAuthentication) {
		t.Errorf("a policy returning MutualMode(42): %v, want refused as under MutualRequired", err)
	}
	if _, err := auth.NewTransport(nil, auth.WithMutualAuthenticationPolicy(nil)); err == nil {
		t.Error("WithMutualAuthenticationPolicy(nil) accepted")
	}
}

func hostOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

func TestMutuallyAuthenticated(t *testing.T) {
	t.Parallel()
	l := newLab(t, nil, acceptor.WithConnectionBound(true))
	c := l.client(t)
	get := func() *http.Response {
		t.Helper()
		resp, err := c.Get(l.srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp
	}
	if !auth.MutuallyAuthenticated(get()) {
		t.Error("false for a response whose reply token verified")
	}
	if !auth.MutuallyAuthenticated(get()) {
		t.Error("false for a response on a mutually authenticated connection")
	}

	// A 401 the transport could not answer (no ticket) authenticates
	// nothing.
	l.src.err = errors.New("no ticket")
	c.CloseIdleConnections()
	if resp := get(); resp.StatusCode != http.StatusUnauthorized || auth.MutuallyAuthenticated(resp) {
		t.Errorf("status %d, MutuallyAuthenticated %v; want an unauthenticated 401", resp.StatusCode, auth.MutuallyAuthenticated(resp))
	}
	if auth.MutuallyAuthenticated(nil) || auth.MutuallyAuthenticated(&http.Response{}) {
		t.Error("true for a response that did not come from a Transport")
	}
}
