package encryption

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"mime"
	"strconv"
	"strings"
)

// Protocol strings: the protocol parameter of the Content-Type and the type
// of the first part. Which one is used follows the HTTP authentication
// scheme, not the token format: SPNEGO under Negotiate (even when the
// token inside is raw Kerberos), Kerberos only under the Kerberos scheme.
const (
	ProtocolSPNEGO   = "application/HTTP-SPNEGO-session-encrypted"
	ProtocolKerberos = "application/HTTP-Kerberos-session-encrypted"
)

const (
	// MediaType is the media type of an encrypted body.
	MediaType = "multipart/encrypted"
	// Boundary is the MIME boundary every implementation uses.
	Boundary = "Encrypted Boundary"
	// SOAPContentType is the Content-Type of a plaintext WinRM message,
	// and the original type an encrypted one announces.
	SOAPContentType = "application/soap+xml;charset=UTF-8"

	octetStream = "application/octet-stream"
	maxLineLen  = 1024 // part header lines are short; a longer one is garbage
)

// ErrMalformed marks a body whose multipart/encrypted framing cannot be
// read.
var ErrMalformed = errors.New("encryption: malformed multipart/encrypted message")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// Message is one encrypted message as framed: the wrap token split in two,
// and the length of the plaintext it announces.
type Message struct {
	// Protocol is one of the Protocol constants.
	Protocol string
	// Length is the plaintext length, from OriginalContent.
	Length int
	// Header is the token's header part (60 bytes in the Windows layout:
	// the 16-byte token header and the rotated confounder, header copy and
	// checksum) and Data the rest of the token.
	Header, Data []byte
}

// ContentType returns the Content-Type header of an encrypted body for
// protocol, exactly as Windows and pywinrm write it.
func ContentType(protocol string) string {
	return MediaType + `;protocol="` + protocol + `";boundary="` + Boundary + `"`
}

// IsEncrypted reports whether a Content-Type is multipart/encrypted.
func IsEncrypted(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && strings.EqualFold(mt, MediaType)
}

// Frame returns the body for m, byte for byte what Windows sends:
//
//	--Encrypted Boundary\r\n
//	\tContent-Type: <protocol>\r\n
//	\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=<n>\r\n
//	--Encrypted Boundary\r\n
//	\tContent-Type: application/octet-stream\r\n
//	<u32 LE len(Header)><Header><Data>--Encrypted Boundary--\r\n
func Frame(m *Message) []byte {
	b := make([]byte, 0, frameOverhead(m.Protocol, m.Length)+len(m.Header)+len(m.Data))
	b = appendFramePrefix(b, m.Protocol, m.Length, len(m.Header))
	b = append(b, m.Header...)
	b = append(b, m.Data...)
	return append(b, frameSuffix...)
}

const frameSuffix = "--" + Boundary + "--\r\n"

// appendFramePrefix appends everything before the token: both part
// headers and the length of the token's header part.
func appendFramePrefix(b []byte, protocol string, length, headerLen int) []byte {
	b = append(b, "--"+Boundary+"\r\n"...)
	b = append(b, "\tContent-Type: "...)
	b = append(b, protocol...)
	b = append(b, "\r\n\tOriginalContent: type="+SOAPContentType+";Length="...)
	b = strconv.AppendInt(b, int64(length), 10)
	b = append(b, "\r\n--"+Boundary+"\r\n\tContent-Type: "+octetStream+"\r\n"...)
	return binary.LittleEndian.AppendUint32(b, uint32(headerLen))
}

// frameOverhead is what the framing adds to a token.
func frameOverhead(protocol string, length int) int {
	return len(appendFramePrefix(make([]byte, 0, 256), protocol, length, 0)) + len(frameSuffix)
}

