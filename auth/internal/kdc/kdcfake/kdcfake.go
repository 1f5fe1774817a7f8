package kdcfake

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana"
	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/iana/patype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

const etype = etypeID.AES256_CTS_HMAC_SHA1_96

// KDC is a fake KDC for one realm. Configure it before use; the counters
// and knobs are safe to read and change while it serves.
type KDC struct {
	Realm string

	mu        sync.Mutex
	keys      *keytab.Keytab // every principal's key, krbtgt included
	passwords map[string]string
	now       func() time.Time
	lifetime  time.Duration
	delay     time.Duration
	fail      error
	asCount   map[string]int
	tgsCount  map[string]int
	referrals map[string]string // host -> realm to refer to
	routes    map[string]string // target realm -> next realm
}

// New returns a KDC for realm with a krbtgt key and a 10 hour lifetime.
func New(realm string) *KDC {
	k := &KDC{
		Realm:     realm,
		keys:      keytab.New(),
		passwords: make(map[string]string),
		now:       time.Now,
		lifetime:  10 * time.Hour,
		asCount:   make(map[string]int),
		tgsCount:  make(map[string]int),
		referrals: make(map[string]string),
		routes:    make(map[string]string),
	}
	// AddEntry fails only for an unknown enctype; aes256 is known.
	_ = k.addKey("krbtgt/"+realm, "krbtgt-secret")
	return k
}

func (k *KDC) addKey(name, pw string) error {
	return k.keys.AddEntry(name, k.Realm, pw, time.Unix(1, 0), 1, etype)
}

// AddUser adds a password principal such as "alice".
func (k *KDC) AddUser(name, password string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.passwords[name] = password
	return k.addKey(name, password)
}

// AddService adds a service principal such as "HTTP/web.example.test".
func (k *KDC) AddService(spn string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.addKey(spn, "service-secret-"+spn)
}

// Trust makes a and b trust each other both ways, as kadmin's addprinc of
// krbtgt/B@A and krbtgt/A@B with the same keys in both databases does.
func Trust(a, b *KDC) error {
	for _, p := range [][2]*KDC{{a, b}, {b, a}} {
		from, to := p[0], p[1]
		pw := "cross-realm-" + to.Realm + "@" + from.Realm
		from.mu.Lock()
		err := from.addKey("krbtgt/"+to.Realm, pw)
		from.mu.Unlock()
		if err != nil {
			return err
		}
		// The issuing realm's name for the key: krbtgt/TO@FROM.
		to.mu.Lock()
		err = to.keys.AddEntry("krbtgt/"+to.Realm, from.Realm, pw, time.Unix(1, 0), 1, etype)
		to.mu.Unlock()
		if err != nil {
			return err
		}
	}
	return nil
}

// Refer makes the KDC answer a request with the canonicalize flag for a
// service on host, which it does not know, with a referral TGT for realm
// (as an MIT KDC does from its own [domain_realm]).
func (k *KDC) Refer(host, realm string) { k.mu.Lock(); k.referrals[host] = realm; k.mu.Unlock() }

// Route makes the KDC answer a request for krbtgt/target, which it does
// not have, with krbtgt/next (as an MIT KDC does from its [capaths]).
func (k *KDC) Route(target, next string) { k.mu.Lock(); k.routes[target] = next; k.mu.Unlock() }

// UserKeytab returns a keytab holding the key of user.
func (k *KDC) UserKeytab(user string) (*keytab.Keytab, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	kt := keytab.New()
	if err := kt.AddEntry(user, k.Realm, k.passwords[user], time.Unix(1, 0), 1, etype); err != nil {
		return nil, err
	}
	return kt, nil
}

// SetClock makes the KDC stamp tickets with now() instead of time.Now.
func (k *KDC) SetClock(now func() time.Time) { k.mu.Lock(); k.now = now; k.mu.Unlock() }

// SetLifetime sets the lifetime of the tickets issued from now on.
func (k *KDC) SetLifetime(d time.Duration) { k.mu.Lock(); k.lifetime = d; k.mu.Unlock() }

// SetDelay makes every exchange wait d (or until the context ends).
func (k *KDC) SetDelay(d time.Duration) { k.mu.Lock(); k.delay = d; k.mu.Unlock() }

