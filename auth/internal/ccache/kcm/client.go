package kcm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/krbhttp/krbhttp/auth/internal/ccache"
)

// DefaultSocket is MIT's and Heimdal's default kcm_socket.
const DefaultSocket = "/var/run/.heim_org.h5l.kcm-socket"

// DefaultTimeout bounds one call (dial, requests and replies) when the
// context has no deadline.
const DefaultTimeout = 10 * time.Second

// Client talks to one KCM daemon. The zero value uses DefaultSocket. A
// Client keeps no connection between calls and is safe for concurrent use.
type Client struct {
	// Socket is the daemon's Unix socket ("" for DefaultSocket); krb5.conf
	// names it [libdefaults] kcm_socket.
	Socket string
	// Timeout bounds each call whose context has no deadline (0 for
	// DefaultTimeout).
	Timeout time.Duration
}

func (c *Client) socket() string {
	if c.Socket == "" {
		return DefaultSocket
	}
	return c.Socket
}

// session is one connection, used for the requests of one call.
type session struct {
	conn net.Conn
	ctx  context.Context
	stop func() bool
}

// open dials the daemon with ctx's deadline (or the client's timeout) on
// every read and write; ending ctx interrupts a call blocked on the
// daemon.
func (c *Client) open(ctx context.Context) (*session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		t := c.Timeout
		if t <= 0 {
			t = DefaultTimeout
		}
		deadline = time.Now().Add(t)
	}
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	conn, err := dial(dctx, c.socket())
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &UnavailableError{Socket: c.socket(), Err: err}
	}
	if err := conn.SetDeadline(deadline); err != nil {
		conn.Close()
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	return &session{conn: conn, ctx: ctx, stop: stop}, nil
}

func (s *session) close() {
	s.stop()
	_ = s.conn.Close()
}

// call sends one request and returns the reply's results.
func (s *session) call(req *request) ([]byte, error) {
	if _, err := s.conn.Write(req.frame()); err != nil {
		return nil, s.ioError(req.op, err)
	}
	b, err := readReply(s.conn, req.op)
	if err != nil {
		var re *ReplyError
		var me *MalformedError
		if errors.As(err, &re) || (errors.As(err, &me) && s.ctx.Err() == nil) {
			return nil, err
		}
		return nil, s.ioError(req.op, err)
	}
	return b, nil
}

// ioError reports the context's end rather than the deadline it caused.
func (s *session) ioError(op opcode, err error) error {
	if cerr := s.ctx.Err(); cerr != nil {
		return fmt.Errorf("kcm: %s: %w", op, cerr)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("kcm: %s: daemon did not answer in time: %w", op, context.DeadlineExceeded)
	}
	return fmt.Errorf("kcm: %s: %w", op, err)
}

// UnavailableError: the daemon's socket could not be reached. It matches
// ccache.ErrUnavailable.
type UnavailableError struct {
	Socket string
	Err    error
}

func (e *UnavailableError) Error() string {
	return "kcm: no KCM daemon at " + e.Socket + " (is sssd-kcm running? krb5.conf kcm_socket names the socket): " + e.Err.Error()
}
func (e *UnavailableError) Unwrap() error        { return e.Err }
func (e *UnavailableError) Is(target error) bool { return target == ccache.ErrUnavailable }

func checkName(name string) error {
	if strings.IndexByte(name, 0) >= 0 {
		return fmt.Errorf("kcm: cache name %q contains NUL: %w", name, ccache.ErrMalformed)
	}
	return nil
}

// with runs f on a new session.
func (c *Client) with(ctx context.Context, f func(*session) error) error {
	s, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer s.close()
	return f(s)
}

// DefaultName returns the name of the collection's primary cache
// (GET_DEFAULT_CACHE). sssd answers the uid's first cache, or the uid
// itself when there is none yet.
func (c *Client) DefaultName(ctx context.Context) (name string, err error) {
	err = c.with(ctx, func(s *session) error {
		name, err = s.defaultName()
		return err
	})
	return name, err
}

func (s *session) defaultName() (string, error) {
	b, err := s.call(newRequest(opGetDefaultCache))
	if err != nil {
		return "", err
	}
	return parseName(opGetDefaultCache, b)
}

// SetDefault makes name the primary cache (SET_DEFAULT_CACHE), as kswitch
// does.
func (c *Client) SetDefault(ctx context.Context, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	return c.with(ctx, func(s *session) error {
		_, err := s.call(newRequest(opSetDefaultCache).name(name))
		return err
	})
}

// NewName asks the daemon for a fresh cache name (GEN_NEW); the cache
// exists once initialized.
func (c *Client) NewName(ctx context.Context) (name string, err error) {
	err = c.with(ctx, func(s *session) error {
		b, err := s.call(newRequest(opGenNew))
		if err != nil {
			return err
		}
		name, err = parseName(opGenNew, b)
		return err
	})
	return name, err
}

