package gss

import "time"

// derBuilder writes nested DER into one buffer: open appends the tag and
// remembers where the content starts, close inserts the length once the
// content is known (shifting the content by the few length octets). The
// AP-REQ, the authenticator and the token framing are built with it
// instead of through gofork's reflection, which costs hundreds of
// allocations per token; the tests compare its output with gokrb5's.
type derBuilder struct {
	buf    []byte
	depth  int
	starts [12]int // content offsets of the open elements
}

func (b *derBuilder) open(tag byte) {
	b.buf = append(b.buf, tag)
	b.starts[b.depth] = len(b.buf)
	b.depth++
}

func (b *derBuilder) close() {
	b.depth--
	start := b.starts[b.depth]
	n := len(b.buf) - start
	var hdr [4]byte
	h := derLength(hdr[:0], n)
	b.buf = append(b.buf, h...)
	copy(b.buf[start+len(h):], b.buf[start:start+n])
	copy(b.buf[start:], h)
}

// derLength appends the DER length octets of n (below 2^24).
func derLength(dst []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(dst, byte(n))
	case n <= 0xff:
		return append(dst, 0x81, byte(n))
	case n <= 0xffff:
		return append(dst, 0x82, byte(n>>8), byte(n))
	}
	return append(dst, 0x83, byte(n>>16), byte(n>>8), byte(n))
}

// primitive appends a whole TLV.
func (b *derBuilder) primitive(tag byte, content []byte) {
	b.buf = append(b.buf, tag)
	b.buf = derLength(b.buf, len(content))
	b.buf = append(b.buf, content...)
}

func (b *derBuilder) raw(p []byte) { b.buf = append(b.buf, p...) }

// integer appends a DER INTEGER: minimal two's complement.
func (b *derBuilder) integer(v int64) {
	n := 1
	for n < 8 && (v>>(8*n-1) != 0 && v>>(8*n-1) != -1) {
		n++
	}
	b.buf = append(b.buf, tagInteger, byte(n))
	for i := n - 1; i >= 0; i-- {
		b.buf = append(b.buf, byte(v>>(8*i)))
	}
}

// explicitInt appends [n] INTEGER.
func (b *derBuilder) explicitInt(n int, v int64) {
	b.open(contextTag(n))
	b.integer(v)
	b.close()
}

const (
	tagBitString       = 0x03
	tagGeneralString   = 0x1b
	tagGeneralizedTime = 0x18
)

// generalizedTime appends a KerberosTime (RFC 4120 5.2.3: UTC, whole
// seconds, "YYYYMMDDHHMMSSZ").
func (b *derBuilder) generalizedTime(t time.Time) {
	b.buf = append(b.buf, tagGeneralizedTime, 15)
	b.buf = t.UTC().AppendFormat(b.buf, "20060102150405Z")
}
