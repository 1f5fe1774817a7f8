// Command iislike is a test server that answers Kerberos Negotiate the way
// IIS and HTTP.sys do, for trying clients without a Windows machine. It
// serves GET /whoami (JSON: what the server saw of the client) behind
// authentication.
//
// Usage:
//
//	iislike --listen 127.0.0.1:8080 --keytab http.keytab
//	        [--tls-cert cert.pem --tls-key key.pem] [--cbt none|relaxed|strict]
//	        [--persistent-auth=true|false] [--clock-skew 5m]
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/integration/internal/iis"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "iislike:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("iislike", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8080", "address to listen on")
	ktPath := fs.String("keytab", "", "keytab with the HTTP/<host> key (required)")
	certFile := fs.String("tls-cert", "", "PEM certificate: serve HTTPS")
	keyFile := fs.String("tls-key", "", "PEM private key for --tls-cert")
	cbt := fs.String("cbt", "none", "channel binding (Extended Protection): none, relaxed or strict")
	persistent := fs.Bool("persistent-auth", true, "authenticate a connection once, as IIS does (false: every request)")
	skew := fs.Duration("clock-skew", 5*time.Minute, "tolerated clock skew, also past a ticket's end time")
	verbose := fs.Bool("v", false, "log authentication failures")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *ktPath == "" {
		return errors.New("--keytab is required")
	}
	kt, err := keytab.Load(*ktPath)
	if err != nil {
		return err
	}
	cfg := iis.Config{Keytab: kt, PersistentAuth: *persistent, MaxSkew: *skew}
	if cfg.ChannelBinding, err = parseCBT(*cbt); err != nil {
		return err
	}
	if *certFile != "" {
		pair, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			return err
		}
		if pair.Leaf == nil {
			if pair.Leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
				return err
			}
		}
		cfg.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	} else if cfg.ChannelBinding != acceptor.BindingNone {
		return errors.New("--cbt needs --tls-cert")
	}
	if *verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	srv, err := iis.New(cfg)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	fmt.Fprintf(os.Stderr, "iislike: serving on %s\n", l.Addr())
	return srv.Serve(l)
}

func parseCBT(s string) (acceptor.ChannelBindingPolicy, error) {
	switch s {
	case "none":
		return acceptor.BindingNone, nil
	case "relaxed":
		return acceptor.BindingRelaxed, nil
	case "strict":
		return acceptor.BindingStrict, nil
	}
	return 0, fmt.Errorf("--cbt %q: want none, relaxed or strict", s)
}
