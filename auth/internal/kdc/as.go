package kdc

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/patype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// ErrNoCredentials: the secret holds no usable key for the principal (for
// example a keytab without its entries).
var ErrNoCredentials = errors.New("no credentials")

// Secret is a client's long-term key source: a password or a keytab.
type Secret interface {
	// etypes keeps the enctypes of want the secret can produce a key for.
	etypes(cname types.PrincipalName, realm string, want []int32) []int32
	// key returns the key for etype, using the salt and string-to-key
	// parameters the KDC announced (empty salt: the default salt).
	key(cname types.PrincipalName, realm string, etype int32, salt string, s2kparams []byte) (types.EncryptionKey, int, error)
}

// Password returns a Secret deriving keys from a password.
func Password(pw string) Secret { return password(pw) }

type password string

func (password) etypes(_ types.PrincipalName, _ string, want []int32) []int32 { return want }

func (p password) key(cname types.PrincipalName, realm string, etype int32, salt string, s2kparams []byte) (types.EncryptionKey, int, error) {
	et, err := crypto.GetEtype(etype)
	if err != nil {
		return types.EncryptionKey{}, 0, err
	}
	if salt == "" {
		salt = cname.GetSalt(realm)
	}
	params := et.GetDefaultStringToKeyParams()
	if len(s2kparams) > 0 {
		params = hex.EncodeToString(s2kparams)
	}
	k, err := et.StringToKey(string(p), salt, params)
	if err != nil {
		return types.EncryptionKey{}, 0, fmt.Errorf("string-to-key for enctype %d: %w", etype, err)
	}
	return types.EncryptionKey{KeyType: etype, KeyValue: k}, 0, nil
}

// Keytab returns a Secret taking keys from kt (the newest kvno).
func Keytab(kt *keytab.Keytab) Secret { return keytabSecret{kt} }

type keytabSecret struct{ kt *keytab.Keytab }

func (k keytabSecret) etypes(cname types.PrincipalName, realm string, want []int32) []int32 {
	var out []int32
	for _, et := range want {
		if _, _, err := k.kt.GetEncryptionKey(cname, realm, 0, et); err == nil {
			out = append(out, et)
		}
	}
	return out
}

func (k keytabSecret) key(cname types.PrincipalName, realm string, etype int32, _ string, _ []byte) (types.EncryptionKey, int, error) {
	key, kvno, err := k.kt.GetEncryptionKey(cname, realm, 0, etype)
	if err != nil {
		return key, 0, &wrapped{sentinel: ErrNoCredentials, msg: fmt.Sprintf("keytab has no enctype %d key for %s@%s", etype, cname.PrincipalNameString(), realm)}
	}
	return key, kvno, nil
}

// LoginOptions adjust an AS request.
type LoginOptions struct {
	Forwardable bool          // ask for a forwardable TGT (needed for delegation)
	Lifetime    time.Duration // 0: ticket_lifetime from krb5.conf
	// Preauth, when not nil, remembers the pre-authentication hint of a
	// login for the next ones of the same principal and secret.
	Preauth *PreauthMemo
}

// PreauthMemo remembers the enctype, salt and string-to-key parameters
// a KDC named (PA-ETYPE-INFO2) when it asked a client for
// pre-authentication, so that the next login sends PA-ENC-TIMESTAMP at
// once: one AS exchange instead of two. If the KDC refuses the guess (the
// salt or enctypes changed), the memo is forgotten and the login starts
// over as a first one would. Keep one per principal and secret; it is
// safe for concurrent use.
type PreauthMemo struct {
	mu   sync.Mutex
	hint *types.ETypeInfo2Entry
}

func (m *PreauthMemo) get() *types.ETypeInfo2Entry {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.hint
}

func (m *PreauthMemo) set(h *types.ETypeInfo2Entry) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hint = h
}

