package restapis

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"
)

// Hadoop delegation tokens, as AbstractDelegationTokenSecretManager issues,
// renews, cancels and verifies them, in Hadoop's wire format: a Token
// Writable (identifier, password, kind, service) in URL-safe base64
// without padding, whose identifier is an AbstractDelegationTokenIdentifier
// Writable. Clients treat tokens as opaque strings; the format matters
// because a datanode reads the owner out of the identifier.

// Hadoop's defaults: dfs.namenode.delegation.token.renew-interval and
// max-lifetime (the same for the resource manager).
const (
	defaultTokenRenewInterval = 24 * time.Hour
	defaultTokenMaxLifetime   = 7 * 24 * time.Hour
)

// tokenIdentifier is an AbstractDelegationTokenIdentifier.
type tokenIdentifier struct {
	kind                     string // the identifier's kind, e.g. HDFS_DELEGATION_TOKEN
	owner, renewer, realUser string
	issueDate, maxDate       int64 // milliseconds since the epoch
	sequenceNumber           int32
	masterKeyID              int32
}

// String is HDFS's DelegationTokenIdentifier.toString, which Hadoop's
// messages show in parentheses.
func (id *tokenIdentifier) String() string {
	return fmt.Sprintf("%s token %d for %s with renewer %s", id.kind, id.sequenceNumber, id.owner, id.renewer)
}

func (id *tokenIdentifier) marshal() []byte {
	var b bytes.Buffer
	b.WriteByte(0) // version
	writeText(&b, id.owner)
	writeText(&b, id.renewer)
	writeText(&b, id.realUser)
	writeVLong(&b, id.issueDate)
	writeVLong(&b, id.maxDate)
	writeVLong(&b, int64(id.sequenceNumber))
	writeVLong(&b, int64(id.masterKeyID))
	return b.Bytes()
}

func unmarshalIdentifier(kind string, raw []byte) (*tokenIdentifier, error) {
	r := bytes.NewReader(raw)
	version, err := r.ReadByte()
	if err != nil {
		return nil, err
	}
	if version != 0 {
		return nil, javaMessage(fmt.Sprintf("Unknown version of delegation token %d", version))
	}
	id := &tokenIdentifier{kind: kind}
	for _, s := range []*string{&id.owner, &id.renewer, &id.realUser} {
		if *s, err = readText(r); err != nil {
			return nil, err
		}
	}
	for _, n := range []*int64{&id.issueDate, &id.maxDate} {
		if *n, err = readVLong(r); err != nil {
			return nil, err
		}
	}
	for _, n := range []*int32{&id.sequenceNumber, &id.masterKeyID} {
		v, err := readVLong(r)
		if err != nil {
			return nil, err
		}
		*n = int32(v)
	}
	return id, nil
}

// wireToken is a decoded Token Writable.
type wireToken struct {
	identifier, password []byte
	kind, service        string
}

func (t *wireToken) encode() string {
	var b bytes.Buffer
	writeVLong(&b, int64(len(t.identifier)))
	b.Write(t.identifier)
	writeVLong(&b, int64(len(t.password)))
	b.Write(t.password)
	writeText(&b, t.kind)
	writeText(&b, t.service)
	return base64.RawURLEncoding.EncodeToString(b.Bytes())
}

// errNoToken is Token.decodeFromUrlString's answer to a missing value.
var errNoToken error = javaMessage("Invalid argument, newValue is null")

func decodeToken(s string) (*wireToken, error) {
	if s == "" {
		return nil, errNoToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		// commons-codec decodes leniently; what it makes of garbage
		// fails as a Writable.
		return nil, io.ErrUnexpectedEOF
	}
	r := bytes.NewReader(raw)
	t := &wireToken{}
	for _, field := range []*[]byte{&t.identifier, &t.password} {
		n, err := readVLong(r)
		if err != nil {
			return nil, err
		}
		if n < 0 || n > int64(r.Len()) {
			return nil, io.ErrUnexpectedEOF
		}
		*field = make([]byte, n)
		if _, err := io.ReadFull(r, *field); err != nil {
			return nil, err
		}
	}
	if t.kind, err = readText(r); err != nil {
		return nil, err
	}
	if t.service, err = readText(r); err != nil {
		return nil, err
	}
	return t, nil
}

