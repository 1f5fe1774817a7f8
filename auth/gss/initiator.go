package gss

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/crypto/etype"
	"github.com/jcmturner/gokrb5/v8/iana"
	"github.com/jcmturner/gokrb5/v8/iana/adtype"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth/ticket"
)

// InitiatorConfig configures [NewInitiator].
type InitiatorConfig struct {
	// Ticket is the service ticket with its session key. Required.
	Ticket *ticket.Ticket
	// Flags are sent in the authenticator checksum. FlagMutual also sets
	// the AP option mutual-required, and makes Accept demand an AP-REP.
	Flags Flags
	// Format of the initial token; the zero value is SPNEGO.
	Format Format
	// ChannelBindings is the GSS channel-binding application data, e.g.
	// from [TLSServerEndPoint]. Nil means no bindings: Bnd is 16 zero
	// bytes. With bindings, the authenticator also carries
	// KERB_AP_OPTIONS_CBT so that acceptors (Windows, MIT 1.19+) insist on
	// them, which defeats stripping attacks.
	ChannelBindings []byte
	// Delegation is a KRB-CRED (forwarded TGT) for the checksum's Deleg
	// field. It requires FlagDelegate; FlagDelegate without Delegation is
	// dropped, as MIT does when it has nothing to forward.
	Delegation []byte
	// Now is the clock for the authenticator; nil means time.Now.
	Now func() time.Time
}

// Initiator is the client side of one Kerberos GSS-API context. It is safe
// for concurrent use, though a context is normally driven by one request.
type Initiator struct {
	mutual     bool
	sessionKey types.EncryptionKey
	prepared   *preparedTicket // the session key's derived keys
	subkey     types.EncryptionKey
	ctime      time.Time // authenticator ctime, whole seconds, UTC
	cusec      int
	base       SecurityContext // the context before any AP-REP

	mu    sync.Mutex
	state initiatorState   // guarded by mu
	ctx   *SecurityContext // guarded by mu; set when complete
}

type initiatorState int

const (
	awaitingReply initiatorState = iota
	replied
	failed
)

// NewInitiator builds the initial context token (binary; base64 it for an
// HTTP header) and returns the Initiator that will check the reply.
//
// Without FlagMutual the context is complete at once, as in GSS-API: there
// is no AP-REP to wait for, SecurityContext is available immediately, and
// Accept only needs to be called to detect a rejection.
func NewInitiator(cfg InitiatorConfig) (*Initiator, []byte, error) {
	et, err := checkInitiatorConfig(&cfg)
	if err != nil {
		return nil, nil, err
	}
	tkt := cfg.Ticket
	fl := cfg.Flags
	if len(cfg.Delegation) == 0 {
		fl &^= FlagDelegate
	}
	now := time.Now
	if cfg.Now != nil {
		now = cfg.Now
	}
	t := now().UTC()

	prep, err := prepareTicket(tkt)
	if err != nil {
		return nil, nil, err
	}
	subkey, err := newSubkey(tkt.SessionKey.KeyType, keySize(et))
	if err != nil {
		return nil, nil, err
	}
	seq, err := randomSeq()
	if err != nil {
		return nil, nil, fmt.Errorf("gss: authenticator sequence number: %w", err)
	}
	// ctime is kept in whole seconds because that is what goes on the
	// wire and what the AP-REP echoes.
	auth := authenticator{
		ctime:  t.Truncate(time.Second),
		cusec:  t.Nanosecond() / int(time.Microsecond),
		subkey: subkey,
		seq:    seq,
		cbt:    cfg.ChannelBindings != nil,
	}
	ck := gssChecksum{flags: fl}
	if fl&FlagDelegate != 0 {
		ck.deleg = cfg.Delegation
	}
	if cfg.ChannelBindings != nil {
		ck.bnd = ChannelBindingsMD5(cfg.ChannelBindings)
	}
	if auth.checksum, err = ck.marshal(); err != nil {
		return nil, nil, err
	}
	// Only the standard Kerberos OID is offered in SPNEGO. Listing the MS
	// legacy OID as well gains nothing (every acceptor since Windows 2003
	// knows the standard one) and a second entry would turn a
	// one-mechanism list into a negotiation that RFC 4178 wants protected
	// by a mechListMIC.
	token, err := marshalAPReqToken(prep, &auth, fl&FlagMutual != 0, cfg.Format)
	if err != nil {
		return nil, nil, err
	}

	i := &Initiator{
		mutual:     fl&FlagMutual != 0,
		sessionKey: prep.session.raw,
		prepared:   prep,
		subkey:     subkey,
		ctime:      auth.ctime,
		cusec:      auth.cusec,
		base: SecurityContext{
			Initiator:       true,
			Flags:           fl,
			SessionKey:      prep.session.raw,
			InitiatorSubkey: subkey,
			InitiatorSeq:    seq,
			AcceptorSeq:     seq,
		},
	}
	if !i.mutual {
		i.ctx = i.base.clone()
	}
	return i, token, nil
}

