package kdc

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/iana/patype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// maxReferrals bounds cross-realm and referral hops (MIT's
// KRB5_REFERRAL_MAXHOPS).
const maxReferrals = 10

// TGSRequest describes one TGS exchange.
type TGSRequest struct {
	// TGT is presented to the KDC of TGT.TGTRealm().
	TGT *Credential
	// Server is the principal the ticket is for, in the KDC's realm.
	Server types.PrincipalName
	// Options are KDC option flag numbers (package iana/flags) set on top of
	// the forwardable and proxiable flags copied from the TGT, for example
	// flags.Forwarded to get a forwarded TGT.
	Options []int
	// Lifetime: 0 means ticket_lifetime from krb5.conf.
	Lifetime time.Duration
	// AdditionalTickets go into the request (user-to-user, S4U2proxy).
	AdditionalTickets []messages.Ticket
}

// TGS performs one TGS exchange with the KDC of req.TGT's realm and returns
// the ticket it issues, which can be a referral TGT (krbtgt/OTHER) instead
// of the ticket asked for; see ServiceTicket for following those.
func (c *Client) TGS(ctx context.Context, req TGSRequest) (*Credential, error) {
	tgt := req.TGT
	if tgt == nil || !tgt.IsTGT() {
		return nil, fmt.Errorf("TGS request needs a TGT")
	}
	realm := tgt.TGTRealm()
	n, err := nonce()
	if err != nil {
		return nil, err
	}
	body := messages.KDCReqBody{
		KDCOptions: types.NewKrbFlags(),
		Realm:      realm,
		CName:      tgt.Client,
		SName:      req.Server,
		Till:       time.Now().UTC().Add(c.lifetime(req.Lifetime)),
		Nonce:      n,
		EType:      supportedETypes(c.cfg.LibDefaults.DefaultTGSEnctypeIDs),
	}
	for _, f := range copyableFlags {
		if isFlagSet(tgt.Flags, f) {
			types.SetFlag(&body.KDCOptions, f)
		}
	}
	for _, f := range req.Options {
		types.SetFlag(&body.KDCOptions, f)
	}
	body.AdditionalTickets = req.AdditionalTickets
	pa, err := paTGSReq(body, tgt)
	if err != nil {
		return nil, err
	}
	tgsReq := messages.TGSReq{KDCReqFields: messages.KDCReqFields{
		PVNO:    iana.PVNO,
		MsgType: msgtype.KRB_TGS_REQ,
		PAData:  types.PADataSequence{pa},
		ReqBody: body,
	}}
	reply, err := c.send(ctx, realm, "TGS-REQ", tgsReq.Marshal)
	if err != nil {
		return nil, err
	}
	switch reply[0] {
	case tagTGSRep:
	case tagKRBError:
		ke, err := parseKRBError(reply)
		if err != nil {
			return nil, err
		}
		return nil, krbError(ke, realm)
	default:
		return nil, malformed(fmt.Sprintf("unexpected reply to TGS-REQ (tag %#x)", reply[0]), nil)
	}
	var rep messages.TGSRep
	if err := safeUnmarshal(func() error { return rep.Unmarshal(reply) }); err != nil {
		return nil, malformed("malformed TGS-REP", err)
	}
	// No subkey is sent in the authenticator, so the reply is encrypted in
	// the TGT session key (usage 8), never in a subkey (usage 9).
	plain, err := crypto.DecryptEncPart(rep.EncPart, tgt.SessionKey, keyusage.TGS_REP_ENCPART_SESSION_KEY)
	if err != nil {
		return nil, malformed("cannot decrypt the TGS-REP", err)
	}
	var enc messages.EncKDCRepPart
	if err := safeUnmarshal(func() error { return enc.Unmarshal(plain) }); err != nil {
		return nil, malformed("malformed TGS-REP encrypted part", err)
	}
	referral := len(enc.SName.NameString) == 2 && enc.SName.NameString[0] == "krbtgt"
	switch {
	case enc.Nonce != body.Nonce:
		return nil, malformed("TGS-REP nonce does not match the request", nil)
	case !rep.CName.Equal(tgt.Client) || rep.CRealm != tgt.ClientRealm:
		return nil, malformed(fmt.Sprintf("TGS-REP for client %s@%s, expected %s@%s", rep.CName.PrincipalNameString(), rep.CRealm, tgt.Client.PrincipalNameString(), tgt.ClientRealm), nil)
	case enc.SRealm != realm || rep.Ticket.Realm != realm:
		return nil, malformed(fmt.Sprintf("TGS-REP from realm %s, expected %s", enc.SRealm, realm), nil)
	case !enc.SName.Equal(req.Server) && !referral:
		return nil, malformed(fmt.Sprintf("TGS-REP is for %s, asked for %s", enc.SName.PrincipalNameString(), req.Server.PrincipalNameString()), nil)
	}
	return newCredential(rep.KDCRepFields, enc), nil
}