// SetFailure makes every exchange return err (nil to answer again).
func (k *KDC) SetFailure(err error) { k.mu.Lock(); k.fail = err; k.mu.Unlock() }

// ASCount returns how many TGTs were issued to user.
func (k *KDC) ASCount(user string) int { k.mu.Lock(); defer k.mu.Unlock(); return k.asCount[user] }

// TGSCount returns how many tickets were issued for server ("HTTP/host").
func (k *KDC) TGSCount(server string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.tgsCount[server]
}

// Exchange implements kdc.Transport.
func (k *KDC) Exchange(ctx context.Context, realm string, req []byte) ([]byte, error) {
	k.mu.Lock()
	delay, fail := k.delay, k.fail
	k.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
	if fail != nil {
		return nil, fail
	}
	if realm != k.Realm {
		return nil, fmt.Errorf("kdcfake: no KDC for realm %s", realm)
	}
	if len(req) == 0 {
		return nil, errors.New("kdcfake: empty request")
	}
	switch req[0] {
	case 0x6a: // AS-REQ
		return k.as(req)
	case 0x6c: // TGS-REQ
		return k.tgs(req)
	}
	return nil, errors.New("kdcfake: unknown request")
}

func (k *KDC) errorReply(code int32, sname types.PrincipalName, edata []byte) ([]byte, error) {
	e := messages.NewKRBError(sname, k.Realm, code, "")
	e.EData = edata
	return e.Marshal()
}

func (k *KDC) as(b []byte) ([]byte, error) {
	var req messages.ASReq
	if err := req.Unmarshal(b); err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	cname := req.ReqBody.CName
	name := cname.PrincipalNameString()
	ukey, _, err := k.keys.GetEncryptionKey(cname, k.Realm, 0, etype)
	if err != nil {
		return k.errorReply(errorcode.KDC_ERR_C_PRINCIPAL_UNKNOWN, req.ReqBody.SName, nil)
	}
	var ts []byte
	for _, pa := range req.PAData {
		if pa.PADataType == patype.PA_ENC_TIMESTAMP {
			ts = pa.PADataValue
		}
	}
	if ts == nil {
		info, _ := asn1.Marshal(types.ETypeInfo2{{EType: etype, Salt: cname.GetSalt(k.Realm)}})
		edata, _ := asn1.Marshal(types.PADataSequence{
			{PADataType: patype.PA_ENC_TIMESTAMP},
			{PADataType: patype.PA_ETYPE_INFO2, PADataValue: info},
		})
		return k.errorReply(errorcode.KDC_ERR_PREAUTH_REQUIRED, req.ReqBody.SName, edata)
	}
	var ed types.EncryptedData
	if err := ed.Unmarshal(ts); err != nil {
		return nil, err
	}
	if _, err := crypto.DecryptEncPart(ed, ukey, keyusage.AS_REQ_PA_ENC_TIMESTAMP); err != nil {
		return k.errorReply(errorcode.KDC_ERR_PREAUTH_FAILED, req.ReqBody.SName, nil)
	}
	k.asCount[name]++
	f := req.ReqBody.KDCOptions
	tflags := types.NewKrbFlags()
	types.SetFlag(&tflags, flags.Initial)
	types.SetFlag(&tflags, flags.PreAuthent)
	if types.IsFlagSet(&f, flags.Forwardable) {
		types.SetFlag(&tflags, flags.Forwardable)
	}
	return k.reply(msgtype.KRB_AS_REP, cname, k.Realm, req.ReqBody.SName, req.ReqBody.Nonce, tflags, ukey, keyusage.AS_REP_ENCPART)
}

