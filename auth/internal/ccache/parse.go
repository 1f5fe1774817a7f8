package ccache

import (
	"encoding/binary"
	"strings"
	"time"
)

// Header tag of the version 4 KDC time offset field.
const tagKDCOffset = 1

// Every principal component, counted string and list element costs at least
// this many bytes in the file; used to bound counts before allocating.
const (
	minCountedLen  = 4 // a length field
	minAddressLen  = 2 + minCountedLen
	minAuthDataLen = 2 + minCountedLen
)

// reader walks the file bytes; every method checks what remains.
type reader struct {
	b       []byte
	off     int
	order   binary.ByteOrder
	version uint8
}

func (r *reader) fail(what, reason string) error {
	return &FormatError{Offset: r.off, What: what, Reason: reason}
}

func (r *reader) remaining() int { return len(r.b) - r.off }

func (r *reader) bytes(n int, what string) ([]byte, error) {
	if n < 0 || n > r.remaining() {
		return nil, r.fail(what, "truncated")
	}
	v := r.b[r.off : r.off+n]
	r.off += n
	return v, nil
}

func (r *reader) u8(what string) (uint8, error) {
	b, err := r.bytes(1, what)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

func (r *reader) u16(what string) (uint16, error) {
	b, err := r.bytes(2, what)
	if err != nil {
		return 0, err
	}
	return r.order.Uint16(b), nil
}

func (r *reader) u32(what string) (uint32, error) {
	b, err := r.bytes(4, what)
	if err != nil {
		return 0, err
	}
	return r.order.Uint32(b), nil
}

// counted reads a 32-bit length and that many bytes, copied so that the
// result does not pin the whole file in memory. Messages are built only
// on failure: this runs for every field of every credential.
func (r *reader) counted(what, part string) ([]byte, error) {
	if r.remaining() < 4 {
		return nil, r.fail(what+part+" length", "truncated")
	}
	n := r.order.Uint32(r.b[r.off:])
	r.off += 4
	if uint64(n) > uint64(r.remaining()) {
		return nil, r.fail(what+part, "length exceeds the remaining data")
	}
	b := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return append([]byte(nil), b...), nil
}

// count reads a 32-bit element count and checks that that many elements of
// at least minLen bytes each can fit in what remains.
func (r *reader) count(what string, minLen int) (int, error) {
	n, err := r.u32(what)
	if err != nil {
		return 0, err
	}
	if uint64(n)*uint64(minLen) > uint64(r.remaining()) {
		return 0, r.fail(what, "count exceeds the remaining data")
	}
	return int(n), nil
}

func (r *reader) time(what string) (time.Time, error) {
	v, err := r.u32(what)
	if err != nil || v == 0 {
		return time.Time{}, err
	}
	// MIT stores timestamps as 32 bits read as unsigned, good until 2106.
	return time.Unix(int64(v), 0).UTC(), nil
}

func (r *reader) principal(what string) (Principal, error) {
	var p Principal
	if r.version != 1 {
		if r.remaining() < 4 {
			return p, r.fail(what+" name type", "truncated")
		}
		t, _ := r.u32("")
		p.NameType = int32(t)
	}
	n, err := r.count(what+" component count", minCountedLen)
	if err != nil {
		return p, err
	}
	if r.version == 1 {
		// Version 1 counts the realm as a component.
		if n == 0 {
			return p, r.fail(what, "no realm")
		}
		n--
	}
	realm, err := r.counted(what, " realm")
	if err != nil {
		return p, err
	}
	p.Realm = string(realm)
	p.Components = make([]string, 0, n)
	for range n {
		c, err := r.counted(what, " component")
		if err != nil {
			return p, err
		}
		p.Components = append(p.Components, string(c))
	}
	return p, nil
}

func (r *reader) header() (time.Duration, error) {
	if r.version != 4 {
		return 0, nil
	}
	n, err := r.u16("header length")
	if err != nil {
		return 0, err
	}
	hb, err := r.bytes(int(n), "header")
	if err != nil {
		return 0, err
	}
	h := &reader{b: hb, order: r.order, version: r.version}
	var offset time.Duration
	for h.remaining() > 0 {
		tag, err := h.u16("header tag")
		if err != nil {
			return 0, r.fail("header", "truncated tag")
		}
		l, err := h.u16("header field length")
		if err != nil {
			return 0, r.fail("header", "truncated field length")
		}
		v, err := h.bytes(int(l), "header field")
		if err != nil {
			return 0, r.fail("header", "truncated field")
		}
		if tag == tagKDCOffset {
			if l != 8 {
				return 0, r.fail("header", "KDC offset field is not 8 bytes")
			}
			sec := int32(r.order.Uint32(v[:4]))
			usec := int32(r.order.Uint32(v[4:]))
			offset = time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond
		}
		// Unknown tags are skipped, as MIT does.
	}
	return offset, nil
}

func (r *reader) credential() (*Credential, error) {
	var c Credential
	var err error
	if c.Client, err = r.principal("client principal"); err != nil {
		return nil, err
	}
	if c.Server, err = r.principal("server principal"); err != nil {
		return nil, err
	}
	et, err := r.u16("key enctype")
	if err != nil {
		return nil, err
	}
	// Enctypes can be negative: sign-extend.
	c.Key.EncType = int32(int16(et))
	if r.version == 3 {
		// Version 3 stores the enctype twice.
		if _, err := r.u16("key enctype"); err != nil {
			return nil, err
		}
	}
	if c.Key.Value, err = r.counted("key", ""); err != nil {
		return nil, err
	}
	for _, t := range []struct {
		dst  *time.Time
		what string
	}{{&c.AuthTime, "auth time"}, {&c.StartTime, "start time"}, {&c.EndTime, "end time"}, {&c.RenewTill, "renew till"}} {
		if *t.dst, err = r.time(t.what); err != nil {
			return nil, err
		}
	}
	skey, err := r.u8("is_skey")
	if err != nil {
		return nil, err
	}
	c.IsSKey = skey != 0
	if c.Flags, err = r.u32("ticket flags"); err != nil {
		return nil, err
	}
	n, err := r.count("address count", minAddressLen)
	if err != nil {
		return nil, err
	}
	for range n {
		t, err := r.u16("address type")
		if err != nil {
			return nil, err
		}
		v, err := r.counted("address", "")
		if err != nil {
			return nil, err
		}
		c.Addresses = append(c.Addresses, Address{Type: int32(t), Value: v})
	}
	if n, err = r.count("authdata count", minAuthDataLen); err != nil {
		return nil, err
	}
	for range n {
		t, err := r.u16("authdata type")
		if err != nil {
			return nil, err
		}
		v, err := r.counted("authdata", "")
		if err != nil {
			return nil, err
		}
		c.AuthData = append(c.AuthData, AuthData{Type: int32(int16(t)), Value: v})
	}
	if c.Ticket, err = r.counted("ticket", ""); err != nil {
		return nil, err
	}
	if c.SecondTicket, err = r.counted("second ticket", ""); err != nil {
		return nil, err
	}
	return &c, nil
}

// Parse reads a whole cache file. It returns a *FormatError (which matches
// ErrMalformed) for anything that is not a complete cache, including an
// empty input and a file cut in the middle of a credential.
func Parse(b []byte) (*Cache, error) {
	r := &reader{b: b, order: binary.BigEndian}
	if err := r.start(); err != nil {
		return nil, err
	}
	var err error
	c := &Cache{Version: r.version}
	if c.KDCOffset, err = r.header(); err != nil {
		return nil, err
	}
	if c.Principal, err = r.principal("default principal"); err != nil {
		return nil, err
	}
	for r.remaining() > 0 {
		cred, err := r.credential()
		if err != nil {
			return nil, err
		}
		if cred.IsConfig() {
			c.addConfig(cred)
			continue
		}
		c.Credentials = append(c.Credentials, cred)
	}
	return c, nil
}

// start reads the file format byte and the version, and sets the byte
// order that version uses.
func (r *reader) start() error {
	magic, err := r.u8("file format")
	if err != nil {
		return r.fail("file format", "empty file")
	}
	if magic != 5 {
		return r.fail("file format", "not a credential cache (first byte is not 5)")
	}
	v, err := r.u8("version")
	if err != nil {
		return err
	}
	if v < 1 || v > 4 {
		return r.fail("version", "unknown version")
	}
	r.version = v
	if v < 3 {
		// Versions 1 and 2 were written in host byte order; every
		// platform that still has such files is little-endian.
		r.order = binary.LittleEndian
	}
	return nil
}

// Config entries name themselves "krb5_ccache_conf_data/KEY[/PRINCIPAL]";
// the value is stored in the ticket field.
func (c *Cache) addConfig(cred *Credential) {
	comps := cred.Server.Components
	if len(comps) < 2 || comps[0] != "krb5_ccache_conf_data" {
		return
	}
	if c.Config == nil {
		c.Config = make(map[string][]byte)
	}
	c.Config[strings.Join(comps[1:], " ")] = cred.Ticket
}
