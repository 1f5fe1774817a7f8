package authflag

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
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
)

// Flags holds the parsed values of the shared flags.
type Flags struct {
	Verbose    bool
	Mutual     string
	NoSanitize bool
	// Preemptive is when tokens go up front: --preemptive (always) or
	// --preemptive=always|after-challenge|never.
	Preemptive auth.PreemptiveMode
	// Scheme is the HTTP authentication scheme, --auth-scheme.
	Scheme string
	// KDCTimeout bounds each attempt to reach a KDC; 0 keeps the default.
	KDCTimeout       time.Duration
	HostnameOverride string
	Service          string
	Principal        string
	PasswordFile     string
	Keytab           string
	RawKRB5          bool
	CACert           string
	// Delegate is the delegation policy: --delegate (always) or
	// --delegate=always|policy|never.
	Delegate auth.DelegationPolicy
	// NoCBT switches TLS channel bindings off.
	NoCBT bool
}

// delegateFlag is the --delegate flag: a boolean flag (so that a bare
// --delegate does not swallow the next argument) that also takes a policy
// name after "=", as curl's --delegation does.
type delegateFlag auth.DelegationPolicy

func (d *delegateFlag) String() string {
	if d == nil {
		return auth.DelegateNever.String()
	}
	return auth.DelegationPolicy(*d).String()
}

func (d *delegateFlag) Set(v string) error {
	switch strings.ToLower(v) {
	case "true":
		v = auth.DelegateAlways.String()
	case "false":
		v = auth.DelegateNever.String()
	}
	p, err := auth.ParseDelegationPolicy(v)
	if err != nil {
		return err
	}
	*d = delegateFlag(p)
	return nil
}

// IsBoolFlag lets --delegate stand alone.
func (d *delegateFlag) IsBoolFlag() bool { return true }

// preemptiveFlag is --preemptive, built like --delegate: alone it means
// always.
type preemptiveFlag auth.PreemptiveMode

func (p *preemptiveFlag) String() string {
	if p == nil {
		return auth.PreemptiveNever.String()
	}
	return auth.PreemptiveMode(*p).String()
}

func (p *preemptiveFlag) Set(v string) error {
	switch strings.ToLower(v) {
	case "true":
		v = auth.PreemptiveAlways.String()
	case "false":
		v = auth.PreemptiveNever.String()
	}
	m, err := auth.ParsePreemptiveMode(v)
	if err != nil {
		return err
	}
	*p = preemptiveFlag(m)
	return nil
}

// IsBoolFlag lets --preemptive stand alone.
func (p *preemptiveFlag) IsBoolFlag() bool { return true }

// Register defines the shared flags on fs.
func Register(fs *flag.FlagSet) *Flags {
	f := &Flags{}
	fs.BoolVar(&f.Verbose, "v", false, "log the exchange (never tokens or passwords) on standard error")
	fs.StringVar(&f.Mutual, "mutual", "required", "mutual authentication: required, optional or disabled")
	fs.BoolVar(&f.NoSanitize, "no-sanitize", false, "return unauthenticated error responses as they are")
	fs.Var((*preemptiveFlag)(&f.Preemptive), "preemptive", "send Kerberos tokens without waiting for a 401: --preemptive or --preemptive=always "+
		"with every request, --preemptive=after-challenge to hosts that have asked once")
	fs.StringVar(&f.Scheme, "auth-scheme", "negotiate", "HTTP authentication scheme: negotiate, or kerberos (raw Kerberos tokens, as WinRM offers it)")
	fs.DurationVar(&f.KDCTimeout, "kdc-timeout", 0, "how long to wait for each KDC before trying the next (default 3s)")
	fs.StringVar(&f.HostnameOverride, "hostname-override", "", "host name to use in the service principal instead of the URL's")
	fs.StringVar(&f.Service, "service", "HTTP", "service part of the service principal name")
	fs.StringVar(&f.Principal, "principal", "", "client principal (picks its cache in a DIR: collection, or logs in with --password-file/--keytab)")
	fs.StringVar(&f.PasswordFile, "password-file", "", "read the principal's password from the first line of this file (never from the command line)")
	fs.StringVar(&f.Keytab, "keytab", "", "log the principal in with this client keytab")
	fs.BoolVar(&f.RawKRB5, "raw-krb5", false, "send raw GSS-API Kerberos tokens instead of SPNEGO")
	fs.StringVar(&f.CACert, "cacert", "", "PEM file of CA certificates to trust for HTTPS")
	fs.Var((*delegateFlag)(&f.Delegate), "delegate", "delegate credentials (a forwarded TGT) to the server: --delegate or --delegate=always, "+
		"--delegate=policy only to services trusted for delegation (OK-AS-DELEGATE); needs a forwardable TGT (kinit -f)")
	fs.BoolVar(&f.NoCBT, "no-cbt", false, "send no TLS channel bindings (for old servers that reject tokens carrying them)")
	return f
}

// Options converts the flags into transport options; logger may be nil.
func (f *Flags) Options(logger *slog.Logger) ([]auth.Option, error) {
	mode, err := auth.ParseMutualMode(f.Mutual)
	if err != nil {
		return nil, err
	}
	scheme, err := auth.ParseScheme(f.Scheme)
	if err != nil {
		return nil, err
	}
	opts := []auth.Option{auth.WithMutualAuthentication(mode), auth.WithService(f.Service), auth.WithScheme(scheme)}
	if f.NoSanitize {
		opts = append(opts, auth.WithSanitize(false))
	}
	if f.Preemptive != auth.PreemptiveNever {
		opts = append(opts, auth.WithPreemptive(f.Preemptive))
	}
	if f.KDCTimeout != 0 {
		opts = append(opts, auth.WithKDCTimeout(f.KDCTimeout))
	}
	if f.HostnameOverride != "" {
		opts = append(opts, auth.WithHostnameOverride(f.HostnameOverride))
	}
	if f.Principal != "" {
		opts = append(opts, auth.WithPrincipal(f.Principal))
	}
	if f.PasswordFile != "" {
		pw, err := readPassword(f.PasswordFile)
		if err != nil {
			return nil, err
		}
		opts = append(opts, auth.WithPassword(pw))
	}
	if f.Keytab != "" {
		opts = append(opts, auth.WithKeytab(f.Keytab))
	}
	if f.RawKRB5 {
		opts = append(opts, auth.WithRawKerberos())
	}
	if f.Delegate != auth.DelegateNever {
		opts = append(opts, auth.WithDelegation(f.Delegate))
	}
	if f.NoCBT {
		opts = append(opts, auth.WithChannelBinding(false))
	}
	if logger != nil {
		opts = append(opts, auth.WithLogger(logger))
	}
	return opts, nil
}

// BaseTransport returns the HTTP/1.1 transport the tools send through,
// trusting --cacert when given.
func (f *Flags) BaseTransport() (*http.Transport, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	var p http.Protocols
	p.SetHTTP1(true)
	tr.Protocols = &p
	if f.CACert == "" {
		return tr, nil
	}
	pem, err := os.ReadFile(f.CACert)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificates", f.CACert)
	}
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return tr, nil
}

func readPassword(path string) (string, error) {
	file, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer file.Close()
	line, err := bufio.NewReader(file).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("%s: %w", path, errors.New("empty password file"))
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// Logger returns a debug-level logger writing to w when -v was given, and
// nil (log nothing) otherwise.
func (f *Flags) Logger(w io.Writer) *slog.Logger {
	if !f.Verbose {
		return nil
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