// Names lists the caches the daemon has for this user, in the daemon's
// order (GET_CACHE_UUID_LIST, then GET_CACHE_BY_UUID for each). Caches
// deleted meanwhile are skipped, as MIT skips them.
func (c *Client) Names(ctx context.Context) (names []string, err error) {
	err = c.with(ctx, func(s *session) error {
		names, err = s.names()
		return err
	})
	return names, err
}

func (s *session) names() ([]string, error) {
	b, err := s.call(newRequest(opGetCacheUUIDList))
	if errors.Is(err, ccache.ErrNotFound) {
		return nil, nil // no caches at all
	}
	if err != nil {
		return nil, err
	}
	ids, err := parseUUIDs(opGetCacheUUIDList, b)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, id := range ids {
		b, err := s.call(newRequest(opGetCacheByUUID).bytes(id))
		if errors.Is(err, ccache.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		n, err := parseName(opGetCacheByUUID, b)
		if err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, nil
}

// Principal returns the default principal of cache name (GET_PRINCIPAL);
// an uninitialized or missing cache matches ccache.ErrNotFound.
func (c *Client) Principal(ctx context.Context, name string) (p ccache.Principal, err error) {
	if err := checkName(name); err != nil {
		return p, err
	}
	err = c.with(ctx, func(s *session) error {
		p, err = s.principal(name)
		return err
	})
	return p, err
}

func (s *session) principal(name string) (ccache.Principal, error) {
	b, err := s.call(newRequest(opGetPrincipal).name(name))
	if err != nil {
		return ccache.Principal{}, err
	}
	return parsePrincipal(opGetPrincipal, name, b)
}

// credentials lists a cache's credentials with GET_CRED_LIST, or, from a
// daemon without it, GET_CRED_UUID_LIST and GET_CRED_BY_UUID for each.
func (s *session) credentials(name string) ([]*ccache.Credential, error) {
	b, err := s.call(newRequest(opGetCredList).name(name))
	if err == nil {
		return parseCredList(opGetCredList, b)
	}
	if !unsupportedOp(err) {
		return nil, err
	}
	b, err = s.call(newRequest(opGetCredUUIDList).name(name))
	if err != nil {
		return nil, err
	}
	ids, err := parseUUIDs(opGetCredUUIDList, b)
	if err != nil {
		return nil, err
	}
	creds := make([]*ccache.Credential, 0, len(ids))
	for _, id := range ids {
		b, err := s.call(newRequest(opGetCredByUUID).name(name).bytes(id))
		if errors.Is(err, ccache.ErrNotFound) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, err
		}
		c, err := parseCredential(opGetCredByUUID, b)
		if err != nil {
			return nil, err
		}
		creds = append(creds, c)
	}
	return creds, nil
}

// Load returns cache name's principal and credentials, read on one
// connection.
func (c *Client) Load(ctx context.Context, name string) (cc *ccache.Cache, err error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	err = c.with(ctx, func(s *session) error {
		p, err := s.principal(name)
		if err != nil {
			return err
		}
		creds, err := s.credentials(name)
		if err != nil {
			return err
		}
		cc = ccache.NewCache(p, creds)
		return nil
	})
	return cc, err
}

// Store adds cred to cache name (STORE), after checking on the same
// connection that the cache still belongs to cred's client.
func (c *Client) Store(ctx context.Context, name string, cred *ccache.Credential) error {
	if err := checkName(name); err != nil {
		return err
	}
	return c.with(ctx, func(s *session) error {
		p, err := s.principal(name)
		if err != nil {
			return err
		}
		if err := ccache.CheckPrincipal("KCM:"+name, p, cred); err != nil {
			return err
		}
		_, err = s.call(newRequest(opStore).name(name).bytes(ccache.MarshalCredential(nil, cred)))
		return err
	})
}

// Initialize makes cache name hold principal and exactly creds: REPLACE
// in one step, or, from a daemon without it (sssd), INITIALIZE then one
// STORE per credential, as MIT's k5_nonatomic_replace.
func (c *Client) Initialize(ctx context.Context, name string, principal ccache.Principal, creds []*ccache.Credential) error {
	if err := checkName(name); err != nil {
		return err
	}
	return c.with(ctx, func(s *session) error {
		req := newRequest(opReplace).name(name).u32(0).bytes(ccache.MarshalPrincipal(nil, principal)).u32(uint32(len(creds)))
		for _, cr := range creds {
			b := ccache.MarshalCredential(nil, cr)
			req.u32(uint32(len(b))).bytes(b)
		}
		_, err := s.call(req)
		if err == nil || !unsupportedOp(err) {
			return err
		}
		if _, err := s.call(newRequest(opInitialize).name(name).bytes(ccache.MarshalPrincipal(nil, principal))); err != nil {
			return err
		}
		for _, cr := range creds {
			if _, err := s.call(newRequest(opStore).name(name).bytes(ccache.MarshalCredential(nil, cr))); err != nil {
				return err
			}
		}
		return nil
	})
}

// Destroy deletes cache name (DESTROY), as kdestroy does.
func (c *Client) Destroy(ctx context.Context, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	return c.with(ctx, func(s *session) error {
		_, err := s.call(newRequest(opDestroy).name(name))
		return err
	})
}
