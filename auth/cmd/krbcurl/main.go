package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/authflag"
)

// Exit codes; see the command documentation.
const (
	exitOK       = 0
	exitFailure  = 1
	exitUsage    = 2
	exitMutual   = 10
	exitKerberos = 11
	exitHTTP     = 22
	exitTimeout  = 28
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type headerList []string

func (h *headerList) String() string     { return strings.Join(*h, ", ") }
func (h *headerList) Set(v string) error { *h = append(*h, v); return nil }

type options struct {
	method, data, output string
	headers              headerList
	include, follow      bool
	fail                 bool
	maxTime              float64
	proxy, noProxy       string
	auth                 *authflag.Flags
}

func parse(args []string, stderr io.Writer) (*options, string, error) {
	fs := flag.NewFlagSet("krbcurl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	fs.StringVar(&o.method, "X", "", "request method (default GET, or POST with -d)")
	fs.StringVar(&o.data, "d", "", "request body, or @FILE to read it from a file (@- for standard input)")
	fs.Var(&o.headers, "H", "extra header 'Name: value' (repeatable)")
	fs.BoolVar(&o.include, "i", false, "print the response headers before the body")
	fs.StringVar(&o.output, "o", "", "write the body to FILE instead of standard output")
	fs.BoolVar(&o.follow, "L", false, "follow redirects")
	fs.Float64Var(&o.maxTime, "m", 0, "maximum time in seconds for the whole request")
	fs.BoolVar(&o.fail, "fail", false, "exit 22 when the HTTP status is 400 or above")
	proxyUsage := "proxy URL for every request, e.g. http://proxy.example.com:3128 (default: HTTP_PROXY, HTTPS_PROXY, NO_PROXY); " +
		"Negotiate to the proxy (407) is answered with a token for HTTP/<proxy host>"
	fs.StringVar(&o.proxy, "x", "", proxyUsage)
	fs.StringVar(&o.proxy, "proxy", "", proxyUsage)
	fs.StringVar(&o.noProxy, "noproxy", "", "comma-separated hosts (and their subdomains, IP addresses, CIDR ranges) reached without the proxy; * for all")
	o.auth = authflag.Register(fs)
	if err := fs.Parse(authflag.Reorder(fs, args)); err != nil {
		return nil, "", err
	}
	if fs.NArg() != 1 {
		return nil, "", errors.New("exactly one URL is needed")
	}
	return o, fs.Arg(0), nil
}

func run(args []string, stdout, stderr io.Writer) int {
	o, target, err := parse(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "krbcurl:", err)
		}
		return exitUsage
	}
	client, err := o.client(o.auth.Logger(stderr))
	if err != nil {
		fmt.Fprintln(stderr, "krbcurl:", err)
		return exitUsage
	}
	ctx := context.Background()
	if o.maxTime > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(o.maxTime*float64(time.Second)))
		defer cancel()
	}
	req, err := o.request(ctx, target)
	if err != nil {
		fmt.Fprintln(stderr, "krbcurl:", err)
		return exitUsage
	}
	if o.auth.Verbose {
		fmt.Fprintf(stderr, "> %s %s\n", req.Method, req.URL.RequestURI())
	}
	resp, err := client.Do(req)
	if err != nil {
		code := failure(ctx, stderr, err)
		explainHTTPToTLS(ctx, stderr, req, nil, err)
		return code
	}
	defer resp.Body.Close()
	if o.auth.Verbose {
		fmt.Fprintf(stderr, "< %s %s\n", resp.Proto, resp.Status)
	}
	if reason := auth.ResponseError(resp); reason != nil && resp.StatusCode == http.StatusUnauthorized {
		// A token the server refused is its answer, a response like any
		// other (exit 0, or 22 with --fail), as with curl --negotiate; a
		// token that could not be built is ours to report.
		if !errors.Is(reason, auth.ErrTokenRefused) {
			fmt.Fprintln(stderr, "krbcurl: kerberos:", cause(reason))
			hint(stderr, reason)
			return exitKerberos
		}
		if o.auth.Verbose {
			fmt.Fprintln(stderr, "krbcurl: kerberos:", cause(reason))
			hint(stderr, reason)
		}
	}
	if auth.Sanitized(resp) {
		fmt.Fprintf(stderr, "krbcurl: the %s response did not authenticate the server, so its body and headers were dropped; "+
			"--no-sanitize shows them\n", resp.Status)
	}
	explainHTTPToTLS(ctx, stderr, req, resp, nil)
	if err := o.write(resp, stdout); err != nil {
		return failure(ctx, stderr, err)
	}
	if o.fail && resp.StatusCode >= 400 {
		fmt.Fprintf(stderr, "krbcurl: the requested URL returned error: %s\n", resp.Status)
		return exitHTTP
	}
	return exitOK
}

