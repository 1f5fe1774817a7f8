package gss

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana"
	"github.com/jcmturner/gokrb5/v8/iana/adtype"
	"github.com/jcmturner/gokrb5/v8/iana/asnAppTag"
	"github.com/jcmturner/gokrb5/v8/iana/chksumtype"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth/ticket"
)

// defaultMaxSkew is the Kerberos default clock skew (MIT clockskew).
const defaultMaxSkew = 5 * time.Minute

// AcceptorConfig configures [NewAcceptor].
type AcceptorConfig struct {
	// Keytab holds the service keys. Required; it is only read, so it may
	// be shared, but must not be modified while the Acceptor is in use.
	Keytab *keytab.Keytab
	// Service restricts the accepted tickets to one service principal,
	// "HTTP/host" or "HTTP/host@REALM". Empty accepts a ticket for any
	// principal the keytab has a key for (MIT's GSS_C_NO_NAME acceptor).
	Service string
	// Realms lists the accepted client realms. Empty means the realms of
	// the keytab entries in use. The client realm is checked here because
	// gokrb5 does not compare it at all.
	Realms []string
	// MaxSkew is the tolerated clock difference; 0 means 5 minutes.
	MaxSkew time.Duration
	// ReplayStore detects reused authenticators (see package acceptor for
	// the stores); nil disables detection.
	ReplayStore ReplayStore
	// ChannelBindings is the expected channel-binding application data
	// (see TLSServerEndPoint). Nil means bindings are not checked, though
	// Accepted still reports whether the client sent some.
	ChannelBindings []byte
	// RequireChannelBindings refuses clients that send no bindings
	// (Extended Protection "Require"); without it a client that sends none
	// is accepted ("Allow"). It needs ChannelBindings. The check runs
	// before the replay store records the authenticator, like every other
	// check, so a refused token costs its owner nothing.
	RequireChannelBindings bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Acceptor verifies initial context tokens against a keytab. It is safe
// for concurrent use.
type Acceptor struct {
	kt           *keytab.Keytab
	service      *types.PrincipalName // nil: any principal in the keytab
	serviceRealm string               // "": any realm
	realms       []string
	maxSkew      time.Duration
	replays      ReplayStore
	bindings     *[16]byte // nil: not checked
	requireBnd   bool
	now          func() time.Time
	// serviceKeys holds the keytab's keys by enctype and key bytes, each
	// with its derived keys, so that a ticket's decryption derives
	// nothing.
	serviceKeys map[int32]map[string]*cryptoKey
	tickets     *ticketCache
}

// NewAcceptor checks cfg and returns an Acceptor.
func NewAcceptor(cfg AcceptorConfig) (*Acceptor, error) {
	if cfg.Keytab == nil || len(cfg.Keytab.Entries) == 0 {
		return nil, errors.New("gss: AcceptorConfig.Keytab is nil or empty")
	}
	a := &Acceptor{kt: cfg.Keytab, maxSkew: cfg.MaxSkew, replays: cfg.ReplayStore, now: cfg.Now,
		tickets: newTicketCache(ticketCacheMaxBytes)}
	if a.maxSkew == 0 {
		a.maxSkew = defaultMaxSkew
	}
	if a.maxSkew < 0 {
		return nil, fmt.Errorf("gss: negative MaxSkew %v", cfg.MaxSkew)
	}
	if a.now == nil {
		a.now = time.Now
	}
	if cfg.Service != "" {
		pn, realm, err := ticket.ParseSPN(cfg.Service)
		if err != nil {
			return nil, fmt.Errorf("gss: AcceptorConfig.Service: %w", err)
		}
		a.service, a.serviceRealm = &pn, realm
	}
	var keytabRealms []string
	for _, e := range cfg.Keytab.Entries {
		if a.serves(types.PrincipalName{NameString: e.Principal.Components}, e.Principal.Realm) && !slices.Contains(keytabRealms, e.Principal.Realm) {
			keytabRealms = append(keytabRealms, e.Principal.Realm)
		}
	}
	if len(keytabRealms) == 0 {
		return nil, fmt.Errorf("%w: the keytab has no key for %s", ErrUnknownService, cfg.Service)
	}
	a.realms = slices.Clone(cfg.Realms)
	if len(a.realms) == 0 {
		a.realms = keytabRealms
	}
	if cfg.ChannelBindings != nil {
		bnd := ChannelBindingsMD5(cfg.ChannelBindings)
		a.bindings = &bnd
	}
	if cfg.RequireChannelBindings && a.bindings == nil {
		return nil, errors.New("gss: RequireChannelBindings needs ChannelBindings")
	}
	a.requireBnd = cfg.RequireChannelBindings
	a.serviceKeys = make(map[int32]map[string]*cryptoKey)
	for _, e := range cfg.Keytab.Entries {
		ck, err := newCryptoKey(e.Key)
		if err != nil {
			continue // unusable entries fail at use, as before
		}
		m := a.serviceKeys[e.Key.KeyType]
		if m == nil {
			m = make(map[string]*cryptoKey)
			a.serviceKeys[e.Key.KeyType] = m
		}
		m[string(e.Key.KeyValue)] = ck
	}
	return a, nil
}

// serviceKey returns the cryptoKey of a keytab key.
func (a *Acceptor) serviceKey(key types.EncryptionKey) (*cryptoKey, error) {
	if ck, ok := a.serviceKeys[key.KeyType][string(key.KeyValue)]; ok {
		return ck, nil
	}
	return newCryptoKey(key)
}

// serves reports whether the Service restriction admits a principal.
func (a *Acceptor) serves(sname types.PrincipalName, realm string) bool {
	if a.service == nil {
		return true
	}
	return sname.Equal(*a.service) && (a.serviceRealm == "" || realm == a.serviceRealm)
}

// Accepted is the outcome of a successful [Acceptor.Accept].
type Accepted struct {
	Client      types.PrincipalName
	ClientRealm string
	Principal   string              // "alice@REALM", as MIT writes it (ticket.PrincipalString)
	Service     types.PrincipalName // the ticket's sname
	// Flags come from the authenticator checksum; FlagMutual is also set
	// when the AP options ask for mutual authentication, and FlagDelegate
	// only when Delegation is non-empty.
	Flags  Flags
	Format Format // format of the input token
	// ReplyToken is the token to send back (binary). For SPNEGO input a
	// NegTokenResp accept-completed naming the client's first mechanism
	// and, if the client asked for mutual authentication, carrying the
	// AP-REP. For raw Kerberos input the AP-REP token, or nil without
	// mutual authentication.
	ReplyToken []byte
	// BindingsPresent: the client sent channel bindings (non-zero Bnd).
	BindingsPresent bool
	// BindingsMatch: they equal the expected ones. Always false when
	// AcceptorConfig.ChannelBindings is nil. A client that sent none is
	// accepted with both fields false; the caller decides whether that is
	// enough.
	BindingsMatch bool
	Delegation    []byte // KRB-CRED from the checksum, nil if none
	// DelegatedTicket is the credential Delegation carries, decrypted: in
	// GSS-API delegation the client's forwarded TGT with its session key.
	// Nil without delegation. It is checked to belong to the
	// authenticated client; whether it is a usable TGT is for the caller
	// to find out (package credentials: NewDelegatedSource).
	DelegatedTicket *ticket.Ticket
	// Ticket is the client's ticket with DecryptedEncPart filled in. It
	// is read-only: the decrypted part's slices (names, authorization
	// data, addresses) are shared with every Accepted for the same ticket,
	// whose decryption the Acceptor keeps until the ticket expires; the
	// session key's bytes are this Accepted's own.
	Ticket  messages.Ticket
	Context *SecurityContext
}

// Accept verifies an initial context token (binary): a SPNEGO NegTokenInit
// whose preferred mechanism is Kerberos (either OID) with its optimistic
// token, or a raw Kerberos AP-REQ token.
//
// The checks, in order: token syntax; service principal and key; ticket
// decryption and validity period; authenticator decryption and match with
// the ticket's client (realm included); client realm; clock skew; checksum
// and channel bindings; replay. Only authenticators that pass everything
// enter the replay store, so a token that failed, for instance on a
// connection with other channel bindings, cannot be used to lock its
// rightful owner out.
//
// A replay wraps [ErrReplay]; a replay store that cannot record the
// authenticator makes the authentication fail with [ErrReplayStore].
func (a *Acceptor) Accept(token []byte) (*Accepted, error) {
	return a.AcceptContext(context.Background(), token)
}

// AcceptContext is [Acceptor.Accept] with a context for the replay store
// (a network store honours its deadline).
func (a *Acceptor) AcceptContext(ctx context.Context, token []byte) (*Accepted, error) {
	in, err := parseInitialToken(token)
	if err != nil {
		return nil, err
	}
	if err := checkAPReqFields(in.krb5.msg); err != nil {
		return nil, err
	}
	apReq, ticketDER, err := parseAPReqTicket(in.krb5.msg)
	if err != nil {
		return nil, err
	}
	if apReq.PVNO != iana.PVNO {
		return nil, malformed("AP-REQ pvno %d", apReq.PVNO)
	}
	if isFlagSet(apReq.APOptions, flags.APOptionUseSessionKey) {
		return nil, fmt.Errorf("%w: user-to-user AP-REQ", ErrUnsupported)
	}
	now := a.now()
	tkt, sk, err := a.ticket(ticketDER.full, now)
	if err != nil {
		return nil, err
	}
	etp := &tkt.DecryptedEncPart
	if err := a.checkTicketTimes(etp, now); err != nil {
		return nil, err
	}
	auth, err := a.decryptAuthenticator(&apReq, etp, sk)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(a.realms, etp.CRealm) {
		return nil, fmt.Errorf("%w: %q (accepted: %s)", ErrWrongRealm, etp.CRealm, strings.Join(a.realms, ", "))
	}
	ctime := auth.CTime.Add(time.Duration(auth.Cusec) * time.Microsecond)
	if d := now.Sub(ctime).Abs(); d > a.maxSkew {
		return nil, fmt.Errorf("%w: authenticator time %s is %v away from ours (max %v)", ErrClockSkew, ctime.UTC().Format(time.RFC3339), d.Round(time.Second), a.maxSkew)
	}
	ck, err := authenticatorChecksum(auth)
	if err != nil {
		return nil, err
	}
	acc := &Accepted{
		Client:          etp.CName,
		ClientRealm:     etp.CRealm,
		Principal:       ticket.PrincipalString(etp.CName, etp.CRealm),
		Service:         tkt.SName,
		Flags:           ck.flags,
		Format:          in.format,
		BindingsPresent: hasBindings(ck.bnd),
		Delegation:      ck.deleg,
		Ticket:          tkt,
	}
	if isFlagSet(apReq.APOptions, flags.APOptionMutualRequired) {
		acc.Flags |= FlagMutual
	}
	if acc.BindingsMatch, err = a.checkBindings(ck.bnd, auth); err != nil {
		return nil, err
	}
	if ck.deleg != nil {
		// The initiator's choice of key is not signalled: MIT and this
		// package use the session key, others the authenticator subkey;
		// MIT's acceptor tries both as well.
		tkts, err := delegatedTickets(ck.deleg, etp.CName, etp.CRealm, etp.Key, auth.SubKey)
		if err != nil {
			return nil, err
		}
		acc.DelegatedTicket = tkts[0]
	}
	if a.replays != nil {
		// The last instant this authenticator passes the checks above: its
		// time plus the skew, and the ticket's end plus the skew.
		expires := ctime
		if etp.EndTime.Before(expires) {
			expires = etp.EndTime
		}
		expires = expires.Add(a.maxSkew)
		err := a.replays.Remember(ctx, replayKeyOf(apReq.EncryptedAuthenticator.Cipher), now, expires)
		switch {
		case errors.Is(err, ErrReplay):
			return nil, fmt.Errorf("%w: from %s at %s", ErrReplay, acc.Principal, ctime.UTC().Format(time.RFC3339Nano))
		case err != nil:
			return nil, fmt.Errorf("%w: authenticator from %s not recorded: %w", ErrReplayStore, acc.Principal, err)
		}
	}
	if err := a.reply(acc, in, sk, auth); err != nil {
		return nil, err
	}
	return acc, nil
}

// initialToken is the acceptor's parsed input.
type initialToken struct {
	format Format
	mech   []byte // the client's preferred mechanism (SPNEGO only)
	krb5   krb5Token
}

func parseInitialToken(b []byte) (initialToken, error) {
	var in initialToken
	oid, inner, err := unwrapGSS(b)
	if err != nil {
		return in, err
	}
	switch {
	case bytes.Equal(oid, oidSPNEGO):
		nti, err := parseNegTokenInit(inner)
		if err != nil {
			return in, err
		}
		if !isKRB5OID(nti.mechTypes[0]) {
			return in, fmt.Errorf("%w: the client prefers a mechanism other than Kerberos", ErrUnsupported)
		}
		if nti.mechToken == nil {
			return in, fmt.Errorf("%w: NegTokenInit without an optimistic Kerberos token", ErrUnsupported)
		}
		in.format, in.mech = FormatSPNEGO, nti.mechTypes[0]
		if in.krb5, err = parseKRB5(nti.mechToken); err != nil {
			return in, err
		}
	case isKRB5OID(oid):
		in.format = FormatKRB5
		if in.krb5, err = parseKRB5(b); err != nil {
			return in, err
		}
	default:
		return in, fmt.Errorf("%w: token for a mechanism other than Kerberos or SPNEGO", ErrUnsupported)
	}
	if in.krb5.id != tokIDAPReq {
		return in, malformed("initial token ID %x is not AP-REQ", in.krb5.id)
	}
	return in, nil
}

// checkAPReqFields checks the DER of an AP-REQ and that its fields are
// exactly [0] to [4]: gofork decodes the ticket field as a RawValue and
// then ignores its tag.
func checkAPReqFields(msg []byte) error {
	if err := checkDER(msg, "AP-REQ"); err != nil {
		return err
	}
	app, err := readOnlyDER(msg, 0x60|asnAppTag.APREQ, "AP-REQ")
	if err != nil {
		return err
	}
	next := 0
	err = sequenceFields(app.content, "AP-REQ", func(n int, _ derElement) error {
		if n != next {
			return malformed("AP-REQ field [%d] where [%d] belongs", n, next)
		}
		next++
		return nil
	})
	if err == nil && next != 5 {
		err = malformed("AP-REQ has %d fields, want 5", next)
	}
	return err
}

// ticket returns the AP-REQ's ticket, decoded and decrypted, and its
// session key: from the ticket cache when the same encoding (der) was
// accepted before, else decoded and decrypted now and added to it. The
// session key's bytes are copied for each request: they reach the caller
// in Accepted and its SecurityContext.
func (a *Acceptor) ticket(der []byte, now time.Time) (messages.Ticket, *cryptoKey, error) {
	if d := a.tickets.get(der); d != nil {
		tkt := d.tkt
		tkt.DecryptedEncPart.Key.KeyValue = slices.Clone(d.tkt.DecryptedEncPart.Key.KeyValue)
		return tkt, d.sk, nil
	}
	// The cache keeps what is decoded from these bytes: they must be its
	// own, not the caller's token buffer.
	own := slices.Clone(der)
	tkt, err := parseTicket(derElement{full: own})
	if err != nil {
		return tkt, nil, err
	}
	if tkt.TktVNO != iana.PVNO {
		return tkt, nil, malformed("tkt-vno %d", tkt.TktVNO)
	}
	if err := a.decryptTicket(&tkt); err != nil {
		return tkt, nil, err
	}
	shared := &decryptedTicket{tkt: tkt}
	shared.tkt.DecryptedEncPart.Key.KeyValue = slices.Clone(tkt.DecryptedEncPart.Key.KeyValue)
	if shared.sk, err = newCryptoKey(shared.tkt.DecryptedEncPart.Key); err != nil {
		return tkt, nil, malformed("ticket session key: %v", err)
	}
	a.tickets.add(der, shared, now.Add(-a.maxSkew))
	return tkt, shared.sk, nil
}

// decryptTicket finds the service key and decrypts the ticket in place.
func (a *Acceptor) decryptTicket(tkt *messages.Ticket) error {
	if len(tkt.SName.NameString) == 0 {
		return malformed("ticket without sname")
	}
	// The name is written only for an error: on success it is not needed.
	sname := func() string { return ticket.PrincipalString(tkt.SName, tkt.Realm) }
	if !a.serves(tkt.SName, tkt.Realm) {
		return fmt.Errorf("%w: ticket for %s", ErrUnknownService, sname())
	}
	key, _, err := a.kt.GetEncryptionKey(tkt.SName, tkt.Realm, tkt.EncPart.KVNO, tkt.EncPart.EType)
	if err != nil {
		return fmt.Errorf("%w: no key for %s kvno %d enctype %d in the keytab", ErrUnknownService, sname(), tkt.EncPart.KVNO, tkt.EncPart.EType)
	}
	ck, err := a.serviceKey(key)
	var pt []byte
	if err == nil {
		pt, err = ck.decrypt(tkt.EncPart, keyusage.KDC_REP_TICKET)
	}
	if err != nil {
		return fmt.Errorf("%w: ticket for %s does not decrypt with the keytab key (stale keytab?): %v", ErrIntegrity, sname(), err)
	}
	tkt.DecryptedEncPart, err = parseEncTicketPart(pt)
	return err
}

// checkTicketTimes applies RFC 4120 3.2.3 with the skew allowance.
func (a *Acceptor) checkTicketTimes(etp *messages.EncTicketPart, now time.Time) error {
	start := etp.StartTime
	if start.IsZero() {
		start = etp.AuthTime
	}
	switch {
	case isFlagSet(etp.Flags, flags.Invalid):
		return fmt.Errorf("%w: ticket flagged invalid", ErrTicketExpired)
	case start.Sub(now) > a.maxSkew:
		return fmt.Errorf("%w: ticket valid from %s", ErrTicketExpired, start.UTC().Format(time.RFC3339))
	case now.Sub(etp.EndTime) > a.maxSkew:
		return fmt.Errorf("%w: ticket expired at %s", ErrTicketExpired, etp.EndTime.UTC().Format(time.RFC3339))
	}
	return nil
}

// decryptAuthenticator decrypts the authenticator and checks that it names
// the ticket's client, realm included (the check gokrb5 omits, upstream
// issue #577).
func (a *Acceptor) decryptAuthenticator(apReq *messages.APReq, etp *messages.EncTicketPart, sk *cryptoKey) (*types.Authenticator, error) {
	pt, err := sk.decrypt(apReq.EncryptedAuthenticator, keyusage.AP_REQ_AUTHENTICATOR)
	if err != nil {
		return nil, fmt.Errorf("%w: authenticator does not decrypt with the ticket session key: %v", ErrIntegrity, err)
	}
	auth, err := parseAuthenticatorFor(pt, etp.CName, etp.CRealm)
	if err != nil {
		return nil, err
	}
	if auth.AVNO != iana.PVNO {
		return nil, malformed("authenticator vno %d", auth.AVNO)
	}
	if auth.Cusec < 0 || auth.Cusec > 999999 {
		return nil, malformed("authenticator cusec %d", auth.Cusec)
	}
	if auth.SubKey.KeyType != 0 || len(auth.SubKey.KeyValue) != 0 {
		if _, err := checkKey(auth.SubKey); err != nil {
			return nil, malformed("authenticator subkey: %v", err)
		}
	}
	if !auth.CName.Equal(etp.CName) {
		return nil, fmt.Errorf("%w: authenticator client %s is not the ticket's %s", ErrIntegrity, auth.CName.PrincipalNameString(), etp.CName.PrincipalNameString())
	}
	if auth.CRealm != etp.CRealm {
		return nil, fmt.Errorf("%w: %w: authenticator realm %q is not the ticket's %q", ErrIntegrity, ErrWrongRealm, auth.CRealm, etp.CRealm)
	}
	return &auth, nil
}

// authenticatorChecksum decodes the 0x8003 checksum. A missing checksum
// means no flags and no bindings; another checksum type is refused, since
// without 0x8003 there is no place for flags or bindings and this acceptor
// does not serve raw (non-GSS) Kerberos.
func authenticatorChecksum(auth *types.Authenticator) (gssChecksum, error) {
	c := auth.Cksum
	if c.CksumType == 0 && len(c.Checksum) == 0 {
		return gssChecksum{}, nil
	}
	if c.CksumType != chksumtype.GSSAPI {
		return gssChecksum{}, malformed("authenticator checksum type %d, want %d", c.CksumType, chksumtype.GSSAPI)
	}
	return parseGSSChecksum(c.Checksum)
}

// checkBindings compares the client's Bnd with the expected bindings and
// reports whether they match.
//
// A client that sent none is accepted, unless it also announced
// KERB_AP_OPTIONS_CBT: a client that supports bindings and sent none was
// talked to over another channel (a TLS-terminating proxy, a downgrade),
// and MIT 1.19+ and Windows refuse it too.
func (a *Acceptor) checkBindings(bnd [16]byte, auth *types.Authenticator) (bool, error) {
	if a.bindings == nil {
		return false, nil
	}
	if !hasBindings(bnd) {
		if announcesCBT(auth.AuthorizationData) {
			return false, fmt.Errorf("%w: the client supports channel bindings (KERB_AP_OPTIONS_CBT) but sent none", ErrBadBindings)
		}
		if a.requireBnd {
			return false, fmt.Errorf("%w: the client sent no channel bindings and they are required", ErrBadBindings)
		}
		return false, nil
	}
	if bnd != *a.bindings {
		return false, fmt.Errorf("%w: client Bnd %x, expected %x", ErrBadBindings, bnd, *a.bindings)
	}
	return true, nil
}

// announcesCBT looks for KERB_AP_OPTIONS_CBT inside AD-IF-RELEVANT.
func announcesCBT(ad types.AuthorizationData) bool {
	for _, e := range ad {
		if e.ADType != adtype.ADIfRelevant {
			continue
		}
		var inner types.AuthorizationData
		if guard("AD-IF-RELEVANT", func() error { return inner.Unmarshal(e.ADData) }) != nil {
			continue // if-relevant data we cannot read may be ignored
		}
		for _, ie := range inner {
			if ie.ADType == adAuthDataAPOptions && len(ie.ADData) >= 4 &&
				binary.LittleEndian.Uint32(ie.ADData)&kerbAPOptionsCBT != 0 {
				return true
			}
		}
	}
	return false
}

// reply builds the security context and the reply token: an AP-REP when
// the client asked for mutual authentication, framed as the input was.
func (a *Acceptor) reply(acc *Accepted, in initialToken, sk *cryptoKey, auth *types.Authenticator) error {
	sessionKey := acc.Ticket.DecryptedEncPart.Key // this request's copy
	seq := seqFromASN1(auth.SeqNumber)
	acc.Context = &SecurityContext{
		Flags:           acc.Flags,
		SessionKey:      sessionKey,
		InitiatorSubkey: auth.SubKey,
		InitiatorSeq:    seq,
		AcceptorSeq:     seq,
	}
	if acc.Flags&FlagMutual != 0 {
		// The acceptor subkey has the session key's enctype, which is
		// what MIT picks when the client does not negotiate one.
		subkey, err := newKey(sessionKey.KeyType)
		if err != nil {
			return fmt.Errorf("gss: acceptor subkey: %w", err)
		}
		aseq, err := randomSeq()
		if err != nil {
			return fmt.Errorf("gss: acceptor sequence number: %w", err)
		}
		if acc.ReplyToken, err = marshalAPRep(sk, auth.CTime.UTC(), auth.Cusec, subkey, aseq, in.format, in.mech); err != nil {
			return err
		}
		acc.Context.AcceptorSubkey, acc.Context.AcceptorSeq = subkey, aseq
		return nil
	}
	if in.format == FormatSPNEGO {
		acc.ReplyToken = marshalNegTokenResp(negAcceptCompleted, in.mech, nil)
	}
	return nil
}

// marshalAPRep builds the reply token in one buffer: the AP-REP
// (RFC 4120 5.5.2) in its RFC 4121 framing, inside a NegTokenResp
// (accept-completed, mech) for FormatSPNEGO. EncAPRepPart is encrypted
// under the ticket session key with key usage 12, its cipher text written
// straight into the token. The sequence number is always encoded
// (gokrb5's struct marks it optional, which would drop a zero); the tests
// compare the result with gofork's encoding and the separately built
// framing.
func marshalAPRep(sessionKey *cryptoKey, ctime time.Time, cusec int, subkey types.EncryptionKey, seq uint64, format Format, mech []byte) ([]byte, error) {
	var pb [128]byte // EncAPRepPart: about 80 bytes with an AES-256 subkey
	e := derBuilder{buf: pb[:0]}
	e.open(0x60 | asnAppTag.EncAPRepPart)
	e.open(tagSequence)
	e.open(contextTag(0))
	e.generalizedTime(ctime)
	e.close()
	e.explicitInt(1, int64(cusec))
	e.open(contextTag(2))
	appendEncryptionKey(&e, subkey)
	e.close()
	e.explicitInt(3, int64(seq))
	e.close()
	e.close()
	defer clear(e.buf) // it holds the acceptor subkey

	b := derBuilder{buf: make([]byte, 0, len(e.buf)+len(mech)+128)}
	if format == FormatSPNEGO {
		b.open(tagNegResp)
		b.open(tagSequence)
		b.open(contextTag(0))
		b.primitive(tagEnumerated, []byte{negAcceptCompleted})
		b.close()
		b.open(contextTag(1))
		b.raw(mech)
		b.close()
		b.open(contextTag(2))
		b.open(tagOctetString)
	}
	openKerberosMessage(&b, tokIDAPRep, asnAppTag.APREP, msgtype.KRB_AP_REP)
	b.open(contextTag(2))
	b.open(tagSequence)
	b.explicitInt(0, int64(sessionKey.raw.KeyType))
	b.open(contextTag(2))
	b.open(tagOctetString)
	var err error
	if b.buf, err = sessionKey.encryptAppend(b.buf, keyusage.AP_REP_ENCPART, e.buf); err != nil {
		return nil, fmt.Errorf("gss: encrypt EncAPRepPart: %w", err)
	}
	for b.depth > 0 {
		b.close()
	}
	return b.buf, nil
}

// appendEncryptedData appends EncryptedData ::= SEQUENCE { etype [0]
// Int32, cipher [2] OCTET STRING } (no kvno: a session key has none).
func appendEncryptedData(b *derBuilder, ed types.EncryptedData) {
	b.open(tagSequence)
	b.explicitInt(0, int64(ed.EType))
	b.open(contextTag(2))
	b.primitive(tagOctetString, ed.Cipher)
	b.close()
	b.close()
}
