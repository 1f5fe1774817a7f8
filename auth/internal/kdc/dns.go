package kdc

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// DNS looks up the records Kerberos discovery uses: SRV (_kerberos._udp.R),
// URI (_kerberos.R, RFC 7553, MIT's krb5srv: targets) and TXT (_kerberos.H,
// for dns_lookup_realm). net.Resolver cannot ask for URI records, so the
// queries are made here with golang.org/x/net/dns/dnsmessage: one small
// stub resolver for all three, whose parsing is fuzzed as one piece.
//
// Names are absolute, as MIT makes them (no search domains). Every query
// is bounded: at most maxDNSServers servers, each within Timeout and the
// context, UDP then TCP when the answer is truncated, at most
// maxDNSRecords records kept.
type DNS struct {
	// Servers are name servers, "host:port"; empty means the nameserver
	// lines of /etc/resolv.conf. Where there are none (Windows), SRV and
	// TXT go through net.DefaultResolver and URI records are not looked up,
	// as with MIT on Windows.
	Servers []string
	// Dial connects to a name server, like net.Resolver's Dial (one test
	// server can serve both); nil means net.Dialer.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// Timeout bounds one query to one server; zero means 2 seconds.
	Timeout time.Duration
}

// SRV is an SRV record.
type SRV struct {
	Priority, Weight, Port uint16
	Target                 string // with its final dot; "." means no service
}

// URI is a URI record (RFC 7553).
type URI struct {
	Priority, Weight uint16
	Target           string
}

const (
	maxDNSServers = 3 // resolv.conf's MAXNS
	maxDNSRecords = 64
	maxDNSMessage = 65535
	maxCNAMEChain = 8
	typeURI       = dnsmessage.Type(256)
	ednsUDPSize   = 1232 // the DNS flag day 2020 recommendation
)

// DNSError is a failed DNS query. A reply that cannot be parsed or does
// not answer the question matches ErrMalformed.
type DNSError struct {
	Name string // the name asked for
	Type string // "SRV", "URI", "TXT"
	Err  error
}

func (e *DNSError) Error() string { return fmt.Sprintf("DNS %s %s: %v", e.Type, e.Name, e.Err) }
func (e *DNSError) Unwrap() error { return e.Err }

// LookupSRV returns name's SRV records ordered by priority (stable: MIT
// ignores weights). No record is not an error.
func (d *DNS) LookupSRV(ctx context.Context, name string) ([]SRV, error) {
	servers, err := d.servers()
	if err != nil {
		_, srvs, err := net.DefaultResolver.LookupSRV(ctx, "", "", name)
		if err != nil {
			var de *net.DNSError
			if errors.As(err, &de) && de.IsNotFound {
				return nil, nil
			}
			return nil, &DNSError{Name: name, Type: "SRV", Err: err}
		}
		out := make([]SRV, 0, len(srvs))
		for _, s := range srvs {
			out = append(out, SRV{Priority: s.Priority, Weight: s.Weight, Port: s.Port, Target: s.Target})
		}
		return sortByPriority(out, func(s SRV) uint16 { return s.Priority }), nil
	}
	recs, err := d.query(ctx, servers, name, dnsmessage.TypeSRV)
	if err != nil {
		return nil, err
	}
	out := make([]SRV, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.srv)
	}
	return sortByPriority(out, func(s SRV) uint16 { return s.Priority }), nil
}

// LookupURI returns name's URI records ordered by priority.
func (d *DNS) LookupURI(ctx context.Context, name string) ([]URI, error) {
	servers, err := d.servers()
	if err != nil {
		return nil, nil // no way to ask: as MIT on Windows
	}
	recs, err := d.query(ctx, servers, name, typeURI)
	if err != nil {
		return nil, err
	}
	out := make([]URI, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.uri)
	}
	return sortByPriority(out, func(u URI) uint16 { return u.Priority }), nil
}

// LookupTXT returns the first character-string of each of name's TXT
// records (what MIT's k5_try_realm_txt_rr reads).
func (d *DNS) LookupTXT(ctx context.Context, name string) ([]string, error) {
	servers, err := d.servers()
	if err != nil {
		txts, err := net.DefaultResolver.LookupTXT(ctx, name)
		var de *net.DNSError
		if errors.As(err, &de) && de.IsNotFound {
			return nil, nil
		}
		if err != nil {
			return nil, &DNSError{Name: name, Type: "TXT", Err: err}
		}
		return txts, nil
	}
	recs, err := d.query(ctx, servers, name, dnsmessage.TypeTXT)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.txt)
	}
	return out, nil
}

