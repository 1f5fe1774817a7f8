package auth

import (
	"context"
	"net/http"
)

// Sanitized reports whether the transport replaced resp, an error response
// that carried no mutual authentication token, by its bare status (see
// [WithSanitize]): its body and most headers, which an impostor could
// have written, were dropped. Tools say so, so that a user looking at an
// empty 400 knows there was more to see.
func Sanitized(resp *http.Response) bool {
	return stateOf(resp).sanitized
}

func markSanitized(ctx context.Context) {
	updateState(ctx, func(s *exchangeState) { s.sanitized = true })
}