// Parse reads an encrypted body with its Content-Type. Header and Data of
// the result alias body. Besides the exact layout it accepts what peers
// are known to send: a space between the dashes and the boundary
// (Exchange), a missing final "--" or CRLF, LF line ends and part headers
// in any case with or without leading whitespace.
func Parse(contentType string, body []byte) (*Message, error) {
	protocol, boundary, err := parseContentType(contentType)
	if err != nil {
		return nil, err
	}
	m := &Message{Protocol: protocol, Length: -1}
	p := parser{b: body, boundary: boundary}
	if err := p.boundaryLine(); err != nil {
		return nil, err
	}
	// First part: the protocol and the original content.
	for {
		line, err := p.line()
		if err != nil {
			return nil, err
		}
		if p.isBoundary(line) {
			break
		}
		name, value, ok := bytes.Cut(bytes.TrimSpace(line), []byte(":"))
		if !ok {
			return nil, malformed("part header %q", line)
		}
		value = bytes.TrimSpace(value)
		name = bytes.TrimSpace(name)
		switch {
		case bytes.EqualFold(name, []byte("content-type")):
			if !bytes.EqualFold(value, []byte(m.Protocol)) {
				return nil, malformed("first part of type %q under protocol %q", value, m.Protocol)
			}
		case bytes.EqualFold(name, []byte("originalcontent")):
			if m.Length, err = originalLength(string(value)); err != nil {
				return nil, err
			}
		}
	}
	if m.Length < 0 {
		return nil, malformed("no OriginalContent Length")
	}
	// Second part: one header line, then the token up to the closing
	// boundary.
	line, err := p.line()
	if err != nil {
		return nil, err
	}
	name, value, _ := bytes.Cut(bytes.TrimSpace(line), []byte(":"))
	if !bytes.EqualFold(bytes.TrimSpace(name), []byte("content-type")) || !bytes.EqualFold(bytes.TrimSpace(value), []byte(octetStream)) {
		return nil, malformed("second part header %q, want Content-Type: %s", line, octetStream)
	}
	payload, err := p.untilClosingBoundary()
	if err != nil {
		return nil, err
	}
	if len(payload) < 4 {
		return nil, malformed("octet-stream part of %d bytes", len(payload))
	}
	hl := binary.LittleEndian.Uint32(payload)
	if uint64(hl) > uint64(len(payload)-4) {
		return nil, malformed("header length %d exceeds the %d bytes of the part", hl, len(payload)-4)
	}
	m.Header = payload[4 : 4+hl]
	m.Data = payload[4+hl:]
	return m, nil
}

// Content-Types as ContentType writes them, which is how Windows, pywinrm
// and this package send them: recognized without mime.ParseMediaType,
// which allocates a map and a string per parameter on every message.
var (
	contentTypeSPNEGO   = ContentType(ProtocolSPNEGO)
	contentTypeKerberos = ContentType(ProtocolKerberos)
)

// parseContentType returns the protocol and boundary of a
// multipart/encrypted Content-Type.
func parseContentType(contentType string) (protocol, boundary string, err error) {
	switch contentType {
	case contentTypeSPNEGO:
		return ProtocolSPNEGO, Boundary, nil
	case contentTypeKerberos:
		return ProtocolKerberos, Boundary, nil
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || !strings.EqualFold(mt, MediaType) {
		return "", "", malformed("Content-Type %q is not %s", contentType, MediaType)
	}
	if protocol = params["protocol"]; protocol == "" {
		return "", "", malformed("Content-Type %q has no protocol", contentType)
	}
	if boundary = params["boundary"]; boundary == "" {
		boundary = Boundary
	}
	return protocol, boundary, nil
}

// originalLength reads Length from "type=application/soap+xml;charset=UTF-8;Length=123".
func originalLength(v string) (int, error) {
	for param := range strings.SplitSeq(v, ";") {
		k, val, _ := strings.Cut(param, "=")
		if strings.EqualFold(strings.TrimSpace(k), "length") {
			n, err := strconv.Atoi(strings.TrimSpace(val))
			if err != nil || n < 0 {
				return -1, malformed("OriginalContent Length %q", val)
			}
			return n, nil
		}
	}
	return -1, malformed("OriginalContent %q without Length", v)
}

// parser walks a body: text lines first, then the binary part.
type parser struct {
	b        []byte
	pos      int
	boundary string
}

// line returns the next line without its line end. It shares the body's
// bytes: nothing is copied for a line that is only looked at.
func (p *parser) line() ([]byte, error) {
	rest := p.b[p.pos:]
	i := bytes.IndexByte(rest[:min(len(rest), maxLineLen)], '\n')
	if i < 0 {
		return nil, malformed("unterminated or overlong line at byte %d", p.pos)
	}
	p.pos += i + 1
	return bytes.TrimSuffix(rest[:i], []byte("\r")), nil
}

// isBoundary recognizes "--B" and "-- B" (Exchange's variant).
func (p *parser) isBoundary(line []byte) bool {
	rest, ok := bytes.CutPrefix(bytes.TrimRight(line, " \t"), []byte("--"))
	return ok && string(bytes.TrimLeft(rest, " ")) == p.boundary
}

func (p *parser) boundaryLine() error {
	line, err := p.line()
	if err != nil {
		return err
	}
	if !p.isBoundary(line) {
		return malformed("body does not start with the boundary: %q", line)
	}
	return nil
}

// untilClosingBoundary returns the bytes from the current position to the
// closing boundary that ends the body. Everything in between is binary, so
// the boundary is found from the end, never by searching the token.
func (p *parser) untilClosingBoundary() ([]byte, error) {
	rest := p.b[p.pos:]
	rest = bytes.TrimSuffix(rest, []byte("\n"))
	rest = bytes.TrimSuffix(rest, []byte("\r"))
	rest = bytes.TrimSuffix(rest, []byte("--"))
	for _, closing := range []string{"--" + p.boundary, "-- " + p.boundary} {
		if payload, ok := bytes.CutSuffix(rest, []byte(closing)); ok {
			return payload, nil
		}
	}
	return nil, malformed("body does not end with the closing boundary")
}