// checkInitiatorConfig rejects configurations gokrb5 would panic on or
// that cannot produce a usable token, and returns the session key's
// enctype.
func checkInitiatorConfig(cfg *InitiatorConfig) (etype.EType, error) {
	tkt := cfg.Ticket
	switch {
	case tkt == nil:
		return nil, errors.New("gss: InitiatorConfig.Ticket is nil")
	case len(tkt.Ticket.SName.NameString) == 0:
		return nil, errors.New("gss: ticket has no service name")
	case len(tkt.Client.NameString) == 0 || tkt.ClientRealm == "":
		return nil, errors.New("gss: ticket has no client name or realm")
	case cfg.Format != FormatSPNEGO && cfg.Format != FormatKRB5:
		return nil, fmt.Errorf("gss: unknown format %v", cfg.Format)
	case len(cfg.Delegation) > 0 && cfg.Flags&FlagDelegate == 0:
		return nil, errors.New("gss: Delegation given without FlagDelegate")
	}
	et, err := checkKey(tkt.SessionKey)
	if err != nil {
		return nil, fmt.Errorf("gss: ticket session key: %w", err)
	}
	return et, nil
}

// AD-AUTH-DATA-AP-OPTIONS (MS-KILE 2.2.6, MIT KRB5_AUTHDATA_AP_OPTIONS) and
// its KERB_AP_OPTIONS_CBT bit: "this client supports channel bindings".
const (
	adAuthDataAPOptions = 143
	kerbAPOptionsCBT    = 0x4000
)

// cbtAuthorizationData builds what MIT's make_ap_authdata sends with
// client_aware_channel_bindings: AD-IF-RELEVANT holding
// AD-AUTH-DATA-AP-OPTIONS with KERB_AP_OPTIONS_CBT, little-endian.
func cbtAuthorizationData() (types.AuthorizationData, error) {
	inner, err := asn1.Marshal(types.AuthorizationData{{
		ADType: adAuthDataAPOptions,
		ADData: binary.LittleEndian.AppendUint32(nil, kerbAPOptionsCBT),
	}})
	if err != nil {
		return nil, fmt.Errorf("gss: marshal AP options: %w", err)
	}
	return types.AuthorizationData{{ADType: adtype.ADIfRelevant, ADData: inner}}, nil
}

// Accept processes the acceptor's reply token (binary): a SPNEGO
// NegTokenResp, or a raw Kerberos token (AP-REP or KRB-ERROR). An empty
// reply stands for "no token".
//
// With FlagMutual a verified AP-REP is required and completes the context;
// a missing or bad one fails with ErrMutualAuth. Without it a reply without
// an AP-REP is fine, and an AP-REP that is present is still verified. A
// KRB-ERROR yields a *KRBError, a SPNEGO reject ErrRejected.
//
// Accept may be called once. After an error the context is unusable:
// Complete reports false and SecurityContext nil.
func (i *Initiator) Accept(reply []byte) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.state != awaitingReply {
		return errAlreadyAccepted
	}
	ctx, err := i.accept(reply)
	if err != nil {
		i.state, i.ctx = failed, nil
		return err
	}
	i.state, i.ctx = replied, ctx
	return nil
}

func (i *Initiator) accept(reply []byte) (*SecurityContext, error) {
	krb, err := replyKRB5Token(reply)
	if err != nil {
		return nil, err
	}
	if krb == nil {
		if i.mutual {
			return nil, fmt.Errorf("%w: the reply carries no AP-REP", ErrMutualAuth)
		}
		return i.base.clone(), nil
	}
	tok, err := parseKRB5(krb)
	if err != nil {
		return nil, err
	}
	switch tok.id {
	case tokIDAPRep:
		return i.verifyAPRep(tok.msg)
	case tokIDKRBError:
		return nil, parseKRBError(tok.msg)
	}
	return nil, malformed("reply token ID %x is neither AP-REP nor KRB-ERROR", tok.id)
}