// Login gets a TGT for cname@realm with an AS exchange: first without
// pre-authentication; when the KDC asks for it, again with PA-ENC-TIMESTAMP
// in the enctype and salt its PA-ETYPE-INFO2 names.
//
// When a KDC refuses the login (a wrong password, an expired or revoked
// key) and the realm has primary KDCs (primary_kdc, URI records flagged
// "m", _kerberos-master SRV records), the login is tried once more against
// them, as MIT's krb5_get_init_creds_password does: a password changed a
// moment ago may not have reached the replicas yet.
func (c *Client) Login(ctx context.Context, cname types.PrincipalName, realm string, secret Secret, o LoginOptions) (*Credential, error) {
	cred, err := c.login(ctx, cname, realm, secret, o, c.tr.Exchange)
	var ke *Error
	pt, ok := c.tr.(PrimaryTransport)
	if err == nil || !ok || !errors.As(err, &ke) || !retryOnPrimary(ke.Code) {
		return cred, err
	}
	cred, perr := c.login(ctx, cname, realm, secret, o, pt.ExchangePrimary)
	if errors.Is(perr, ErrNoPrimary) {
		return nil, err
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "kdc: login retried on the primary KDC", slog.String("realm", realm),
		slog.Any("error", err), slog.Any("primary_error", perr))
	return cred, perr
}

// retryOnPrimary: the KDC errors after which MIT asks the primary KDC.
func retryOnPrimary(code int32) bool {
	switch code {
	case errorcode.KDC_ERR_PREAUTH_FAILED, errorcode.KDC_ERR_KEY_EXPIRED, errorcode.KDC_ERR_CLIENT_REVOKED,
		errorcode.KDC_ERR_C_PRINCIPAL_UNKNOWN, errorcode.KRB_AP_ERR_BAD_INTEGRITY:
		return true
	}
	return false
}

func (c *Client) login(ctx context.Context, cname types.PrincipalName, realm string, secret Secret, o LoginOptions, exchange exchangeFunc) (*Credential, error) {
	req, err := messages.NewASReqForTGT(realm, c.cfg, cname)
	if err != nil {
		return nil, fmt.Errorf("build AS-REQ: %w", err)
	}
	setFlag(&req.ReqBody.KDCOptions, flags.Forwardable, o.Forwardable)
	req.ReqBody.Till = time.Now().UTC().Add(c.lifetime(o.Lifetime))
	req.ReqBody.EType = secret.etypes(cname, realm, supportedETypes(c.cfg.LibDefaults.DefaultTktEnctypeIDs))
	if len(req.ReqBody.EType) == 0 {
		return nil, &wrapped{sentinel: ErrNoCredentials, msg: fmt.Sprintf("no key for %s@%s in any permitted enctype", cname.PrincipalNameString(), realm)}
	}
	var key *types.EncryptionKey
	var hint *types.ETypeInfo2Entry
	// A memo of an earlier login: pre-authenticate at once.
	guessed := false
	if h := o.Preauth.get(); h != nil && slices.Contains(req.ReqBody.EType, h.EType) {
		if k, err := c.addEncTimestamp(&req, []types.ETypeInfo2Entry{*h}, cname, realm, secret); err == nil {
			key, hint, guessed = &k, h, true
		}
	}
	// Two rounds: without pre-authentication, then with it; one more when
	// the memo's guess was refused.
	for range 3 {
		reply, err := c.sendVia(ctx, exchange, realm, "AS-REQ", req.Marshal)
		if err != nil {
			return nil, err
		}
		switch reply[0] {
		case tagASRep:
			cred, err := c.finishAS(reply, &req, cname, realm, secret, key)
			if err == nil && hint != nil {
				o.Preauth.set(hint)
			}
			return cred, err
		case tagKRBError:
			ke, err := parseKRBError(reply)
			if err != nil {
				return nil, err
			}
			if guessed && (ke.ErrorCode == errorcode.KDC_ERR_PREAUTH_REQUIRED || ke.ErrorCode == errorcode.KDC_ERR_PREAUTH_FAILED ||
				ke.ErrorCode == errorcode.KDC_ERR_ETYPE_NOSUPP) {
				// The guess is stale: forget it, and follow the KDC's hints
				// if it sent them, else start over without.
				guessed, key, hint = false, nil, nil
				o.Preauth.set(nil)
				req.PAData = slices.DeleteFunc(req.PAData, func(pa types.PAData) bool { return pa.PADataType == patype.PA_ENC_TIMESTAMP })
				if ke.ErrorCode != errorcode.KDC_ERR_PREAUTH_REQUIRED {
					continue
				}
			}
			if ke.ErrorCode != errorcode.KDC_ERR_PREAUTH_REQUIRED || key != nil {
				return nil, krbError(ke, realm)
			}
			hints, err := preauthHints(&req, ke)
			if err != nil {
				return nil, err
			}
			k, err := c.addEncTimestamp(&req, hints, cname, realm, secret)
			if err != nil {
				return nil, err
			}
			key = &k
			for i := range hints {
				if hints[i].EType == k.KeyType {
					hint = &hints[i]
					break
				}
			}
			c.log.LogAttrs(ctx, slog.LevelDebug, "kdc: pre-authentication required", slog.String("realm", realm), slog.Int("etype", int(k.KeyType)))
		default:
			return nil, malformed(fmt.Sprintf("unexpected reply to AS-REQ (tag %#x)", reply[0]), nil)
		}
	}
	return nil, malformed("KDC kept asking for pre-authentication", nil)
}

