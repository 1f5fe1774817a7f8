package keyring

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/krbhttp/krbhttp/auth/internal/ccache"
)

// Anchors, as MIT names them.
const (
	AnchorPersistent = "persistent"
	AnchorProcess    = "process"
	AnchorThread     = "thread"
	AnchorSession    = "session"
	AnchorUser       = "user"
	AnchorLegacy     = "legacy"
)

// Name is a parsed KEYRING residual.
type Name struct {
	Anchor     string
	Collection string
	// Subsidiary names one cache of the collection; "" with
	// HasSubsidiary false means the collection (its primary cache).
	Subsidiary    string
	HasSubsidiary bool
}

// ParseName splits a residual (what follows "KEYRING:") as MIT's
// parse_residual does: without a ':' it is a legacy collection name.
func ParseName(residual string) (Name, error) {
	var n Name
	anchor, rest, ok := strings.Cut(residual, ":")
	if !ok {
		n.Anchor, n.Collection = AnchorLegacy, residual
	} else {
		n.Anchor = anchor
		n.Collection, n.Subsidiary, n.HasSubsidiary = strings.Cut(rest, ":")
	}
	switch n.Anchor {
	case AnchorPersistent:
		if n.Collection != "" {
			if _, err := strconv.ParseUint(n.Collection, 10, 32); err != nil {
				return n, fmt.Errorf("keyring: KEYRING:%s: %q is not a uid: %w", residual, n.Collection, ccache.ErrMalformed)
			}
		}
	case AnchorProcess, AnchorThread, AnchorSession, AnchorUser, AnchorLegacy:
	default:
		return n, fmt.Errorf("keyring: KEYRING:%s: unknown anchor %q (want persistent, process, thread, session, user or legacy): %w", residual, n.Anchor, ccache.ErrMalformed)
	}
	return n, nil
}

// CollectionName is the collection's cache name: "KEYRING:anchor:collection".
func (n Name) CollectionName() string { return "KEYRING:" + n.Anchor + ":" + n.Collection }

// String is the full cache name MIT gives a cache of a collection,
// "KEYRING:anchor:collection:subsidiary".
func (n Name) String() string { return n.CollectionName() + ":" + n.Subsidiary }
