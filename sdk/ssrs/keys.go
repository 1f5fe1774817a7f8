package ssrs

import (
	"context"
	"net/http"
	"strings"

	"github.com/google/uuid"
)

// PathKey is the key that addresses an item by its path, as in
// CatalogItems(Path='/Finance/Sales'): Path='...' with single quotes in
// the path doubled, as OData string literals want.
func PathKey(path string) Key {
	return Key("Path='" + strings.ReplaceAll(path, "'", "''") + "'")
}

// IDKey is the key that addresses an item by its GUID.
func IDKey(id uuid.UUID) Key { return Key(id.String()) }

// keyChars are the characters of a key that the generated code escapes
// but that a URL path may carry as they are; the report server's own
// samples send CatalogItems(Path='/a/b') literally.
var keyChars = strings.NewReplacer("%27", "'", "%28", "(", "%29", ")", "%3D", "=", "%2F", "/", "%2f", "/")

// prepare sends keys as Microsoft's samples do: the quotes, parentheses,
// equals sign and slashes of Path='/a/b' unescaped; spaces and other
// characters stay percent-encoded.
func prepare(_ context.Context, req *http.Request) error {
	req.URL.RawPath = keyChars.Replace(req.URL.EscapedPath())
	return nil
}
