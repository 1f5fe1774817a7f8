package kcm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/krbhttp/krbhttp/auth/internal/ccache"
)

// Protocol version MIT and sssd speak.
const (
	versionMajor = 2
	versionMinor = 0
)

// MaxReply is the largest reply accepted, MIT's MAX_REPLY_SIZE (and sssd's
// KCM_PACKET_MAX_SIZE).
const MaxReply = 10 << 20

// uuidLen is the length of cache and credential identifiers.
const uuidLen = 16

// opcode is a KCM operation (MIT's src/include/kcm.h).
type opcode uint16

const (
	opGenNew           opcode = 3
	opInitialize       opcode = 4
	opDestroy          opcode = 5
	opStore            opcode = 6
	opGetPrincipal     opcode = 8
	opGetCredUUIDList  opcode = 9
	opGetCredByUUID    opcode = 10
	opGetCacheUUIDList opcode = 18
	opGetCacheByUUID   opcode = 19
	opGetDefaultCache  opcode = 20
	opSetDefaultCache  opcode = 21
	opGetKDCOffset     opcode = 22
	opGetCredList      opcode = 13001 // MIT extension
	opReplace          opcode = 13002 // MIT extension
)

var opNames = map[opcode]string{
	opGenNew: "GEN_NEW", opInitialize: "INITIALIZE", opDestroy: "DESTROY", opStore: "STORE",
	opGetPrincipal: "GET_PRINCIPAL", opGetCredUUIDList: "GET_CRED_UUID_LIST",
	opGetCredByUUID: "GET_CRED_BY_UUID", opGetCacheUUIDList: "GET_CACHE_UUID_LIST",
	opGetCacheByUUID: "GET_CACHE_BY_UUID", opGetDefaultCache: "GET_DEFAULT_CACHE",
	opSetDefaultCache: "SET_DEFAULT_CACHE", opGetKDCOffset: "GET_KDC_OFFSET",
	opGetCredList: "GET_CRED_LIST", opReplace: "REPLACE",
}

func (o opcode) String() string {
	if n, ok := opNames[o]; ok {
		return n
	}
	return fmt.Sprintf("opcode %d", uint16(o))
}

// krb5 error codes KCM daemons answer with (MIT's krb5_err.et).
const (
	codeCCBadName   int32 = -1765328245 // KRB5_CC_BADNAME
	codeCCNotFound  int32 = -1765328243 // KRB5_CC_NOTFOUND
	codeCCEnd       int32 = -1765328242 // KRB5_CC_END
	codeCCIO        int32 = -1765328191 // KRB5_CC_IO
	codeFCCPerm     int32 = -1765328190 // KRB5_FCC_PERM
	codeFCCNoFile   int32 = -1765328189 // KRB5_FCC_NOFILE
	codeFCCInternal int32 = -1765328188 // KRB5_FCC_INTERNAL
	codeCCWrite     int32 = -1765328187 // KRB5_CC_WRITE
	codeCCNoMem     int32 = -1765328186 // KRB5_CC_NOMEM
	codeCCFormat    int32 = -1765328185 // KRB5_CC_FORMAT
	codeCCNoSupp    int32 = -1765328137 // KRB5_CC_NOSUPP
)

var codeNames = map[int32]string{
	codeCCBadName: "KRB5_CC_BADNAME", codeCCNotFound: "KRB5_CC_NOTFOUND", codeCCEnd: "KRB5_CC_END",
	codeCCIO: "KRB5_CC_IO", codeFCCPerm: "KRB5_FCC_PERM", codeFCCNoFile: "KRB5_FCC_NOFILE",
	codeFCCInternal: "KRB5_FCC_INTERNAL", codeCCWrite: "KRB5_CC_WRITE", codeCCNoMem: "KRB5_CC_NOMEM",
	codeCCFormat: "KRB5_CC_FORMAT", codeCCNoSupp: "KRB5_CC_NOSUPP",
}

// ReplyError is a non-zero status from the daemon. It matches
// ccache.ErrNotFound for "no such cache" and "no such credential" codes.
type ReplyError struct {
	Op   string // the operation, e.g. "GET_PRINCIPAL"
	Code int32  // krb5 error code, or a transport status
}

func (e *ReplyError) Error() string {
	name := codeNames[e.Code]
	if name == "" {
		name = "error"
	}
	return fmt.Sprintf("kcm: %s: %s (%d)", e.Op, name, e.Code)
}

// Is makes errors.Is(err, ccache.ErrNotFound) true for KRB5_FCC_NOFILE,
// KRB5_CC_NOTFOUND and KRB5_CC_END.
func (e *ReplyError) Is(target error) bool {
	return target == ccache.ErrNotFound && (e.Code == codeFCCNoFile || e.Code == codeCCNotFound || e.Code == codeCCEnd)
}

// unsupportedOp reports whether err could mean the daemon lacks the
// operation: Heimdal answers KRB5_FCC_INTERNAL, sssd KRB5_CC_NOSUPP for
// operations it knows but does not implement and KRB5_CC_IO for unknown
// ones (MIT's unsupported_op_error).
func unsupportedOp(err error) bool {
	var re *ReplyError
	return errors.As(err, &re) && (re.Code == codeFCCInternal || re.Code == codeCCIO || re.Code == codeCCNoSupp)
}

// MalformedError is a reply that does not parse. It matches
// ccache.ErrMalformed.
type MalformedError struct {
	Op     string
	Reason string
	Err    error // a *ccache.FormatError for a bad principal or credential
}

func (e *MalformedError) Error() string {
	s := "kcm: " + e.Op + ": malformed reply: " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *MalformedError) Unwrap() error        { return e.Err }
