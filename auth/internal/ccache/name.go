package ccache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/krbhttp/krbhttp/auth/krb5conf"
)

// Kind is a credential cache type, as the prefix of a cache name
// ("FILE:", "DIR:", ...) gives it.
type Kind int

const (
	// KindFile: "FILE:path", or a name without a type (a path).
	KindFile Kind = iota + 1
	// KindDir: "DIR:dir", a collection of tkt* files in dir with a
	// "primary" file naming the current one, or "DIR::dir/tktXXX", one
	// cache of such a collection.
	KindDir
	// KindKCM: "KCM:" or "KCM:uid[:name]", a cache held by a KCM daemon
	// (sssd-kcm, Heimdal's kcm) behind a Unix socket.
	KindKCM
	// KindKeyring: "KEYRING:persistent:uid", "KEYRING:session:name", ...: a
	// cache in the Linux kernel keyring.
	KindKeyring
	// KindMemory: "MEMORY:name", a cache private to one process.
	KindMemory
	// KindOther: a type no backend of this module reads (API:, MSLSA:,
	// ...); Name.Type says which.
	KindOther
)

func (k Kind) String() string {
	switch k {
	case KindFile:
		return "FILE"
	case KindDir:
		return "DIR"
	case KindKCM:
		return "KCM"
	case KindKeyring:
		return "KEYRING"
	case KindMemory:
		return "MEMORY"
	case KindOther:
		return "other"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// ErrBadName is matched by the errors of [ParseName]: a name with nothing
// to designate a cache by.
var ErrBadName = errors.New("invalid credential cache name")

// Name is a parsed credential cache name (what KRB5CCNAME or
// default_ccache_name holds, tokens already expanded).
type Name struct {
	Kind Kind
	// Type is the type as written ("FILE", "dir", "KEYRING"); "" for a
	// bare path (and for the unknown empty type of ":x").
	Type string
	// Residual is what follows "TYPE:", the whole name for a bare path.
	Residual string
	// Path is the cache file of KindFile and of "DIR::file"; "" otherwise.
	Path string
	// Dir is the collection directory of KindDir; "" otherwise.
	Dir string
}

// ParseName splits a cache name into its type and residual, as MIT's
// krb5_cc_resolve does; the type is matched without regard to case. A
// name without a type is a FILE: cache; so is a name whose "type"
// contains a '/' (MIT would reject it as an unknown type; it is clearly a
// path). FILE: and DIR: need a path.
func ParseName(s string) (Name, error) {
	if s == "" {
		return Name{}, fmt.Errorf("%w: empty name", ErrBadName)
	}
	typ, rest, ok := strings.Cut(s, ":")
	if !ok || strings.Contains(typ, "/") || krb5conf.IsDriveLetter(typ) {
		return Name{Kind: KindFile, Residual: s, Path: s}, nil
	}
	n := Name{Type: typ, Residual: rest}
	switch strings.ToUpper(typ) {
	case "FILE":
		n.Kind, n.Path = KindFile, rest
	case "DIR":
		n.Kind = KindDir
		if f, ok := strings.CutPrefix(rest, ":"); ok {
			if f != "" {
				n.Path, n.Dir = f, filepath.Dir(f)
			}
		} else {
			n.Dir = rest
		}
	case "KCM":
		n.Kind = KindKCM
	case "KEYRING":
		n.Kind = KindKeyring
	case "MEMORY":
		n.Kind = KindMemory
	default:
		n.Kind = KindOther
	}
	if (n.Kind == KindFile || n.Kind == KindDir) && n.Path == "" && n.Dir == "" {
		return n, fmt.Errorf("%w: %q has no path", ErrBadName, s)
	}
	return n, nil
}

// String returns the name as it was written.
func (n Name) String() string {
	if n.Type == "" && n.Kind == KindFile {
		return n.Residual
	}
	return n.Type + ":" + n.Residual
}

// PrimaryFile returns the current cache of a DIR: collection: the file
// named in dir/primary, or dir/tkt when there is no primary file (MIT). A
// primary file that names anything but a tkt* file in dir matches
// ErrMalformed.
func PrimaryFile(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "primary"))
	if errors.Is(err, fs.ErrNotExist) {
		return filepath.Join(dir, "tkt"), nil
	}
	if err != nil {
		return "", err
	}
	name := strings.TrimSpace(string(b))
	if !strings.HasPrefix(name, "tkt") || strings.ContainsAny(name, "/\x00") {
		return "", fmt.Errorf("%w: %s/primary names %q, not a tkt* file", ErrMalformed, dir, name)
	}
	return filepath.Join(dir, name), nil
}

// CollectionFiles lists the caches of a DIR: collection, the primary
// first, then the other tkt* files in name order. A missing directory is
// an error matching fs.ErrNotExist.
func CollectionFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "tkt") && e.Type().IsRegular() {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	if p, err := PrimaryFile(dir); err == nil {
		if i := slices.Index(files, p); i > 0 {
			files = append([]string{p}, slices.Delete(files, i, i+1)...)
		}
	}
	return files, nil
}
