package iis

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/krbhttp/krbhttp/auth/acceptor"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
)

// ServerHeader is what HTTP.sys puts on the responses it writes itself.
const ServerHeader = "Microsoft-HTTPAPI/2.0"

// MaxHeaderBytes matches HTTP.sys's default MaxRequestBytes: larger
// Authorization headers (a big PAC) get 400, as on Windows.
const MaxHeaderBytes = 16 << 10

// Config configures the server.
type Config struct {
	Keytab *keytab.Keytab
	// PersistentAuth authenticates a connection once (the IIS default);
	// false authenticates every request.
	PersistentAuth bool
	// ChannelBinding is the Extended Protection policy; it needs
	// Certificate.
	ChannelBinding acceptor.ChannelBindingPolicy
	// Certificate and TLS make the server speak HTTPS.
	TLS *tls.Config
	// Mounts adds handlers behind authentication, by path pattern
	// ("/wsman", "/webhdfs/v1/").
	Mounts map[string]http.Handler
	// Krb5Config lets the server use credentials its clients delegate
	// (GET /whoami reports delegation_usable); nil: delegated tickets are
	// reported but not used.
	Krb5Config *krb5conf.Config
	// MaxSkew is the tolerated clock skew (zero: 5 minutes).
	MaxSkew time.Duration
	Logger  *slog.Logger
}

// Server is the IIS-like server.
type Server struct {
	http *http.Server
	auth *acceptor.Authenticator
}

// New builds the server; call Serve with a listener.
func New(cfg Config) (*Server, error) {
	if cfg.Keytab == nil {
		return nil, errors.New("iis: a keytab is required")
	}
	var cert *x509.Certificate
	if cfg.TLS != nil && len(cfg.TLS.Certificates) > 0 {
		cert = cfg.TLS.Certificates[0].Leaf
	}
	opts := []acceptor.Option{
		acceptor.WithConnectionBound(cfg.PersistentAuth),
		acceptor.WithChannelBinding(cfg.ChannelBinding, cert),
		acceptor.WithMaxHeaderBytes(MaxHeaderBytes),
		acceptor.WithMaxSkew(cfg.MaxSkew),
		acceptor.WithLogger(cfg.Logger),
	}
	if cfg.Krb5Config != nil {
		opts = append(opts, acceptor.WithConfig(cfg.Krb5Config))
	}
	a, err := acceptor.New(cfg.Keytab, opts...)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /whoami", whoami())
	for pattern, h := range cfg.Mounts {
		mux.Handle(pattern, h)
	}
	hs := &http.Server{
		Handler:           httpSys(a.Wrap(mux)),
		ConnContext:       a.ConnContext,
		TLSConfig:         cfg.TLS,
		ReadHeaderTimeout: 30 * time.Second,
		// Windows authentication is refused over HTTP/2 by IIS: an empty
		// map switches HTTP/2 off.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ErrorLog:     slog.NewLogLogger(slog.DiscardHandler, slog.LevelError),
	}
	return &Server{http: hs, auth: a}, nil
}

// Serve serves on l until Shutdown; over TLS when the config has it.
func (s *Server) Serve(l net.Listener) error {
	var err error
	if s.http.TLSConfig != nil {
		err = s.http.ServeTLS(l, "", "")
	} else {
		err = s.http.Serve(l)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops the server.
func (s *Server) Shutdown(ctx context.Context) error { return s.http.Shutdown(ctx) }

// Authenticator returns the acceptor in front of the handlers, for
// mounted handlers that need connection state.
func (s *Server) Authenticator() *acceptor.Authenticator { return s.auth }

// WhoAmI is the JSON body of GET /whoami: what the server saw.
type WhoAmI struct {
	Principal        string `json:"principal"`
	Delegated        bool   `json:"delegated"`
	DelegationUsable bool   `json:"delegation_usable"`
	ChannelBound     bool   `json:"channel_bound"`
	ConnectionAuth   bool   `json:"connection_auth"`
}

func whoami() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := acceptor.IdentityFromContext(r.Context())
		if !ok {
			http.Error(w, "no identity", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(WhoAmI{
			Principal:        id.Principal,
			Delegated:        id.Delegated,
			DelegationUsable: delegationUsable(r.Context(), id),
			ChannelBound:     id.ChannelBound,
			ConnectionAuth:   id.ConnectionAuth,
		})
	})
}

// delegationUsable makes the second hop's first step: a service ticket, as
// the client, for this very service, with the TGT the client forwarded.
func delegationUsable(ctx context.Context, id *acceptor.Identity) bool {
	if id.Credentials == nil {
		return false
	}
	spn, _, _ := strings.Cut(id.Service, "@")
	_, err := id.Credentials.ServiceTicket(ctx, spn)
	return err == nil
}

// httpSys adds what HTTP.sys adds: its Server header, and an NTLM
// challenge line beside Negotiate on every 401.
func httpSys(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", ServerHeader)
		next.ServeHTTP(&challengeWriter{ResponseWriter: w}, r)
	})
}

type challengeWriter struct {
	http.ResponseWriter
	wrote bool
}

func (c *challengeWriter) WriteHeader(code int) {
	if !c.wrote && code == http.StatusUnauthorized {
		c.Header().Add("WWW-Authenticate", "NTLM")
	}
	c.wrote = true
	c.ResponseWriter.WriteHeader(code)
}

func (c *challengeWriter) Write(b []byte) (int, error) {
	c.wrote = true
	return c.ResponseWriter.Write(b)
}

// Flush lets streaming handlers (WinRM Receive) flush through the wrapper.
func (c *challengeWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the real writer.
func (c *challengeWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
