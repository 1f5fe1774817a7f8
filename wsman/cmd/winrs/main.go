package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/authflag"
	"github.com/krbhttp/krbhttp/wsman"
)

// Exit codes of winrs's own failures; see the command documentation.
const (
	exitFailure     = 125
	exitInterrupted = 130
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type envList map[string]string

func (e envList) String() string { return fmt.Sprint(map[string]string(e)) }

func (e envList) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("--env %q: want NAME=VALUE", v)
	}
	e[k] = val
	return nil
}

type options struct {
	endpoint, encryption string
	shell                wsman.ShellOptions
	operationTimeout     time.Duration
	noStdin              bool
	proxy                string
	auth                 *authflag.Flags
	command              []string
}

func parse(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("winrs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{shell: wsman.ShellOptions{Environment: envList{}}}
	fs.StringVar(&o.endpoint, "r", "", "WinRM endpoint URL, e.g. https://host:5986/wsman (required)")
	fs.StringVar(&o.encryption, "encryption", "auto", "message encryption: auto (over http only), always or never")
	fs.StringVar(&o.shell.WorkingDirectory, "workdir", "", "working directory of the command")
	fs.Var(envList(o.shell.Environment), "env", "environment variable NAME=VALUE for the command (repeatable)")
	fs.DurationVar(&o.operationTimeout, "operation-timeout", wsman.DefaultOperationTimeout, "how long the server may hold a request for output")
	fs.IntVar(&o.shell.Codepage, "codepage", 65001, "console code page of the output: 65001 (UTF-8) or 437")
	fs.BoolVar(&o.shell.NoProfile, "no-profile", false, "do not load the user profile")
	fs.BoolVar(&o.noStdin, "no-stdin", false, "do not forward standard input (the command's stdin is closed)")
	fs.StringVar(&o.proxy, "proxy", "", "proxy URL, e.g. http://proxy.example.com:3128 (default: HTTP_PROXY, HTTPS_PROXY, NO_PROXY); "+
		"Negotiate to the proxy (407) is answered with a token for HTTP/<proxy host>")
	o.auth = authflag.Register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	o.command = fs.Args()
	switch {
	case o.endpoint == "":
		return nil, errors.New("-r URL is required")
	case len(o.command) == 0:
		return nil, errors.New("no command given")
	}
	return o, nil
}

func (o *options) client(logger *slog.Logger) (*wsman.Client, error) {
	enc, err := wsman.ParseEncryption(o.encryption)
	if err != nil {
		return nil, err
	}
	authOpts, err := o.auth.Options(logger)
	if err != nil {
		return nil, err
	}
	base, err := o.auth.BaseTransport()
	if err != nil {
		return nil, err
	}
	if base.Proxy, err = authflag.ProxyFunc(o.proxy, ""); err != nil {
		return nil, err
	}
	opts := []wsman.Option{
		wsman.WithAuth(authOpts...), wsman.WithBaseTransport(base), wsman.WithEncryption(enc),
		wsman.WithOperationTimeout(o.operationTimeout),
	}
	if logger != nil {
		opts = append(opts, wsman.WithLogger(logger))
	}
	return wsman.NewClient(o.endpoint, opts...)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parse(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "winrs:", err)
		}
		return exitFailure
	}
	c, err := o.client(o.auth.Logger(stderr))
	if err != nil {
		fmt.Fprintln(stderr, "winrs:", err)
		return exitFailure
	}
	defer c.Close()
	req := wsman.RunRequest{Command: o.command[0], Args: o.command[1:], Stdout: stdout, Stderr: stderr, Shell: o.shell}
	if !o.noStdin {
		req.Stdin = stdin
	}
	code, err := c.Run(ctx, req)
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "winrs: interrupted; the remote command was terminated")
		return exitInterrupted
	case err != nil:
		fmt.Fprintln(stderr, "winrs:", describe(err))
		return exitFailure
	}
	return code
}

// describe adds what to do to the errors users can act on; Kerberos
// failures get the advice of package authflag, which names the flags.
func describe(err error) string {
	var (
		neg   *auth.NegotiateError
		fault *wsman.Fault
	)
	msg := err.Error()
	if errors.As(err, &neg) {
		// auth's own advice names Go options.
		msg = fmt.Sprintf("cannot authenticate to %s: %v", neg.SPN, neg.Err)
	}
	switch {
	case errors.As(err, &fault):
		return fmt.Sprintf("%s [WSManFault %d]", msg, fault.Code)
	case errors.Is(err, wsman.ErrTampered):
		return msg + " (the connection is not to be trusted)"
	}
	if h := authflag.Explain(err); h != "" {
		msg += " (" + h + ")"
	}
	return msg
}
