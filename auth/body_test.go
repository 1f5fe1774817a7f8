package auth_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/auth"
)

// TestStreamedBodyHeadersAtOnce: a body without GetBody from a slow
// producer (1 KiB, then nothing until the server has seen the request's
// headers) is not read ahead: the headers reach the server while the
// producer still waits, and the request then completes through the 401
// with the body replayed.
func TestStreamedBodyHeadersAtOnce(t *testing.T) {
	t.Parallel()
	l := newLab(t, nil)
	headers := make(chan struct{})
	var once atomic.Bool
	inner := l.srv.Config.Handler
	l.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if once.CompareAndSwap(false, true) {
			close(headers)
		}
		inner.ServeHTTP(w, r)
	})
	first, rest := strings.Repeat("a", 1024), strings.Repeat("b", 4096)
	pr, pw := io.Pipe()
	produced := make(chan error, 1)
	go func() {
		if _, err := pw.Write([]byte(first)); err != nil {
			produced <- err
			return
		}
		select {
		case <-headers:
		case <-time.After(30 * time.Second):
			err := errors.New("the request's headers did not reach the server while the body was incomplete")
			pw.CloseWithError(err)
			produced <- err
			return
		}
		_, err := pw.Write([]byte(rest))
		pw.Close()
		produced <- err
	}()
	req, _ := http.NewRequest("POST", l.srv.URL, pr)
	start := time.Now()
	resp, err := l.client(t).Do(req)
	if perr := <-produced; perr != nil {
		t.Fatal(perr)
	}
	if err != nil {
		t.Fatal(err)
	}
	got := decode(t, resp)
	if got["body"] != first+rest || got["principal"] != "alice@"+realm {
		t.Fatalf("server saw principal %v and %d body bytes", got["principal"], len(got["body"].(string)))
	}
	t.Logf("request done %v after the start; the headers arrived before the body was complete", time.Since(start))
}

// BenchmarkStreamedBodyHeaderLatency measures how long after RoundTrip
// starts the server sees the headers of a request whose body producer
// then stalls (it is released by the server).
func BenchmarkStreamedBodyHeaderLatency(b *testing.B) {
	l := newLab(b, nil)
	arrived := make(chan time.Time, 1)
	release := make(chan struct{}, 1)
	inner := l.srv.Config.Handler
	l.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			select {
			case arrived <- time.Now():
			default:
			}
			select {
			case release <- struct{}{}:
			default:
			}
		}
		inner.ServeHTTP(w, r)
	})
	c := l.client(b)
	var total time.Duration
	for b.Loop() {
		pr, pw := io.Pipe()
		go func() {
			_, _ = pw.Write(bytes.Repeat([]byte("a"), 1024))
			<-release
			_, _ = pw.Write([]byte("end"))
			pw.Close()
		}()
		req, _ := http.NewRequest("POST", l.srv.URL, pr)
		start := time.Now()
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		total += (<-arrived).Sub(start)
		resp.Body.Close()
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms-to-headers")
}

// readsThenChallenges is a server that reads the whole body, then asks
// to authenticate unless the request carries a token, and echoes the body.
func readsThenChallenges(t *testing.T) *lab {
	t.Helper()
	l := newLab(t, nil)
	inner := l.srv.Config.Handler
	l.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		inner.ServeHTTP(w, r)
	})
	return l
}

// TestStreamedBodyReplayedFromCopy: a server read the body before
// challenging; the retry sends it again from the copy, and the caller's
// reader is read once and closed once.
func TestStreamedBodyReplayedFromCopy(t *testing.T) {
	t.Parallel()
	l := readsThenChallenges(t)
	payload := strings.Repeat("x", 100<<10)
	var read atomic.Int64
	body := &countingBody{Reader: countingReader{strings.NewReader(payload), &read}}
	req, _ := http.NewRequest("PUT", l.srv.URL, body)
	resp, err := l.client(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if got := decode(t, resp); got["body"] != payload {
		t.Fatalf("server got %d bytes, want %d", len(got["body"].(string)), len(payload))
	}
	if read.Load() != int64(len(payload)) || body.closes.Load() != 1 {
		t.Fatalf("caller's body read for %d bytes (want %d) and closed %d times (want 1)", read.Load(), len(payload), body.closes.Load())
	}
}

// TestUnreadBodyReplayedWithoutCopy: a large body of known length asks for
// 100-continue, the server challenges before reading it, and the retry
// sends it as it is, although no copy is kept.
func TestUnreadBodyReplayedWithoutCopy(t *testing.T) {
	t.Parallel()
	l := newLab(t, nil)
	var expect atomic.Value
	inner := l.srv.Config.Handler
	l.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			expect.Store(r.Header.Get("Expect"))
		}
		inner.ServeHTTP(w, r)
	})
	payload := strings.Repeat("y", 1<<20)
	var read atomic.Int64
	body := &countingBody{Reader: countingReader{strings.NewReader(payload), &read}}
	req, _ := http.NewRequest("PUT", l.srv.URL, body)
	req.ContentLength = int64(len(payload))
	base := l.srv.Client().Transport.(*http.Transport).Clone()
	base.ExpectContinueTimeout = 5 * time.Second
	tr, err := auth.NewTransport(base, auth.WithCredentials(l.src), auth.WithConfig(testConfig(t)), auth.WithReplayBuffer(0))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if got := decode(t, resp); got["body"] != payload {
		t.Fatalf("server got %d bytes", len(got["body"].(string)))
	}
	if expect.Load() != "100-continue" || read.Load() != int64(len(payload)) || body.closes.Load() != 1 {
		t.Fatalf("Expect %q; body read for %d bytes, closed %d times", expect.Load(), read.Load(), body.closes.Load())
	}
}

// TestBodyTooLargeToReplay: when the server has read more than the copy
// holds, the error is typed and says how to fix it.
func TestBodyTooLargeToReplay(t *testing.T) {
	t.Parallel()
	l := readsThenChallenges(t)
	c := l.client(t, auth.WithReplayBuffer(8))
	body := &countingBody{Reader: strings.NewReader("more than eight bytes")}
	req, _ := http.NewRequest("POST", l.srv.URL, body)
	_, err := c.Do(req)
	if !errors.Is(err, auth.ErrBodyNotReplayable) {
		t.Fatalf("error %v, want ErrBodyNotReplayable", err)
	}
	for _, fix := range []string{"GetBody", "WithReplayBuffer", "21 bytes"} {
		if !strings.Contains(err.Error(), fix) {
			t.Errorf("error %q does not mention %q", err, fix)
		}
	}
	if body.closes.Load() != 1 {
		t.Fatalf("caller's body closed %d times, want 1", body.closes.Load())
	}
	if got := l.requests.Load(); got != 1 {
		t.Fatalf("%d requests reached the server, want 1", got)
	}
}

// TestZeroTransport: the zero Transport is usable, from many goroutines at
// once (its defaults are applied once).
func TestZeroTransport(t *testing.T) {
	t.Parallel()
	// Without credentials for it (default cache, default krb5.conf), the
	// challenge comes back with the reason.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", "Negotiate")
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	var tr auth.Transport
	c := &http.Client{Transport: &tr}
	done := make(chan error, 8)
	for range 8 {
		go func() {
			resp, err := c.Get(srv.URL)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized || auth.ResponseError(resp) == nil {
					err = fmt.Errorf("status %d, reason %v", resp.StatusCode, auth.ResponseError(resp))
				}
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if tr.WrappedRoundTripper() == nil {
		t.Fatal("no default base")
	}
	tr.CloseIdleConnections()
}
