//go:build !unix

package kcm

import (
	"context"
	"errors"
	"net"

	"github.com/krbhttp/krbhttp/auth/internal/ccache"
)

// MIT has no KCM cache type on Windows either.
func dial(context.Context, string) (net.Conn, error) {
	return nil, errors.Join(errors.New("KCM caches need a Unix system"), ccache.ErrUnsupported)
}
