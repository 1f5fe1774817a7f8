package winrmserver

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"weak"

	"github.com/google/uuid"

	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/gss"
	"github.com/krbhttp/krbhttp/wsman/encryption"
)

// Defaults for the Config fields left zero: Windows' own.
const (
	DefaultMaxEnvelopeSize      = 512000 // MaxEnvelopeSizekb = 500
	DefaultMaxShellsPerUser     = 30
	DefaultMaxOperationsPerUser = 1500
	DefaultMaxOperationTimeout  = 60 * time.Second
	DefaultIdleTimeout          = 2 * time.Hour
)

// Config configures a [Server].
type Config struct {
	// Authenticator authenticates requests that arrive without an
	// identity (see Mounting in the package documentation); it must be
	// built with acceptor.WithConnectionBound for message encryption.
	// Nil: every request must come through an Authenticator already.
	Authenticator *acceptor.Authenticator
	// AllowUnencrypted accepts plaintext SOAP over http (WinRM's
	// AllowUnencrypted); over https it is always accepted.
	AllowUnencrypted bool
	// MaxEnvelopeSize bounds requests (413 beyond) and responses.
	MaxEnvelopeSize int
	// MaxShellsPerUser and MaxOperationsPerUser are the quotas of
	// faults 2150859173 and 2150859174.
	MaxShellsPerUser     int
	MaxOperationsPerUser int
	// MaxOperationTimeout caps the OperationTimeout a client asks for.
	MaxOperationTimeout time.Duration
	// ShellDir is where the shells' temporary working directories go;
	// empty means os.TempDir().
	ShellDir string
	// Machine is the Machine attribute of faults; empty means the host
	// name.
	Machine string
	// Logger gets a line per failed request; nil logs nothing.
	Logger *slog.Logger
}

// Server is the /wsman handler. It is safe for concurrent use.
type Server struct {
	cfg      Config
	sessions sessions

	mu      sync.Mutex        // guards shells, ops, closed
	shells  map[string]*shell // by ShellId
	ops     map[string]int    // operations under way per user
	closed  bool
	closing chan struct{} // closed by Close: wakes every long poll
}

// shell is one open shell and its commands.
type shell struct {
	id, owner string
	dir       string // the commands' working directory
	private   string // made for the shell, removed with it; dir unless the client chose one
	env       []string
	idle      time.Duration
	lastUsed  time.Time           // guarded by Server.mu
	commands  map[string]*command // guarded by Server.mu
}

// New checks cfg and returns a Server.
func New(cfg Config) (*Server, error) {
	if cfg.MaxEnvelopeSize == 0 {
		cfg.MaxEnvelopeSize = DefaultMaxEnvelopeSize
	}
	if cfg.MaxShellsPerUser == 0 {
		cfg.MaxShellsPerUser = DefaultMaxShellsPerUser
	}
	if cfg.MaxOperationsPerUser == 0 {
		cfg.MaxOperationsPerUser = DefaultMaxOperationsPerUser
	}
	if cfg.MaxOperationTimeout == 0 {
		cfg.MaxOperationTimeout = DefaultMaxOperationTimeout
	}
	if cfg.MaxEnvelopeSize < 8192 || cfg.MaxShellsPerUser < 0 || cfg.MaxOperationsPerUser < 0 || cfg.MaxOperationTimeout < 0 {
		return nil, errors.New("winrmserver: MaxEnvelopeSize under 8192 or a negative limit")
	}
	if cfg.ShellDir == "" {
		cfg.ShellDir = os.TempDir()
	}
	if cfg.Machine == "" {
		cfg.Machine, _ = os.Hostname()
	}
	return &Server{
		cfg:      cfg,
		sessions: sessions{m: make(map[weak.Pointer[gss.SecurityContext]]*encryption.Session)},
		shells:   make(map[string]*shell),
		ops:      make(map[string]int),
		closing:  make(chan struct{}),
	}, nil
}

// ConnContext is for http.Server.ConnContext when the Server
// authenticates requests itself: it installs the Authenticator's
// connection state.
func (s *Server) ConnContext(ctx context.Context, c net.Conn) context.Context {
	if s.cfg.Authenticator != nil {
		return s.cfg.Authenticator.ConnContext(ctx, c)
	}
	return ctx
}

