package wsman

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/wsman/internal/soap"
)

// ShellClient is the Windows Remote Shell protocol, one method per
// operation. [*Client] implements it; so can a mock. Implementations must
// be safe for concurrent use: [Stream] sends stdin and receives output at
// the same time.
type ShellClient interface {
	// CreateShell opens a shell and returns its ShellId.
	CreateShell(ctx context.Context, opts ShellOptions) (shellID string, err error)
	// StartCommand runs command with args in the shell and returns its
	// CommandId.
	StartCommand(ctx context.Context, shellID, command string, args ...string) (commandID string, err error)
	// Send writes data to the command's stdin; end closes it.
	Send(ctx context.Context, shellID, commandID string, data []byte, end bool) error
	// Receive returns the output that arrived since the last call. When
	// none arrived within the operation timeout it returns an empty
	// Output and no error: call it again.
	Receive(ctx context.Context, shellID, commandID string) (*Output, error)
	// Signal sends sig to the command.
	Signal(ctx context.Context, shellID, commandID string, sig Signal) error
	// DeleteShell closes the shell and ends what still runs in it.
	DeleteShell(ctx context.Context, shellID string) error
}

// Runner runs one command to completion. [*Client] implements it.
type Runner interface {
	Run(ctx context.Context, req RunRequest) (exitCode int, err error)
}

var (
	_ ShellClient = (*Client)(nil)
	_ Runner      = (*Client)(nil)
)

// ShellOptions configures a shell.
type ShellOptions struct {
	// WorkingDirectory is the commands' directory; empty is the server's
	// default (the user's profile on Windows).
	WorkingDirectory string
	// Environment adds variables to the commands' environment.
	Environment map[string]string
	// Codepage is the console code page of the output: 65001 (UTF-8, the
	// default when 0) or 437.
	Codepage int
	// NoProfile asks the server not to load the user profile.
	NoProfile bool
	// IdleTimeout closes the shell after this long without requests; 0
	// is the server's default.
	IdleTimeout time.Duration
}

// Output is what one Receive brought.
type Output struct {
	Stdout, Stderr []byte
	// Done: the command has exited and all its output has been received;
	// ExitCode is then its exit code.
	Done     bool
	ExitCode int
}

// Signal is a signal code of the shell protocol.
type Signal string

// Signals.
const (
	SignalCtrlC     Signal = soap.NSShell + "/signal/ctrl_c"
	SignalCtrlBreak Signal = soap.NSShell + "/signal/ctrl_break"
	SignalTerminate Signal = soap.NSShell + "/signal/terminate"
)

// Client is a WinRM client for one endpoint. It is safe for concurrent
// use; Close releases its connections.
type Client struct {
	endpoint *url.URL
	cfg      config
	send     sender
}

