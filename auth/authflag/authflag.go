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
	// NoWriteBack keeps service tickets out of the credential cache.
	NoWriteBack bool
}

// modeFlag is a flag naming a mode (--delegate=policy) that may also
// stand alone (--delegate) for the mode "true" means: it is a boolean flag
// to package flag, so that a bare --delegate does not swallow the next
// argument, as curl's --delegation works.
type modeFlag[M fmt.Stringer] struct {
	v       *M
	on, off M // what true and false mean
	parse   func(string) (M, error)
}

func (f modeFlag[M]) String() string {
	if f.v == nil {
		var zero M
		return zero.String()
	}
	return (*f.v).String()
}

func (f modeFlag[M]) Set(s string) error {
	switch strings.ToLower(s) {
	case "true":
		*f.v = f.on
	case "false":
		*f.v = f.off
	default:
		m, err := f.parse(s)
		if err != nil {
			return err
		}
		*f.v = m
	}
	return nil
}

// IsBoolFlag lets the flag stand alone.
func (f modeFlag[M]) IsBoolFlag() bool { return true }

// Register defines the shared flags on fs.
func Register(fs *flag.FlagSet) *Flags {
	f := &Flags{}
	fs.BoolVar(&f.Verbose, "v", false, "log the exchange (never tokens or passwords) on standard error")
	fs.StringVar(&f.Mutual, "mutual", "required", "mutual authentication: required, optional or disabled")
	fs.BoolVar(&f.NoSanitize, "no-sanitize", false, "return unauthenticated error responses as they are")
	fs.Var(modeFlag[auth.PreemptiveMode]{&f.Preemptive, auth.PreemptiveAlways, auth.PreemptiveNever, auth.ParsePreemptiveMode}, "preemptive", "send Kerberos tokens without waiting for a 401: --preemptive or --preemptive=always "+
		"with every request, --preemptive=after-challenge to hosts that have asked once")
	fs.StringVar(&f.Scheme, "auth-scheme", "negotiate", "HTTP authentication scheme: negotiate, or kerberos (raw Kerberos tokens, as WinRM offers it)")
	fs.DurationVar(&f.KDCTimeout, "kdc-timeout", 0, "how long to wait for each KDC before trying the next (default 3s)")
	fs.StringVar(&f.HostnameOverride, "hostname-override", "", "host name to use in the service principal instead of the URL's")
	fs.StringVar(&f.Service, "service", "HTTP", "service part of the service principal name")
	fs.StringVar(&f.Principal, "principal", "", "client principal (picks its cache in a DIR:, KCM: or KEYRING: collection, or logs in with --password-file/--keytab)")
	fs.StringVar(&f.PasswordFile, "password-file", "", "read the principal's password from the first line of this file (never from the command line)")
	fs.StringVar(&f.Keytab, "keytab", "", "log the principal in with this client keytab")
	fs.BoolVar(&f.RawKRB5, "raw-krb5", false, "send raw GSS-API Kerberos tokens instead of SPNEGO")
	fs.StringVar(&f.CACert, "cacert", "", "PEM file of CA certificates to trust for HTTPS")
	fs.Var(modeFlag[auth.DelegationPolicy]{&f.Delegate, auth.DelegateAlways, auth.DelegateNever, auth.ParseDelegationPolicy}, "delegate", "delegate credentials (a forwarded TGT) to the server: --delegate or --delegate=always, "+
		"--delegate=policy only to services trusted for delegation (OK-AS-DELEGATE); needs a forwardable TGT (kinit -f)")
	fs.BoolVar(&f.NoCBT, "no-cbt", false, "send no TLS channel bindings (for old servers that reject tokens carrying them)")
	fs.BoolVar(&f.NoWriteBack, "no-write-back", false, "do not store the service tickets got from the KDC in the credential cache (MIT's tools store them)")
	return f
}

// Options converts the flags into transport options; logger may be nil.
func (f *Flags) Options(logger *slog.Logger) ([]auth.Option, error) {
	// Refused here rather than by auth, whose message would name Go
	// options instead of flags.
	switch {
	case f.PasswordFile != "" && f.Keytab != "":
		return nil, errors.New("--password-file and --keytab exclude each other")
	case f.KDCTimeout < 0:
		return nil, fmt.Errorf("--kdc-timeout %v: must be positive", f.KDCTimeout)
	}
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
	if f.NoWriteBack {
		opts = append(opts, auth.WithWriteBack(false))
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
	line, _ := bufio.NewReader(file).ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("--password-file %s: %w", path, errors.New("empty password file"))
	}
	return line, nil
}

// Logger returns a debug-level logger writing to w when -v was given, and
// nil (log nothing) otherwise.
func (f *Flags) Logger(w io.Writer) *slog.Logger {
	if !f.Verbose {
		return nil
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
