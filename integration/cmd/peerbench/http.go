package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	gokrb5creds "github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/spnego"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/integration/internal/apache"
)

// Scenario names the report refers to.
const (
	scOurs           = "krbhttp: 401 + token, server verified"
	scGokrb5         = "gokrb5 spnego.Client: 401 + token, nothing verified"
	scCurl           = "curl --negotiate (one process, keep-alive)"
	scPython         = "requests-kerberos Session, mutual REQUIRED"
	scOursUpFront    = "krbhttp: token up front (force-preemptive), server verified"
	scOursAfter      = "krbhttp: token up front after the first challenge"
	scOursConn       = "krbhttp: connection-bound location"
	scPythonConn     = "requests-kerberos: connection-bound location"
	scApachePublic   = "Apache, no authentication"
	scApacheAuth     = "Apache mod_auth_gssapi, token up front"
	scOursPublic     = "auth/acceptor server, no authentication"
	scOursAuth       = "auth/acceptor server, token up front"
	scApacheMade     = "Apache mod_auth_gssapi, tokens made beforehand"
	scOursMade       = "auth/acceptor server, tokens made beforehand"
	scIgnoredToken   = "token up front to a server that ignores it"
	scIgnoredNoToken = "same requests without a token"
	handlerBody      = "hello from krbhttp\n"
)

// startOurs serves the same small body twice in this process: through
// auth/acceptor (every request authenticated, mutual authentication
// answered) and without it.
func (l *lab) startOurs() (stop func(), err error) {
	kt, err := keytab.Load(l.keytab)
	if err != nil {
		return nil, err
	}
	a, err := acceptor.New(kt, acceptor.WithConfig(l.conf))
	if err != nil {
		return nil, err
	}
	body := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(handlerBody)))
		_, _ = io.WriteString(w, handlerBody)
	})
	var stops []func()
	serve := func(h http.Handler) (string, error) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		srv := &http.Server{Handler: h, ConnContext: a.ConnContext}
		go func() { _ = srv.Serve(ln) }()
		stops = append(stops, func() { _ = srv.Close() })
		return "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port) + "/", nil
	}
	stop = func() {
		for _, s := range stops {
			s()
		}
	}
	if l.oursAuth, err = serve(a.Wrap(body)); err != nil {
		stop()
		return nil, err
	}
	if l.oursPublic, err = serve(body); err != nil {
		stop()
		return nil, err
	}
	return stop, nil
}

func (l *lab) httpScenarios(s *suite, n int) error {
	protected := l.apacheURL + apache.PathProtected
	connBound := l.apacheURL + apache.PathConnectionBound
	s.add(scOurs, n, l.ours(protected, n))
	s.add(scGokrb5, n, l.gokrb5(protected, n))
	s.add(scCurl, n, func() error { return curl(l.env, protected, n) })
	s.add(scPython, n, func() error { return requestsKerberos(l.env, protected, n) })
	s.add(scOursUpFront, n, l.ours(protected, n, auth.WithPreemptive(auth.PreemptiveAlways)))
	s.add(scOursAfter, n, l.ours(protected, n, auth.WithPreemptive(auth.PreemptiveAfterChallenge)))
	s.add(scOursConn, n, l.ours(connBound, n))
	s.add(scPythonConn, n, func() error { return requestsKerberos(l.env, connBound, n) })
	s.add(scApachePublic, n, l.plain(l.apacheURL+apache.PathPublic, n))
	s.add(scApacheAuth, n, l.ours(protected, n, auth.WithPreemptive(auth.PreemptiveAlways)))
	s.add(scOursPublic, n, l.plain(l.oursPublic, n))
	s.add(scOursAuth, n, l.ours(l.oursAuth, n, auth.WithPreemptive(auth.PreemptiveAlways)))
	// The server's cost alone: the tokens are made before the suite runs.
	for _, c := range []struct{ name, url string }{{scApacheMade, protected}, {scOursMade, l.oursAuth}} {
		f, err := l.premade(c.url, n, s.reps+1)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		s.add(c.name, n, f)
	}
	// The public server ignores Authorization: the difference between
	// these two is what building a token costs the client.
	s.add(scIgnoredToken, n, l.ours(l.oursPublic, n, auth.WithPreemptive(auth.PreemptiveAlways), auth.WithMutualAuthentication(auth.MutualDisabled)))
	s.add(scIgnoredNoToken, n, l.ours(l.oursPublic, n, auth.WithMutualAuthentication(auth.MutualDisabled)))
	return nil
}