// etypeInfo returns the (enctype, salt, s2kparams) hints in pas, from
// PA-ETYPE-INFO2, else the older PA-ETYPE-INFO, plus PA-PW-SALT.
func etypeInfo(pas types.PADataSequence) []types.ETypeInfo2Entry {
	var info2, info []types.ETypeInfo2Entry
	var pwSalt string
	for _, pa := range pas {
		switch pa.PADataType {
		case patype.PA_ETYPE_INFO2:
			var e types.ETypeInfo2
			if safeUnmarshal(func() error { return e.Unmarshal(pa.PADataValue) }) == nil {
				info2 = append(info2, e...)
			}
		case patype.PA_ETYPE_INFO:
			var e types.ETypeInfo
			if safeUnmarshal(func() error { return e.Unmarshal(pa.PADataValue) }) == nil {
				for _, x := range e {
					info = append(info, types.ETypeInfo2Entry{EType: x.EType, Salt: string(x.Salt)})
				}
			}
		case patype.PA_PW_SALT:
			pwSalt = string(pa.PADataValue)
		}
	}
	if len(info2) > 0 {
		return info2
	}
	if pwSalt != "" {
		for i := range info {
			if info[i].Salt == "" {
				info[i].Salt = pwSalt
			}
		}
	}
	return info
}

// preauthHints returns the (enctype, salt) hints of a PREAUTH_REQUIRED
// error; without any, the first requested enctype with the default salt.
func preauthHints(req *messages.ASReq, ke *messages.KRBError) ([]types.ETypeInfo2Entry, error) {
	var pas types.PADataSequence
	if len(ke.EData) > 0 {
		if err := safeUnmarshal(func() error { return pas.Unmarshal(ke.EData) }); err != nil {
			return nil, malformed("malformed pre-authentication hints from KDC", err)
		}
	}
	hints := etypeInfo(pas)
	if len(hints) == 0 {
		hints = []types.ETypeInfo2Entry{{EType: req.ReqBody.EType[0]}}
	}
	return hints, nil
}