// Renew renews tgt (a renewable TGT still valid) with a TGS exchange with
// the RENEW option, as kinit -R does: the KDC issues the same ticket with a
// new start and end time (its lifetime again, at most until its
// renew-till).
func (c *Client) Renew(ctx context.Context, tgt *Credential) (*Credential, error) {
	if tgt == nil || !tgt.IsTGT() {
		return nil, fmt.Errorf("renewal needs a TGT")
	}
	if !isFlagSet(tgt.Flags, flags.Renewable) {
		return nil, fmt.Errorf("TGT of %s@%s is not renewable", tgt.Client.PrincipalNameString(), tgt.ClientRealm)
	}
	return c.TGS(ctx, TGSRequest{TGT: tgt, Server: tgt.Server, Options: []int{flags.Renew, flags.Renewable}})
}

// paTGSReq builds the PA-TGS-REQ: an AP-REQ with the TGT whose
// authenticator checksums the request body (key usage 6).
func paTGSReq(body messages.KDCReqBody, tgt *Credential) (types.PAData, error) {
	b, err := body.Marshal()
	if err != nil {
		return types.PAData{}, fmt.Errorf("marshal TGS-REQ body: %w", err)
	}
	et, err := crypto.GetEtype(tgt.SessionKey.KeyType)
	if err != nil {
		return types.PAData{}, err
	}
	sum, err := et.GetChecksumHash(tgt.SessionKey.KeyValue, b, keyusage.TGS_REQ_PA_TGS_REQ_AP_REQ_AUTHENTICATOR_CHKSUM)
	if err != nil {
		return types.PAData{}, fmt.Errorf("checksum TGS-REQ body: %w", err)
	}
	// The authenticator names the client's realm, which differs from the
	// ticket's realm for a cross-realm TGT.
	auth, err := types.NewAuthenticator(tgt.ClientRealm, tgt.Client)
	if err != nil {
		return types.PAData{}, err
	}
	auth.Cksum = types.Checksum{CksumType: et.GetHashID(), Checksum: sum}
	ap, err := messages.NewAPReq(tgt.Ticket, tgt.SessionKey, auth)
	if err != nil {
		return types.PAData{}, fmt.Errorf("build AP-REQ: %w", err)
	}
	apb, err := ap.Marshal()
	if err != nil {
		return types.PAData{}, fmt.Errorf("marshal AP-REQ: %w", err)
	}
	return types.PAData{PADataType: patype.PA_TGS_REQ, PADataValue: apb}, nil
}