// premade returns a scenario of n GETs per call, each carrying the next
// of n*calls Negotiate tokens made now, which ask for mutual
// authentication as the token-up-front scenarios do (the server builds
// its AP-REP) but whose replies are not checked: what remains is the
// server's authentication, without the client's token making.
func (l *lab) premade(url string, n, calls int) (func() error, error) {
	var tokens []string
	record := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		tokens = append(tokens, req.Header.Get("Authorization"))
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: req}, nil
	})
	tr, err := auth.NewTransport(record, auth.WithConfig(l.conf), auth.WithCCache(l.ccache),
		auth.WithPreemptive(auth.PreemptiveAlways), auth.WithMutualAuthentication(auth.MutualOptional))
	if err != nil {
		return nil, err
	}
	if err := gets(&http.Client{Transport: tr}, url, n*calls); err != nil {
		return nil, err
	}
	c := &http.Client{Transport: &http.Transport{}}
	return func() error {
		if len(tokens) < n {
			return fmt.Errorf("premade: %d tokens left for %d requests", len(tokens), n)
		}
		for _, tok := range tokens[:n] {
			req, err := http.NewRequest(http.MethodGet, url, nil)
			if err != nil {
				return err
			}
			req.Header.Set("Authorization", tok)
			resp, err := c.Do(req)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("GET %s with a made token: status %d", url, resp.StatusCode)
			}
		}
		tokens = tokens[n:]
		return nil
	}, nil
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// reused makes the client on first use and keeps it for every
// repetition: the suite's warm-up pass pays for the ticket and the
// connection, and the measurements see the steady state of a long-lived
// client.
func reused(url string, n int, newClient func() (getter, error)) func() error {
	var c getter
	return func() error {
		if c == nil {
			var err error
			if c, err = newClient(); err != nil {
				return err
			}
		}
		return gets(c, url, n)
	}
}

// ours makes n GETs through one krbhttp transport.
func (l *lab) ours(url string, n int, opts ...auth.Option) func() error {
	return reused(url, n, func() (getter, error) {
		tr, err := auth.NewTransport(nil, append([]auth.Option{auth.WithConfig(l.conf), auth.WithCCache(l.ccache)}, opts...)...)
		if err != nil {
			return nil, err
		}
		return &http.Client{Transport: tr}, nil
	})
}

// plain makes n GETs without authentication.
func (l *lab) plain(url string, n int) func() error {
	return reused(url, n, func() (getter, error) { return &http.Client{Transport: &http.Transport{}}, nil })
}

type getter interface {
	Get(url string) (*http.Response, error)
}

func gets(c getter, url string, n int) error {
	for range n {
		resp, err := c.Get(url)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: status %d (%v)", url, resp.StatusCode, auth.ResponseError(resp))
		}
	}
	return nil
}

// gokrb5 makes n GETs with gokrb5's own SPNEGO client, logged in from the
// same credential cache: it answers each 401 and verifies nothing.
func (l *lab) gokrb5(url string, n int) func() error {
	return reused(url, n, func() (getter, error) {
		cfg, err := config.Load(l.realm.ConfigPath)
		if err != nil {
			return nil, err
		}
		cc, err := gokrb5creds.LoadCCache(strings.TrimPrefix(l.ccache, "FILE:"))
		if err != nil {
			return nil, err
		}
		cl, err := client.NewFromCCache(cc, cfg, client.DisablePAFXFAST(true))
		if err != nil {
			return nil, err
		}
		return spnego.NewClient(cl, &http.Client{Transport: &http.Transport{}}, "HTTP/localhost"), nil
	})
}

func curl(env []string, url string, n int) error {
	args := []string{"--negotiate", "-u", ":", "-s", "-f", "-o", "/dev/null"}
	for range n {
		args = append(args, url)
	}
	return command(env, "curl", args...)
}

const requestsScript = `import sys, requests, requests_kerberos as rk
s = requests.Session()
s.auth = rk.HTTPKerberosAuth(mutual_authentication=rk.REQUIRED)
for _ in range(int(sys.argv[2])):
    r = s.get(sys.argv[1])
    r.raise_for_status()
`

func requestsKerberos(env []string, url string, n int) error {
	return command(env, "/usr/bin/python3", "-c", requestsScript, url, strconv.Itoa(n))
}