// Close kills every command, removes the shells' directories and makes
// the Server refuse further requests with 503.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.closing)
	shells := s.shells
	s.shells = map[string]*shell{}
	s.mu.Unlock()
	var errs []error
	for _, sh := range shells {
		errs = append(errs, s.removeShell(sh))
	}
	return errors.Join(errs...)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Server", "Microsoft-HTTPAPI/2.0")
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	if _, ok := acceptor.IdentityFromContext(r.Context()); ok || s.cfg.Authenticator == nil {
		s.serve(w, r)
		return
	}
	s.cfg.Authenticator.Wrap(http.HandlerFunc(s.serve)).ServeHTTP(w, r)
}

// serve handles an authenticated POST: decryption, size limits, dispatch,
// encryption of the reply.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	id, ok := acceptor.IdentityFromContext(r.Context())
	if !ok || id.Context == nil {
		http.Error(w, "no authenticated identity", http.StatusUnauthorized)
		return
	}
	ct := r.Header.Get("Content-Type")
	encrypted := encryption.IsEncrypted(ct)
	// An encrypted body carries the framing and the token header besides
	// the envelope; its plaintext is checked against the limit below.
	limit := s.cfg.MaxEnvelopeSize
	if encrypted {
		limit += 4096
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	switch {
	case err != nil:
		s.refuse(w, r, http.StatusBadRequest, encrypted, "reading the request: "+err.Error())
		return
	case len(body) > limit:
		s.refuse(w, r, http.StatusRequestEntityTooLarge, encrypted, "request exceeds MaxEnvelopeSize")
		return
	case len(body) == 0:
		// The setup of message encryption: authentication only.
		w.WriteHeader(http.StatusOK)
		return
	}
	var session *encryption.Session
	envelope := body
	if encrypted {
		_, params, _ := mime.ParseMediaType(ct)
		if session, err = s.sessions.get(id.Context, params["protocol"]); err == nil {
			envelope, err = session.Decrypt(ct, body)
		}
		if err != nil {
			s.refuse(w, r, http.StatusBadRequest, true, err.Error())
			return
		}
		if len(envelope) > s.cfg.MaxEnvelopeSize {
			s.refuse(w, r, http.StatusRequestEntityTooLarge, true, "request exceeds MaxEnvelopeSize")
			return
		}
	} else if r.TLS == nil && !s.cfg.AllowUnencrypted {
		s.refuse(w, r, http.StatusUnsupportedMediaType, false,
			"unencrypted traffic is not allowed over http: encrypt the messages (or serve with AllowUnencrypted)")
		return
	}
	status, reply := s.handle(r.Context(), r, id, envelope)
	if session != nil {
		ct, reply, err = session.Encrypt(reply)
		if err != nil {
			s.refuse(w, r, http.StatusInternalServerError, true, err.Error())
			return
		}
		w.Header().Set("Content-Type", ct)
	} else {
		w.Header().Set("Content-Type", encryption.SOAPContentType)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(reply)))
	w.WriteHeader(status)
	_, _ = w.Write(reply)
}

// refuse answers an HTTP error. On an encrypted connection the connection
// is closed too: the client's sequence numbers may now be ahead of ours.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, status int, encrypted bool, reason string) {
	s.log(r.Context(), "winrm: request refused", "status", status, "remote", r.RemoteAddr, "reason", reason)
	if encrypted {
		w.Header().Set("Connection", "close")
	}
	http.Error(w, http.StatusText(status)+": "+reason, status)
}

func (s *Server) log(ctx context.Context, msg string, args ...any) {
	if s.cfg.Logger != nil {
		s.cfg.Logger.Log(ctx, slog.LevelInfo, msg, args...)
	}
}

// sessions holds the encryption session of each security context, that
// is of each authenticated connection. An entry goes when its context is
// garbage: when the acceptor forgets the connection.
type sessions struct {
	mu sync.Mutex
	m  map[weak.Pointer[gss.SecurityContext]]*encryption.Session
}