// invalidToken is SecretManager.InvalidToken.
type invalidToken struct{ msg string }

func (e *invalidToken) Error() string { return e.msg }

// accessControl is org.apache.hadoop.security.AccessControlException.
type accessControl struct{ msg string }

func (e *accessControl) Error() string { return e.msg }

// secretManager issues and checks the delegation tokens of one service.
type secretManager struct {
	kind          string // the identifier kind, HDFS_DELEGATION_TOKEN or RM_DELEGATION_TOKEN
	renewInterval time.Duration
	maxLifetime   time.Duration
	now           func() time.Time

	mu     sync.Mutex
	key    []byte
	keyID  int32
	seq    int32
	tokens map[string]int64 // identifier bytes -> renew date (ms)
}

func newSecretManager(kind string, renewInterval, maxLifetime time.Duration, now func() time.Time) *secretManager {
	if renewInterval <= 0 {
		renewInterval = defaultTokenRenewInterval
	}
	if maxLifetime <= 0 {
		maxLifetime = defaultTokenMaxLifetime
	}
	if now == nil {
		now = time.Now
	}
	key := make([]byte, 64)
	_, _ = rand.Read(key)
	return &secretManager{
		kind: kind, renewInterval: renewInterval, maxLifetime: maxLifetime, now: now,
		key: key, keyID: 2, tokens: map[string]int64{},
	}
}

// password is SecretManager.createPassword: HMAC-SHA1 of the identifier.
func (m *secretManager) password(identifier []byte) []byte {
	mac := hmac.New(sha1.New, m.key)
	mac.Write(identifier)
	return mac.Sum(nil)
}

// create issues a token for owner, renewable by renewer, of the given
// token kind (e.g. "WEBHDFS delegation") and service.
func (m *secretManager) create(owner, renewer, realUser, kind, service string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	now := m.now().UnixMilli()
	id := &tokenIdentifier{
		kind: m.kind, owner: owner, renewer: renewer, realUser: realUser,
		issueDate: now, maxDate: now + m.maxLifetime.Milliseconds(),
		sequenceNumber: m.seq, masterKeyID: m.keyID,
	}
	raw := id.marshal()
	m.tokens[string(raw)] = min(id.maxDate, now+m.renewInterval.Milliseconds())
	return (&wireToken{identifier: raw, password: m.password(raw), kind: kind, service: service}).encode()
}

// parse decodes an encoded token and its identifier.
func (m *secretManager) parse(encoded string) (*wireToken, *tokenIdentifier, error) {
	t, err := decodeToken(encoded)
	if err != nil {
		return nil, nil, err
	}
	id, err := unmarshalIdentifier(m.kind, t.identifier)
	if err != nil {
		return nil, nil, err
	}
	return t, id, nil
}

// verify is retrievePassword plus the password check: the identifier of a
// token that authenticates a request.
func (m *secretManager) verify(encoded string) (*tokenIdentifier, error) {
	t, id, err := m.parse(encoded)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	renewDate, ok := m.tokens[string(t.identifier)]
	now := m.now().UnixMilli()
	switch {
	case !ok:
		return nil, &invalidToken{fmt.Sprintf("token (%s) can't be found in cache", id)}
	case renewDate < now:
		return nil, &invalidToken{fmt.Sprintf("token (%s) is expired, current time: %s expected renewal time: %s",
			id, formatTime(now), formatTime(renewDate))}
	case !hmac.Equal(t.password, m.password(t.identifier)):
		return nil, &invalidToken{fmt.Sprintf("token (%s) is invalid, password doesn't match", id)}
	}
	return id, nil
}

