package dnstest

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// TypeURI is the URI record type (RFC 7553), which dnsmessage does not name.
const TypeURI = dnsmessage.Type(256)

// Server answers queries from its records; see Start.
type Server struct {
	Addr string // 127.0.0.1:port, UDP and TCP

	mu       sync.Mutex
	records  map[string][]record // by lower-case name with final dot
	truncate bool
	raw      func(query []byte, q dnsmessage.Question, tcp bool) []byte

	queries atomic.Int32
	pc      net.PacketConn
	l       net.Listener
	wg      sync.WaitGroup
}

type record struct {
	typ  dnsmessage.Type
	body dnsmessage.ResourceBody
}

// Start starts a server on a free loopback port, stopped when the test
// ends.
func Start(t testing.TB) *Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", l.Addr().String())
	if err != nil {
		_ = l.Close()
		t.Fatal(err)
	}
	s := &Server{Addr: l.Addr().String(), records: map[string][]record{}, pc: pc, l: l}
	s.wg.Add(2)
	go s.serveUDP()
	go s.serveTCP()
	t.Cleanup(s.Close)
	return s
}

// Close stops the server.
func (s *Server) Close() {
	_ = s.pc.Close()
	_ = s.l.Close()
	s.wg.Wait()
}

// Queries counts the queries received.
func (s *Server) Queries() int { return int(s.queries.Load()) }

func fqdn(name string) string {
	name = strings.ToLower(name)
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	return name
}

func (s *Server) add(name string, typ dnsmessage.Type, body dnsmessage.ResourceBody) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records[fqdn(name)] = append(s.records[fqdn(name)], record{typ, body})
}

// AddSRV adds an SRV record; target "." announces no service.
func (s *Server) AddSRV(name string, priority, weight, port uint16, target string) {
	s.add(name, dnsmessage.TypeSRV, &dnsmessage.SRVResource{Priority: priority, Weight: weight, Port: port, Target: dnsmessage.MustNewName(fqdn(target))})
}

// AddURI adds a URI record.
func (s *Server) AddURI(name string, priority, weight uint16, target string) {
	data := binary.BigEndian.AppendUint16(nil, priority)
	data = binary.BigEndian.AppendUint16(data, weight)
	s.add(name, TypeURI, &dnsmessage.UnknownResource{Type: TypeURI, Data: append(data, target...)})
}

// AddTXT adds a TXT record of one string.
func (s *Server) AddTXT(name, txt string) {
	s.add(name, dnsmessage.TypeTXT, &dnsmessage.TXTResource{TXT: []string{txt}})
}

// AddA adds an A record.
func (s *Server) AddA(name string, ip net.IP) {
	var a [4]byte
	copy(a[:], ip.To4())
	s.add(name, dnsmessage.TypeA, &dnsmessage.AResource{A: a})
}

// AddCNAME makes name an alias of target.
func (s *Server) AddCNAME(name, target string) {
	s.add(name, dnsmessage.TypeCNAME, &dnsmessage.CNAMEResource{CNAME: dnsmessage.MustNewName(fqdn(target))})
}

// TruncateUDP makes every UDP answer an empty truncated one, so clients
// must ask again over TCP.
func (s *Server) TruncateUDP(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.truncate = on
}

// Raw makes f answer every query instead of the records (nil: the
// records again); f gets the query and returns the bytes to send, or nil
// to stay silent.
func (s *Server) Raw(f func(query []byte, q dnsmessage.Question, tcp bool) []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.raw = f
}

// Dial connects to this server whatever address is asked for: the Dial
// of a net.Resolver or of the client under test.
func (s *Server) Dial(ctx context.Context, network, _ string) (net.Conn, error) {
	var d net.Dialer
	if strings.HasPrefix(network, "udp") {
		return d.DialContext(ctx, "udp", s.Addr)
	}
	return d.DialContext(ctx, "tcp", s.Addr)
}

// Resolver is a net.Resolver asking this server only (for A records of
// the targets, through a net.Dialer's Resolver).
func (s *Server) Resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: s.Dial}
}

func (s *Server) serveUDP() {
	defer s.wg.Done()
	buf := make([]byte, 65535)
	for {
		n, from, err := s.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		if reply := s.answer(buf[:n], false); reply != nil {
			_, _ = s.pc.WriteTo(reply, from)
		}
	}
}

func (s *Server) serveTCP() {
	defer s.wg.Done()
	for {
		c, err := s.l.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			var hdr [2]byte
			if _, err := io.ReadFull(c, hdr[:]); err != nil {
				return
			}
			q := make([]byte, binary.BigEndian.Uint16(hdr[:]))
			if _, err := io.ReadFull(c, q); err != nil {
				return
			}
			if reply := s.answer(q, true); reply != nil {
				_, _ = c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(reply))), reply...))
			}
		}()
	}
}

func (s *Server) answer(query []byte, tcp bool) []byte {
	s.queries.Add(1)
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	s.mu.Lock()
	raw, truncate := s.raw, s.truncate && !tcp
	var answers []record
	var owners []string
	name := strings.ToLower(q.Name.String())
	for range 8 { // follow CNAMEs, bounded
		recs := s.records[name]
		var next string
		for _, r := range recs {
			if r.typ == q.Type || r.typ == dnsmessage.TypeCNAME {
				answers = append(answers, r)
				owners = append(owners, name)
			}
			if c, ok := r.body.(*dnsmessage.CNAMEResource); ok && q.Type != dnsmessage.TypeCNAME {
				next = strings.ToLower(c.CNAME.String())
			}
		}
		if next == "" {
			break
		}
		name = next
	}
	known := len(s.records[strings.ToLower(q.Name.String())]) > 0
	s.mu.Unlock()
	if raw != nil {
		return raw(query, q, tcp)
	}
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, Truncated: truncate}
	if !known && !truncate {
		rh.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.EnableCompression()
	_ = b.StartQuestions()
	_ = b.Question(q)
	_ = b.StartAnswers()
	if !truncate {
		for i, r := range answers {
			hdr := dnsmessage.ResourceHeader{Name: dnsmessage.MustNewName(owners[i]), Type: r.typ, Class: dnsmessage.ClassINET, TTL: 60}
			switch body := r.body.(type) {
			case *dnsmessage.SRVResource:
				_ = b.SRVResource(hdr, *body)
			case *dnsmessage.TXTResource:
				_ = b.TXTResource(hdr, *body)
			case *dnsmessage.AResource:
				_ = b.AResource(hdr, *body)
			case *dnsmessage.CNAMEResource:
				_ = b.CNAMEResource(hdr, *body)
			case *dnsmessage.UnknownResource:
				_ = b.UnknownResource(hdr, *body)
			}
		}
	}
	out, err := b.Finish()
	if err != nil {
		return nil
	}
	return out
}
