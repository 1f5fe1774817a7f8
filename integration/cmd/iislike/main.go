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

	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/auth/kdcproxy"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
	"github.com/krbhttp/krbhttp/integration/internal/iis"
	"github.com/krbhttp/krbhttp/integration/internal/restapis"
	"github.com/krbhttp/krbhttp/integration/internal/winrmserver"
	"github.com/krbhttp/krbhttp/redisstore"
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
	nameListen := fs.String("namenode-listen", "", "address of the WebHDFS namenode (Hadoop's SPNEGO and hadoop.auth cookie; with --datanode-listen)")
	dataListen := fs.String("datanode-listen", "", "address of the WebHDFS datanode (delegation tokens, no SPNEGO; with --namenode-listen)")
	rmListen := fs.String("rm-listen", "", "address of the YARN ResourceManager REST API (Hadoop's SPNEGO and delegation tokens)")
	kdcProxy := fs.Bool("kdc-proxy", false, "serve an MS-KKDCP KDC proxy at /KdcProxy (no authentication; needs --tls-cert) for the realms of krb5.conf (KRB5_CONFIG)")
	realms := fs.String("realms", "", "comma-separated client realms to accept (default: the realms of the keytab's keys)")
	replayDir := fs.String("replay-cache", "", "keep the replay cache in a file in `DIR`, so that a restart does not forget the tokens used (KRB5RCACHEDIR-like)")
	replaySize := fs.Int("replay-cache-size", 0, "bound of the replay cache in memory or in --replay-cache (0: 1,000 authentications a second over twice the default skew); when reached, new authentications get 503")
	replayRedis := fs.String("replay-redis", "", "share the replay cache with other replicas on the Redis server at `HOST:PORT`")
	replayFailOpen := fs.Bool("replay-redis-fail-open", false, "with --replay-redis: accept authentications while Redis is unreachable, without a replay check (logged at error level)")
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
	// One replay cache for every server of the process (the WebHDFS
	// namenode and the ResourceManager share the keytab, so a token for
	// one must not be replayed to another either).
	store, closeStore, err := replayStore(*replayDir, *replaySize, *replayRedis, *replayFailOpen)
	if err != nil {
		return err
	}
	defer closeStore()
	cfg.ReplayStore = store
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
	if (*nameListen == "") != (*dataListen == "") {
		return errors.New("--namenode-listen and --datanode-listen go together")
	}
	if *dataListen != "" {
		hadoop, err := serveWebHDFS(kt, cfg.TLS, store, *nameListen, *dataListen)
		if err != nil {
			return err
		}
		servers = append(servers, hadoop...)
	}
	if *rmListen != "" {
		rl, err := net.Listen("tcp", *rmListen)
		if err != nil {
			return err
		}
		rm, err := restapis.NewResourceManager(restapis.ResourceManagerConfig{Keytab: kt, ReplayStore: store})
		if err != nil {
			rl.Close()
			return err
		}
		servers = append(servers, &served{hadoopServer{restapis.NewHadoopServer(rm.Handler, cfg.TLS)}, rl, "resourcemanager"})
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

// replayStore opens the replay cache the flags ask for and says which on
// stderr.
func replayStore(dir string, size int, redisAddr string, failOpen bool) (acceptor.ReplayStore, func(), error) {
	switch {
	case redisAddr != "" && dir != "":
		return nil, nil, errors.New("--replay-cache and --replay-redis exclude each other")
	case redisAddr != "" && size != 0:
		return nil, nil, errors.New("--replay-cache-size bounds the memory and file stores; bound a Redis store with its maxmemory")
	case failOpen && redisAddr == "":
		return nil, nil, errors.New("--replay-redis-fail-open needs --replay-redis")
	case redisAddr != "":
		client := redisstore.NewClient(redisAddr)
		// Outages are logged whatever -v says: they refuse (or, failing
		// open, let through) every client.
		logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
		store, err := redisstore.New(client, redisstore.WithLogger(logger), redisstore.WithFailOpen(failOpen))
		if err != nil {
			client.Close()
			return nil, nil, err
		}
		mode := "fail closed"
		if failOpen {
			mode = "fail open"
		}
		fmt.Fprintf(os.Stderr, "iislike: replay cache on Redis %s (%s)\n", redisAddr, mode)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := store.Check(ctx); err != nil {
			// Served anyway: authentications are refused until Redis is
			// there, and recover by themselves.
			fmt.Fprintf(os.Stderr, "iislike: warning: %v\n", err)
		}
		return store, func() { client.Close() }, nil
	case dir != "":
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, nil, err
		}
		store, err := acceptor.OpenFileReplayStore(acceptor.ReplayCacheFile(dir), size)
		if err != nil {
			return nil, nil, err
		}
		fmt.Fprintf(os.Stderr, "iislike: replay cache in %s (%d entries)\n", store.Path(), store.Len())
		return store, func() { store.Close() }, nil
	}
	return acceptor.NewMemoryReplayStore(size), func() {}, nil
}

type served struct {
	srv  server
	l    net.Listener
	what string
}

// server is an IIS-like server or a Hadoop daemon's.
type server interface {
	Serve(net.Listener) error
	Shutdown(context.Context) error
}

// hadoopServer serves a Hadoop daemon's endpoint, over TLS when it has a
// configuration.
type hadoopServer struct{ *http.Server }

func (h hadoopServer) Serve(l net.Listener) error {
	var err error
	if h.TLSConfig != nil {
		err = h.Server.ServeTLS(l, "", "")
	} else {
		err = h.Server.Serve(l)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// serveWebHDFS starts the namenode (SPNEGO with the keytab's keys) and
// the datanode of an in-memory secure HDFS.
func serveWebHDFS(kt *keytab.Keytab, tlsConfig *tls.Config, replays acceptor.ReplayStore, nameAddr, dataAddr string) ([]*served, error) {
	nl, err := net.Listen("tcp", nameAddr)
	if err != nil {
		return nil, err
	}
	dl, err := net.Listen("tcp", dataAddr)
	if err != nil {
		nl.Close()
		return nil, err
	}
	w, err := restapis.NewWebHDFS(restapis.WebHDFSConfig{Keytab: kt, DataNodeURL: urlFor(dl, tlsConfig != nil), ReplayStore: replays})
	if err != nil {
		nl.Close()
		dl.Close()
		return nil, err
	}
	return []*served{
		{hadoopServer{restapis.NewHadoopServer(w.NameNode, tlsConfig)}, nl, "namenode"},
		{hadoopServer{restapis.NewHadoopServer(w.DataNode, tlsConfig)}, dl, "datanode"},
	}, nil
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