func sortByPriority[T any](s []T, prio func(T) uint16) []T {
	// Insertion sort: stable, and the lists are short (maxDNSRecords).
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && prio(s[j]) < prio(s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}

var errNoNameServers = errors.New("no name servers known")

func (d *DNS) servers() ([]string, error) {
	if len(d.Servers) > 0 {
		return capList(d.Servers), nil
	}
	b, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		return nil, errNoNameServers
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" {
			host := f[1]
			if i := strings.IndexByte(host, '%'); i >= 0 && net.ParseIP(host[:i]) != nil {
				host = host[:i] // a zone index the dialer cannot take as is
			}
			if net.ParseIP(host) != nil {
				out = append(out, net.JoinHostPort(host, "53"))
			}
		}
	}
	if len(out) == 0 {
		return nil, errNoNameServers
	}
	return capList(out), nil
}

func capList(s []string) []string {
	if len(s) > maxDNSServers {
		return s[:maxDNSServers]
	}
	return s
}

// dnsRecord is one parsed answer record of the type asked for.
type dnsRecord struct {
	srv SRV
	uri URI
	txt string
}

func typeName(t dnsmessage.Type) string {
	if t == typeURI {
		return "URI"
	}
	return strings.TrimPrefix(t.String(), "Type")
}

// query asks each server in turn until one answers (records or "no such
// name"); the errors of those that did not are returned together.
func (d *DNS) query(ctx context.Context, servers []string, name string, qtype dnsmessage.Type) ([]dnsRecord, error) {
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	qname, err := dnsmessage.NewName(name)
	if err != nil {
		return nil, &DNSError{Name: name, Type: typeName(qtype), Err: err}
	}
	var errs []error
	for _, server := range servers {
		recs, err := d.ask(ctx, server, qname, qtype)
		if err == nil {
			return recs, nil
		}
		errs = append(errs, fmt.Errorf("server %s: %w", server, err))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, &DNSError{Name: name, Type: typeName(qtype), Err: errors.Join(errs...)}
}

func (d *DNS) ask(ctx context.Context, server string, qname dnsmessage.Name, qtype dnsmessage.Type) ([]dnsRecord, error) {
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var idb [2]byte
	if _, err := rand.Read(idb[:]); err != nil {
		return nil, err
	}
	id := binary.BigEndian.Uint16(idb[:])
	q, err := buildQuery(id, qname, qtype)
	if err != nil {
		return nil, err
	}
	reply, err := d.roundTrip(ctx, "udp", server, q)
	if err != nil {
		return nil, err
	}
	recs, truncated, err := parseReply(reply, id, qname, qtype)
	if err == nil && truncated {
		if reply, err = d.roundTrip(ctx, "tcp", server, q); err != nil {
			return nil, err
		}
		recs, truncated, err = parseReply(reply, id, qname, qtype)
		if err == nil && truncated {
			err = malformed("truncated DNS answer over TCP", nil)
		}
	}
	return recs, err
}

func buildQuery(id uint16, qname dnsmessage.Name, qtype dnsmessage.Type) ([]byte, error) {
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: id, RecursionDesired: true})
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(dnsmessage.Question{Name: qname, Type: qtype, Class: dnsmessage.ClassINET}); err != nil {
		return nil, err
	}
	if err := b.StartAdditionals(); err != nil {
		return nil, err
	}
	var opt dnsmessage.ResourceHeader
	if err := opt.SetEDNS0(ednsUDPSize, dnsmessage.RCodeSuccess, false); err != nil {
		return nil, err
	}
	if err := b.OPTResource(opt, dnsmessage.OPTResource{}); err != nil {
		return nil, err
	}
	return b.Finish()
}

func (d *DNS) roundTrip(ctx context.Context, network, server string, q []byte) ([]byte, error) {
	dial := d.Dial
	if dial == nil {
		var nd net.Dialer
		dial = nd.DialContext
	}
	conn, release, err := DialBound(ctx, dial, network, server)
	if err != nil {
		return nil, err
	}
	defer release()
	if _, isPacket := conn.(net.PacketConn); isPacket || network == "udp" {
		if _, err := conn.Write(q); err != nil {
			return nil, err
		}
		buf := make([]byte, maxDNSMessage)
		n, err := conn.Read(buf)
		if err != nil {
			return nil, err
		}
		return buf[:n:n], nil
	}
	msg := binary.BigEndian.AppendUint16(nil, uint16(len(q)))
	if _, err := conn.Write(append(msg, q...)); err != nil {
		return nil, err
	}
	var hdr [2]byte
	if _, err := io.ReadFull(conn, hdr[:]); err != nil {
		return nil, err
	}
	reply := make([]byte, binary.BigEndian.Uint16(hdr[:]))
	if _, err := io.ReadFull(conn, reply); err != nil {
		return nil, err
	}
	return reply, nil
}