// replyKRB5Token extracts the Kerberos token from a reply, or nil if there
// is none.
func replyKRB5Token(reply []byte) ([]byte, error) {
	if len(reply) == 0 {
		return nil, nil
	}
	if reply[0] == tagGSSApp0 {
		oid, _, err := unwrapGSS(reply)
		if err != nil {
			return nil, err
		}
		if isKRB5OID(oid) {
			return reply, nil
		}
	}
	resp, err := parseNegTokenResp(reply)
	if err != nil {
		return nil, err
	}
	switch resp.negState {
	case negAcceptCompleted:
	case negReject:
		// MIT puts the mechanism's KRB-ERROR token in a reject.
		if tok, err := parseKRB5(resp.responseToken); err == nil && tok.id == tokIDKRBError {
			return nil, parseKRBError(tok.msg)
		}
		return nil, fmt.Errorf("%w: SPNEGO negState reject", ErrRejected)
	case negStateAbsent:
		return nil, malformed("NegTokenResp without negState")
	default:
		// accept-incomplete or request-mic: the acceptor wants another
		// leg (a mechListMIC). We offered one mechanism, the acceptor has
		// nothing to negotiate, and a MIC exchange is not implemented.
		return nil, fmt.Errorf("%w: SPNEGO negState %d asks for another round trip", ErrUnsupported, resp.negState)
	}
	if resp.supportedMech != nil && !isKRB5OID(resp.supportedMech) {
		return nil, malformed("acceptor selected a mechanism other than Kerberos")
	}
	// A mechListMIC is not checked: with a single mechanism offered there
	// is no negotiation for it to protect.
	return resp.responseToken, nil
}

// parseKRBError turns a KRB-ERROR message into a *KRBError.
func parseKRBError(msg []byte) error {
	if err := checkDER(msg, "KRB-ERROR"); err != nil {
		return err
	}
	var ke messages.KRBError
	if err := guard("KRB-ERROR", func() error { return ke.Unmarshal(msg) }); err != nil {
		return err
	}
	return &KRBError{Code: ke.ErrorCode, Text: ke.EText}
}

// verifyAPRep checks the AP-REP against the saved authenticator
// (RFC 4120 3.2.5) and returns the completed context.
func (i *Initiator) verifyAPRep(msg []byte) (*SecurityContext, error) {
	if err := checkDER(msg, "AP-REP"); err != nil {
		return nil, err
	}
	rep, err := parseAPRep(msg)
	if err != nil {
		return nil, err
	}
	// MIT ignores msg-type but Heimdal checks it, so every acceptor sends
	// the right one and checking costs no interoperability.
	if rep.PVNO != iana.PVNO || rep.MsgType != msgtype.KRB_AP_REP {
		return nil, malformed("AP-REP pvno %d msg-type %d", rep.PVNO, rep.MsgType)
	}
	pt, err := i.prepared.session.decrypt(rep.EncPart, keyusage.AP_REP_ENCPART)
	if err != nil {
		// MIT's initiator also accepts an AP-REP under the subkey it sent.
		var err2 error
		if pt, err2 = decrypt(rep.EncPart, i.subkey, keyusage.AP_REP_ENCPART); err2 != nil {
			return nil, fmt.Errorf("%w: AP-REP does not decrypt with the session key (%v) nor the initiator subkey (%v)", ErrMutualAuth, err, err2)
		}
	}
	enc, err := parseEncAPRepPart(pt)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMutualAuth, err)
	}
	if !enc.CTime.Equal(i.ctime) || enc.Cusec != i.cusec {
		return nil, fmt.Errorf("%w: AP-REP time %s.%06d does not echo the authenticator's %s.%06d",
			ErrMutualAuth, enc.CTime.UTC().Format(time.RFC3339), enc.Cusec, i.ctime.Format(time.RFC3339), i.cusec)
	}
	ctx := i.base.clone()
	if enc.Subkey.KeyType != 0 || len(enc.Subkey.KeyValue) != 0 {
		if _, err := checkKey(enc.Subkey); err != nil {
			return nil, fmt.Errorf("%w: acceptor subkey: %v", ErrMutualAuth, err)
		}
		ctx.AcceptorSubkey = enc.Subkey
	}
	ctx.AcceptorSeq = seqFromASN1(enc.SequenceNumber)
	return ctx, nil
}

// Complete reports whether the context is established: after a successful
// Accept, or from the start when mutual authentication was not requested.
func (i *Initiator) Complete() bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.ctx != nil
}

// SecurityContext returns a copy of the established context, or nil while
// it is not complete (see Complete).
func (i *Initiator) SecurityContext() *SecurityContext {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.ctx == nil {
		return nil
	}
	return i.ctx.clone()
}
