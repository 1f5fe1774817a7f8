package credentials

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth/internal/kdc"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
	"github.com/krbhttp/krbhttp/auth/ticket"
)

// loginSource logs in with a long-term secret (AS exchange) and logs in
// again when its TGT nears expiry. Nothing runs in the background: the
// refresh happens in the call that finds the TGT stale.
type loginSource struct {
	*core
	cname       types.PrincipalName
	realm       string
	secret      kdc.Secret
	forwardable bool
	// preauth remembers how the KDC wants pre-authentication, so a
	// login after the first costs one AS exchange, not two.
	preauth kdc.PreauthMemo

	mu  sync.Mutex // guards tgt
	cur *kdc.Credential
}

func newLoginSource(cfg *krb5conf.Config, principal string, secret func(*krb5conf.Config) (kdc.Secret, string, error), opts []Option) (*loginSource, error) {
	cfg, c, err := newCore(cfg, opts)
	if err != nil {
		return nil, err
	}
	sec, derived, err := secret(cfg)
	if err != nil {
		return nil, &Error{Op: "login", Principal: principal, Err: err}
	}
	if principal == "" {
		principal = derived
	}
	if principal == "" {
		return nil, &Error{Op: "login", Err: withSentinel(ErrNoCredentials, "no principal given", nil)}
	}
	name, realm, err := ticket.ParsePrincipal(principal, cfg.LibDefaults.DefaultRealm, nametype.KRB_NT_PRINCIPAL)
	if err != nil {
		return nil, &Error{Op: "login", Err: withSentinel(ErrMalformed, "", err)}
	}
	fwd := cfg.LibDefaults.Forwardable
	if c.opts.forwardable != nil {
		fwd = *c.opts.forwardable
	}
	return &loginSource{core: c, cname: name, realm: realm, secret: sec, forwardable: fwd}, nil
}

func (s *loginSource) client(context.Context) (types.PrincipalName, string, error) {
	return s.cname, s.realm, nil
}

func (s *loginSource) stored(context.Context, string) *kdc.Credential { return nil }

func (s *loginSource) tgt(ctx context.Context) (*kdc.Credential, error) {
	s.mu.Lock()
	cur := s.cur
	s.mu.Unlock()
	if s.fresh(cur) {
		return cur, nil
	}
	return s.flight.do(ctx, tgtKey, func(ctx context.Context) (*kdc.Credential, error) {
		s.mu.Lock()
		cur := s.cur
		s.mu.Unlock()
		if s.fresh(cur) {
			return cur, nil
		}
		if !s.valid(cur) {
			cur = nil
		}
		if err := s.backingOff(tgtKey); err != nil {
			if cur != nil {
				return cur, nil
			}
			return nil, err
		}
		cred, err := s.renewOrLogin(ctx, cur)
		if err != nil {
			s.failed(tgtKey, err, cur)
			if cur != nil && !isContextErr(err) {
				s.counts.refreshFailures.Add(1)
				s.log.LogAttrs(ctx, slog.LevelDebug, "credentials: login failed, using the current TGT until it expires",
					slog.String("client", ticket.PrincipalString(s.cname, s.realm)), slog.Time("end", cur.EndTime), slog.Any("error", err))
				return cur, nil
			}
			return nil, err
		}
		s.succeeded(tgtKey)
		if cur != nil {
			s.counts.refreshes.Add(1)
		}
		s.mu.Lock()
		s.cur = cred
		s.mu.Unlock()
		return cred, nil
	})
}

