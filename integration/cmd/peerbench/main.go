package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/kdctest"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
	"github.com/krbhttp/krbhttp/integration/internal/apache"
)

func main() {
	n := flag.Int("n", 200, "sequential requests per client")
	flag.Parse()
	if err := run(*n, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "peerbench:", err)
		os.Exit(1)
	}
}

type result struct {
	name string
	per  time.Duration
}

func run(n int, out io.Writer) error {
	if n < 1 || n > 100000 {
		return fmt.Errorf("-n %d out of range", n)
	}
	realm, err := kdctest.NewTemp()
	if err != nil {
		return err
	}
	defer realm.Close()
	dir := realm.Dir
	if err := realm.AddPrincipal("alice", "bench-pw"); err != nil {
		return err
	}
	kt, err := realm.AddService("HTTP/localhost", false)
	if err != nil {
		return err
	}
	srv, err := apache.New(apache.Config{Keytab: kt, Krb5Config: realm.ConfigPath})
	if err != nil {
		return err
	}
	defer srv.Stop()
	ccache := "FILE:" + filepath.Join(dir, "alice.ccache")
	if out, err := realm.Run("sh", "-c", "echo bench-pw | kinit -c "+ccache+" alice"); err != nil {
		return fmt.Errorf("kinit: %v: %s", err, out)
	}
	conf, err := krb5conf.LoadFiles(realm.ConfigPath)
	if err != nil {
		return err
	}
	url := srv.URL + apache.PathProtected
	connURL := srv.URL + apache.PathConnectionBound
	env := append(os.Environ(), "KRB5_CONFIG="+realm.ConfigPath, "KRB5CCNAME="+ccache)

	var results []result
	measure := func(name string, f func() error) error {
		start := time.Now()
		if err := f(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		results = append(results, result{name, time.Since(start) / time.Duration(n)})
		return nil
	}
	ours := func(u string, opts ...auth.Option) func() error {
		return func() error { return goClient(conf, ccache, u, n, opts...) }
	}
	steps := []struct {
		name string
		f    func() error
	}{
		{"krbhttp (401 + token each request)", ours(url)},
		{"krbhttp (token up front after first challenge)", ours(url, auth.WithPreemptiveAfterChallenge())},
		{"krbhttp (connection-bound location)", ours(connURL)},
		{"curl --negotiate (one process, keep-alive)", func() error { return curl(env, url, n) }},
		{"python requests-kerberos (Session)", func() error { return requestsKerberos(env, url, n) }},
		{"python requests-kerberos (connection-bound location)", func() error { return requestsKerberos(env, connURL, n) }},
	}
	for _, s := range steps {
		if err := measure(s.name, s.f); err != nil {
			return err
		}
	}
	tgs, _ := realm.TGSCount("alice@"+realm.Realm, "HTTP/localhost@"+realm.Realm)
	report(out, n, results, tgs)
	return nil
}

func report(out io.Writer, n int, results []result, tgs int) {
	byName := func(prefix string) time.Duration {
		for _, r := range results {
			if strings.HasPrefix(r.name, prefix) {
				return r.per
			}
		}
		return 0
	}
	curlPer, pyPer := byName("curl"), byName("python requests-kerberos (Session)")
	fmt.Fprintf(out, "%d sequential GETs per client, Apache mod_auth_gssapi on loopback, mutual authentication on\n\n", n)
	fmt.Fprintf(out, "%-55s %12s %10s %10s\n", "client", "ms/request", "vs curl", "vs python")
	for _, r := range results {
		fmt.Fprintf(out, "%-55s %12.3f %9.2fx %9.2fx\n", r.name, float64(r.per)/1e6,
			float64(r.per)/float64(curlPer), float64(r.per)/float64(pyPer))
	}
	fmt.Fprintf(out, "\nKDC service-ticket requests for HTTP/localhost over the whole run: %d\n", tgs)
}

func goClient(conf *krb5conf.Config, ccache, url string, n int, opts ...auth.Option) error {
	tr, err := auth.NewTransport(nil, append([]auth.Option{auth.WithConfig(conf), auth.WithCCache(ccache)}, opts...)...)
	if err != nil {
		return err
	}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	for range n {
		resp, err := c.Get(url)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d (%v)", resp.StatusCode, auth.ResponseError(resp))
		}
	}
	return nil
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

func command(env []string, name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}
