package apierror

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"

	"github.com/krbhttp/krbhttp/auth"
)

// ErrNoHTTPResponse is what [Check] returns (wrapped, naming the API) for
// a response wrapper without its HTTP response: a nil wrapper, or one
// built by hand, typically a mock's return value without HTTPResponse.
var ErrNoHTTPResponse = errors.New("the response has no HTTPResponse (a mocked response needs one, e.g. &http.Response{StatusCode: 200})")

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
	// Err is why the Negotiate layer could not authenticate the request
	// (auth.ResponseError), typically behind a 401: errors.Is and
	// errors.As reach auth's and credentials' errors through it.
	Err error
}

// Unwrap returns the Kerberos cause, if any.
func (e *Error[B]) Unwrap() error { return e.Err }

func (e *Error[B]) Error() string {
	status := e.Status
	if status == "" {
		status = fmt.Sprintf("%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	}
	msg := e.API + ": " + status
	if e.Body != nil {
		msg += ": " + (*e.Body).Summary()
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Response is what every generated response wrapper (*XxxResponse) of an
// API with a default error response has.
type Response[B Body] interface {
	StatusCode() int
	Status() string
	GetJSONDefault() *B
}

// Check returns nil when r's status is 2xx and an *Error otherwise.
//
// A wrapper without its HTTP response (see [ErrNoHTTPResponse]) is an error
// of its own rather than a status 0.
func Check[B Body](api string, r Response[B]) error {
	hr, ok := httpResponse(r)
	if !ok {
		return fmt.Errorf("%s: %w", api, ErrNoHTTPResponse)
	}
	code := r.StatusCode()
	if code >= 200 && code < 300 {
		return nil
	}
	e := &Error[B]{API: api, StatusCode: code, Status: r.Status()}
	if hr != nil {
		e.Err = auth.ResponseError(hr)
	}
	if body := r.GetJSONDefault(); body != nil && (*body).Summary() != "" {
		e.Body = body
	}
	return e
}

// httpResponse returns the HTTPResponse field of a generated response
// wrapper (oapi-codegen gives the wrappers the field but no method for
// it), nil for a type without the field; ok is false for a nil wrapper,
// a nil HTTPResponse, or a status of 0 (no HTTP response has one).
func httpResponse(r any) (resp *http.Response, ok bool) {
	v := reflect.ValueOf(r)
	if !v.IsValid() || v.Kind() == reflect.Pointer && v.IsNil() {
		return nil, false
	}
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() == reflect.Struct {
		if f := v.FieldByName("HTTPResponse"); f.IsValid() && f.Type() == reflect.TypeFor[*http.Response]() {
			resp, _ = f.Interface().(*http.Response)
			if resp == nil {
				return nil, false
			}
		}
	}
	if sc, _ := r.(interface{ StatusCode() int }); sc != nil && sc.StatusCode() == 0 {
		return nil, false
	}
	return resp, true
}

// JavaException is the summary of an exception as Hadoop's REST APIs
// report it (RemoteException: the class's simple name and its message),
// e.g. "FileNotFoundException: File does not exist: /x", or "" when both
// are empty (a JSON body of another shape).
func JavaException(exception, message string) string {
	if exception == "" && message == "" {
		return ""
	}
	return exception + ": " + message
}