func (e *MalformedError) Is(target error) bool { return target == ccache.ErrMalformed }

// request builds one request message (without the length prefix).
type request struct {
	op opcode
	b  []byte
}

func newRequest(op opcode) *request {
	r := &request{op: op, b: make([]byte, 0, 64)}
	r.b = append(r.b, versionMajor, versionMinor)
	r.b = binary.BigEndian.AppendUint16(r.b, uint16(op))
	return r
}

func (r *request) name(n string) *request {
	r.b = append(r.b, n...)
	r.b = append(r.b, 0)
	return r
}

func (r *request) u32(v uint32) *request {
	r.b = binary.BigEndian.AppendUint32(r.b, v)
	return r
}

func (r *request) bytes(b []byte) *request {
	r.b = append(r.b, b...)
	return r
}

// frame is the request as sent: length prefix and message.
func (r *request) frame() []byte {
	f := make([]byte, 4, 4+len(r.b))
	binary.BigEndian.PutUint32(f, uint32(len(r.b)))
	return append(f, r.b...)
}

// readReply reads one reply from rd and returns the results after the
// operation status, or a *ReplyError for a non-zero status, or a
// *MalformedError. The length is checked against MaxReply before
// anything is allocated.
func readReply(rd io.Reader, op opcode) ([]byte, error) {
	var hdr [8]byte
	if _, err := io.ReadFull(rd, hdr[:]); err != nil {
		return nil, readError(op, err)
	}
	n := binary.BigEndian.Uint32(hdr[:4])
	if n > MaxReply {
		return nil, &MalformedError{Op: op.String(), Reason: fmt.Sprintf("length %d exceeds %d", n, MaxReply)}
	}
	if status := int32(binary.BigEndian.Uint32(hdr[4:])); status != 0 {
		// sssd answers an operation it does not know (REPLACE) this
		// way, with no results; anything sent along is skipped so the
		// connection stays usable for the fallback.
		if _, err := io.CopyN(io.Discard, rd, int64(n)); err != nil {
			return nil, readError(op, err)
		}
		return nil, &ReplyError{Op: op.String(), Code: status}
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(rd, body); err != nil {
		return nil, readError(op, err)
	}
	if n < 4 {
		return nil, &MalformedError{Op: op.String(), Reason: "no status code"}
	}
	if status := int32(binary.BigEndian.Uint32(body)); status != 0 {
		return nil, &ReplyError{Op: op.String(), Code: status}
	}
	return body[4:], nil
}

func readError(op opcode, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &MalformedError{Op: op.String(), Reason: "connection closed mid-reply", Err: err}
	}
	return fmt.Errorf("kcm: %s: %w", op, err)
}

// parseName reads a NUL-terminated cache name.
func parseName(op opcode, b []byte) (string, error) {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return "", &MalformedError{Op: op.String(), Reason: "cache name not terminated"}
	}
	return string(b[:i]), nil
}

// parseUUIDs splits an undelimited list of 16-byte identifiers.
func parseUUIDs(op opcode, b []byte) ([][]byte, error) {
	if len(b)%uuidLen != 0 {
		return nil, &MalformedError{Op: op.String(), Reason: fmt.Sprintf("%d bytes is not a list of %d-byte identifiers", len(b), uuidLen)}
	}
	ids := make([][]byte, 0, len(b)/uuidLen)
	for i := 0; i < len(b); i += uuidLen {
		ids = append(ids, b[i:i+uuidLen])
	}
	return ids, nil
}

// parsePrincipal reads GET_PRINCIPAL's result. Heimdal may answer success
// with nothing: no principal, as MIT treats it.
func parsePrincipal(op opcode, name string, b []byte) (ccache.Principal, error) {
	if len(b) == 0 {
		return ccache.Principal{}, &ccache.NotFoundError{Cache: "KCM:" + name, Reason: "no default principal"}
	}
	p, _, err := ccache.ParsePrincipal(b)
	if err != nil {
		return p, &MalformedError{Op: op.String(), Reason: "principal", Err: err}
	}
	return p, nil
}

// parseCredList reads GET_CRED_LIST's result: a count, then that many
// length-prefixed credentials. The count is bounded by the bytes present
// (MIT's check) before anything is allocated.
func parseCredList(op opcode, b []byte) ([]*ccache.Credential, error) {
	if len(b) < 4 {
		return nil, &MalformedError{Op: op.String(), Reason: "no credential count"}
	}
	count := binary.BigEndian.Uint32(b)
	b = b[4:]
	if uint64(count) > uint64(len(b)/4) {
		return nil, &MalformedError{Op: op.String(), Reason: fmt.Sprintf("count %d exceeds the reply", count)}
	}
	creds := make([]*ccache.Credential, 0, count)
	for i := range count {
		if len(b) < 4 {
			return nil, &MalformedError{Op: op.String(), Reason: fmt.Sprintf("credential %d: truncated length", i)}
		}
		n := binary.BigEndian.Uint32(b)
		b = b[4:]
		if uint64(n) > uint64(len(b)) {
			return nil, &MalformedError{Op: op.String(), Reason: fmt.Sprintf("credential %d: length %d exceeds the reply", i, n)}
		}
		c, err := parseCredential(op, b[:n])
		if err != nil {
			return nil, err
		}
		creds = append(creds, c)
		b = b[n:]
	}
	return creds, nil
}

func parseCredential(op opcode, b []byte) (*ccache.Credential, error) {
	c, err := ccache.ParseCredential(b)
	if err != nil {
		return nil, &MalformedError{Op: op.String(), Reason: "credential", Err: err}
	}
	return c, nil
}
