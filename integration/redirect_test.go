package integration

import (
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/credentials"
)

// A cross-host redirect authenticates to the new host with its own SPN:
// the second server holds only the key of HTTP/127.0.0.1.
func TestCrossHostRedirectUsesTheNewHostsSPN(t *testing.T) {
	t.Parallel()
	second := startServer(t, env.ipKeytab, nil)
	target := strings.Replace(second.URL, "localhost", "127.0.0.1", 1) + "/landed"
	first := startServer(t, env.httpKeytab, http.RedirectHandler(target, http.StatusTemporaryRedirect))

	c := client(t, auth.WithCCache(kinit(t, "alice")))
	resp, err := c.Post(first.URL+"/start", "text/plain", strings.NewReader("12345"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if want := "alice@" + env.realm.Realm + " POST 5"; string(b) != want || resp.Request.URL.Host != strings.TrimPrefix(target[:strings.LastIndex(target, "/")], "http://") {
		t.Fatalf("after the 307: %q at %s, want %q at the second host", b, resp.Request.URL, want)
	}
}

func TestKrbcurlFlags(t *testing.T) {
	t.Parallel()
	bin := krbcurl(t)
	cc := kinit(t, "alice")
	mux := http.NewServeMux()
	mux.Handle("/hop", http.RedirectHandler("/whoami", http.StatusFound))
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(10 * time.Second):
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Method", r.Method)
		w.Header().Set("X-Custom", r.Header.Get("X-Custom"))
		_, _ = w.Write(b)
	})
	mux.Handle("/", whoamiHandler())
	srv := startServer(t, env.httpKeytab, mux)

	dir := t.TempDir()
	data := filepath.Join(dir, "data.txt")
	if err := os.WriteFile(data, []byte("from a file"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.txt")
	code, stdout, stderr := runTool(t, cc, bin, "-X", "PUT", "-d", "@"+data, "-H", "X-Custom: yes", "-i", "-o", out, srv.URL+"/echo")
	body, _ := os.ReadFile(out)
	if code != 0 || string(body) != "from a file" || !strings.Contains(stdout, "X-Method: PUT") || !strings.Contains(stdout, "X-Custom: yes") {
		t.Fatalf("PUT -d @file: exit %d, headers %q, body %q, stderr %q", code, stdout, body, stderr)
	}
	code, stdout, _ = runTool(t, cc, bin, srv.URL+"/hop")
	if code != 0 || strings.HasPrefix(stdout, "alice@") {
		t.Fatalf("without -L: exit %d, body %q; want the 302's own body", code, stdout)
	}
	code, stdout, _ = runTool(t, cc, bin, "-L", srv.URL+"/hop")
	if code != 0 || !strings.HasPrefix(stdout, "alice@") {
		t.Fatalf("-L: exit %d, body %q", code, stdout)
	}
	code, _, stderr = runTool(t, cc, bin, "-m", "0.5", srv.URL+"/slow")
	if code != 28 {
		t.Fatalf("-m 0.5 on a slow handler: exit %d, stderr %q; want 28", code, stderr)
	}
	code, _, stderr = runTool(t, cc, bin, "--mutual", "sometimes", srv.URL)
	if code != 2 || !strings.Contains(stderr, "mutual") {
		t.Fatalf("bad --mutual: exit %d, stderr %q; want 2", code, stderr)
	}
}

func TestExpiredTicketReturns401WithReason(t *testing.T) {
	t.Parallel()
	user, _ := newUser(t)
	cc := "FILE:" + filepath.Join(t.TempDir(), "ccache")
	env.realm.Kinit(t, user, cc, "-l", "2s")
	time.Sleep(3 * time.Second) // let the two-second TGT expire
	srv := startServer(t, env.httpKeytab, nil)
	resp, err := client(t, auth.WithCCache(cc)).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	reason := auth.ResponseError(resp)
	if resp.StatusCode != 401 || !errors.Is(reason, credentials.ErrExpired) {
		t.Fatalf("status %d, reason %v; want 401 and ErrExpired", resp.StatusCode, reason)
	}
	for _, want := range []string{user, "HTTP/localhost"} {
		if !strings.Contains(reason.Error(), want) {
			t.Fatalf("reason %q does not name %s", reason, want)
		}
	}
}
