package sspi

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"syscall"

	"github.com/alexbrainman/sspi"

	"github.com/krbhttp/krbhttp/auth/gss"
)

// Package names for AcquireCurrentUser: Negotiate sends SPNEGO tokens (as
// browsers, .NET and PowerShell do for HTTP Negotiate), Kerberos the raw
// Kerberos token (what WithRawKerberos asks for).
const (
	Negotiate = "Negotiate"
	Kerberos  = "Kerberos"
)

// Context requirement flags (ISC_REQ_*) and what InitializeSecurityContext
// reports back (ISC_RET_*, the same bits for these).
const (
	iscDelegate        = sspi.ISC_REQ_DELEGATE
	iscMutualAuth      = sspi.ISC_REQ_MUTUAL_AUTH
	iscReplayDetect    = sspi.ISC_REQ_REPLAY_DETECT
	iscSequenceDetect  = sspi.ISC_REQ_SEQUENCE_DETECT
	iscConfidentiality = sspi.ISC_REQ_CONFIDENTIALITY
	iscIntegrity       = sspi.ISC_REQ_INTEGRITY
)

// Credentials is an outbound credentials handle of the logged-on user for
// one package. It is safe for concurrent use; the handle is released
// when the Credentials becomes unreachable.
type Credentials struct {
	pkg      string
	maxToken uint32
	handle   *sspi.Credentials
}

// AcquireCurrentUser acquires the logged-on user's credentials for pkg
// (Negotiate or Kerberos): AcquireCredentialsHandle with no principal and
// no identity, so Windows uses the logon session's tickets and gets new
// ones as it needs them.
func AcquireCurrentUser(pkg string) (*Credentials, error) {
	info, err := sspi.QueryPackageInfo(pkg)
	if err != nil {
		return nil, statusError("QuerySecurityPackageInfo", err)
	}
	h, err := sspi.AcquireCredentials("", pkg, sspi.SECPKG_CRED_OUTBOUND, nil)
	if err != nil {
		return nil, statusError("AcquireCredentialsHandle", err)
	}
	c := &Credentials{pkg: pkg, maxToken: info.MaxToken, handle: h}
	runtime.AddCleanup(c, func(h *sspi.Credentials) { _ = h.Release() }, h)
	return c, nil
}

// Package returns the package the credentials are for.
func (c *Credentials) Package() string { return c.pkg }

// Request describes the context Start sets up.
type Request struct {
	// Target is the service principal name, "HTTP/host".
	Target string
	// Mutual asks the server to authenticate itself: Accept then demands
	// a reply token that completes the context.
	Mutual bool
	// Delegate asks for the user's TGT to be forwarded (ISC_REQ_DELEGATE).
	// Windows delegates only to services trusted for delegation
	// (OK-AS-DELEGATE) and with a forwardable TGT; Delegated says whether
	// it did.
	Delegate bool
	// Bindings is the channel-binding application data (for HTTPS,
	// gss.TLSServerEndPoint), passed as SECBUFFER_CHANNEL_BINDINGS; nil
	// for none.
	Bindings []byte
}

type state int

const (
	awaitingReply state = iota
	established
	failed
)

// Context is the client side of one security context. It is safe for
// concurrent use; its handle is released when it becomes unreachable.
type Context struct {
	creds    *Credentials
	mutual   bool
	target   *uint16
	bindings []byte // SEC_CHANNEL_BINDINGS, nil without

	mu       sync.Mutex
	ctx      *sspi.Context // guarded by mu
	handle   *handle       // releases ctx once
	state    state         // guarded by mu
	accepted bool          // guarded by mu: Accept was called
	layout   Layout        // guarded by mu: learnt from the first EncryptMessage
	trailer  int           // guarded by mu: SECPKG_ATTR_SIZES cbSecurityTrailer, 0 until asked
	block    int           // guarded by mu: cbBlockSize
}