func (o *options) client(logger *slog.Logger) (*http.Client, error) {
	opts, err := o.auth.Options(logger)
	if err != nil {
		return nil, err
	}
	base, err := o.auth.BaseTransport()
	if err != nil {
		return nil, err
	}
	if base.Proxy, err = authflag.ProxyFunc(o.proxy, o.noProxy); err != nil {
		return nil, err
	}
	tr, err := auth.NewTransport(base, opts...)
	if err != nil {
		return nil, err
	}
	c := &http.Client{Transport: tr}
	if !o.follow {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return c, nil
}

func (o *options) request(ctx context.Context, target string) (*http.Request, error) {
	method := o.method
	var body []byte
	if o.data != "" {
		var err error
		if body, err = readData(o.data); err != nil {
			return nil, err
		}
		if method == "" {
			method = http.MethodPost
		}
	}
	if method == "" {
		method = http.MethodGet
	}
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, reader)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, h := range o.headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("bad header %q: want 'Name: value'", h)
		}
		req.Header.Set(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	return req, nil
}

func readData(d string) ([]byte, error) {
	switch {
	case d == "@-":
		return io.ReadAll(os.Stdin)
	case strings.HasPrefix(d, "@"):
		return os.ReadFile(d[1:])
	}
	return []byte(d), nil
}

func (o *options) write(resp *http.Response, stdout io.Writer) error {
	out := stdout
	if o.output != "" {
		f, err := os.Create(o.output)
		if err != nil {
			return err
		}
		defer f.Close()
		out = f
	}
	if o.include {
		fmt.Fprintf(stdout, "%s %s\r\n", resp.Proto, resp.Status)
		if err := resp.Header.Write(stdout); err != nil {
			return err
		}
		fmt.Fprint(stdout, "\r\n")
	}
	_, err := io.Copy(out, resp.Body)
	return err
}

// cause is the message of a Kerberos failure without the advice auth adds
// for programs (which names Go options): hint gives the flags instead.
func cause(err error) string {
	var neg *auth.NegotiateError
	if errors.As(err, &neg) {
		return fmt.Sprintf("cannot authenticate to %s: %v", neg.SPN, neg.Err)
	}
	return err.Error()
}

func hint(stderr io.Writer, err error) {
	if h := authflag.Explain(err); h != "" {
		fmt.Fprintln(stderr, "krbcurl:", h)
	}
}

// explainHTTPToTLS explains, on stderr, a plain-HTTP request sent to a port
// that speaks TLS: the server answers 400 (Go, nginx: "client sent an
// HTTP request to an HTTPS server") or a TLS alert that is no HTTP
// response, and neither says what happened once sanitized.
func explainHTTPToTLS(ctx context.Context, stderr io.Writer, req *http.Request, resp *http.Response, err error) {
	if req.URL.Scheme != "http" {
		return
	}
	if resp != nil && resp.StatusCode != http.StatusBadRequest {
		return
	}
	if err != nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
		return
	}
	if !authflag.SpeaksTLS(context.WithoutCancel(ctx), req.URL) {
		return
	}
	fmt.Fprintf(stderr, "krbcurl: %s speaks HTTPS, and this request went in plain HTTP: use https://%s\n", req.URL.Host, req.URL.Host)
}

func failure(ctx context.Context, stderr io.Writer, err error) int {
	var (
		mutual *auth.MutualAuthenticationError
		proxy  *auth.ProxyAuthError
	)
	switch {
	case errors.As(err, &proxy):
		// Before the mutual case: a proxy token that does not verify is
		// both, and the proxy is what the user must look at.
		fmt.Fprintln(stderr, "krbcurl: kerberos:", proxy.Error())
		hint(stderr, err)
		return exitKerberos
	case errors.As(err, &mutual):
		fmt.Fprintln(stderr, "krbcurl: mutual authentication failed:", mutual.Error())
		hint(stderr, err)
		return exitMutual
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		fmt.Fprintln(stderr, "krbcurl: operation timed out:", err)
		return exitTimeout
	}
	fmt.Fprintln(stderr, "krbcurl:", err)
	return exitFailure
}
