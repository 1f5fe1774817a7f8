package integration

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
)

// These tests hold the library to two counts, not to a speed: one service
// ticket request however many requests share a client, and a bounded
// memory for an upload however large.

// TestOneTGSFor10000Requests: 10,000 GETs (each answering a 401 with a
// token and verifying the server's) from 64 goroutines through one client
// cost the KDC one service-ticket request.
func TestOneTGSFor10000Requests(t *testing.T) {
	t.Parallel()
	const goroutines, requests = 64, 10000
	user, password := newUser(t)
	srv := startServer(t, env.httpKeytab, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	tr, err := auth.NewTransport(nil, auth.WithConfig(env.conf), auth.WithPrincipal(user), auth.WithPassword(password))
	if err != nil {
		t.Fatal(err)
	}
	tr.WrappedRoundTripper().(*http.Transport).MaxIdleConnsPerHost = goroutines
	c := &http.Client{Transport: tr}
	t.Cleanup(c.CloseIdleConnections)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for range goroutines {
		wg.Go(func() {
			for next.Add(1) <= requests {
				resp, err := c.Get(srv.URL)
				if err != nil {
					errs <- err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs <- fmt.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	n, err := env.realm.TGSCount(user+"@"+env.realm.Realm, "HTTP/localhost@"+env.realm.Realm)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("the KDC issued %d service tickets for %d requests from %d goroutines, want 1", n, requests, goroutines)
	}
	if hits := srv.hits.Load(); hits != 2*requests {
		t.Fatalf("the server saw %d requests, want %d (a 401 and an authenticated one each)", hits, 2*requests)
	}
}

// uploadSize is what TestUploadThroughChallengeMemory sends: 1 GiB.
const uploadSize = 1 << 30

// maxUploadRSS bounds the peak resident memory of the process that
// uploads: the body must stream, never be held for the retry after the
// challenge.
const maxUploadRSS = 64 << 20

// TestUploadThroughChallengeMemory: a 1 GiB POST that meets a challenge
// is authenticated and arrives whole, and the uploading process (this
// test binary run again as a plain client, see uploadChild) never holds
// more than maxUploadRSS resident.
func TestUploadThroughChallengeMemory(t *testing.T) {
	t.Parallel()
	var got atomic.Int64
	srv := startServer(t, env.httpKeytab, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got.Store(n)
		fmt.Fprint(w, n)
	}))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), uploadChildEnv+"="+strings.Join([]string{srv.URL, env.realm.ConfigPath, kinit(t, "alice")}, "\n"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("upload: %v\n%s", err, out)
	}
	if got.Load() != uploadSize {
		t.Fatalf("the server received %d bytes, want %d", got.Load(), uploadSize)
	}
	// The child reports its own VmHWM: getrusage's ru_maxrss of a child
	// counts the parent's memory at the fork (exec keeps the high-water
	// mark of the address space it replaces).
	var rss int64
	for line := range strings.Lines(string(out)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), peakRSSPrefix); ok {
			rss, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	if rss <= 0 {
		t.Fatalf("no peak RSS from the upload process:\n%s", out)
	}
	t.Logf("1 GiB upload through a challenge: peak RSS of the uploading process %d KiB", rss>>10)
	if rss > maxUploadRSS {
		t.Fatalf("peak RSS %d KiB, above %d KiB", rss>>10, maxUploadRSS>>10)
	}
}

// uploadChildEnv, when set (URL, krb5.conf path and credential cache,
// one a line), makes the test binary upload uploadSize bytes and exit
// before TestMain starts a realm: a process that does nothing else, whose
// peak RSS is the upload's.
const uploadChildEnv = "KRBHTTP_UPLOAD_CHILD"

// uploadChild runs the upload of TestUploadThroughChallengeMemory when
// the environment asks for it, and reports whether it did.
func uploadChild() (bool, error) {
	v, ok := os.LookupEnv(uploadChildEnv)
	if !ok {
		return false, nil
	}
	args := strings.Split(v, "\n")
	if len(args) != 3 {
		return true, errors.New("want URL, krb5.conf and credential cache")
	}
	conf, err := krb5conf.LoadFiles(args[1])
	if err != nil {
		return true, err
	}
	c, err := auth.NewClient(auth.WithConfig(conf), auth.WithCCache(args[2]))
	if err != nil {
		return true, err
	}
	body := func() io.ReadCloser { return io.NopCloser(io.LimitReader(zeros{}, uploadSize)) }
	req, err := http.NewRequest(http.MethodPost, args[0], body())
	if err != nil {
		return true, err
	}
	req.ContentLength = uploadSize
	req.GetBody = func() (io.ReadCloser, error) { return body(), nil }
	resp, err := c.Do(req)
	if err != nil {
		return true, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(b) != strconv.Itoa(uploadSize) {
		return true, fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	rss, ok := peakRSS()
	if !ok {
		return true, errors.New("peak RSS not measured on this platform")
	}
	fmt.Printf("%s%d\n", peakRSSPrefix, rss)
	return true, nil
}

// peakRSSPrefix starts the line on which the upload process reports its
// peak RSS in bytes.
const peakRSSPrefix = "peak-rss-bytes: "

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
