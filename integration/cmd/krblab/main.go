package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/auth/kdctest"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
	"github.com/krbhttp/krbhttp/integration/internal/iis"
	"github.com/krbhttp/krbhttp/integration/internal/restapis"
	"github.com/krbhttp/krbhttp/integration/internal/testcert"
	"github.com/krbhttp/krbhttp/integration/internal/winrmserver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code, err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "krblab:", err)
	}
	os.Exit(code)
}

// host is the name in every URL, and so the host part of every SPN.
const host = "localhost"

func run(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("krblab", flag.ContinueOnError)
	fs.SetOutput(stderr)
	user := fs.String("user", "alice", "name of the user logged in to the realm")
	if err := fs.Parse(args); err != nil {
		return 2, nil
	}
	lab, err := start(*user)
	if err != nil {
		return 1, err
	}
	defer lab.close()
	if command := fs.Args(); len(command) > 0 {
		cmd := exec.CommandContext(ctx, command[0], command[1:]...)
		cmd.Env = append(withoutKerberos(os.Environ()), lab.env...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode(), nil
		}
		if err != nil {
			return 1, err
		}
		return 0, nil
	}
	for _, kv := range lab.env {
		name, value, _ := strings.Cut(kv, "=")
		fmt.Fprintf(stdout, "export %s=%s\n", name, shellQuote(value))
	}
	fmt.Fprintln(stdout, "# krblab ready; stop it with Ctrl-C")
	<-ctx.Done()
	return 0, nil
}

type lab struct {
	realm  *kdctest.Realm
	env    []string
	closes []func()
}

func (l *lab) close() {
	for i := len(l.closes) - 1; i >= 0; i-- {
		l.closes[i]()
	}
	_ = l.realm.Close()
}

// start makes the realm, the user's TGT and the servers; on error it has
// stopped whatever it started.
func start(user string) (_ *lab, err error) {
	realm, err := kdctest.NewTemp()
	if err != nil {
		return nil, err
	}
	l := &lab{realm: realm}
	defer func() {
		if err != nil {
			l.close()
		}
	}()
	password, err := randomPassword()
	if err != nil {
		return nil, err
	}
	if err := realm.AddPrincipal(user, password); err != nil {
		return nil, err
	}
	pwFile := filepath.Join(realm.Dir, user+".password")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		return nil, err
	}
	ccache := "FILE:" + filepath.Join(realm.Dir, user+".ccache")
	if err := realm.Login(user, ccache); err != nil {
		return nil, err
	}
	ktPath, err := realm.AddService("HTTP/"+host, false)
	if err != nil {
		return nil, err
	}
	kt, err := credentials.LoadKeytab(ktPath)
	if err != nil {
		return nil, err
	}
	conf, err := krb5conf.LoadFiles(realm.ConfigPath)
	if err != nil {
		return nil, err
	}
	ca, err := testcert.NewCA()
	if err != nil {
		return nil, err
	}
	caFile := filepath.Join(realm.Dir, "ca.pem")
	if err := testcert.WritePEM(caFile, ca.Cert); err != nil {
		return nil, err
	}
	cert, err := ca.Server(host, "127.0.0.1")
	if err != nil {
		return nil, err
	}
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}

	winrm, err := winrmserver.New(winrmserver.Config{})
	if err != nil {
		return nil, err
	}
	l.closes = append(l.closes, func() { winrm.Close() })
	mounts := map[string]http.Handler{"/wsman": winrm, restapis.ReportsPrefix + "/": restapis.NewReports()}
	// One replay cache for all servers: they share the service key.
	replays := acceptor.NewMemoryReplayStore(0)
	plainURL, err := l.serve(iis.Config{Keytab: kt, PersistentAuth: true, Krb5Config: conf, Mounts: mounts, ReplayStore: replays}, nil)
	if err != nil {
		return nil, err
	}
	tlsURL, err := l.serve(iis.Config{Keytab: kt, PersistentAuth: true, Krb5Config: conf, Mounts: mounts, ReplayStore: replays,
		ChannelBinding: acceptor.BindingRelaxed, TLS: tlsConfig}, tlsConfig)
	if err != nil {
		return nil, err
	}
	webhdfsURL, err := l.serveWebHDFS(kt, replays)
	if err != nil {
		return nil, err
	}
	l.env = []string{
		"KRB5_CONFIG=" + realm.ConfigPath,
		"KRB5CCNAME=" + ccache,
		"KRBLAB_PRINCIPAL=" + realm.Principal(user),
		"KRBLAB_PASSWORD_FILE=" + pwFile,
		"KRBLAB_URL=" + plainURL,
		"KRBLAB_HTTPS_URL=" + tlsURL,
		"KRBLAB_CA=" + caFile,
		"KRBLAB_WSMAN_URL=" + plainURL + "/wsman",
		"KRBLAB_WEBHDFS_URL=" + webhdfsURL,
	}
	return l, nil
}

// server is the IIS-like server or a Hadoop daemon's.
type server interface {
	Serve(net.Listener) error
	Shutdown(context.Context) error
}

// listen opens a loopback port and returns the URL naming it by host.
func listen(tlsOn bool) (net.Listener, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	scheme := "http"
	if tlsOn {
		scheme = "https"
	}
	return ln, fmt.Sprintf("%s://%s:%d", scheme, host, ln.Addr().(*net.TCPAddr).Port), nil
}

func (l *lab) run(srv server, ln net.Listener) {
	go func() { _ = srv.Serve(ln) }()
	l.closes = append(l.closes, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
}

func (l *lab) serve(cfg iis.Config, tlsConfig *tls.Config) (string, error) {
	srv, err := iis.New(cfg)
	if err != nil {
		return "", err
	}
	ln, url, err := listen(tlsConfig != nil)
	if err != nil {
		return "", err
	}
	l.run(srv, ln)
	return url, nil
}

// serveWebHDFS starts a namenode (SPNEGO as HTTP/localhost) and its
// datanode (delegation tokens), both over plain HTTP.
func (l *lab) serveWebHDFS(kt *keytab.Keytab, replays acceptor.ReplayStore) (string, error) {
	nameLn, nameURL, err := listen(false)
	if err != nil {
		return "", err
	}
	dataLn, dataURL, err := listen(false)
	if err != nil {
		nameLn.Close()
		return "", err
	}
	w, err := restapis.NewWebHDFS(restapis.WebHDFSConfig{Keytab: kt, DataNodeURL: dataURL, ReplayStore: replays})
	if err != nil {
		nameLn.Close()
		dataLn.Close()
		return "", err
	}
	l.run(restapis.NewHadoopServer(w.NameNode, nil), nameLn)
	l.run(restapis.NewHadoopServer(w.DataNode, nil), dataLn)
	return nameURL, nil
}

func randomPassword() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/:._-=,@+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// withoutKerberos drops the caller's KRB5* settings (a keytab, a trace
// file, another cache), which would mix another realm into the lab's.
func withoutKerberos(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, "KRB5") {
			out = append(out, kv)
		}
	}
	return out
}