// ServiceTicket gets a ticket for server in realm, starting from tgt (a
// TGT of the client's realm), as MIT's krb5_get_credentials does:
//
//   - realm is tgt's realm: one TGS exchange;
//   - realm is another realm: a cross-realm TGT first, along the path
//     [capaths] gives (see WithCapaths; without an entry, directly),
//     accepting a TGT for a realm further along the path, trying closer
//     realms when the KDC refuses one, and chasing TGTs off the path the
//     KDC sends (it may know a route the client does not), then the ticket
//     from the KDC of realm;
//   - realm is empty (no [domain_realm] entry for the host): the request
//     goes to the client's realm with the canonicalize flag and the KDC's
//     referrals are followed; when that fails, the realm WithFallbackRealm
//     names for the host is tried as above.
//
// Loops are detected and every chase is bounded (maxReferrals hops).
// intermediate, when not nil, is called with each cross-realm TGT obtained
// on the way, so the caller can cache them.
func (c *Client) ServiceTicket(ctx context.Context, tgt *Credential, server types.PrincipalName, realm string, intermediate func(*Credential)) (*Credential, error) {
	if tgt == nil || !tgt.IsTGT() {
		return nil, fmt.Errorf("a service ticket needs a TGT")
	}
	if intermediate == nil {
		intermediate = func(*Credential) {}
	}
	home := tgt.TGTRealm()
	if realm == "" {
		cred, err := c.referrals(ctx, tgt, server, intermediate)
		if err == nil || ctx.Err() != nil {
			return cred, err
		}
		fallback := ""
		if c.fallbackRealm != nil && len(server.NameString) == 2 {
			fallback = c.fallbackRealm(ctx, server.NameString[1])
		}
		if fallback == "" || fallback == home {
			return nil, err
		}
		c.log.LogAttrs(ctx, slog.LevelDebug, "kdc: referrals failed, trying the fallback realm",
			slog.String("server", server.PrincipalNameString()), slog.String("realm", fallback), slog.Any("error", err))
		realm = fallback
	}
	cur := tgt
	if realm != home {
		var err error
		if cur, err = c.foreignTGT(ctx, tgt, realm, intermediate); err != nil {
			return nil, err
		}
	}
	rep, err := c.TGS(ctx, TGSRequest{TGT: cur, Server: server})
	if err != nil {
		return nil, err
	}
	if !rep.Server.Equal(server) {
		return nil, malformed(fmt.Sprintf("KDC of %s answered with a ticket for %s, asked for %s", realm, rep.Server.PrincipalNameString(), server.PrincipalNameString()), nil)
	}
	return rep, nil
}

// referrals asks the client's realm for server with the canonicalize
// flag and follows the referral TGTs the KDCs answer with (MIT's
// step_referrals).
func (c *Client) referrals(ctx context.Context, tgt *Credential, server types.PrincipalName, intermediate func(*Credential)) (*Credential, error) {
	cur := tgt
	seen := []string{tgt.TGTRealm()}
	for range maxReferrals + 1 {
		rep, err := c.TGS(ctx, TGSRequest{TGT: cur, Server: server, Options: []int{flags.Canonicalize}})
		if err != nil {
			return nil, err
		}
		if rep.Server.Equal(server) {
			return rep, nil
		}
		if !rep.IsTGT() || rep.TGTRealm() == cur.TGTRealm() {
			return nil, malformed(fmt.Sprintf("KDC of %s answered with a ticket for %s", cur.TGTRealm(), rep.Server.PrincipalNameString()), nil)
		}
		next := rep.TGTRealm()
		if slices.Contains(seen, next) {
			return nil, malformed("referral loop through realm "+next, nil)
		}
		seen = append(seen, next)
		c.log.LogAttrs(ctx, slog.LevelDebug, "kdc: referral", slog.String("server", server.PrincipalNameString()), slog.String("from", cur.TGTRealm()), slog.String("to", next))
		intermediate(rep)
		cur = rep
	}
	return nil, malformed(fmt.Sprintf("more than %d referrals for %s", maxReferrals, server.PrincipalNameString()), nil)
}

