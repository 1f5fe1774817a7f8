package gss

import (
	"slices"
	"strconv"
	"strings"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/types"
)

// Flags are the GSS-API context flags carried in the authenticator
// checksum (RFC 4121 4.1.1.1).
type Flags uint32

// Context flags.
const (
	FlagDelegate Flags = 0x01 // credentials delegated (forwarded TGT in the checksum)
	FlagMutual   Flags = 0x02 // initiator wants an AP-REP
	FlagReplay   Flags = 0x04 // replay detection for per-message tokens
	FlagSequence Flags = 0x08 // out-of-sequence detection for per-message tokens
	FlagConf     Flags = 0x10 // confidentiality (wrap with encryption) wanted
	FlagInteg    Flags = 0x20 // integrity (MIC, wrap) wanted
)

var flagNames = []struct {
	f    Flags
	name string
}{
	{FlagDelegate, "delegate"},
	{FlagMutual, "mutual"},
	{FlagReplay, "replay"},
	{FlagSequence, "sequence"},
	{FlagConf, "conf"},
	{FlagInteg, "integ"},
}

// String lists the flags, e.g. "mutual|sequence"; unnamed bits are shown
// in hex.
func (f Flags) String() string {
	var parts []string
	for _, n := range flagNames {
		if f&n.f != 0 {
			parts = append(parts, n.name)
			f &^= n.f
		}
	}
	if f != 0 || len(parts) == 0 {
		parts = append(parts, "0x"+strconv.FormatUint(uint64(f), 16))
	}
	return strings.Join(parts, "|")
}

// Format is the token format: SPNEGO or raw Kerberos.
type Format int

// Token formats.
const (
	// FormatSPNEGO: an RFC 4178 NegTokenInit offering Kerberos and carrying
	// the Kerberos token optimistically. What browsers, curl and Windows
	// send for HTTP Negotiate.
	FormatSPNEGO Format = iota
	// FormatKRB5: the RFC 4121 Kerberos token itself,
	// 60 len 06 09 2A864886F7120102 | 01 00 | AP-REQ, as requests-kerberos
	// sends it.
	FormatKRB5
)

func (f Format) String() string {
	switch f {
	case FormatSPNEGO:
		return "SPNEGO"
	case FormatKRB5:
		return "KRB5"
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// SecurityContext is an established Kerberos GSS-API context: the keys and
// initial sequence numbers per-message tokens (RFC 4121 4.2) are built on.
//
// Per RFC 4121 2 the acceptor subkey, when present, protects per-message
// tokens; otherwise the initiator subkey, otherwise the session key.
type SecurityContext struct {
	Initiator       bool  // this side initiated the context
	Flags           Flags // context flags in effect
	SessionKey      types.EncryptionKey
	InitiatorSubkey types.EncryptionKey // from the authenticator; zero if none
	AcceptorSubkey  types.EncryptionKey // from the AP-REP; zero if none
	// InitiatorSeq is the initiator's initial sequence number, from the
	// authenticator.
	InitiatorSeq uint64
	// AcceptorSeq is the acceptor's initial sequence number, from the
	// AP-REP. Without an AP-REP it equals InitiatorSeq, as in MIT and
	// RFC 1964 1.2.1.1.
	AcceptorSeq uint64
}

// clone returns a copy that shares no key bytes with c, so callers cannot
// alter a context held by an Initiator.
func (c *SecurityContext) clone() *SecurityContext {
	d := *c
	d.SessionKey.KeyValue = slices.Clone(c.SessionKey.KeyValue)
	d.InitiatorSubkey.KeyValue = slices.Clone(c.InitiatorSubkey.KeyValue)
	d.AcceptorSubkey.KeyValue = slices.Clone(c.AcceptorSubkey.KeyValue)
	return &d
}

// isFlagSet is types.IsFlagSet with a bounds check: that one indexes the
// bit string without looking at its length, and AP options and ticket flags
// come from the wire.
func isFlagSet(bs asn1.BitString, bit int) bool {
	return bit/8 < len(bs.Bytes) && bs.Bytes[bit/8]&(0x80>>(bit%8)) != 0
}
