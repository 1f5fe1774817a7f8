package kdc

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/iana/patype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// maxReferrals bounds cross-realm and referral hops, as gokrb5 and MIT do.
const maxReferrals = 5

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

// ServiceTicket gets a ticket for server@realm starting from tgt: directly
// when tgt is for that realm, otherwise through a cross-realm TGT, and
// following KDC referrals, at most maxReferrals hops. intermediate, when
// not nil, is called with each cross-realm TGT obtained on the way, so the
// caller can cache them.
func (c *Client) ServiceTicket(ctx context.Context, tgt *Credential, server types.PrincipalName, realm string, intermediate func(*Credential)) (*Credential, error) {
	cur := tgt
	var seen []string
	for range maxReferrals + 1 {
		here := cur.TGTRealm()
		if slices.Contains(seen, here) {
			return nil, malformed("referral loop through realm "+here, nil)
		}
		seen = append(seen, here)
		target := server
		if realm != "" && realm != here {
			target = TGTName(realm)
		}
		rep, err := c.TGS(ctx, TGSRequest{TGT: cur, Server: target})
		if err != nil {
			return nil, err
		}
		if rep.Server.Equal(server) && (realm == "" || realm == here) {
			return rep, nil
		}
		if !rep.IsTGT() {
			return nil, malformed(fmt.Sprintf("KDC of %s answered with a ticket for %s", here, rep.Server.PrincipalNameString()), nil)
		}
		if intermediate != nil {
			intermediate(rep)
		}
		cur = rep
	}
	return nil, malformed(fmt.Sprintf("more than %d referrals for %s", maxReferrals, server.PrincipalNameString()), nil)
}

// send marshals a request, exchanges it with the realm's KDCs and returns
// the non-empty reply.
func (c *Client) send(ctx context.Context, realm, what string, marshal func() ([]byte, error)) ([]byte, error) {
	b, err := marshal()
	if err != nil {
		return nil, fmt.Errorf("marshal %s: %w", what, err)
	}
	reply, err := c.tr.Exchange(ctx, realm, b)
	if err != nil {
		return nil, err
	}
	if len(reply) == 0 {
		return nil, malformed("empty reply from KDC", nil)
	}
	return reply, nil
}
