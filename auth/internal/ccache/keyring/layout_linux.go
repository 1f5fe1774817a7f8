package keyring

// MIT's layout of caches in keyrings, which only the Linux code (the
// kernel's keyrings) reads and writes; the names and the payload codec
// (payload.go) are portable.

// Key names and types of MIT's layout.
const (
	keyPrincipal   = "__krb5_princ__"
	keyTimeOffsets = "__krb5_time_offsets__"
	keyPrimary     = "krb_ccache:primary"
	collPrefix     = "_krb_"
	persistentName = "_krb"
	uniquePrefix   = "krb_ccache_"

	typeKeyring = "keyring"
	typeUser    = "user"
	typeBigKey  = "big_key"
)

// isLegacyCache reports whether the cache is linked into the session
// keyring too, for the single-cache code before collections (MIT's
// is_legacy_cache_name).
func (n Name) isLegacyCache() bool {
	return n.Anchor == AnchorLegacy && n.HasSubsidiary && n.Subsidiary == n.Collection
}

// defaultSubsidiary is the primary cache name of a new collection: the
// collection name, or "tkt" when it is empty (a key cannot have an empty
// name).
func (n Name) defaultSubsidiary() string {
	if n.Collection == "" {
		return "tkt"
	}
	return n.Collection
}