// NewClient returns a client for endpoint, e.g.
// "https://host:5986/wsman" or "http://host:5985/wsman".
//
// Without [WithTransport] it authenticates with Kerberos as
// auth.NewTransport would by default (the credential cache, mutual
// authentication required), adjusted by [WithAuth], over
// [WithBaseTransport]. Messages are encrypted over http and sent as plain
// SOAP over https, unless [WithEncryption] says otherwise.
func NewClient(endpoint string, opts ...Option) (*Client, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("wsman: endpoint: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("wsman: endpoint %q is not an http or https URL", endpoint)
	}
	cfg := defaultConfig()
	for _, opt := range opts {
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.newID == nil {
		cfg.newID = soap.NewUUID
	}
	c := &Client{endpoint: u, cfg: cfg}
	maxBody := cfg.maxEnvelopeSize + 64<<10 // room for framing and a generous server
	encrypt := cfg.encryption == EncryptAlways || cfg.encryption == EncryptAuto && u.Scheme == "http"
	switch {
	case cfg.transport != nil && encrypt:
		return nil, errors.New("wsman: message encryption needs the client's own Kerberos transport, not one given with WithTransport: " +
			"configure it with WithAuth and WithBaseTransport, or use https or WithEncryption(EncryptNever)")
	case cfg.transport != nil:
		c.send = &plainSender{rt: cfg.transport, target: u.String(), maxBody: maxBody}
		return c, nil
	}
	base := cfg.base
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	var p http.Protocols
	p.SetHTTP1(true)
	base.Protocols = &p
	base.ForceAttemptHTTP2 = false
	if !encrypt {
		tr, err := c.authTransport(base, auth.PreemptiveAfterChallenge)
		if err != nil {
			return nil, err
		}
		c.send = &plainSender{rt: tr, target: u.String(), maxBody: maxBody}
		return c, nil
	}
	// Encrypted connections clone base: with the hooks, their CONNECTs answer a
	// proxy's Negotiate as the Kerberos transport's own would.
	base = auth.ProxyConnectTransport(base)
	tr, err := c.authTransport(sessionRouter{base: base}, auth.PreemptiveAlways)
	if err != nil {
		return nil, err
	}
	c.send = &encSender{target: u.String(), auth: tr, base: base, maxBody: maxBody, logger: cfg.logger}
	return c, nil
}

// authTransport is the Kerberos transport over base with the client's
// defaults, then the caller's auth options.
func (c *Client) authTransport(base http.RoundTripper, preemptive auth.PreemptiveMode) (*auth.Transport, error) {
	opts := []auth.Option{auth.WithPreemptive(preemptive)}
	if c.cfg.logger != nil {
		opts = append(opts, auth.WithLogger(c.cfg.logger))
	}
	tr, err := auth.NewTransport(base, append(opts, c.cfg.authOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("wsman: %w", err)
	}
	return tr, nil
}

// Close closes the idle connections. Requests under way finish.
func (c *Client) Close() error {
	c.send.close()
	return nil
}

// Encrypted reports whether the client encrypts messages.
func (c *Client) Encrypted() bool {
	_, ok := c.send.(*encSender)
	return ok
}

// header returns a request header with a fresh MessageID.
func (c *Client) header(shellID string, opts ...soap.Option) soap.Header {
	return soap.Header{
		To:               c.endpoint.String(),
		MessageID:        "uuid:" + c.cfg.newID(),
		MaxEnvelopeSize:  c.cfg.maxEnvelopeSize,
		OperationTimeout: c.cfg.operationTimeout,
		Locale:           c.cfg.locale,
		ShellID:          shellID,
		Options:          opts,
	}
}

// call sends a request and returns its response; a fault is a *Fault
// error, whatever else went wrong a *TransportError or *HTTPError.
func (c *Client) call(ctx context.Context, action string, h soap.Header, build func(soap.Header) []byte) (*soap.Response, error) {
	h.Action = action
	envelope := build(h)
	ctx, cancel := context.WithTimeout(ctx, c.cfg.operationTimeout+responseGrace)
	defer cancel()
	start := time.Now()
	r, err := c.send.send(ctx, envelope)
	if err != nil {
		return nil, &TransportError{Action: action, URL: redacted(c.endpoint), Err: err}
	}
	c.log(ctx, "wsman: exchange", "action", shortAction(action), "status", r.status, "bytes", len(envelope), "reply", len(r.body), "elapsed", time.Since(start))
	if r.status != http.StatusOK && r.status != http.StatusInternalServerError || !r.trusted {
		e := &HTTPError{StatusCode: r.status, Status: r.statusText, Action: action, Err: r.authErr}
		if r.trusted {
			e.Body = string(r.body[:min(len(r.body), 512)])
		}
		return nil, e
	}
	resp, err := soap.Parse(r.body)
	if err != nil {
		if r.status == http.StatusInternalServerError {
			return nil, &HTTPError{StatusCode: r.status, Status: r.statusText, Action: action, Body: string(r.body[:min(len(r.body), 512)])}
		}
		return nil, &TransportError{Action: action, URL: redacted(c.endpoint), Err: err}
	}
	if f := resp.Fault; f != nil {
		return nil, &Fault{
			Code: FaultCode(f.WSManCode), SOAPCode: f.Code, Subcode: f.Subcode, Reason: f.Reason,
			Message: f.Message, Machine: f.Machine, Action: action, StatusCode: r.status,
		}
	}
	if r.status != http.StatusOK {
		return nil, &HTTPError{StatusCode: r.status, Status: r.statusText, Action: action}
	}
	if resp.RelatesTo != "" && resp.RelatesTo != h.MessageID {
		return nil, &TransportError{Action: action, URL: redacted(c.endpoint), Err: fmt.Errorf("%w: reply relates to %s, not to request %s", soap.ErrMalformed, resp.RelatesTo, h.MessageID)}
	}
	return resp, nil
}

func redacted(u *url.URL) string {
	v := *u
	v.User, v.RawQuery, v.Fragment = nil, "", ""
	return v.String()
}

func (c *Client) log(ctx context.Context, msg string, args ...any) {
	if c.cfg.logger != nil {
		c.cfg.logger.Log(ctx, slog.LevelDebug, msg, args...)
	}
}

// CreateShell implements [ShellClient].
func (c *Client) CreateShell(ctx context.Context, opts ShellOptions) (string, error) {
	codepage := opts.Codepage
	if codepage == 0 {
		codepage = 65001
	}
	noProfile := "FALSE"
	if opts.NoProfile {
		noProfile = "TRUE"
	}
	shell := soap.Shell{WorkingDirectory: opts.WorkingDirectory, IdleTimeout: opts.IdleTimeout}
	for _, k := range slices.Sorted(maps.Keys(opts.Environment)) {
		shell.Environment = append(shell.Environment, soap.Variable{Name: k, Value: opts.Environment[k]})
	}
	h := c.header("", soap.Option{Name: "WINRS_NOPROFILE", Value: noProfile}, soap.Option{Name: "WINRS_CODEPAGE", Value: strconv.Itoa(codepage)})
	resp, err := c.call(ctx, soap.ActionCreate, h, func(h soap.Header) []byte { return soap.Create(h, shell) })
	if err != nil {
		return "", err
	}
	if resp.ShellID == "" {
		return "", c.malformed(soap.ActionCreate, "CreateResponse without a ShellId")
	}
	return resp.ShellID, nil
}

// StartCommand implements [ShellClient].
func (c *Client) StartCommand(ctx context.Context, shellID, command string, args ...string) (string, error) {
	h := c.header(shellID, soap.Option{Name: "WINRS_CONSOLEMODE_STDIN", Value: "TRUE"}, soap.Option{Name: "WINRS_SKIP_CMD_SHELL", Value: "FALSE"})
	resp, err := c.call(ctx, soap.ActionCommand, h, func(h soap.Header) []byte { return soap.Command(h, command, args) })
	if err != nil {
		return "", err
	}
	if resp.CommandID == "" {
		return "", c.malformed(soap.ActionCommand, "CommandResponse without a CommandId")
	}
	return resp.CommandID, nil
}

// Send implements [ShellClient]. Data larger than one envelope holds goes
// in several requests, End on the last.
func (c *Client) Send(ctx context.Context, shellID, commandID string, data []byte, end bool) error {
	capacity := soap.SendCapacity(c.header(shellID), commandID, c.cfg.maxEnvelopeSize)
	if capacity == 0 {
		return c.malformed(soap.ActionSend, "MaxEnvelopeSize leaves no room for stdin")
	}
	if len(data) == 0 && !end {
		return nil
	}
	// Every round but the last consumes capacity bytes, so the loop ends.
	for {
		chunk := data[:min(len(data), capacity)]
		data = data[len(chunk):]
		last := len(data) == 0
		_, err := c.call(ctx, soap.ActionSend, c.header(shellID), func(h soap.Header) []byte { return soap.Send(h, commandID, chunk, end && last) })
		if err != nil || last {
			return err
		}
	}
}

// Receive implements [ShellClient].
func (c *Client) Receive(ctx context.Context, shellID, commandID string) (*Output, error) {
	resp, err := c.call(ctx, soap.ActionReceive, c.header(shellID), func(h soap.Header) []byte { return soap.Receive(h, commandID) })
	if IsFault(err, FaultOperationTimeout) {
		return &Output{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := &Output{}
	for _, s := range resp.Streams {
		if s.CommandID != "" && !strings.EqualFold(s.CommandID, commandID) {
			continue
		}
		switch s.Name {
		case "stdout":
			out.Stdout = append(out.Stdout, s.Data...)
		case "stderr":
			out.Stderr = append(out.Stderr, s.Data...)
		}
	}
	if resp.State == soap.CommandStateDone {
		out.Done, out.ExitCode = true, resp.ExitCode
	}
	return out, nil
}

// Signal implements [ShellClient].
func (c *Client) Signal(ctx context.Context, shellID, commandID string, sig Signal) error {
	_, err := c.call(ctx, soap.ActionSignal, c.header(shellID), func(h soap.Header) []byte { return soap.Signal(h, commandID, string(sig)) })
	return err
}

// DeleteShell implements [ShellClient].
func (c *Client) DeleteShell(ctx context.Context, shellID string) error {
	_, err := c.call(ctx, soap.ActionDelete, c.header(shellID), soap.Delete)
	return err
}

// Run implements [Runner]: see the package function [Run].
func (c *Client) Run(ctx context.Context, req RunRequest) (int, error) {
	return Run(ctx, c, req)
}

func (c *Client) malformed(action, msg string) error {
	return &TransportError{Action: action, URL: redacted(c.endpoint), Err: fmt.Errorf("%w: %s", soap.ErrMalformed, msg)}
}
