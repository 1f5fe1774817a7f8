package credentials

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/krbhttp/krbhttp/auth/internal/ccache"
)

// mitDefaultCCacheName is MIT's compiled-in DEFCCNAME.
const mitDefaultCCacheName = "FILE:/tmp/krb5cc_%{uid}"

// maxCCacheSize bounds how much of a cache file is read: real caches are a
// few kilobytes, and the bound keeps a wrong path (a device, a huge file)
// from costing memory.
const maxCCacheSize = 16 << 20

// DefaultCCacheName returns the credential cache MIT would use: KRB5CCNAME
// if set, else default_ccache_name from cfg, else FILE:/tmp/krb5cc_%{uid},
// with path tokens (%{uid}, %{euid}, %{USERID}, %{username}, %{TEMP},
// %{null}) expanded. If the configured name has an unknown token, MIT's
// default is returned instead (MIT fails; a caller then gets a clear
// error from the missing cache rather than here).
func DefaultCCacheName(cfg *Config) string {
	env := cfg.environ()
	if v := env.getenv("KRB5CCNAME"); v != "" {
		return v
	}
	if cfg != nil && cfg.DefaultCCacheName != "" {
		if name, err := env.expandPath(cfg.DefaultCCacheName); err == nil {
			return name
		}
	}
	name, _ := env.expandPath(mitDefaultCCacheName)
	return name
}

// ccacheLoc is a resolved cache name.
type ccacheLoc struct {
	name string // as given, for messages
	dir  string // DIR: collection directory; "" for a single file
	file string // FILE:, bare path, or DIR::file
}

// parseCCacheName splits a cache name into its type and residual, as MIT's
// krb5_cc_resolve does. A bare path is a FILE: cache; so is a name whose
// "type" contains a '/', which MIT would reject as an unknown type.
func parseCCacheName(name string) (ccacheLoc, error) {
	loc := ccacheLoc{name: name}
	if name == "" {
		return loc, withSentinel(ErrNoCredentials, "empty credential cache name", nil)
	}
	typ, rest, ok := strings.Cut(name, ":")
	if !ok || strings.Contains(typ, "/") {
		loc.file = name
		return loc, nil
	}
	switch strings.ToUpper(typ) {
	case "FILE":
		loc.file = rest
	case "DIR":
		if f, ok := strings.CutPrefix(rest, ":"); ok {
			loc.file = f
			loc.dir = filepath.Dir(f)
		} else {
			loc.dir = rest
		}
	default:
		return loc, withSentinel(ErrUnsupportedCCache, fmt.Sprintf("credential cache type %s: is not supported (cache %s); use a FILE: or DIR: cache, e.g. KRB5CCNAME=FILE:/tmp/krb5cc_$(id -u)", typ, name), nil)
	}
	if loc.file == "" && loc.dir == "" {
		return loc, withSentinel(ErrMalformed, fmt.Sprintf("credential cache name %q has no path", name), nil)
	}
	return loc, nil
}

// readCCache reads and parses one cache file.
func readCCache(path string) (*ccache.Cache, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, withSentinel(ErrNoCredentials, "no credential cache", err)
		}
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCCacheSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxCCacheSize {
		return nil, withSentinel(ErrMalformed, fmt.Sprintf("%s: larger than %d bytes, not a credential cache", path, maxCCacheSize), nil)
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

// primaryFile returns the current cache of a DIR: collection: the file
// named in DIR/primary, or DIR/tkt when there is no primary file (MIT).
func primaryFile(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "primary"))
	if errors.Is(err, fs.ErrNotExist) {
		return filepath.Join(dir, "tkt"), nil
	}
	if err != nil {
		return "", err
	}
	name := strings.TrimSpace(string(b))
	if !strings.HasPrefix(name, "tkt") || strings.ContainsAny(name, "/\x00") {
		return "", withSentinel(ErrMalformed, fmt.Sprintf("%s/primary names %q, not a tkt* file", dir, name), nil)
	}
	return filepath.Join(dir, name), nil
}

// collectionFiles lists the caches of a DIR: collection, primary first,
// then the other tkt* files in name order.
func collectionFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, withSentinel(ErrNoCredentials, "no credential cache collection", err)
		}
		return nil, err
	}
	var files []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "tkt") && e.Type().IsRegular() {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	if p, err := primaryFile(dir); err == nil {
		if i := slices.Index(files, p); i > 0 {
			files = append([]string{p}, slices.Delete(files, i, i+1)...)
		}
	}
	return files, nil
}
