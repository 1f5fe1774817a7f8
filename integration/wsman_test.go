package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/credentials"
	"github.com/krbhttp/krbhttp/integration/internal/winrmserver"
	"github.com/krbhttp/krbhttp/wsman"
)

// The WinRM tests run our client against our /wsman handler behind the
// acceptor, authenticating connections once as IIS does, with the realm's
// HTTP/localhost key: over http with message encryption, over https with
// channel bindings, and with pywinrm as a client nobody here wrote.

// winrmSetup says how to start an endpoint.
type winrmSetup struct {
	tls     bool
	binding acceptor.ChannelBindingPolicy // with tls
	server  winrmserver.Config            // quotas, AllowUnencrypted
}

// winrmEndpoint is a running endpoint.
type winrmEndpoint struct {
	URL  string   // http(s)://localhost:port/wsman
	site *tlsSite // the certificate over https, else nil
	hits *atomic.Int32
}

func startWinRM(t testing.TB, setup winrmSetup) *winrmEndpoint {
	t.Helper()
	kt, err := credentials.LoadKeytab(env.httpKeytab)
	if err != nil {
		t.Fatal(err)
	}
	ep := &winrmEndpoint{hits: new(atomic.Int32)}
	var cert *x509.Certificate
	if setup.tls {
		ep.site = newTLSSite(t)
		cert = ep.site.cert.Leaf
	}
	a, err := acceptor.New(kt,
		acceptor.WithConnectionBound(true),
		acceptor.WithChannelBinding(setup.binding, cert),
		acceptor.WithConfig(env.conf),
	)
	if err != nil {
		t.Fatal(err)
	}
	cfg := setup.server
	cfg.Authenticator, cfg.ShellDir, cfg.Machine = a, t.TempDir(), "localhost"
	h, err := winrmserver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/wsman", h)
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ep.hits.Add(1)
		mux.ServeHTTP(w, r)
	}))
	ts.Config.ConnContext = h.ConnContext
	// Cleanups run last first: close the handler (ends long polls, kills
	// commands) before the server waits for its requests.
	t.Cleanup(ts.Close)
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Errorf("closing the WinRM handler: %v", err)
		}
	})
	if setup.tls {
		ts.TLS = &tls.Config{Certificates: []tls.Certificate{ep.site.cert}}
		ts.StartTLS()
	} else {
		ts.Start()
	}
	ep.URL = strings.Replace(ts.URL, "127.0.0.1", "localhost", 1) + "/wsman"
	return ep
}