// renewOrLogin replaces cur (nil: none): by a renewal while cur is
// renewable far enough ahead, else by a login. A renewal the KDC refuses
// (a policy, a revoked ticket) falls back to a login; one that did not
// reach the KDC does not, as a login would not reach it either.
func (s *loginSource) renewOrLogin(ctx context.Context, cur *kdc.Credential) (*kdc.Credential, error) {
	client := ticket.PrincipalString(s.cname, s.realm)
	if s.renewable(cur) {
		cred, err := s.kdc.Renew(ctx, cur)
		if err == nil {
			s.counts.renewals.Add(1)
			s.log.LogAttrs(ctx, slog.LevelDebug, "credentials: TGT renewed",
				slog.String("client", client), slog.Time("end", cred.EndTime), slog.Time("renew_till", cred.RenewTill))
			return cred, nil
		}
		if errors.Is(err, ErrKDCUnreachable) || isContextErr(err) {
			return nil, err
		}
		s.log.LogAttrs(ctx, slog.LevelDebug, "credentials: TGT renewal refused, logging in again",
			slog.String("client", client), slog.Any("error", err))
	}
	cred, err := s.kdc.Login(ctx, s.cname, s.realm, s.secret, kdc.LoginOptions{Forwardable: s.forwardable, Preauth: &s.preauth})
	if err != nil {
		if !isContextErr(err) {
			s.counts.loginFailures.Add(1)
		}
		return nil, err
	}
	s.counts.logins.Add(1)
	s.log.LogAttrs(ctx, slog.LevelDebug, "credentials: logged in",
		slog.String("client", client), slog.Time("end", cred.EndTime), slog.Time("renew_till", cred.RenewTill), slog.Bool("forwardable", s.forwardable))
	return cred, nil
}

// ServiceTicket implements Source.
func (s *loginSource) ServiceTicket(ctx context.Context, spn string) (*ticket.Ticket, error) {
	return s.serviceTicket(ctx, s, spn)
}

// DropTicket implements Dropper.
func (s *loginSource) DropTicket(spn string, tkt *ticket.Ticket) {
	s.dropTicket(context.Background(), spn, tkt)
}

// TGT returns the current TGT, logging in first if there is none or it
// nears expiry.
func (s *loginSource) TGT(ctx context.Context) (*ticket.Ticket, error) { return s.tgtTicket(ctx, s) }

// ForwardedTGT returns a forwarded copy of the TGT for delegation; see
// WithForwardable.
func (s *loginSource) ForwardedTGT(ctx context.Context) (*ticket.Ticket, error) {
	return s.forwardedTGT(ctx, s)
}

// Principal returns the client principal, name@REALM.
func (s *loginSource) Principal() string { return ticket.PrincipalString(s.cname, s.realm) }

// PasswordSource logs in with a password (AS exchange with encrypted
// timestamp pre-authentication) on first use and again when the TGT nears
// expiry. It is safe for concurrent use.
type PasswordSource struct{ *loginSource }

// KeytabSource logs in with a key from a keytab, like kinit -k. It is safe
// for concurrent use.
type KeytabSource struct{ *loginSource }

var (
	_ TGTSource = PasswordSource{}
	_ TGTSource = KeytabSource{}
	_ Dropper   = PasswordSource{}
	_ Dropper   = KeytabSource{}
)

// NewPasswordSource returns a source for principal ("alice" or
// "alice@REALM"; the realm defaults to default_realm) with password. cfg
// nil means krb5conf.Load(). Nothing is sent to the KDC until first use. The
// password stays in memory for re-logins and appears in no error or log.
func NewPasswordSource(cfg *krb5conf.Config, principal, password string, opts ...Option) (*PasswordSource, error) {
	s, err := newLoginSource(cfg, principal, func(*krb5conf.Config) (kdc.Secret, string, error) {
		if password == "" {
			return nil, "", withSentinel(ErrNoCredentials, "empty password", nil)
		}
		return kdc.Password(password), "", nil
	}, opts)
	if err != nil {
		return nil, err
	}
	return &PasswordSource{s}, nil
}

// NewKeytabSource returns a source logging in as principal with keys from
// kt. kt nil means [DefaultClientKeytab](cfg); principal "" means the
// principal of the keytab's first entry. cfg nil means krb5conf.Load().
func NewKeytabSource(cfg *krb5conf.Config, principal string, kt *keytab.Keytab, opts ...Option) (*KeytabSource, error) {
	s, err := newLoginSource(cfg, principal, func(cfg *krb5conf.Config) (kdc.Secret, string, error) {
		if kt == nil {
			var err error
			if kt, _, err = defaultClientKeytab(cfg); err != nil {
				return nil, "", err
			}
		}
		if len(kt.Entries) == 0 {
			return nil, "", withSentinel(ErrNoCredentials, "empty keytab", nil)
		}
		first := kt.Entries[0].Principal
		return kdc.Keytab(kt), ticket.PrincipalString(types.PrincipalName{NameString: first.Components}, first.Realm), nil
	}, opts)
	if err != nil {
		return nil, err
	}
	return &KeytabSource{s}, nil
}
