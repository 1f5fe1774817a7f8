package ccache

import (
	"encoding/binary"
	"maps"
	"slices"
	"strings"
	"time"
)

// Marshal writes c in the version 4 format MIT writes today. Configuration
// entries in c.Config are written after the credentials with the default
// principal as client, as krb5_cc_set_config does.
func Marshal(c *Cache) []byte { return marshal(c, 4) }

// MarshalVersion writes c in file format version (1 to 4), for rewriting a
// file in the version it already has, as MIT does. Only version 4 keeps
// the KDC offset. Any other version is written as 4.
func MarshalVersion(c *Cache, version uint8) []byte {
	if version < 1 || version > 4 {
		version = 4
	}
	return marshal(c, version)
}

func marshal(c *Cache, version uint8) []byte {
	w := newWriter(version)
	w.b = append(w.b, 5, version)
	if version == 4 {
		if c.KDCOffset != 0 {
			sec := int32(c.KDCOffset / time.Second)
			usec := int32((c.KDCOffset % time.Second) / time.Microsecond)
			w.u16(12)
			w.u16(tagKDCOffset)
			w.u16(8)
			w.u32(uint32(sec))
			w.u32(uint32(usec))
		} else {
			w.u16(0)
		}
	}
	w.principal(c.Principal)
	for _, cred := range c.Credentials {
		w.credential(cred)
	}
	for _, k := range slices.Sorted(maps.Keys(c.Config)) {
		w.credential(&Credential{
			Client: c.Principal,
			Server: Principal{NameType: 2, Components: append([]string{"krb5_ccache_conf_data"}, strings.SplitN(k, " ", 2)...), Realm: ConfigRealm},
			Ticket: c.Config[k],
		})
	}
	return w.b
}

func newWriter(version uint8) *writer {
	w := &writer{order: binary.BigEndian, version: version}
	if version < 3 {
		w.order = binary.LittleEndian
	}
	return w
}

// writer appends in the layout of one file format version: versions 1
// and 2 are little-endian (host order on every platform that wrote them),
// version 1 has no name types, version 3 repeats the key's enctype.
type writer struct {
	b       []byte
	order   binary.AppendByteOrder
	version uint8
}

func (w *writer) u16(v uint16) { w.b = w.order.AppendUint16(w.b, v) }
func (w *writer) u32(v uint32) { w.b = w.order.AppendUint32(w.b, v) }

func (w *writer) counted(b []byte) {
	w.u32(uint32(len(b)))
	w.b = append(w.b, b...)
}

func (w *writer) time(t time.Time) {
	if t.IsZero() {
		w.u32(0)
		return
	}
	w.u32(uint32(t.Unix()))
}

func (w *writer) principal(p Principal) {
	if w.version == 1 {
		// Version 1 has no name type and counts the realm as a component.
		w.u32(uint32(len(p.Components) + 1))
	} else {
		w.u32(uint32(p.NameType))
		w.u32(uint32(len(p.Components)))
	}
	w.counted([]byte(p.Realm))
	for _, c := range p.Components {
		w.counted([]byte(c))
	}
}

func (w *writer) credential(c *Credential) {
	w.principal(c.Client)
	w.principal(c.Server)
	w.u16(uint16(c.Key.EncType))
	if w.version == 3 {
		w.u16(uint16(c.Key.EncType))
	}
	w.counted(c.Key.Value)
	w.time(c.AuthTime)
	w.time(c.StartTime)
	w.time(c.EndTime)
	w.time(c.RenewTill)
	if c.IsSKey {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
	w.u32(c.Flags)
	w.u32(uint32(len(c.Addresses)))
	for _, a := range c.Addresses {
		w.u16(uint16(a.Type))
		w.counted(a.Value)
	}
	w.u32(uint32(len(c.AuthData)))
	for _, a := range c.AuthData {
		w.u16(uint16(a.Type))
		w.counted(a.Value)
	}
	w.counted(c.Ticket)
	w.counted(c.SecondTicket)
}