// winrmClient is a client of ep with alice's cache cc (a fresh one when
// empty) and the realm's configuration.
func winrmClient(t testing.TB, ep *winrmEndpoint, cc string, opts ...wsman.Option) *wsman.Client {
	t.Helper()
	if cc == "" {
		cc = kinit(t, "alice")
	}
	all := []wsman.Option{wsman.WithAuth(auth.WithConfig(env.conf), auth.WithCCache(cc))}
	if ep.site != nil {
		all = append(all, wsman.WithBaseTransport(&http.Transport{TLSClientConfig: &tls.Config{RootCAs: ep.site.pool, MinVersion: tls.VersionTLS12}}))
	}
	c, err := wsman.NewClient(ep.URL, append(all, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// remote runs a command through c.Run and returns its output.
func remote(t *testing.T, c wsman.Runner, req wsman.RunRequest) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut strings.Builder
	req.Stdout, req.Stderr = &out, &errOut
	code, err := c.Run(t.Context(), req)
	if err != nil {
		t.Fatalf("running %s %v: %v (stdout %q, stderr %q)", req.Command, req.Args, err, out.String(), errOut.String())
	}
	return out.String(), errOut.String(), code
}

func TestWinRMEchoEncryptedOverHTTP(t *testing.T) {
	t.Parallel()
	ep := startWinRM(t, winrmSetup{})
	for _, scheme := range []auth.Scheme{auth.SchemeNegotiate, auth.SchemeKerberos} {
		t.Run(string(scheme), func(t *testing.T) {
			c := winrmClient(t, ep, "", wsman.WithAuth(auth.WithScheme(scheme)))
			if !c.Encrypted() {
				t.Fatal("the client does not encrypt over http")
			}
			stdout, stderr, code := remote(t, c, wsman.RunRequest{Command: "echo", Args: []string{"hello", "winrm"}})
			if stdout != "hello winrm\n" || stderr != "" || code != 0 {
				t.Fatalf("stdout %q stderr %q exit %d", stdout, stderr, code)
			}
		})
	}
}

func TestWinRMExitCodeAndStderr(t *testing.T) {
	t.Parallel()
	ep := startWinRM(t, winrmSetup{})
	c := winrmClient(t, ep, "")
	stdout, stderr, code := remote(t, c, wsman.RunRequest{Command: "echo out; echo err >&2; exit 7"})
	if stdout != "out\n" || stderr != "err\n" || code != 7 {
		t.Fatalf("stdout %q stderr %q exit %d, want out, err, 7", stdout, stderr, code)
	}
	// The shell options reach the command.
	stdout, _, code = remote(t, c, wsman.RunRequest{
		Command: `echo "$GREETING" && pwd`,
		Shell:   wsman.ShellOptions{Environment: map[string]string{"GREETING": "hi there"}, WorkingDirectory: "/tmp", IdleTimeout: time.Minute},
	})
	if stdout != "hi there\n/tmp\n" || code != 0 {
		t.Fatalf("stdout %q exit %d", stdout, code)
	}
}

// countingWriter discards what it gets and hashes it.
type countingWriter struct {
	n int64
	h io.Writer
}

func (w *countingWriter) Write(b []byte) (int, error) {
	w.n += int64(len(b))
	return w.h.Write(b)
}

// TestWinRMLargeOutputBoundedMemory: 10 MB of stdout arrive complete
// while the heap in use grows by a small, bounded amount: the client
// streams each response to the writer instead of collecting output. Not
// parallel, so that other tests do not disturb the heap measurement; the
// server, in this process too, bounds what it queues (1 MiB per stream).
func TestWinRMLargeOutputBoundedMemory(t *testing.T) {
	ep := startWinRM(t, winrmSetup{})
	c := winrmClient(t, ep, "")
	const size = 10 << 20
	defer debug.SetGCPercent(debug.SetGCPercent(20))
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
			}
		}
	}()
	h := sha256.New()
	out := &countingWriter{h: h}
	code, err := c.Run(t.Context(), wsman.RunRequest{Command: fmt.Sprintf("head -c %d /dev/zero | tr '\\0' 'x'", size), Stdout: out})
	close(stop)
	<-sampled
	if err != nil || code != 0 {
		t.Fatalf("exit %d: %v", code, err)
	}
	want := sha256.Sum256(bytes.Repeat([]byte("x"), size))
	if out.n != size || !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatalf("received %d bytes (hash differs: %v), want %d", out.n, !bytes.Equal(h.Sum(nil), want[:]), size)
	}
	growth := int64(peak.Load()) - int64(base.HeapInuse)
	t.Logf("10 MiB of output: heap in use %d KiB before, peak %d KiB (growth %d KiB)", base.HeapInuse>>10, peak.Load()>>10, growth>>10)
	const bound = 8 << 20
	if growth > bound {
		t.Fatalf("heap in use grew by %d KiB while receiving 10 MiB, more than the %d KiB bound", growth>>10, bound>>10)
	}
}

// TestWinRMStdin: stdin larger than several envelopes goes through cat
// unchanged, and the command sees its end.
func TestWinRMStdin(t *testing.T) {
	t.Parallel()
	ep := startWinRM(t, winrmSetup{})
	c := winrmClient(t, ep, "")
	in := make([]byte, 1<<20)
	for i := range in {
		in[i] = byte(i*7 + i>>8)
	}
	var out bytes.Buffer
	code, err := c.Run(t.Context(), wsman.RunRequest{Command: "cat", Stdin: bytes.NewReader(in), Stdout: &out})
	if err != nil || code != 0 || !bytes.Equal(out.Bytes(), in) {
		t.Fatalf("exit %d, %v; %d bytes back of %d", code, err, out.Len(), len(in))
	}
	stdout, _, _ := remote(t, c, wsman.RunRequest{Command: "wc -l", Stdin: strings.NewReader("a\nb\nc\n")})
	if strings.TrimSpace(stdout) != "3" {
		t.Fatalf("wc -l saw %q", stdout)
	}
}

