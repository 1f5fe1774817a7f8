package ccache

import (
	"errors"
	"fmt"
	"time"

	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/krbhttp/krbhttp/auth/ticket"
)

// ErrMalformed is wrapped by every parse error: the bytes are not a
// credential cache this package understands.
var ErrMalformed = errors.New("malformed credential cache")

// ConfigRealm is the realm MIT gives the server principal of configuration
// entries stored in a cache (krb5_cc_set_config); they are not tickets.
const ConfigRealm = "X-CACHECONF:"

// Principal is a principal name as stored in a cache.
type Principal struct {
	NameType   int32
	Components []string
	Realm      string
}

// String writes p as MIT does: components joined by "/", then "@REALM",
// with "/", "@" and "\" inside components escaped by a backslash.
func (p Principal) String() string {
	return ticket.PrincipalString(types.PrincipalName{NameType: p.NameType, NameString: p.Components}, p.Realm)
}

// Equal reports whether p and q name the same principal. As in MIT the name
// type is not significant and the comparison is case-sensitive.
func (p Principal) Equal(q Principal) bool {
	if p.Realm != q.Realm || len(p.Components) != len(q.Components) {
		return false
	}
	for i := range p.Components {
		if p.Components[i] != q.Components[i] {
			return false
		}
	}
	return true
}

// Key is an encryption key (keyblock).
type Key struct {
	EncType int32
	Value   []byte
}

// Address is a host address attached to a credential.
type Address struct {
	Type  int32
	Value []byte
}

// AuthData is one authorization-data element attached to a credential.
type AuthData struct {
	Type  int32
	Value []byte
}

// Credential is one entry of a cache.
type Credential struct {
	Client    Principal
	Server    Principal
	Key       Key
	AuthTime  time.Time
	StartTime time.Time
	EndTime   time.Time
	RenewTill time.Time
	// IsSKey says the ticket is encrypted in another ticket's session key
	// (user-to-user).
	IsSKey bool
	// Flags holds the ticket flags in MIT's in-memory order: RFC 4120 flag
	// n is bit 31-n, so forwardable (1) is 0x40000000.
	Flags        uint32
	Addresses    []Address
	AuthData     []AuthData
	Ticket       []byte // DER of the Ticket, as the KDC sent it
	SecondTicket []byte
}

// IsConfig reports whether c is a configuration entry rather than a ticket.
func (c *Credential) IsConfig() bool { return c.Server.Realm == ConfigRealm }

// Cache is the parsed content of a cache file.
type Cache struct {
	Version uint8 // 1 to 4
	// KDCOffset is the clock difference with the KDC recorded in a version
	// 4 header (zero when absent).
	KDCOffset time.Duration
	Principal Principal
	// Credentials holds the tickets, in file order, without configuration
	// entries.
	Credentials []*Credential
	// Config holds the configuration entries (krb5_cc_set_config), keyed by
	// the entry name, for example "fast_avail" or "pa_type", and, for
	// entries about one principal, "name principal".
	Config map[string][]byte
}

// FormatError is returned for input that is not a valid cache.
type FormatError struct {
	Offset int    // byte offset where parsing stopped
	What   string // what was being read
	Reason string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("ccache: %s at offset %d: %s", e.What, e.Offset, e.Reason)
}

// Is makes errors.Is(err, ErrMalformed) true for every FormatError.
func (e *FormatError) Is(target error) bool { return target == ErrMalformed }
