package ccache

import "encoding/binary"

// KCM and KEYRING caches hold one credential or principal per message or
// key, in the version 4 file encoding; these functions are the file codec
// applied to one item.

// ParseCredential reads one credential in the version 4 encoding. Bytes
// after the credential are ignored, as MIT's k5_unmarshal_cred ignores them.
// Errors match ErrMalformed.
func ParseCredential(b []byte) (*Credential, error) {
	r := &reader{b: b, order: binary.BigEndian, version: 4}
	return r.credential()
}

// ParsePrincipal reads one principal in the version 4 encoding and returns
// it with the number of bytes it took. Errors match ErrMalformed.
func ParsePrincipal(b []byte) (Principal, int, error) {
	r := &reader{b: b, order: binary.BigEndian, version: 4}
	p, err := r.principal("principal")
	return p, r.off, err
}

// MarshalCredential appends c in the version 4 encoding to b.
func MarshalCredential(b []byte, c *Credential) []byte {
	return AppendCredential(b, c, 4)
}

// AppendCredential appends c to b in file format version (1 to 4), for
// adding a credential to the end of an existing file of that version.
func AppendCredential(b []byte, c *Credential, version uint8) []byte {
	w := newWriter(version)
	w.b = b
	w.credential(c)
	return w.b
}

// MarshalPrincipal appends p in the version 4 encoding to b.
func MarshalPrincipal(b []byte, p Principal) []byte {
	w := newWriter(4)
	w.b = b
	w.principal(p)
	return w.b
}

// Header is the start of a cache file: what is needed to append to it.
type Header struct {
	Version   uint8
	Principal Principal
	Len       int // bytes up to and including the default principal
}

// ParseHeader reads the file header and default principal at the start of
// b, which may be followed by anything (credentials, or nothing yet).
func ParseHeader(b []byte) (Header, error) {
	r := &reader{b: b, order: binary.BigEndian}
	if err := r.start(); err != nil {
		return Header{}, err
	}
	if _, err := r.header(); err != nil {
		return Header{}, err
	}
	p, err := r.principal("default principal")
	if err != nil {
		return Header{}, err
	}
	return Header{Version: r.version, Principal: p, Len: r.off}, nil
}

// NewCache assembles a cache from a principal and credentials as a daemon
// or keyring lists them: configuration entries go to Config, tickets to
// Credentials, in order.
func NewCache(principal Principal, creds []*Credential) *Cache {
	c := &Cache{Version: 4, Principal: principal}
	for _, cr := range creds {
		if cr.IsConfig() {
			c.addConfig(cr)
			continue
		}
		c.Credentials = append(c.Credentials, cr)
	}
	return c
}