func (ss *sessions) get(ctx *gss.SecurityContext, protocol string) (*encryption.Session, error) {
	key := weak.Make(ctx)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if sess, ok := ss.m[key]; ok {
		if sess.Protocol() != protocol {
			return nil, fmt.Errorf("protocol %q on a connection that encrypts with %q", protocol, sess.Protocol())
		}
		return sess, nil
	}
	sess, err := encryption.NewSession(ctx, protocol)
	if err != nil {
		return nil, err
	}
	ss.m[key] = sess
	runtime.AddCleanup(ctx, func(k weak.Pointer[gss.SecurityContext]) {
		ss.mu.Lock()
		delete(ss.m, k)
		ss.mu.Unlock()
	}, key)
	return sess, nil
}

// handle parses and runs one request, and returns the status and reply
// envelope.
func (s *Server) handle(ctx context.Context, r *http.Request, id *acceptor.Identity, envelope []byte) (int, []byte) {
	var req request
	if err := xml.Unmarshal(envelope, &req); err != nil {
		return s.fault(r, "", faultInvalid("the XML is not a SOAP envelope: %v", err))
	}
	msgID := strings.TrimSpace(req.Header.MessageID)
	if strings.TrimSpace(req.Header.ResourceURI) != resourceURICmd {
		return s.fault(r, msgID, faultInvalid("resource URI %q is not %s", req.Header.ResourceURI, resourceURICmd))
	}
	if f := s.beginOperation(id.Principal); f != nil {
		return s.fault(r, msgID, f)
	}
	defer s.endOperation(id.Principal)
	s.reapIdle()

	action := strings.TrimSpace(req.Header.Action)
	var body string
	var f *fault
	switch action {
	case nsTransfer + "/Create":
		body, f = s.create(&req, id, requestURL(r))
	case nsTransfer + "/Delete":
		body, f = s.delete(&req, id)
	case nsShell + "/Command":
		body, f = s.command(&req, id)
	case nsShell + "/Send":
		body, f = s.send(&req, id)
	case nsShell + "/Receive":
		body, f = s.receive(ctx, &req, id)
	case nsShell + "/Signal":
		body, f = s.signal(&req, id)
	default:
		f = faultInvalid("action %q is not supported", action)
	}
	if f != nil {
		return s.fault(r, msgID, f)
	}
	return http.StatusOK, reply(action+"Response", msgID, body)
}

func (s *Server) fault(r *http.Request, relatesTo string, f *fault) (int, []byte) {
	if f.code != faultTimedOut().code {
		s.log(r.Context(), "winrm: fault", "remote", r.RemoteAddr, "fault", f.Error())
	}
	return f.status, f.envelope(relatesTo, s.cfg.Machine)
}

// requestURL is the endpoint as the client addressed it.
func requestURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.Path
}

func (s *Server) beginOperation(user string) *fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ops[user] >= s.cfg.MaxOperationsPerUser {
		return faultMaxOperations(s.cfg.MaxOperationsPerUser)
	}
	s.ops[user]++
	return nil
}

func (s *Server) endOperation(user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ops[user]--; s.ops[user] <= 0 {
		delete(s.ops, user)
	}
}

// reapIdle deletes shells unused for longer than their idle timeout.
func (s *Server) reapIdle() {
	now := time.Now()
	var idle []*shell
	s.mu.Lock()
	for id, sh := range s.shells {
		if now.Sub(sh.lastUsed) > sh.idle {
			idle = append(idle, sh)
			delete(s.shells, id)
		}
	}
	s.mu.Unlock()
	for _, sh := range idle {
		_ = s.removeShell(sh)
	}
}

// lookupShell finds a shell of user's and marks it used.
func (s *Server) lookupShell(req *request, user string) (*shell, *fault) {
	id := req.shellID()
	s.mu.Lock()
	defer s.mu.Unlock()
	sh, ok := s.shells[strings.ToUpper(id)]
	if !ok || sh.owner != user {
		return nil, faultShellNotFound(id)
	}
	sh.lastUsed = time.Now()
	return sh, nil
}