// TestWinRMCtrlC: ctrl_c interrupts a long sleep, which exits as a shell
// reports SIGINT.
func TestWinRMCtrlC(t *testing.T) {
	t.Parallel()
	ep := startWinRM(t, winrmSetup{})
	c := winrmClient(t, ep, "")
	ctx := t.Context()
	shell, err := c.CreateShell(ctx, wsman.ShellOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := c.DeleteShell(ctx, shell); err != nil {
			t.Error(err)
		}
	}()
	cmd, err := c.StartCommand(ctx, shell, "sleep", "100")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Signal(ctx, shell, cmd, wsman.SignalCtrlC); err != nil {
		t.Fatal(err)
	}
	code, err := wsman.Stream(ctx, c, shell, cmd, nil, nil, nil)
	if err != nil || code != 130 {
		t.Fatalf("exit %d, %v; want 130 (SIGINT)", code, err)
	}
}

// spy records the calls of a run and can cancel it once the command
// started.
type spy struct {
	wsman.ShellClient
	afterStart func()

	mu                 sync.Mutex
	shellID            string
	signals            []wsman.Signal
	deleted, idlePolls int
}

func (s *spy) CreateShell(ctx context.Context, o wsman.ShellOptions) (string, error) {
	id, err := s.ShellClient.CreateShell(ctx, o)
	s.mu.Lock()
	s.shellID = id
	s.mu.Unlock()
	return id, err
}

func (s *spy) StartCommand(ctx context.Context, shellID, command string, args ...string) (string, error) {
	id, err := s.ShellClient.StartCommand(ctx, shellID, command, args...)
	if err == nil && s.afterStart != nil {
		s.afterStart()
	}
	return id, err
}

func (s *spy) Receive(ctx context.Context, shellID, commandID string) (*wsman.Output, error) {
	out, err := s.ShellClient.Receive(ctx, shellID, commandID)
	if err == nil && !out.Done && len(out.Stdout)+len(out.Stderr) == 0 {
		s.mu.Lock()
		s.idlePolls++
		s.mu.Unlock()
	}
	return out, err
}

func (s *spy) Signal(ctx context.Context, shellID, commandID string, sig wsman.Signal) error {
	s.mu.Lock()
	s.signals = append(s.signals, sig)
	s.mu.Unlock()
	return s.ShellClient.Signal(ctx, shellID, commandID, sig)
}

func (s *spy) DeleteShell(ctx context.Context, shellID string) error {
	err := s.ShellClient.DeleteShell(ctx, shellID)
	if err == nil {
		s.mu.Lock()
		s.deleted++
		s.mu.Unlock()
	}
	return err
}

// TestWinRMCancelTerminatesAndDeletes: cancelling Run's context sends
// terminate and deletes the shell, which is then gone on the server.
func TestWinRMCancelTerminatesAndDeletes(t *testing.T) {
	t.Parallel()
	ep := startWinRM(t, winrmSetup{})
	c := winrmClient(t, ep, "")
	ctx, cancel := context.WithCancel(t.Context())
	s := &spy{ShellClient: c, afterStart: cancel}
	_, err := wsman.Run(ctx, s, wsman.RunRequest{Command: "sleep 100"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v, want context.Canceled", err)
	}
	if len(s.signals) != 1 || s.signals[0] != wsman.SignalTerminate || s.deleted != 1 {
		t.Fatalf("signals %v, deletions %d; want terminate and one deletion", s.signals, s.deleted)
	}
	if err := c.DeleteShell(t.Context(), s.shellID); !wsman.IsFault(err, wsman.FaultShellNotFound) {
		t.Fatalf("the shell survived: deleting it again gave %v", err)
	}
}

// TestWinRMOperationTimeoutPolling: with a one-second operation timeout, a
// command that is silent for two seconds makes Receive time out on the
// server at least once; Run polls again and gets the output.
func TestWinRMOperationTimeoutPolling(t *testing.T) {
	t.Parallel()
	ep := startWinRM(t, winrmSetup{})
	c := winrmClient(t, ep, "", wsman.WithOperationTimeout(time.Second))
	s := &spy{ShellClient: c}
	var out strings.Builder
	code, err := wsman.Run(t.Context(), s, wsman.RunRequest{Command: "sleep 2; echo late", Stdout: &out})
	if err != nil || code != 0 || out.String() != "late\n" {
		t.Fatalf("exit %d, %v, stdout %q", code, err, out.String())
	}
	if s.idlePolls == 0 {
		t.Fatal("no Receive timed out; the test proves nothing")
	}
	t.Logf("%d Receive calls timed out and were repeated", s.idlePolls)
}

// TestWinRMOverHTTPSWithChannelBinding: over https the messages are plain
// SOAP inside TLS, and the Kerberos tokens carry channel bindings for the
// server's certificate, which the server requires (Strict). Encryption can
// still be asked for inside TLS.
func TestWinRMOverHTTPSWithChannelBinding(t *testing.T) {
	t.Parallel()
	ep := startWinRM(t, winrmSetup{tls: true, binding: acceptor.BindingStrict})
	cc := kinit(t, "alice")
	for _, mode := range []wsman.Encryption{wsman.EncryptAuto, wsman.EncryptAlways} {
		t.Run(mode.String(), func(t *testing.T) {
			c := winrmClient(t, ep, cc, wsman.WithEncryption(mode))
			if c.Encrypted() != (mode == wsman.EncryptAlways) {
				t.Fatalf("encrypted %v under %v over https", c.Encrypted(), mode)
			}
			stdout, _, code := remote(t, c, wsman.RunRequest{Command: "echo", Args: []string{"over", "tls"}})
			if stdout != "over tls\n" || code != 0 {
				t.Fatalf("stdout %q exit %d", stdout, code)
			}
		})
	}
	// A fault over https is readable although mutual authentication is
	// required and error responses are sanitized by default: the client
	// sends tokens up front, so the fault comes with a verified one.
	c := winrmClient(t, ep, cc)
	_, err := c.StartCommand(t.Context(), "6A109742-67E9-44C0-B160-126A23CC003B", "echo")
	var f *wsman.Fault
	if !errors.As(err, &f) || f.Code != wsman.FaultShellNotFound || f.Message == "" {
		t.Fatalf("fault over https: %v", err)
	}
	// Without bindings the strict server refuses the client.
	c = winrmClient(t, ep, cc, wsman.WithAuth(auth.WithChannelBinding(false)))
	_, err = c.CreateShell(t.Context(), wsman.ShellOptions{})
	var he *wsman.HTTPError
	if !errors.As(err, &he) || he.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without channel bindings: %v, want HTTP 401", err)
	}
}

