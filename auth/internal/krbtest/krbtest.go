package krbtest

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/asn1tools"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana"
	"github.com/jcmturner/gokrb5/v8/iana/asnAppTag"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth/ticket"
)

// KVNO is the key version of every key a Service makes. Not 1, so that a
// lookup ignoring the kvno cannot pass by luck.
const KVNO = 3

// ETypes are the enctypes a Service has keys for, strongest first.
var ETypes = []int32{
	etypeID.AES256_CTS_HMAC_SHA1_96,
	etypeID.AES128_CTS_HMAC_SHA1_96,
	etypeID.AES256_CTS_HMAC_SHA384_192,
	etypeID.AES128_CTS_HMAC_SHA256_128,
	etypeID.RC4_HMAC,
}

// Service is a service principal with random keys. It is immutable and
// safe for concurrent use.
type Service struct {
	name  types.PrincipalName
	realm string
	kt    *keytab.Keytab
}

// New makes a service principal, spn written "HTTP/host", in realm with a
// random key for each of ETypes. Tests use NewService; New is for code
// without a testing.TB, such as examples.
func New(spn, realm string) (*Service, error) {
	kt := keytab.New()
	for i, et := range ETypes {
		// AddEntry is the only way gokrb5 offers to add an entry, and it
		// derives the key from a password. The RC4 derivation is one MD4
		// where AES runs thousands of PBKDF2 rounds, so the entry is added
		// as RC4 and its key replaced by a random one of the enctype
		// wanted.
		if err := kt.AddEntry(spn, realm, "unused", time.Now(), KVNO, etypeID.RC4_HMAC); err != nil {
			return nil, fmt.Errorf("krbtest: keytab entry for %s@%s: %w", spn, realm, err)
		}
		key, err := randomKey(et)
		if err != nil {
			return nil, fmt.Errorf("krbtest: key for enctype %d: %w", et, err)
		}
		kt.Entries[i].Key = key
	}
	name := types.NewPrincipalName(nametype.KRB_NT_SRV_HST, spn)
	return &Service{name: name, realm: realm, kt: kt}, nil
}

// NewService is New for tests: it fails t on error.
func NewService(t testing.TB, spn, realm string) *Service {
	t.Helper()
	s, err := New(spn, realm)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Keytab returns the service's keytab. Do not modify it.
func (s *Service) Keytab() *keytab.Keytab { return s.kt }

// Principal returns the service principal name.
func (s *Service) Principal() types.PrincipalName { return s.name }

// Realm returns the service's realm.
func (s *Service) Realm() string { return s.realm }

// KeytabFile writes the keytab to a file in t.TempDir() and returns its
// path, for KRB5_KTNAME.
func (s *Service) KeytabFile(t testing.TB) string {
	t.Helper()
	b, err := s.kt.Marshal()
	if err != nil {
		t.Fatalf("krbtest: marshal keytab: %v", err)
	}
	path := filepath.Join(t.TempDir(), "service.keytab")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatalf("krbtest: %v", err)
	}
	return path
}

// ticketOptions collects TicketOption settings.
type ticketOptions struct {
	start       time.Time
	lifetime    time.Duration
	etype       int32
	clientRealm string
	flags       []int
}

// TicketOption adjusts a forged ticket.
type TicketOption func(*ticketOptions)

// WithStart sets the ticket's auth and start time (default: now).
func WithStart(t time.Time) TicketOption { return func(o *ticketOptions) { o.start = t } }

// WithLifetime sets the end time to start+d (default 10 hours). A negative
// d makes an expired ticket.
func WithLifetime(d time.Duration) TicketOption { return func(o *ticketOptions) { o.lifetime = d } }

// WithEType sets the enctype of both the ticket encryption and the session
// key (default aes256-cts-hmac-sha1-96); it must be one of ETypes.
func WithEType(etype int32) TicketOption { return func(o *ticketOptions) { o.etype = etype } }

// WithClientRealm sets the client's realm (default: the service's realm,
// or the realm written in the client name as "alice@REALM").
func WithClientRealm(realm string) TicketOption {
	return func(o *ticketOptions) { o.clientRealm = realm }
}

// WithFlags sets the ticket flags, as RFC 4120 bit numbers from gokrb5's
// iana/flags (default forwardable and pre-authent).
func WithFlags(bits ...int) TicketOption { return func(o *ticketOptions) { o.flags = bits } }

