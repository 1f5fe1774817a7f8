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
	if resp == nil || resp.Request == nil {
		return false
	}
	slot, _ := resp.Request.Context().Value(errorSlotKey{}).(*errorSlot)
	if slot == nil {
		return false
	}
	slot.mu.Lock()
	defer slot.mu.Unlock()
	return slot.sanitized
}

func markSanitized(ctx context.Context) {
	if slot, _ := ctx.Value(errorSlotKey{}).(*errorSlot); slot != nil {
		slot.mu.Lock()
		slot.sanitized = true
		slot.mu.Unlock()
	}
}