// renew extends a token by the renew interval, up to its maximum date, as
// renewer, who must be the token's renewer.
func (m *secretManager) renew(encoded, renewer string) (int64, error) {
	t, id, err := m.parse(encoded)
	if err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now().UnixMilli()
	switch {
	case id.maxDate < now:
		return 0, &invalidToken{fmt.Sprintf("%s tried to renew an expired token (%s) max expiration date: %s currentTime: %s",
			renewer, id, formatTime(id.maxDate), formatTime(now))}
	case id.renewer == "":
		return 0, &accessControl{fmt.Sprintf("%s tried to renew a token (%s) without a renewer", renewer, id)}
	case id.renewer != renewer:
		return 0, &accessControl{fmt.Sprintf("%s tries to renew a token (%s) with non-matching renewer %s", renewer, id, id.renewer)}
	case !hmac.Equal(t.password, m.password(t.identifier)):
		return 0, &invalidToken{fmt.Sprintf("%s tried to renew a token (%s) with non-matching password", renewer, id)}
	}
	if _, ok := m.tokens[string(t.identifier)]; !ok {
		return 0, &invalidToken{fmt.Sprintf("Renewal request for unknown token (%s)", id)}
	}
	renewDate := min(id.maxDate, now+m.renewInterval.Milliseconds())
	m.tokens[string(t.identifier)] = renewDate
	return renewDate, nil
}

// cancel forgets a token, for its owner or its renewer; canceller is the
// caller's names (full and short).
func (m *secretManager) cancel(encoded string, canceller ...string) error {
	t, id, err := m.parse(encoded)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !slices.Contains(canceller, id.owner) && (id.renewer == "" || !slices.Contains(canceller, id.renewer)) {
		return &accessControl{fmt.Sprintf("%s is not authorized to cancel the token (%s)", canceller[0], id)}
	}
	if _, ok := m.tokens[string(t.identifier)]; !ok {
		return &invalidToken{fmt.Sprintf("Token not found (%s)", id)}
	}
	delete(m.tokens, string(t.identifier))
	return nil
}

// formatTime is Hadoop's Time.formatTime.
func formatTime(ms int64) string {
	return time.UnixMilli(ms).Format("2006-01-02 15:04:05,000-0700")
}

// Hadoop's Writable encodings (WritableUtils.writeVLong, Text.write).

func writeVLong(b *bytes.Buffer, i int64) {
	if i >= -112 && i <= 127 {
		b.WriteByte(byte(i))
		return
	}
	n := -112
	if i < 0 {
		i ^= -1
		n = -120
	}
	for tmp := i; tmp != 0; tmp >>= 8 {
		n--
	}
	b.WriteByte(byte(int8(n)))
	size := -(n + 112)
	if n < -120 {
		size = -(n + 120)
	}
	for idx := size; idx != 0; idx-- {
		b.WriteByte(byte(i >> ((idx - 1) * 8)))
	}
}

func readVLong(r *bytes.Reader) (int64, error) {
	first, err := r.ReadByte()
	if err != nil {
		return 0, io.ErrUnexpectedEOF
	}
	v := int8(first)
	if v >= -112 {
		return int64(v), nil
	}
	size := -111 - int(v)
	negative := v < -120
	if negative {
		size = -119 - int(v)
	}
	var i int64
	for range size - 1 {
		c, err := r.ReadByte()
		if err != nil {
			return 0, io.ErrUnexpectedEOF
		}
		i = i<<8 | int64(c)
	}
	if negative {
		i ^= -1
	}
	return i, nil
}

func writeText(b *bytes.Buffer, s string) {
	writeVLong(b, int64(len(s)))
	b.WriteString(s)
}

func readText(r *bytes.Reader) (string, error) {
	n, err := readVLong(r)
	if err != nil {
		return "", err
	}
	if n < 0 || n > int64(r.Len()) {
		return "", io.ErrUnexpectedEOF
	}
	s := make([]byte, n)
	if _, err := io.ReadFull(r, s); err != nil {
		return "", io.ErrUnexpectedEOF
	}
	return string(s), nil
}
