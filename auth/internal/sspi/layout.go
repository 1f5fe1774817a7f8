package sspi

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
)

// Layout is how an EncryptMessage implementation shares a Kerberos wrap
// token between the TOKEN and DATA buffers it is given.
type Layout int

const (
	// LayoutWindows is Windows': TOKEN holds the token's header part (the
	// 16-byte token header and the rotated confounder and checksum, 60
	// bytes for AES) and DATA the encrypted data, as long as the
	// plaintext. These are WinRM's header and data as they are.
	LayoutWindows Layout = iota
	// LayoutGSSWrap is a plain gss_wrap token (RRC 0) cut after as many
	// bytes as the plaintext has: DATA holds its start, token header
	// included, and TOKEN the rest. Wine's Kerberos package does this for
	// every context that is not DCE-style (it calls MIT's gss_wrap and
	// gss_unwrap). WinRM receivers join header and data and honour the
	// token's RRC, so the same bytes sent as header = all but the last
	// len(plaintext) bytes and data = those are a valid message.
	LayoutGSSWrap
)

func (l Layout) String() string {
	if l == LayoutGSSWrap {
		return "gss_wrap"
	}
	return "windows"
}

// errUnknownLayout: neither buffer starts with a wrap token header.
var errUnknownLayout = errors.New("sspi: EncryptMessage returned buffers in an unknown layout")

// cfxHeader reads the RFC 4121 wrap token header at the start of b: token
// ID 05 04 and filler FF, then EC and RRC.
func cfxHeader(b []byte) (ec, rrc int, ok bool) {
	if len(b) < 16 || b[0] != 0x05 || b[1] != 0x04 || b[3] != 0xff {
		return 0, 0, false
	}
	return int(binary.BigEndian.Uint16(b[4:6])), int(binary.BigEndian.Uint16(b[6:8])), true
}

// rfc1964Wrap is how an RFC 1964 wrap token (RC4, DES) starts after its
// 0x60 tag and DER length: the Kerberos mechanism OID and token ID 02 01.
var rfc1964Wrap = []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x02, 0x01}

// isRFC1964Wrap reports whether b starts with an RFC 1964 wrap token's
// framing. The tag alone is not enough: one ciphertext byte in 256 is
// 0x60, and Wine's TOKEN buffer holds ciphertext.
func isRFC1964Wrap(b []byte) bool {
	if len(b) < 2 || b[0] != 0x60 {
		return false
	}
	i := 2
	if n := b[1]; n&0x80 != 0 {
		i += int(n & 0x7f) // long-form length octets
	}
	return len(b) >= i+len(rfc1964Wrap) && bytes.Equal(b[i:i+len(rfc1964Wrap)], rfc1964Wrap)
}

// SealedParts turns what EncryptMessage left in its TOKEN and DATA
// buffers into WinRM's header and data, recognizing the layout by the
// token header: Windows starts TOKEN with it, and TOKEN then holds exactly
// the 16-byte header, the 16-byte confounder, the EC filler and the RRC
// rotated bytes; a gss_wrap split starts DATA (joined with TOKEN, for a
// plaintext shorter than the header) with a header of RRC 0. Ciphertext
// that happens to begin like a header cannot also satisfy those lengths.
// RFC 1964 tokens (RC4), framed with 0x60 and the mechanism OID, only
// come in Windows' layout.
func SealedParts(token, data []byte) (header, body []byte, layout Layout, err error) {
	if ec, rrc, ok := cfxHeader(token); ok && rrc != 0 && len(token) == 32+ec+rrc || isRFC1964Wrap(token) {
		return token, data, LayoutWindows, nil
	}
	whole := append(slices.Clip(data), token...)
	if _, rrc, ok := cfxHeader(whole); ok && rrc == 0 {
		cut := len(whole) - len(data)
		return whole[:cut], whole[cut:], LayoutGSSWrap, nil
	}
	return nil, nil, 0, errUnknownLayout
}

// OpenBuffers returns the TOKEN and DATA buffers DecryptMessage needs for
// a WinRM message's header and data in layout. DecryptMessage writes the
// plaintext into DATA, so both are fresh copies.
func OpenBuffers(header, data []byte, layout Layout) (token, dataBuf []byte) {
	whole := make([]byte, 0, len(header)+len(data))
	whole = append(append(whole, header...), data...)
	if layout == LayoutGSSWrap {
		n := len(data)
		return whole[n:], whole[:n]
	}
	n := len(header)
	return whole[:n:n], whole[n:]
}