// addEncTimestamp sets PA-ENC-TIMESTAMP in req, encrypted in the key of
// the first hint whose enctype was requested and the secret can give.
func (c *Client) addEncTimestamp(req *messages.ASReq, hints []types.ETypeInfo2Entry, cname types.PrincipalName, realm string, secret Secret) (types.EncryptionKey, error) {
	var key types.EncryptionKey
	var kvno int
	var lastErr error = &wrapped{sentinel: ErrNoCredentials, msg: "the KDC offered no enctype this client can use for pre-authentication"}
	found := false
	for _, h := range hints {
		if !slices.Contains(req.ReqBody.EType, h.EType) {
			continue
		}
		k, v, err := secret.key(cname, realm, h.EType, h.Salt, h.S2KParams)
		if err != nil {
			lastErr = err
			continue
		}
		key, kvno, found = k, v, true
		break
	}
	if !found {
		return key, lastErr
	}
	ts, err := types.GetPAEncTSEncAsnMarshalled()
	if err != nil {
		return key, err
	}
	ed, err := crypto.GetEncryptedData(ts, key, keyusage.AS_REQ_PA_ENC_TIMESTAMP, kvno)
	if err != nil {
		return key, fmt.Errorf("encrypt timestamp: %w", err)
	}
	pb, err := ed.Marshal()
	if err != nil {
		return key, err
	}
	req.PAData = slices.DeleteFunc(req.PAData, func(pa types.PAData) bool { return pa.PADataType == patype.PA_ENC_TIMESTAMP })
	req.PAData = append(req.PAData, types.PAData{PADataType: patype.PA_ENC_TIMESTAMP, PADataValue: pb})
	return key, nil
}

func (c *Client) finishAS(reply []byte, req *messages.ASReq, cname types.PrincipalName, realm string, secret Secret, key *types.EncryptionKey) (*Credential, error) {
	var rep messages.ASRep
	if err := safeUnmarshal(func() error { return rep.Unmarshal(reply) }); err != nil {
		return nil, malformed("malformed AS-REP", err)
	}
	if key == nil || key.KeyType != rep.EncPart.EType {
		if !slices.Contains(req.ReqBody.EType, rep.EncPart.EType) {
			return nil, malformed(fmt.Sprintf("AS-REP encrypted with enctype %d, which was not requested", rep.EncPart.EType), nil)
		}
		var salt string
		var s2k []byte
		for _, h := range etypeInfo(rep.PAData) {
			if h.EType == rep.EncPart.EType {
				salt, s2k = h.Salt, h.S2KParams
				break
			}
		}
		k, _, err := secret.key(cname, realm, rep.EncPart.EType, salt, s2k)
		if err != nil {
			return nil, err
		}
		key = &k
	}
	plain, err := crypto.DecryptEncPart(rep.EncPart, *key, keyusage.AS_REP_ENCPART)
	if err != nil {
		return nil, &wrapped{sentinel: ErrPreauthFailed, msg: "cannot decrypt the AS-REP (wrong password or key)", err: err}
	}
	var enc messages.EncKDCRepPart
	if err := safeUnmarshal(func() error { return enc.Unmarshal(plain) }); err != nil {
		return nil, malformed("malformed AS-REP encrypted part", err)
	}
	switch {
	case enc.Nonce != req.ReqBody.Nonce:
		return nil, malformed("AS-REP nonce does not match the request", nil)
	case rep.CRealm != realm && !c.cfg.LibDefaults.Canonicalize:
		return nil, malformed(fmt.Sprintf("AS-REP client realm %q, requested %q", rep.CRealm, realm), nil)
	case !rep.CName.Equal(cname) && !c.cfg.LibDefaults.Canonicalize:
		return nil, malformed(fmt.Sprintf("AS-REP client %q, requested %q", rep.CName.PrincipalNameString(), cname.PrincipalNameString()), nil)
	case !enc.SName.Equal(req.ReqBody.SName) || enc.SRealm != realm:
		return nil, malformed(fmt.Sprintf("AS-REP is for %s@%s, not krbtgt/%s", enc.SName.PrincipalNameString(), enc.SRealm, realm), nil)
	}
	return newCredential(rep.KDCRepFields, enc), nil
}
