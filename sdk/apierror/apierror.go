package apierror

import (
	"fmt"
	"net/http"
)

// Body is an API's error body type, as generated from its spec; the SDK
// packages give each one a Summary method.
type Body interface {
	// Summary is a one-line description, e.g. "FileNotFoundException:
	// File does not exist: /x"; empty when the body says nothing (a JSON
	// document of another shape).
	Summary() string
}

// Error is a response whose status is not 2xx.
type Error[B Body] struct {
	API        string // the SDK package, e.g. "webhdfs"
	StatusCode int
	Status     string // e.g. "404 Not Found"
	// Body is the API's error body, or nil when the response carried none
	// (a 401 from the Negotiate layer, an unfollowed redirect, a proxy's
	// error page).
	Body *B
}

func (e *Error[B]) Error() string {
	status := e.Status
	if status == "" {
		status = fmt.Sprintf("%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	}
	if e.Body != nil {
		return e.API + ": " + status + ": " + (*e.Body).Summary()
	}
	return e.API + ": " + status
}

// Response is what every generated response wrapper (*XxxResponse) of an
// API with a default error response has.
type Response[B Body] interface {
	StatusCode() int
	Status() string
	GetJSONDefault() *B
}

// Check returns nil when r's status is 2xx and an *Error otherwise.
func Check[B Body](api string, r Response[B]) error {
	code := r.StatusCode()
	if code >= 200 && code < 300 {
		return nil
	}
	e := &Error[B]{API: api, StatusCode: code, Status: r.Status()}
	if body := r.GetJSONDefault(); body != nil && (*body).Summary() != "" {
		e.Body = body
	}
	return e
}