// TestWinRMDelegation: with delegation the remote command finds alice's
// forwarded TGT in its credential cache and uses it for a second hop (a
// service ticket from the KDC), over http with encryption and over https.
func TestWinRMDelegation(t *testing.T) {
	t.Parallel()
	cc := kinit(t, "alice")
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprint("tls=", useTLS), func(t *testing.T) {
			t.Parallel()
			setup := winrmSetup{tls: useTLS}
			if useTLS {
				setup.binding = acceptor.BindingRelaxed
			}
			ep := startWinRM(t, setup)
			c := winrmClient(t, ep, cc, wsman.WithAuth(auth.WithDelegation(auth.DelegateAlways)))
			shell := wsman.ShellOptions{Environment: map[string]string{"KRB5_CONFIG": env.realm.ConfigPath}}
			stdout, stderr, code := remote(t, c, wsman.RunRequest{Command: "klist && kvno HTTP/localhost", Shell: shell})
			principal := env.realm.Principal("alice")
			if code != 0 || !strings.Contains(stdout, "Default principal: "+principal) ||
				!strings.Contains(stdout, "krbtgt/"+env.realm.Realm+"@"+env.realm.Realm) ||
				!strings.Contains(stdout, "HTTP/localhost@"+env.realm.Realm+": kvno =") {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			// Without delegation there is no credential cache.
			plain := winrmClient(t, ep, cc)
			if _, _, code := remote(t, plain, wsman.RunRequest{Command: "klist -s", Shell: shell}); code == 0 {
				t.Fatal("klist found credentials although nothing was delegated")
			}
		})
	}
}