// Ticket is NewTicket for tests: it fails t on error.
func (s *Service) Ticket(t testing.TB, client string, opts ...TicketOption) *ticket.Ticket {
	t.Helper()
	tkt, err := s.NewTicket(client, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tkt
}

// NewTicket forges a service ticket for client ("alice", "alice@REALM" or
// "alice/admin") as the KDC would issue it.
//
// The ticket is built here rather than with messages.NewTicket because
// that makes 24-byte session keys for aes256-cts-hmac-sha384-192, whose
// keys are 32 bytes.
func (s *Service) NewTicket(client string, opts ...TicketOption) (*ticket.Ticket, error) {
	o := ticketOptions{
		start:    time.Now(),
		lifetime: 10 * time.Hour,
		etype:    etypeID.AES256_CTS_HMAC_SHA1_96,
		flags:    []int{flags.Forwardable, flags.PreAuthent},
	}
	for _, opt := range opts {
		opt(&o)
	}
	cname, crealm := types.ParseSPNString(client)
	switch {
	case o.clientRealm != "":
		crealm = o.clientRealm
	case crealm == "":
		crealm = s.realm
	}
	// KerberosTime has whole seconds; truncating keeps the Ticket fields
	// equal to what is on the wire.
	start := o.start.UTC().Truncate(time.Second)
	end := start.Add(o.lifetime)
	tflags := types.NewKrbFlags()
	types.SetFlags(&tflags, o.flags)

	sessionKey, err := randomKey(o.etype)
	if err != nil {
		return nil, fmt.Errorf("krbtest: session key: %w", err)
	}
	b, err := asn1.Marshal(messages.EncTicketPart{
		Flags:     tflags,
		Key:       sessionKey,
		CRealm:    crealm,
		CName:     cname,
		AuthTime:  start,
		StartTime: start,
		EndTime:   end,
	})
	if err != nil {
		return nil, fmt.Errorf("krbtest: marshal EncTicketPart: %w", err)
	}
	serviceKey, kvno, err := s.kt.GetEncryptionKey(s.name, s.realm, KVNO, o.etype)
	if err != nil {
		return nil, fmt.Errorf("krbtest: %w", err)
	}
	ed, err := crypto.GetEncryptedData(asn1tools.AddASNAppTag(b, asnAppTag.EncTicketPart), serviceKey, keyusage.KDC_REP_TICKET, kvno)
	if err != nil {
		return nil, fmt.Errorf("krbtest: encrypt ticket: %w", err)
	}
	return &ticket.Ticket{
		Ticket:      messages.Ticket{TktVNO: iana.PVNO, Realm: s.realm, SName: s.name, EncPart: ed},
		SessionKey:  sessionKey,
		Client:      cname,
		ClientRealm: crealm,
		Flags:       tflags,
		AuthTime:    start,
		StartTime:   start,
		EndTime:     end,
	}, nil
}

// randomKey makes a random key of etype. gokrb5's GetKeyByteSize is 24
// for aes256-cts-hmac-sha384-192 although its keys are 32 bytes.
func randomKey(etype int32) (types.EncryptionKey, error) {
	et, err := crypto.GetEtype(etype)
	if err != nil {
		return types.EncryptionKey{}, err
	}
	n := et.GetKeyByteSize()
	if etype == etypeID.AES256_CTS_HMAC_SHA384_192 {
		n = 32
	}
	k := types.EncryptionKey{KeyType: etype, KeyValue: make([]byte, n)}
	_, err = rand.Read(k.KeyValue)
	return k, err
}

// Krb5Conf writes a minimal krb5.conf for MIT tools to t.TempDir() and
// returns its path, for KRB5_CONFIG: realm is the default realm, no DNS is
// consulted and host names are used as given. The KDC address is a
// closed port; nothing here needs a KDC.
func Krb5Conf(t testing.TB, realm string) string {
	t.Helper()
	conf := strings.ReplaceAll(`[libdefaults]
	default_realm = REALM
	dns_lookup_kdc = false
	dns_lookup_realm = false
	dns_canonicalize_hostname = false
	rdns = false
[realms]
	REALM = {
		kdc = 127.0.0.1:1
	}
`, "REALM", realm)
	path := filepath.Join(t.TempDir(), "krb5.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatalf("krbtest: %v", err)
	}
	return path
}