// Start begins a context: InitializeSecurityContext with no input token.
// It returns the context and the initial token for the Authorization
// header.
func (c *Credentials) Start(r Request) (*Context, []byte, error) {
	target, err := syscall.UTF16PtrFromString(r.Target)
	if err != nil {
		return nil, nil, fmt.Errorf("sspi: target name %q: %w", r.Target, err)
	}
	// Confidentiality and integrity are always asked for, as WinRM
	// clients do: EncryptMessage fails on a context set up without them,
	// and asking costs nothing when messages are not sealed.
	flags := uint32(iscSequenceDetect | iscReplayDetect | iscConfidentiality | iscIntegrity)
	if r.Mutual {
		flags |= iscMutualAuth
	}
	if r.Delegate {
		flags |= iscDelegate
	}
	sc := sspi.NewClientContext(c.handle, flags)
	x := &Context{creds: c, mutual: r.Mutual, target: target, ctx: sc, handle: &handle{ctx: sc}}
	if r.Bindings != nil {
		x.bindings = ChannelBindings(r.Bindings)
	}
	done, tok, err := x.step(nil)
	if err != nil {
		x.release()
		return nil, nil, err
	}
	if len(tok) == 0 {
		x.release()
		return nil, nil, &Error{Op: "InitializeSecurityContext", Status: statusInvalidToken}
	}
	if done {
		// Kerberos without mutual authentication completes at once.
		x.state = established
	}
	runtime.AddCleanup(x, (*handle).release, x.handle)
	return x, tok, nil
}

// step calls InitializeSecurityContext with the server's token (nil on
// the first call) and returns whether the context is complete and the
// token to send, if any.
func (c *Context) step(in []byte) (done bool, out []byte, err error) {
	var inBufs []sspi.SecBuffer
	if in != nil {
		inBufs = append(inBufs, secBuffer(sspi.SECBUFFER_TOKEN, in))
	}
	if c.bindings != nil {
		inBufs = append(inBufs, secBuffer(sspi.SECBUFFER_CHANNEL_BINDINGS, c.bindings))
	}
	var inDesc *sspi.SecBufferDesc
	if len(inBufs) > 0 {
		inDesc = sspi.NewSecBufferDesc(inBufs)
	}
	out = make([]byte, c.creds.maxToken)
	outBufs := []sspi.SecBuffer{secBuffer(sspi.SECBUFFER_TOKEN, out)}
	ret := c.ctx.Update(c.target, sspi.NewSecBufferDesc(outBufs), inDesc)
	runtime.KeepAlive(in)
	runtime.KeepAlive(inBufs)
	runtime.KeepAlive(c.bindings)
	switch uint32(ret) {
	case statusOK:
		done = true
	case statusContinueNeeded:
	default:
		return false, nil, &Error{Op: "InitializeSecurityContext", Status: uint32(ret)}
	}
	return done, out[:outBufs[0].BufferSize], nil
}

// Accept processes the server's reply token, as gss.Initiator.Accept
// does: with mutual authentication asked for, the reply must complete
// the context (Windows verifies the AP-REP inside it), or Accept fails
// with gss.ErrMutualAuth. An empty reply stands for "no token". Accept
// may be called once.
func (c *Context) Accept(reply []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.accepted {
		return errors.New("sspi: Accept called twice")
	}
	c.accepted = true
	if c.state == established {
		// Complete without a reply: nothing more SSPI can check.
		return nil
	}
	if len(reply) == 0 {
		if c.mutual {
			c.fail()
			return fmt.Errorf("%w: the reply carries no token", gss.ErrMutualAuth)
		}
		return nil
	}
	done, _, err := c.step(reply)
	switch {
	case err != nil:
		c.fail()
		return mutualFailure(err)
	case !done:
		// The acceptor wants another leg (a SPNEGO mechListMIC exchange):
		// an HTTP reply has no way to carry it, as in the pure-Go path.
		c.fail()
		return fmt.Errorf("%w: the server's token asks for another round trip", gss.ErrUnsupported)
	case c.mutual && c.ctx.EstablishedFlags&iscMutualAuth == 0:
		c.fail()
		return fmt.Errorf("%w: the context completed without mutual authentication", gss.ErrMutualAuth)
	}
	c.state = established
	return nil
}

func (c *Context) fail() {
	c.state = failed
	c.release()
}

func (c *Context) release() { c.handle.release() }

// handle deletes a context handle once, whether a failure or the garbage
// collector gets there first: a second DeleteSecurityContext would name a
// handle that may already be another context's.
type handle struct {
	once sync.Once
	ctx  *sspi.Context
}

func (h *handle) release() { h.once.Do(func() { _ = h.ctx.Release() }) }

// Complete reports whether the context is established.
func (c *Context) Complete() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state == established
}

// Delegated reports whether SSPI forwarded the user's TGT.
func (c *Context) Delegated() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ctx.EstablishedFlags&iscDelegate != 0
}