// RealmPath is the path of realms from client to server as MIT's
// k5_client_realm_path makes it: client, the [capaths] intermediates
// (none for "."), server.
func RealmPath(client, server string, capaths func(client, server string) []string) []string {
	path := []string{client}
	if capaths != nil {
		for _, r := range capaths(client, server) {
			r = strings.TrimSpace(r)
			if r == "." {
				break
			}
			if r != "" && r != client && r != server && !slices.Contains(path, r) {
				path = append(path, r)
			}
		}
	}
	return append(path, server)
}

// foreignTGT gets a TGT for target from tgt's realm (MIT's step_get_tgt
// and step_get_tgt_offpath).
func (c *Client) foreignTGT(ctx context.Context, tgt *Credential, target string, intermediate func(*Credential)) (*Credential, error) {
	home := tgt.TGTRealm()
	path := RealmPath(home, target, c.capaths)
	last := len(path) - 1
	cur, curIdx, next := tgt, 0, last
	seen := []string{home}
	for range 2 * (maxReferrals + len(path)) {
		rep, err := c.TGS(ctx, TGSRequest{TGT: cur, Server: TGTName(path[next])})
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			// Try the next-closest realm on the path.
			if next--; next == curIdx {
				return nil, err
			}
			continue
		}
		if !rep.IsTGT() {
			return nil, malformed(fmt.Sprintf("KDC of %s answered a TGT request with a ticket for %s", cur.TGTRealm(), rep.Server.PrincipalNameString()), nil)
		}
		got := rep.TGTRealm()
		idx := slices.Index(path[curIdx+1:], got)
		switch {
		case idx >= 0:
			intermediate(rep)
			seen = append(seen, got)
			cur, curIdx, next = rep, curIdx+1+idx, last
			if curIdx == last {
				return cur, nil
			}
		case got == home:
			return nil, malformed(fmt.Sprintf("KDC of %s referred back to the client's realm %s", cur.TGTRealm(), home), nil)
		default:
			return c.offPath(ctx, rep, target, seen, intermediate)
		}
	}
	return nil, malformed(fmt.Sprintf("no path to realm %s within %d hops", target, maxReferrals), nil)
}

// offPath follows TGTs for realms not on the expected path: the KDC may
// know a route the client does not. Each holder of a TGT is asked for the
// target realm's TGT, at most maxReferrals times, never twice the same realm.
func (c *Client) offPath(ctx context.Context, cur *Credential, target string, seen []string, intermediate func(*Credential)) (*Credential, error) {
	for range maxReferrals {
		got := cur.TGTRealm()
		if slices.Contains(seen, got) {
			return nil, malformed("cross-realm loop through realm "+got, nil)
		}
		seen = append(seen, got)
		intermediate(cur)
		if got == target {
			return cur, nil
		}
		rep, err := c.TGS(ctx, TGSRequest{TGT: cur, Server: TGTName(target)})
		if err != nil {
			return nil, err
		}
		if !rep.IsTGT() {
			return nil, malformed(fmt.Sprintf("KDC of %s answered a TGT request with a ticket for %s", got, rep.Server.PrincipalNameString()), nil)
		}
		cur = rep
	}
	return nil, malformed(fmt.Sprintf("more than %d off-path TGTs on the way to %s", maxReferrals, target), nil)
}

type exchangeFunc func(ctx context.Context, realm string, req []byte) ([]byte, error)

// send marshals a request, exchanges it with the realm's KDCs and returns
// the non-empty reply.
func (c *Client) send(ctx context.Context, realm, what string, marshal func() ([]byte, error)) ([]byte, error) {
	return c.sendVia(ctx, c.tr.Exchange, realm, what, marshal)
}

func (c *Client) sendVia(ctx context.Context, exchange exchangeFunc, realm, what string, marshal func() ([]byte, error)) ([]byte, error) {
	b, err := marshal()
	if err != nil {
		return nil, fmt.Errorf("marshal %s: %w", what, err)
	}
	reply, err := exchange(ctx, realm, b)
	if err != nil {
		return nil, err
	}
	if len(reply) == 0 {
		return nil, malformed("empty reply from KDC", nil)
	}
	return reply, nil
}