// lookupCommand finds a command of one of user's shells.
func (s *Server) lookupCommand(req *request, user, commandID string) (*shell, *command, *fault) {
	sh, f := s.lookupShell(req, user)
	if f != nil {
		return nil, nil, f
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := sh.commands[strings.ToUpper(strings.TrimSpace(commandID))]
	if !ok {
		return nil, nil, faultCommandNotFound(commandID)
	}
	return sh, c, nil
}

func (s *Server) create(req *request, id *acceptor.Identity, endpoint string) (string, *fault) {
	spec := req.Body.Shell
	if spec == nil {
		return "", faultInvalid("Create without rsp:Shell")
	}
	sh := &shell{id: newID(), owner: id.Principal, idle: DefaultIdleTimeout, lastUsed: time.Now(), commands: map[string]*command{}}
	if d, ok := parseDuration(spec.IdleTimeOut); ok && d > 0 {
		sh.idle = d
	}
	if wd := strings.TrimSpace(spec.WorkingDirectory); wd != "" {
		if fi, err := os.Stat(wd); err != nil || !fi.IsDir() {
			return "", faultInternal(codeDirectory, "The directory name is invalid. ")
		}
		sh.dir = wd
	}
	// Commands get the server's environment but its credentials: only
	// what the client delegated.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KRB5CCNAME=") {
			sh.env = append(sh.env, kv)
		}
	}
	for _, v := range spec.Environment {
		if v.Name != "" && !strings.ContainsAny(v.Name, "=\x00") && !strings.Contains(v.Value, "\x00") {
			sh.env = append(sh.env, v.Name+"="+v.Value)
		}
	}
	s.mu.Lock()
	n := 0
	for _, other := range s.shells {
		if other.owner == id.Principal {
			n++
		}
	}
	closed := s.closed
	s.mu.Unlock()
	switch {
	case closed:
		return "", faultInternal(codeShuttingDown, "The WS-Management service is shutting down. ")
	case n >= s.cfg.MaxShellsPerUser:
		return "", faultMaxShells(s.cfg.MaxShellsPerUser)
	}
	var err error
	if sh.private, err = os.MkdirTemp(s.cfg.ShellDir, "winrm-shell-"); err != nil {
		return "", faultInternal(codeDirectory, "The directory name is invalid. "+err.Error())
	}
	if sh.dir == "" {
		sh.dir = sh.private
	}
	// The private directory also holds delegated credentials.
	if cc, err := writeDelegation(sh.private, id); err != nil {
		s.log(context.Background(), "winrm: delegated credentials unusable", "user", id.Principal, "error", err)
	} else if cc != "" {
		sh.env = append(sh.env, "KRB5CCNAME=FILE:"+cc)
	}
	s.mu.Lock()
	s.shells[sh.id] = sh
	s.mu.Unlock()
	return createdBody(endpoint, sh.id, id.Principal), nil
}

// codeShuttingDown is ERROR_SHUTDOWN_IN_PROGRESS.
const codeShuttingDown = 1115

func (s *Server) delete(req *request, id *acceptor.Identity) (string, *fault) {
	sh, f := s.lookupShell(req, id.Principal)
	if f != nil {
		return "", f
	}
	s.mu.Lock()
	delete(s.shells, sh.id)
	s.mu.Unlock()
	if err := s.removeShell(sh); err != nil {
		s.log(context.Background(), "winrm: removing shell", "shell", sh.id, "error", err)
	}
	return "", nil
}

// removeShell kills the shell's commands and removes its directory.
func (s *Server) removeShell(sh *shell) error {
	s.mu.Lock()
	cmds := sh.commands
	sh.commands = map[string]*command{}
	s.mu.Unlock()
	for _, c := range cmds {
		c.terminate()
	}
	if sh.private == "" {
		return nil
	}
	return os.RemoveAll(sh.private)
}

func (s *Server) command(req *request, id *acceptor.Identity) (string, *fault) {
	cl := req.Body.CommandLine
	if cl == nil || strings.TrimSpace(cl.Command) == "" {
		return "", faultInvalid("Command without rsp:CommandLine/rsp:Command")
	}
	sh, f := s.lookupShell(req, id.Principal)
	if f != nil {
		return "", f
	}
	cmdID := newID()
	c, err := startCommand(cmdID, commandLine(cl.Command, cl.Arguments), sh.dir, sh.env)
	if err != nil {
		return "", faultInternal(codeFileNotFound, "The system cannot find the file specified. "+err.Error())
	}
	s.mu.Lock()
	_, alive := s.shells[sh.id]
	if alive {
		sh.commands[cmdID] = c
	}
	s.mu.Unlock()
	if !alive {
		c.terminate()
		return "", faultShellNotFound(sh.id)
	}
	return `<rsp:CommandResponse><rsp:CommandId>` + cmdID + `</rsp:CommandId></rsp:CommandResponse>`, nil
}

