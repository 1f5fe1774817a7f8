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
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/auth/kdcproxy"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
	"github.com/krbhttp/krbhttp/integration/internal/iis"
	"github.com/krbhttp/krbhttp/integration/internal/restapis"
	"github.com/krbhttp/krbhttp/integration/internal/winrmserver"
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
	allowUnencrypted := fs.Bool("allow-unencrypted", false, "WinRM: accept plaintext SOAP over http (WinRM's AllowUnencrypted)")
	maxShells := fs.Int("max-shells-per-user", winrmserver.DefaultMaxShellsPerUser, "WinRM: shells one user may have open (MaxShellsPerUser)")
	maxOps := fs.Int("max-operations-per-user", 0, "WinRM: operations one user may have under way (MaxConcurrentOperationsPerUser; 0: the default)")
	dataListen := fs.String("datanode-listen", "", "address of the WebHDFS data node (WebHDFS is served only with it)")
	kdcProxy := fs.Bool("kdc-proxy", false, "serve an MS-KKDCP KDC proxy at /KdcProxy (no authentication; needs --tls-cert) for the realms of krb5.conf (KRB5_CONFIG)")
	realms := fs.String("realms", "", "comma-separated client realms to accept (default: the realms of the keytab's keys)")
	verbose := fs.Bool("v", false, "log authentication failures (and, with --kdc-proxy, every proxied request)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *ktPath == "" {
		return errors.New("--keytab is required")
	}
	kt, err := credentials.LoadKeytab(*ktPath)
	if err != nil {
		return err
	}
	cfg := iis.Config{Keytab: kt, PersistentAuth: *persistent, MaxSkew: *skew}
	// Delegated credentials need the realm's configuration; without one
	// they are reported but not used.
	cfg.Krb5Config, _ = krb5conf.Load()
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
	if *realms != "" {
		cfg.Realms = strings.Split(*realms, ",")
	}
	if *kdcProxy {
		if cfg.TLS == nil {
			return errors.New("--kdc-proxy needs --tls-cert: MS-KKDCP is served over HTTPS only")
		}
		if cfg.Krb5Config == nil {
			return errors.New("--kdc-proxy needs a krb5.conf (KRB5_CONFIG) naming the realms' KDCs")
		}
		proxy, err := kdcproxy.New(kdcproxy.WithConfig(cfg.Krb5Config), kdcproxy.WithLogger(cfg.Logger))
		if err != nil {
			return err
		}
		cfg.Public = map[string]http.Handler{"/KdcProxy": proxy}
	}
	winrm, err := winrmserver.New(winrmserver.Config{
		AllowUnencrypted: *allowUnencrypted, Logger: cfg.Logger,
		MaxShellsPerUser: *maxShells, MaxOperationsPerUser: *maxOps,
	})
	if err != nil {
		return err
	}
	defer winrm.Close()
	cfg.Mounts = map[string]http.Handler{
		"/wsman":                     winrm,
		restapis.ReportsPrefix + "/": restapis.NewReports(),
	}
	servers := []*served{}
	if *dataListen != "" {
		dl, err := net.Listen("tcp", *dataListen)
		if err != nil {
			return err
		}
		namenode, datanode := restapis.NewWebHDFS(urlFor(dl, cfg.TLS != nil))
		cfg.Mounts[restapis.WebHDFSPrefix+"/"] = namenode
		dcfg := cfg
		dcfg.Mounts = map[string]http.Handler{restapis.WebHDFSPrefix + "/": datanode}
		dsrv, err := iis.New(dcfg)
		if err != nil {
			return err
		}
		servers = append(servers, &served{dsrv, dl, "data node"})
	}
	srv, err := iis.New(cfg)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	servers = append(servers, &served{srv, l, "serving"})

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errs := make(chan error, len(servers))
	for _, s := range servers {
		// The "serving on" line comes last: tests wait for it.
		fmt.Fprintf(os.Stderr, "iislike: %s on %s\n", s.what, s.l.Addr())
		go func() { errs <- s.srv.Serve(s.l) }()
	}
	select {
	case <-ctx.Done():
	case err = <-errs:
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range servers {
		_ = s.srv.Shutdown(shutdown)
	}
	return err
}

type served struct {
	srv  *iis.Server
	l    net.Listener
	what string
}

func urlFor(l net.Listener, tls bool) string {
	scheme := "http"
	if tls {
		scheme = "https"
	}
	return scheme + "://" + l.Addr().String()
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