var errNotEstablished = errors.New("sspi: the security context is not established")

// sizes returns cbSecurityTrailer and cbBlockSize, asked once.
func (c *Context) sizes() (trailer, block int, err error) {
	if c.trailer == 0 {
		_, _, b, t, err := c.ctx.Sizes()
		if err != nil {
			return 0, 0, statusError("QueryContextAttributes", err)
		}
		c.trailer, c.block = int(t), int(b)
	}
	return c.trailer, c.block, nil
}

// tokenSlack is added to cbSecurityTrailer for EncryptMessage's TOKEN
// buffer: Wine 8 reports 49 for AES but writes 60 bytes (and fails with
// SEC_E_BUFFER_TOO_SMALL when they do not fit); Windows writes no more
// than it reports and sets the buffer's length to what it wrote.
const tokenSlack = 64

// SealParts encrypts one message with EncryptMessage and returns WinRM's
// header and data for it (see SealedParts).
func (c *Context) SealParts(plaintext []byte) (header, data []byte, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != established {
		return nil, nil, errNotEstablished
	}
	trailer, block, err := c.sizes()
	if err != nil {
		return nil, nil, err
	}
	token := make([]byte, trailer+tokenSlack)
	data = append(make([]byte, 0, len(plaintext)), plaintext...)
	padding := make([]byte, max(block, 1))
	bufs := []sspi.SecBuffer{
		secBuffer(sspi.SECBUFFER_TOKEN, token),
		secBuffer(sspi.SECBUFFER_DATA, data),
		secBuffer(sspi.SECBUFFER_PADDING, padding),
	}
	ret := sspi.EncryptMessage(c.ctx.Handle, 0, sspi.NewSecBufferDesc(bufs), 0)
	runtime.KeepAlive(bufs)
	if err := errStatus("EncryptMessage", uint32(ret)); err != nil {
		return nil, nil, err
	}
	header, data, layout, err := SealedParts(token[:bufs[0].BufferSize], data[:bufs[1].BufferSize])
	if err != nil {
		return nil, nil, err
	}
	if layout == LayoutWindows {
		// Padding (RC4 only) belongs to the data, as pyspnego sends it.
		data = append(data, padding[:bufs[2].BufferSize]...)
	}
	c.layout = layout
	return header, data, nil
}

// OpenParts decrypts one message from its WinRM header and data with
// DecryptMessage, in the layout the context's EncryptMessage showed
// (Windows' until a message has been sealed). A message that fails
// verification matches gss.ErrIntegrity or gss.ErrSequence.
func (c *Context) OpenParts(header, data []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != established {
		return nil, errNotEstablished
	}
	token, buf := OpenBuffers(header, data, c.layout)
	bufs := []sspi.SecBuffer{
		secBuffer(sspi.SECBUFFER_TOKEN, token),
		secBuffer(sspi.SECBUFFER_DATA, buf),
	}
	var qop uint32
	ret := sspi.DecryptMessage(c.ctx.Handle, sspi.NewSecBufferDesc(bufs), 0, &qop)
	runtime.KeepAlive(bufs)
	if err := errStatus("DecryptMessage", uint32(ret)); err != nil {
		return nil, err
	}
	if qop != 0 {
		// SECQOP_WRAP_NO_ENCRYPT: signed, not sealed. WinRM requires
		// both; a server that drops encryption is refused.
		return nil, fmt.Errorf("%w: the message was not encrypted (QOP %#x)", gss.ErrIntegrity, qop)
	}
	return buf[:bufs[1].BufferSize], nil
}

func secBuffer(typ uint32, b []byte) sspi.SecBuffer {
	var s sspi.SecBuffer
	s.Set(typ, b)
	return s
}

// statusError turns the syscall.Errno the sspi module returns for a
// SECURITY_STATUS into an *Error.
func statusError(op string, err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return &Error{Op: op, Status: uint32(errno)}
	}
	return fmt.Errorf("sspi: %s: %w", op, err)
}

var (
	_ gss.Protector     = (*Context)(nil)
	_ gss.ClientContext = (*Context)(nil)
)

// Protector returns the context itself once it is established: its
// messages are sealed and opened by SSPI, whose keys never leave Windows.
func (c *Context) Protector() (gss.Protector, error) {
	if !c.Complete() {
		return nil, errNotEstablished
	}
	return c, nil
}