// parseReply checks that reply answers the question (ID, response bit,
// question section) and returns the records of qtype owned by qname or by
// the end of a CNAME chain from it. "No such name" is no records.
func parseReply(reply []byte, id uint16, qname dnsmessage.Name, qtype dnsmessage.Type) ([]dnsRecord, bool, error) {
	var p dnsmessage.Parser
	h, err := p.Start(reply)
	if err != nil {
		return nil, false, malformed("unparsable DNS reply", err)
	}
	if h.ID != id || !h.Response {
		return nil, false, malformed("DNS reply does not match the query", nil)
	}
	q, err := p.Question()
	if err != nil || !strings.EqualFold(q.Name.String(), qname.String()) || q.Type != qtype {
		return nil, false, malformed("DNS reply is for another question", err)
	}
	if h.Truncated {
		return nil, true, nil
	}
	switch h.RCode {
	case dnsmessage.RCodeSuccess:
	case dnsmessage.RCodeNameError:
		return nil, false, nil
	default:
		return nil, false, fmt.Errorf("name server answered %v", h.RCode)
	}
	if err := p.SkipAllQuestions(); err != nil {
		return nil, false, malformed("unparsable DNS reply", err)
	}
	owner := strings.ToLower(qname.String())
	var recs []dnsRecord
	for i := 0; ; i++ {
		rh, err := p.AnswerHeader()
		if errors.Is(err, dnsmessage.ErrSectionDone) {
			break
		}
		if err != nil {
			return nil, false, malformed("unparsable DNS answer", err)
		}
		if i >= maxCNAMEChain+maxDNSRecords {
			break
		}
		if rh.Class != dnsmessage.ClassINET || !strings.EqualFold(rh.Name.String(), owner) {
			if err := p.SkipAnswer(); err != nil {
				return nil, false, malformed("unparsable DNS answer", err)
			}
			continue
		}
		switch {
		case rh.Type == dnsmessage.TypeCNAME && qtype != dnsmessage.TypeCNAME:
			c, err := p.CNAMEResource()
			if err != nil {
				return nil, false, malformed("unparsable CNAME record", err)
			}
			owner = strings.ToLower(c.CNAME.String())
		case rh.Type != qtype:
			if err := p.SkipAnswer(); err != nil {
				return nil, false, malformed("unparsable DNS answer", err)
			}
		case len(recs) >= maxDNSRecords:
			if err := p.SkipAnswer(); err != nil {
				return nil, false, malformed("unparsable DNS answer", err)
			}
		default:
			r, err := parseRecord(&p, qtype)
			if err != nil {
				return nil, false, err
			}
			recs = append(recs, r)
		}
	}
	return recs, false, nil
}

func parseRecord(p *dnsmessage.Parser, qtype dnsmessage.Type) (dnsRecord, error) {
	switch qtype {
	case dnsmessage.TypeSRV:
		s, err := p.SRVResource()
		if err != nil {
			return dnsRecord{}, malformed("unparsable SRV record", err)
		}
		return dnsRecord{srv: SRV{Priority: s.Priority, Weight: s.Weight, Port: s.Port, Target: s.Target.String()}}, nil
	case dnsmessage.TypeTXT:
		t, err := p.TXTResource()
		if err != nil {
			return dnsRecord{}, malformed("unparsable TXT record", err)
		}
		if len(t.TXT) == 0 {
			return dnsRecord{}, malformed("TXT record without a string", nil)
		}
		return dnsRecord{txt: t.TXT[0]}, nil
	default: // URI
		u, err := p.UnknownResource()
		if err != nil {
			return dnsRecord{}, malformed("unparsable URI record", err)
		}
		// RFC 7553: priority, weight, then the target as the rest of the
		// RDATA (not a character-string), never empty.
		if len(u.Data) < 5 {
			return dnsRecord{}, malformed(fmt.Sprintf("URI record of %d bytes", len(u.Data)), nil)
		}
		target := string(u.Data[4:])
		for i := 0; i < len(target); i++ {
			if target[i] < ' ' || target[i] > '~' {
				return dnsRecord{}, malformed(fmt.Sprintf("URI record target has byte %#x", target[i]), nil)
			}
		}
		return dnsRecord{uri: URI{Priority: binary.BigEndian.Uint16(u.Data), Weight: binary.BigEndian.Uint16(u.Data[2:]), Target: target}}, nil
	}
}
