package gss

import (
	"fmt"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/asn1tools"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana"
	"github.com/jcmturner/gokrb5/v8/iana/asnAppTag"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth/ticket"
)

// The KRB-CRED structures (RFC 4120 5.8) are declared here rather than
// taken from gokrb5: its KrbCredInfo tags srealm as IA5String where the
// RFC says GeneralString (Realm), so a KRB-CRED marshalled from it would
// carry the wrong universal tag, and it has no marshalling code at all.

// encKrbCredPart is EncKrbCredPart without its [APPLICATION 29] tag.
// Nonce, timestamp and addresses are left out when building: GSS-API
// delegation runs inside an authenticator that already has a timestamp and
// is replay-checked, and addresses would tie the TGT to one host.
type encKrbCredPart struct {
	TicketInfo []krbCredInfo `asn1:"explicit,tag:0"`
	Nonce      int           `asn1:"optional,explicit,tag:1"`
	Timestamp  time.Time     `asn1:"generalized,optional,explicit,tag:2"`
	Usec       int           `asn1:"optional,explicit,tag:3"`
}

type krbCredInfo struct {
	Key       types.EncryptionKey `asn1:"explicit,tag:0"`
	PRealm    string              `asn1:"generalstring,optional,explicit,tag:1"`
	PName     types.PrincipalName `asn1:"optional,explicit,tag:2"`
	Flags     asn1.BitString      `asn1:"optional,explicit,tag:3"`
	AuthTime  time.Time           `asn1:"generalized,optional,explicit,tag:4"`
	StartTime time.Time           `asn1:"generalized,optional,explicit,tag:5"`
	EndTime   time.Time           `asn1:"generalized,optional,explicit,tag:6"`
	RenewTill time.Time           `asn1:"generalized,optional,explicit,tag:7"`
	SRealm    string              `asn1:"generalstring,optional,explicit,tag:8"`
	SName     types.PrincipalName `asn1:"optional,explicit,tag:9"`
}

// etypeNull is the "no encryption" enctype some implementations use for
// the KRB-CRED of GSS-API delegation: the authenticator that carries it is
// encrypted already.
const etypeNull = 0

// MarshalKRBCred builds the KRB-CRED message (RFC 4120 5.8) that delegates
// tkt, normally a forwarded TGT from
// a ticket source (package credentials: TGTSource.ForwardedTGT), for
// [InitiatorConfig.Delegation].
// Its encrypted part is encrypted in key with key usage 14; for GSS-API
// delegation that is the session key of the service ticket the AP-REQ
// carries, which MIT, Heimdal and Windows acceptors all try.
func MarshalKRBCred(tkt *ticket.Ticket, key types.EncryptionKey) ([]byte, error) {
	if tkt == nil || len(tkt.Ticket.SName.NameString) == 0 || len(tkt.Client.NameString) == 0 {
		return nil, fmt.Errorf("gss: KRB-CRED needs a ticket with client and server names")
	}
	if _, err := checkKey(tkt.SessionKey); err != nil {
		return nil, fmt.Errorf("gss: KRB-CRED ticket session key: %w", err)
	}
	info := krbCredInfo{
		Key:       tkt.SessionKey,
		PRealm:    tkt.ClientRealm,
		PName:     tkt.Client,
		Flags:     tkt.Flags,
		AuthTime:  kerberosTime(tkt.AuthTime),
		StartTime: kerberosTime(tkt.StartTime),
		EndTime:   kerberosTime(tkt.EndTime),
		RenewTill: kerberosTime(tkt.RenewTill),
		SRealm:    tkt.Ticket.Realm,
		SName:     tkt.Ticket.SName,
	}
	enc, err := asn1.Marshal(encKrbCredPart{TicketInfo: []krbCredInfo{info}})
	if err != nil {
		return nil, fmt.Errorf("gss: marshal EncKrbCredPart: %w", err)
	}
	ed, err := crypto.GetEncryptedData(asn1tools.AddASNAppTag(enc, asnAppTag.EncKrbCredPart), key, keyusage.KRB_CRED_ENCPART, 0)
	if err != nil {
		return nil, fmt.Errorf("gss: encrypt EncKrbCredPart: %w", err)
	}
	ticket, err := tkt.Ticket.Marshal()
	if err != nil {
		return nil, fmt.Errorf("gss: marshal KRB-CRED ticket: %w", err)
	}
	encPart, err := asn1.Marshal(ed)
	if err != nil {
		return nil, fmt.Errorf("gss: marshal KRB-CRED enc-part: %w", err)
	}
	// The outer layers are written by hand: gofork asn1 drops the explicit
	// tag of a RawValue field, and gokrb5's MarshalTicketSequence adds a
	// tag of its own, so neither gives the SEQUENCE OF Ticket in [2] that
	// MIT expects.
	return der(0x60|asnAppTag.KRBCred, der(tagSequence,
		der(contextTag(0), smallInt(iana.PVNO)),
		der(contextTag(1), smallInt(msgtype.KRB_CRED)),
		der(contextTag(2), der(tagSequence, ticket)),
		der(contextTag(3), encPart),
	)), nil
}