// TestWinRMFaults: an unknown shell and the two quotas come back as typed
// faults with Windows' codes.
func TestWinRMFaults(t *testing.T) {
	t.Parallel()
	ep := startWinRM(t, winrmSetup{server: winrmserver.Config{MaxShellsPerUser: 1, MaxOperationsPerUser: 1}})
	c := winrmClient(t, ep, "", wsman.WithOperationTimeout(5*time.Second))
	ctx := t.Context()

	_, err := c.StartCommand(ctx, "6A109742-67E9-44C0-B160-126A23CC003B", "echo")
	var f *wsman.Fault
	if !errors.As(err, &f) || f.Code != wsman.FaultShellNotFound || f.Subcode != "w:InvalidSelectors" || f.StatusCode != 500 ||
		!strings.Contains(f.Message, "6A109742-67E9-44C0-B160-126A23CC003B") {
		t.Fatalf("unknown shell: %v", err)
	}

	shell, err := c.CreateShell(ctx, wsman.ShellOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.DeleteShell(ctx, shell)
	if _, err := c.CreateShell(ctx, wsman.ShellOptions{}); !wsman.IsFault(err, wsman.FaultMaxShells) {
		t.Fatalf("second shell over a quota of one: %v", err)
	}

	// One operation at a time: while a Receive waits for a silent command,
	// any other request is refused.
	cmd, err := c.StartCommand(ctx, shell, "sleep", "30")
	if err != nil {
		t.Fatal(err)
	}
	polling := make(chan error, 1)
	go func() {
		_, err := c.Receive(ctx, shell, cmd)
		polling <- err
	}()
	var refused error
	// Until the Receive has reached the server; each try is quick. The
	// tries go through a second client (same user, so same quota): on the
	// first one they could keep the Receive waiting for the connection.
	other := winrmClient(t, ep, "", wsman.WithOperationTimeout(5*time.Second))
	for range 200 {
		if refused = other.Signal(ctx, shell, "00000000-0000-4000-8000-000000000000", wsman.SignalCtrlC); wsman.IsFault(refused, wsman.FaultMaxOperations) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !wsman.IsFault(refused, wsman.FaultMaxOperations) {
		t.Fatalf("a second operation during a Receive: %v", refused)
	}
	if err := <-polling; err != nil {
		t.Fatalf("the Receive: %v", err)
	}
	if err := c.Signal(ctx, shell, cmd, wsman.SignalTerminate); err != nil {
		t.Fatal(err)
	}
}

// TestWinRMEnvelopeTooLarge: a request over the server's MaxEnvelopeSize
// is refused with 413, a typed error; on an encrypted connection the
// client drops the connection and the next request works on a new one.
func TestWinRMEnvelopeTooLarge(t *testing.T) {
	t.Parallel()
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprint("tls=", useTLS), func(t *testing.T) {
			t.Parallel()
			ep := startWinRM(t, winrmSetup{tls: useTLS, server: winrmserver.Config{MaxEnvelopeSize: 100000}})
			c := winrmClient(t, ep, "", wsman.WithMaxEnvelopeSize(300000))
			ctx := t.Context()
			shell, err := c.CreateShell(ctx, wsman.ShellOptions{})
			if err != nil {
				t.Fatal(err)
			}
			cmd, err := c.StartCommand(ctx, shell, "cat")
			if err != nil {
				t.Fatal(err)
			}
			err = c.Send(ctx, shell, cmd, make([]byte, 200000), true)
			var he *wsman.HTTPError
			if !errors.Is(err, wsman.ErrEnvelopeTooLarge) || !errors.As(err, &he) || he.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("oversized Send: %v", err)
			}
			if err := c.DeleteShell(ctx, shell); err != nil {
				t.Fatalf("the request after the 413: %v", err)
			}
		})
	}
}

// TestWinRMPlaintextOverHTTP: unencrypted SOAP over http is refused unless
// the server allows it, as WinRM's AllowUnencrypted does.
func TestWinRMPlaintextOverHTTP(t *testing.T) {
	t.Parallel()
	cc := kinit(t, "alice")
	strict := winrmClient(t, startWinRM(t, winrmSetup{}), cc, wsman.WithEncryption(wsman.EncryptNever))
	_, err := strict.CreateShell(t.Context(), wsman.ShellOptions{})
	var he *wsman.HTTPError
	if !errors.As(err, &he) || he.StatusCode != http.StatusUnsupportedMediaType || !strings.Contains(he.Body, "unencrypted") {
		t.Fatalf("plaintext to a server that refuses it: %v", err)
	}
	lax := winrmClient(t, startWinRM(t, winrmSetup{server: winrmserver.Config{AllowUnencrypted: true}}), cc, wsman.WithEncryption(wsman.EncryptNever))
	if lax.Encrypted() {
		t.Fatal("EncryptNever encrypts")
	}
	stdout, _, code := remote(t, lax, wsman.RunRequest{Command: "echo", Args: []string{"clear"}})
	if stdout != "clear\n" || code != 0 {
		t.Fatalf("stdout %q exit %d", stdout, code)
	}
}

