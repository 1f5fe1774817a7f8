package authflag

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/krbhttp/krbhttp/auth"
)

// Flags holds the parsed values of the shared flags.
type Flags struct {
	Mutual           string
	NoSanitize       bool
	Preemptive       bool
	HostnameOverride string
	Service          string
	Principal        string
	PasswordFile     string
	Keytab           string
	RawKRB5          bool
	CACert           string
}

// Register defines the shared flags on fs.
func Register(fs *flag.FlagSet) *Flags {
	f := &Flags{}
	fs.StringVar(&f.Mutual, "mutual", "required", "mutual authentication: required, optional or disabled")
	fs.BoolVar(&f.NoSanitize, "no-sanitize", false, "return unauthenticated error responses as they are")
	fs.BoolVar(&f.Preemptive, "preemptive", false, "send a Kerberos token with every request, without waiting for a 401")
	fs.StringVar(&f.HostnameOverride, "hostname-override", "", "host name to use in the service principal instead of the URL's")
	fs.StringVar(&f.Service, "service", "HTTP", "service part of the service principal name")
	fs.StringVar(&f.Principal, "principal", "", "client principal (picks its cache in a DIR: collection, or logs in with --password-file/--keytab)")
	fs.StringVar(&f.PasswordFile, "password-file", "", "read the principal's password from the first line of this file (never from the command line)")
	fs.StringVar(&f.Keytab, "keytab", "", "log the principal in with this client keytab")
	fs.BoolVar(&f.RawKRB5, "raw-krb5", false, "send raw GSS-API Kerberos tokens instead of SPNEGO")
	fs.StringVar(&f.CACert, "cacert", "", "PEM file of CA certificates to trust for HTTPS")
	return f
}

// Options converts the flags into transport options; logger may be nil.
func (f *Flags) Options(logger *slog.Logger) ([]auth.Option, error) {
	mode, err := auth.ParseMutualMode(f.Mutual)
	if err != nil {
		return nil, err
	}
	opts := []auth.Option{auth.WithMutualAuthentication(mode), auth.WithService(f.Service)}
	if f.NoSanitize {
		opts = append(opts, auth.WithSanitize(false))
	}
	if f.Preemptive {
		opts = append(opts, auth.WithForcePreemptive())
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
