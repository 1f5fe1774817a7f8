package credentials

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/krbhttp/krbhttp/auth/internal/ccache"
	"github.com/krbhttp/krbhttp/auth/ticket"
)

// WriteCCache stores tkt, with its session key, as the only credential of
// a new MIT credential cache file (format version 4) at path, readable by
// the owner only, whose default principal is tkt's client. An existing
// file is replaced atomically.
//
// It is for handing a ticket to programs that read KRB5CCNAME, such as a
// command a server runs for a client who delegated a TGT
// (acceptor.Identity.Credentials.TGT): MIT's klist and kvno, curl
// --negotiate and a nested auth.Transport all find it there.
func WriteCCache(path string, tkt *ticket.Ticket) error {
	if tkt == nil || len(tkt.Client.NameString) == 0 {
		return errors.New("credentials: WriteCCache: no ticket or no client name")
	}
	c, err := ccache.ForTickets(tkt)
	if err != nil {
		return &Error{Op: "write credential cache", Err: err}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".krb5cc-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(ccache.Marshal(c)); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// maxFileSize bounds how much of a cache or keytab file is read: real
// ones are a few kilobytes, and the bound keeps a wrong path (a device, a
// huge file) from costing memory.
const maxFileSize = 16 << 20

// readSmallFile reads a cache or keytab file (what names it in messages)
// whole. A missing file matches ErrNoCredentials, one over maxFileSize
// ErrMalformed.
func readSmallFile(path, what string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, withSentinel(ErrNoCredentials, "no "+what, err)
		}
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxFileSize {
		return nil, withSentinel(ErrMalformed, fmt.Sprintf("%s: larger than %d bytes, not a %s", path, maxFileSize, what), nil)
	}
	return b, nil
}

// readCCache reads and parses one cache file.
func readCCache(path string) (*ccache.Cache, error) {
	b, err := readSmallFile(path, "credential cache")
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, withSentinel(ErrNoCredentials, path+": empty credential cache", nil)
	}
	c, err := ccache.Parse(b)
	if err != nil {
		return nil, withSentinel(ErrMalformed, path, err)
	}
	return c, nil
}