// smallInt is the DER INTEGER of a value below 128.
func smallInt(v int) []byte { return []byte{tagInteger, 1, byte(v)} }

// kerberosTime is t as KerberosTime holds it: UTC, whole seconds. The
// zero time stays zero, so optional fields stay absent.
func kerberosTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Second)
}

// ParseKRBCred decrypts a KRB-CRED message and returns the tickets it
// delegates, with their session keys. keys are tried in order: MIT's
// initiator encrypts in the service ticket's session key, others have used
// the authenticator subkey, so an acceptor passes both (see
// [Accepted.DelegatedTicket]). A KRB-CRED with the null enctype is read
// without a key, as MIT's and Windows' acceptors do: inside a GSS
// authenticator it is protected by the authenticator's encryption. That is
// what this function is for; a KRB-CRED that travelled unprotected proves
// nothing about who sent it.
//
// Every error wraps ErrMalformedToken, or ErrIntegrity when no key
// decrypts the message.
func ParseKRBCred(b []byte, keys ...types.EncryptionKey) ([]*ticket.Ticket, error) {
	tickets, encPart, err := parseKRBCredMessage(b)
	if err != nil {
		return nil, err
	}
	pt, err := decryptKRBCred(encPart, keys)
	if err != nil {
		return nil, err
	}
	if err := checkDER(pt, "EncKrbCredPart"); err != nil {
		return nil, err
	}
	var enc encKrbCredPart
	err = guard("EncKrbCredPart", func() error {
		_, err := asn1.UnmarshalWithParams(pt, &enc, fmt.Sprintf("application,explicit,tag:%d", asnAppTag.EncKrbCredPart))
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(enc.TicketInfo) == 0 || len(enc.TicketInfo) != len(tickets) {
		return nil, malformed("KRB-CRED has %d tickets and %d ticket infos", len(tickets), len(enc.TicketInfo))
	}
	out := make([]*ticket.Ticket, len(tickets))
	for i, info := range enc.TicketInfo {
		if _, err := checkKey(info.Key); err != nil {
			return nil, malformed("KRB-CRED ticket %d session key: %v", i, err)
		}
		out[i] = &ticket.Ticket{
			Ticket:      tickets[i],
			SessionKey:  info.Key,
			Client:      info.PName,
			ClientRealm: info.PRealm,
			Flags:       info.Flags,
			AuthTime:    info.AuthTime,
			StartTime:   info.StartTime,
			EndTime:     info.EndTime,
			RenewTill:   info.RenewTill,
		}
	}
	return out, nil
}

// parseKRBCredMessage splits a KRB-CRED into its tickets and its still
// encrypted part.
func parseKRBCredMessage(b []byte) ([]messages.Ticket, types.EncryptedData, error) {
	var (
		tickets []messages.Ticket
		encPart types.EncryptedData
		next    int
	)
	if err := checkDER(b, "KRB-CRED"); err != nil {
		return nil, encPart, err
	}
	// Parsed by hand for the same reasons it is built by hand, and
	// because gokrb5's KRBCred.Unmarshal expects the extra tag its
	// marshaller adds and fails on MIT's KRB-CRED.
	app, err := readOnlyDER(b, 0x60|asnAppTag.KRBCred, "KRB-CRED")
	if err != nil {
		return nil, encPart, err
	}
	err = sequenceFields(app.content, "KRB-CRED", func(n int, el derElement) error {
		if n != next {
			return malformed("KRB-CRED field [%d] where [%d] belongs", n, next)
		}
		next++
		switch n {
		case 0:
			return expectSmallInt(el, iana.PVNO, "KRB-CRED pvno")
		case 1:
			return expectSmallInt(el, msgtype.KRB_CRED, "KRB-CRED msg-type")
		case 2:
			var err error
			tickets, err = parseTickets(el)
			return err
		case 3:
			return guard("KRB-CRED enc-part", func() error {
				_, err := asn1.Unmarshal(el.full, &encPart)
				return err
			})
		}
		return nil
	})
	if err == nil && next != 4 {
		err = malformed("KRB-CRED has %d fields, want 4", next)
	}
	return tickets, encPart, err
}

// expectSmallInt checks that el is the DER INTEGER v (below 128).
func expectSmallInt(el derElement, v int, what string) error {
	if el.tag != tagInteger || len(el.content) != 1 || int(el.content[0]) != v {
		return malformed("%s is not %d", what, v)
	}
	return nil
}

// parseTickets decodes the SEQUENCE OF Ticket of a KRB-CRED.
func parseTickets(seq derElement) ([]messages.Ticket, error) {
	if err := expectTag(seq, tagSequence, "KRB-CRED tickets"); err != nil {
		return nil, err
	}
	var out []messages.Ticket
	for rest := seq.content; len(rest) > 0; {
		el, next, err := readDER(rest)
		if err != nil {
			return nil, fmt.Errorf("KRB-CRED tickets: %w", err)
		}
		if el.tag != 0x60|asnAppTag.Ticket {
			return nil, malformed("KRB-CRED ticket tag 0x%02x", el.tag)
		}
		var t messages.Ticket
		if err := guard("KRB-CRED ticket", func() error { return t.Unmarshal(el.full) }); err != nil {
			return nil, err
		}
		out = append(out, t)
		rest = next
	}
	return out, nil
}

// decryptKRBCred returns the plaintext EncKrbCredPart.
func decryptKRBCred(ed types.EncryptedData, keys []types.EncryptionKey) ([]byte, error) {
	if ed.EType == etypeNull {
		return ed.Cipher, nil
	}
	var errs []error
	for _, k := range keys {
		if k.KeyType != ed.EType || len(k.KeyValue) == 0 {
			continue
		}
		pt, err := decrypt(ed, k, keyusage.KRB_CRED_ENCPART)
		if err == nil {
			return pt, nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return nil, fmt.Errorf("%w: KRB-CRED encrypted with enctype %d, for which no key is at hand", ErrIntegrity, ed.EType)
	}
	return nil, fmt.Errorf("%w: KRB-CRED does not decrypt: %v", ErrIntegrity, errs)
}

// delegatedTickets decodes a KRB-CRED received in an authenticator, with
// the keys of the context it came in, and checks that it delegates the
// authenticated client's own credentials: a ticket naming someone else is
// refused, an info without a client name is given the ticket's client.
func delegatedTickets(krbCred []byte, client types.PrincipalName, realm string, keys ...types.EncryptionKey) ([]*ticket.Ticket, error) {
	tkts, err := ParseKRBCred(krbCred, keys...)
	if err != nil {
		return nil, fmt.Errorf("delegated credentials: %w", err)
	}
	for _, t := range tkts {
		if len(t.Client.NameString) == 0 && t.ClientRealm == "" {
			t.Client, t.ClientRealm = client, realm
		}
		if !t.Client.Equal(client) || t.ClientRealm != realm {
			return nil, malformed("delegated credentials are for %s, not the authenticated %s",
				t.ClientPrincipal(), ticket.PrincipalString(client, realm))
		}
	}
	return tkts, nil
}
