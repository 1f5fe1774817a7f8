package credentials

import (
	"errors"
	"fmt"

	"github.com/krbhttp/krbhttp/auth/internal/ccache"
	"github.com/krbhttp/krbhttp/auth/internal/ccache/file"
	"github.com/krbhttp/krbhttp/auth/internal/ccache/kcm"
	"github.com/krbhttp/krbhttp/auth/internal/ccache/keyring"
	"github.com/krbhttp/krbhttp/auth/internal/ccache/memory"
	"github.com/krbhttp/krbhttp/auth/krb5conf"
)

// ccacheTarget is what a cache name designates, as MIT's krb5_cc_resolve
// reads it: one cache, or a collection whose primary cache is used unless
// a principal picks another.
type ccacheTarget struct {
	single ccache.Store
	coll   ccache.Collection
}

// resolveCCache opens the backend for a parsed cache name. Nothing is read.
func resolveCCache(name ccache.Name, cfg *krb5conf.Config) (ccacheTarget, error) {
	switch name.Kind {
	case ccache.KindFile:
		return ccacheTarget{single: file.Open(name.Path)}, nil
	case ccache.KindDir:
		if name.Path != "" {
			return ccacheTarget{single: file.OpenDirCache(name.Path)}, nil
		}
		return ccacheTarget{coll: file.OpenDir(name.Dir)}, nil
	case ccache.KindKCM:
		// MIT: "-" names no daemon.
		if cfg.KCMSocket == "-" {
			return ccacheTarget{}, withSentinel(ErrNoCredentials, "krb5.conf kcm_socket = - : no KCM daemon for "+name.String(), nil)
		}
		c := &kcm.Client{Socket: cfg.KCMSocket}
		if name.Residual == "" {
			return ccacheTarget{coll: c.Collection()}, nil
		}
		return ccacheTarget{single: c.Cache(name.Residual)}, nil
	case ccache.KindKeyring:
		n, err := keyring.ParseName(name.Residual)
		if err != nil {
			return ccacheTarget{}, withSentinel(ErrMalformed, "", err)
		}
		if n.HasSubsidiary {
			return ccacheTarget{single: keyring.NewCache(n)}, nil
		}
		return ccacheTarget{coll: keyring.NewCollection(n)}, nil
	case ccache.KindMemory:
		return ccacheTarget{single: memory.Open(name.Residual)}, nil
	}
	return ccacheTarget{}, withSentinel(ErrUnsupportedCCache, fmt.Sprintf("credential cache type %s: is not supported (cache %s); FILE:, DIR:, KCM:, KEYRING: and MEMORY: are", name.Type, name), nil)
}

// ccacheError gives a backend's error this package's sentinels, keeping
// the backend's own error (and its sentinel) in the chain.
func ccacheError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ccache.ErrNotFound), errors.Is(err, ccache.ErrUnavailable):
		return withSentinel(ErrNoCredentials, "", err)
	case errors.Is(err, ccache.ErrMalformed):
		return withSentinel(ErrMalformed, "", err)
	case errors.Is(err, ccache.ErrUnsupported):
		return withSentinel(ErrUnsupportedCCache, "", err)
	}
	return err
}