// codeFileNotFound is ERROR_FILE_NOT_FOUND.
const codeFileNotFound = 2

func (s *Server) send(req *request, id *acceptor.Identity) (string, *fault) {
	if req.Body.Send == nil || len(req.Body.Send.Streams) == 0 {
		return "", faultInvalid("Send without rsp:Stream")
	}
	for _, st := range req.Body.Send.Streams {
		if st.Name != "stdin" {
			return "", faultInvalid("Send to stream %q", st.Name)
		}
		_, c, f := s.lookupCommand(req, id.Principal, st.CommandID)
		if f != nil {
			return "", f
		}
		data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(st.Data))
		if err != nil {
			return "", faultInvalid("stdin is not base64: %v", err)
		}
		if err := c.write(data, strings.EqualFold(st.End, "true"), time.Now().Add(s.operationTimeout(req))); err != nil {
			return "", faultInternal(codeBrokenPipe, "The pipe has been ended. "+err.Error())
		}
	}
	return `<rsp:SendResponse/>`, nil
}

// codeBrokenPipe is ERROR_BROKEN_PIPE.
const codeBrokenPipe = 109

// operationTimeout is the request's OperationTimeout, capped.
func (s *Server) operationTimeout(req *request) time.Duration {
	d, ok := parseDuration(req.Header.OperationTimeout)
	if !ok || d <= 0 || d > s.cfg.MaxOperationTimeout {
		return s.cfg.MaxOperationTimeout
	}
	return d
}

func (s *Server) receive(ctx context.Context, req *request, id *acceptor.Identity) (string, *fault) {
	if req.Body.Receive == nil {
		return "", faultInvalid("Receive without rsp:DesiredStream")
	}
	commandID := req.Body.Receive.Desired.CommandID
	_, c, f := s.lookupCommand(req, id.Principal, commandID)
	if f != nil {
		return "", f
	}
	// The response must fit the client's MaxEnvelopeSize: base64 takes 4
	// bytes for 3.
	limit := s.cfg.MaxEnvelopeSize
	if n, err := strconv.Atoi(strings.TrimSpace(req.Header.MaxEnvelopeSize)); err == nil && n > 0 {
		limit = min(limit, n)
	}
	budget := max(1, (limit-receiveOverhead)/4*3)
	p := c.out.receive(ctx, s.closing, budget, s.operationTimeout(req))
	if p == nil {
		return "", faultTimedOut()
	}
	return receiveBody(commandID, p), nil
}

// signals maps the signal codes to Unix signals; terminate also ends the
// command's life on the server.
var signals = map[string]syscall.Signal{
	nsShell + "/signal/ctrl_c":     syscall.SIGINT,
	nsShell + "/signal/ctrl_break": syscall.SIGQUIT,
	nsShell + "/signal/terminate":  syscall.SIGKILL,
}

func (s *Server) signal(req *request, id *acceptor.Identity) (string, *fault) {
	sig := req.Body.Signal
	if sig == nil {
		return "", faultInvalid("Signal without rsp:Signal")
	}
	code := strings.TrimSpace(sig.Code)
	unixSig, ok := signals[code]
	if !ok {
		return "", faultInvalid("signal code %q", code)
	}
	sh, c, f := s.lookupCommand(req, id.Principal, sig.CommandID)
	if f != nil {
		return "", f
	}
	if unixSig == syscall.SIGKILL {
		s.mu.Lock()
		delete(sh.commands, c.id)
		s.mu.Unlock()
		c.terminate()
	} else {
		c.signal(unixSig)
	}
	return `<rsp:SignalResponse/>`, nil
}

// newID returns a random UUID in Windows' uppercase form.
func newID() string { return strings.ToUpper(uuid.NewString()) }