// reply issues a ticket for sname to cname and encrypts the reply part in
// replyKey with usage.
func (k *KDC) reply(msgType int, cname types.PrincipalName, crealm string, sname types.PrincipalName, nonce int, tflags asn1.BitString, replyKey types.EncryptionKey, usage uint32) ([]byte, error) {
	now := k.now().UTC().Truncate(time.Second)
	end := now.Add(k.lifetime)
	tkt, skey, err := messages.NewTicket(cname, crealm, sname, k.Realm, tflags, k.keys, etype, 1, now, now, end, time.Time{})
	if err != nil {
		return nil, err
	}
	enc := messages.EncKDCRepPart{
		Key:       skey,
		LastReqs:  []messages.LastReq{{LRType: 0, LRValue: now}},
		Nonce:     nonce,
		Flags:     tflags,
		AuthTime:  now,
		StartTime: now,
		EndTime:   end,
		SRealm:    k.Realm,
		SName:     sname,
	}
	eb, err := enc.Marshal()
	if err != nil {
		return nil, err
	}
	ed, err := crypto.GetEncryptedData(eb, replyKey, usage, 1)
	if err != nil {
		return nil, err
	}
	fields := messages.KDCRepFields{PVNO: iana.PVNO, MsgType: msgType, CRealm: crealm, CName: cname, Ticket: tkt, EncPart: ed}
	if msgType == msgtype.KRB_AS_REP {
		rep := messages.ASRep{KDCRepFields: fields}
		return rep.Marshal()
	}
	rep := messages.TGSRep{KDCRepFields: fields}
	return rep.Marshal()
}

func (k *KDC) tgs(b []byte) ([]byte, error) {
	var req messages.TGSReq
	if err := req.Unmarshal(b); err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	var ap messages.APReq
	for _, pa := range req.PAData {
		if pa.PADataType == patype.PA_TGS_REQ {
			if err := ap.Unmarshal(pa.PADataValue); err != nil {
				return nil, err
			}
		}
	}
	if err := ap.Ticket.DecryptEncPart(k.keys, nil); err != nil {
		return k.errorReply(errorcode.KRB_AP_ERR_BAD_INTEGRITY, req.ReqBody.SName, nil)
	}
	tgt := ap.Ticket.DecryptedEncPart
	if !k.now().Before(tgt.EndTime) {
		return k.errorReply(errorcode.KRB_AP_ERR_TKT_EXPIRED, req.ReqBody.SName, nil)
	}
	sname := req.ReqBody.SName
	if _, _, err := k.keys.GetEncryptionKey(sname, k.Realm, 0, etype); err != nil {
		sname = k.redirect(sname, req.ReqBody.KDCOptions)
		if _, _, err := k.keys.GetEncryptionKey(sname, k.Realm, 0, etype); err != nil {
			return k.errorReply(errorcode.KDC_ERR_S_PRINCIPAL_UNKNOWN, req.ReqBody.SName, nil)
		}
	}
	k.tgsCount[strings.Join(sname.NameString, "/")]++
	tflags := types.NewKrbFlags()
	opts := req.ReqBody.KDCOptions
	for _, f := range []int{flags.Forwardable, flags.Forwarded} {
		if types.IsFlagSet(&opts, f) && types.IsFlagSet(&tgt.Flags, flags.Forwardable) {
			types.SetFlag(&tflags, f)
		}
	}
	if sname.NameType == 0 {
		sname.NameType = nametype.KRB_NT_PRINCIPAL
	}
	return k.reply(msgtype.KRB_TGS_REP, tgt.CName, tgt.CRealm, sname, req.ReqBody.Nonce, tflags, tgt.Key, keyusage.TGS_REP_ENCPART_SESSION_KEY)
}

// redirect returns the TGT this KDC hands out instead of an unknown
// sname: a referral for a host it knows to be elsewhere (canonicalize
// requests only), the next hop towards a realm it has no key for.
func (k *KDC) redirect(sname types.PrincipalName, opts asn1.BitString) types.PrincipalName {
	if len(sname.NameString) != 2 {
		return sname
	}
	if sname.NameString[0] == "krbtgt" {
		if next, ok := k.routes[sname.NameString[1]]; ok {
			return types.PrincipalName{NameType: nametype.KRB_NT_SRV_INST, NameString: []string{"krbtgt", next}}
		}
		return sname
	}
	if realm, ok := k.referrals[sname.NameString[1]]; ok && types.IsFlagSet(&opts, flags.Canonicalize) {
		return types.PrincipalName{NameType: nametype.KRB_NT_SRV_INST, NameString: []string{"krbtgt", realm}}
	}
	return sname
}