func TestWinRMGetIs405(t *testing.T) {
	t.Parallel()
	ep := startWinRM(t, winrmSetup{})
	resp, err := http.Get(ep.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
		t.Fatalf("GET: %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

// tamperingConn flips one byte of what the server sends, at offset at
// counted from the first byte after the encryption setup's response.
type tamperingConn struct {
	net.Conn
	mu    sync.Mutex
	setup bool  // the setup response has been read
	seen  int64 // bytes read since
	at    int64
}

func (c *tamperingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.setup {
		// The setup response has an empty body and is read at once.
		c.setup = n > 0
		return n, err
	}
	if off := c.at - c.seen; off >= 0 && off < int64(n) {
		b[off] ^= 0x20
	}
	c.seen += int64(n)
	return n, err
}

// TestWinRMTamperedReply: a byte changed in an encrypted reply makes the
// client refuse it as tampered.
func TestWinRMTamperedReply(t *testing.T) {
	t.Parallel()
	ep := startWinRM(t, winrmSetup{})
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		// Byte 900 of the Create reply lies in the wrap token: the
		// headers and the framing take about 450 bytes, the token 1.6 KB.
		return &tamperingConn{Conn: conn, at: 900}, nil
	}
	c := winrmClient(t, ep, "", wsman.WithBaseTransport(&http.Transport{DialContext: dial}))
	_, err := c.CreateShell(t.Context(), wsman.ShellOptions{})
	var te *wsman.TamperedError
	if !errors.Is(err, wsman.ErrTampered) || !errors.As(err, &te) {
		t.Fatalf("tampered reply: %v", err)
	}
}

// BenchmarkWinRMCommands measures commands per second against the local
// endpoint over http with encryption: a whole Run (shell, command, output,
// deletion) per command, and commands in one open shell.
func BenchmarkWinRMCommands(b *testing.B) {
	ep := startWinRM(b, winrmSetup{})
	c := winrmClient(b, ep, "")
	ctx := b.Context()
	b.Run("Run", func(b *testing.B) {
		for b.Loop() {
			if code, err := c.Run(ctx, wsman.RunRequest{Command: "true"}); err != nil || code != 0 {
				b.Fatalf("exit %d: %v", code, err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commands/s")
	})
	b.Run("InShell", func(b *testing.B) {
		shell, err := c.CreateShell(ctx, wsman.ShellOptions{})
		if err != nil {
			b.Fatal(err)
		}
		defer c.DeleteShell(ctx, shell)
		for b.Loop() {
			cmd, err := c.StartCommand(ctx, shell, "true")
			if err != nil {
				b.Fatal(err)
			}
			if code, err := wsman.Stream(ctx, c, shell, cmd, nil, nil, nil); err != nil || code != 0 {
				b.Fatalf("exit %d: %v", code, err)
			}
			if err := c.Signal(ctx, shell, cmd, wsman.SignalTerminate); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commands/s")
	})
}

// BenchmarkWinRMConcurrentRuns starts 200 Runs at once from one client
// against the local endpoint (encryption on) per iteration, and reports
// the time goroutines spent blocked on mutexes per iteration (run with
// -mutexprofile to see where) and the peak live heap.
func BenchmarkWinRMConcurrentRuns(b *testing.B) {
	const concurrent = 200
	ep := startWinRM(b, winrmSetup{server: winrmserver.Config{MaxShellsPerUser: concurrent, MaxOperationsPerUser: 10 * concurrent}})
	c := winrmClient(b, ep, "")
	ctx := b.Context()
	samples := []metrics.Sample{{Name: "/sync/mutex/wait/total:seconds"}, {Name: "/gc/heap/live:bytes"}}
	metrics.Read(samples)
	waitBefore := samples[0].Value.Float64()
	var peakLive uint64
	for b.Loop() {
		var wg sync.WaitGroup
		errs := make(chan error, concurrent)
		for range concurrent {
			wg.Go(func() {
				if code, err := c.Run(ctx, wsman.RunRequest{Command: "true"}); err != nil || code != 0 {
					errs <- fmt.Errorf("exit %d: %w", code, err)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		metrics.Read(samples)
		peakLive = max(peakLive, samples[1].Value.Uint64())
	}
	b.ReportMetric(float64(concurrent*b.N)/b.Elapsed().Seconds(), "runs/s")
	b.ReportMetric((samples[0].Value.Float64()-waitBefore)/float64(b.N), "mutex-wait-s/op")
	b.ReportMetric(float64(peakLive)/(1<<20), "peak-live-MiB")
}
