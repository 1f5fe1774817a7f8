package kdc

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"math"
	"math/big"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// ASN.1 application tags (first byte) of the replies a KDC sends.
const (
	tagASRep    = 0x6b // [APPLICATION 11]
	tagTGSRep   = 0x6d // [APPLICATION 13]
	tagKRBError = 0x7e // [APPLICATION 30]
)

// Credential is a ticket with the session key and what the KDC said about
// it in the encrypted part of its reply.
type Credential struct {
	Client      types.PrincipalName
	ClientRealm string
	Server      types.PrincipalName
	ServerRealm string
	Ticket      messages.Ticket
	SessionKey  types.EncryptionKey
	Flags       asn1.BitString
	AuthTime    time.Time
	StartTime   time.Time
	EndTime     time.Time
	RenewTill   time.Time
}

// IsTGT reports whether c is a ticket-granting ticket (krbtgt/REALM).
func (c *Credential) IsTGT() bool {
	return len(c.Server.NameString) == 2 && c.Server.NameString[0] == "krbtgt"
}

// TGTRealm is the realm whose KDC accepts c as a TGT: REALM in
// krbtgt/REALM@ISSUER.
func (c *Credential) TGTRealm() string {
	if !c.IsTGT() {
		return ""
	}
	return c.Server.NameString[1]
}

// TGTName is the principal name krbtgt/realm.
func TGTName(realm string) types.PrincipalName {
	return types.PrincipalName{NameType: nametype.KRB_NT_SRV_INST, NameString: []string{"krbtgt", realm}}
}

// Client performs AS and TGS exchanges. It holds no tickets and no
// per-request state, so one Client can serve any number of goroutines.
type Client struct {
	cfg           *config.Config
	tr            Transport
	log           *slog.Logger
	capaths       func(client, server string) []string
	fallbackRealm func(ctx context.Context, host string) string
}

// Option configures a Client.
type Option func(*Client)

// WithTransport replaces the network transport (tests use a fake KDC).
func WithTransport(t Transport) Option { return func(c *Client) { c.tr = t } }

// WithCapaths sets the [capaths] lookup: the intermediate realms on the
// way from client realm to server realm in order, "." (or nothing) for a
// direct trust. Without it, cross-realm TGTs are asked for directly.
func WithCapaths(f func(client, server string) []string) Option {
	return func(c *Client) { c.capaths = f }
}

// WithFallbackRealm sets where a host's realm is looked for when KDC
// referrals fail (MIT's krb5_get_fallback_host_realm: DNS TXT records with
// dns_lookup_realm, the upper-cased parent domain); "" means none.
func WithFallbackRealm(f func(ctx context.Context, host string) string) Option {
	return func(c *Client) { c.fallbackRealm = f }
}

// WithLogger sets the logger for debug lines; nil discards.
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.log = l } }

// New returns a Client using cfg's libdefaults (enctypes, ticket lifetime,
// udp_preference_limit) and realms (KDC addresses).
func New(cfg *config.Config, opts ...Option) *Client {
	c := &Client{cfg: cfg}
	for _, o := range opts {
		o(c)
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.tr == nil {
		c.tr = &NetTransport{Config: cfg, Logger: c.log}
	}
	return c
}

// Config returns the configuration the client was made with.
func (c *Client) Config() *config.Config { return c.cfg }

// supportedETypes keeps the configured enctypes gokrb5 can actually use
// (it recognises some names, such as camellia, that it cannot encrypt with).
func supportedETypes(ids []int32) []int32 {
	out := make([]int32, 0, len(ids))
	for _, id := range ids {
		if _, err := crypto.GetEtype(id); err == nil {
			out = append(out, id)
		}
	}
	return out
}

func nonce() (int, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(math.MaxInt32))
	if err != nil {
		return 0, err
	}
	return int(n.Int64()), nil
}

func setFlag(f *asn1.BitString, flag int, on bool) {
	if on {
		types.SetFlag(f, flag)
	} else {
		types.UnsetFlag(f, flag)
	}
}

func (c *Client) lifetime(d time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	if c.cfg.LibDefaults.TicketLifetime > 0 {
		return c.cfg.LibDefaults.TicketLifetime
	}
	return 24 * time.Hour
}

// safeUnmarshal runs a gokrb5 unmarshal under a recover. gokrb5's ASN.1
// code is not known to panic on bad input, but a KDC reply comes from the
// network, and one bad packet must not take the process down.
func safeUnmarshal(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decoder panic: %v", r)
		}
	}()
	return f()
}

// parseKRBError decodes a KRB-ERROR reply into an *Error.
func parseKRBError(reply []byte) (*messages.KRBError, error) {
	var ke messages.KRBError
	if err := safeUnmarshal(func() error { return ke.Unmarshal(reply) }); err != nil {
		return nil, malformed("malformed KRB-ERROR from KDC", err)
	}
	return &ke, nil
}

func krbError(ke *messages.KRBError, realm string) *Error {
	return NewError(ke.ErrorCode, ke.EText, realm)
}

func newCredential(f messages.KDCRepFields, enc messages.EncKDCRepPart) *Credential {
	start := enc.StartTime
	if start.IsZero() {
		start = enc.AuthTime
	}
	return &Credential{
		Client:      f.CName,
		ClientRealm: f.CRealm,
		Server:      enc.SName,
		ServerRealm: enc.SRealm,
		Ticket:      f.Ticket,
		SessionKey:  enc.Key,
		Flags:       enc.Flags,
		AuthTime:    enc.AuthTime,
		StartTime:   start,
		EndTime:     enc.EndTime,
		RenewTill:   enc.RenewTill,
	}
}

func isFlagSet(f asn1.BitString, flag int) bool { return types.IsFlagSet(&f, flag) }

// copyableFlags are the TGT flags MIT's client also asks for on the tickets
// it gets with that TGT (KDC_TKT_COMMON_MASK).
var copyableFlags = []int{flags.Forwardable, flags.Proxiable}

// ParseTicket decodes a Ticket (DER, [APPLICATION 1]) such as one stored
// in a credential cache.
func ParseTicket(b []byte) (messages.Ticket, error) {
	var t messages.Ticket
	if len(b) == 0 || b[0] != 0x61 {
		return t, malformed("not a Kerberos ticket", nil)
	}
	if err := safeUnmarshal(func() error { return t.Unmarshal(b) }); err != nil {
		return t, malformed("malformed ticket", err)
	}
	return t, nil
}
