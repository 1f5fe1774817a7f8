package apierror

import (
	"errors"
	"testing"
)

type body struct{ code, msg string }

func (b body) Summary() string {
	if b.code == "" {
		return ""
	}
	return b.code + ": " + b.msg
}

type response struct {
	code   int
	status string
	body   *body
}

func (r response) StatusCode() int       { return r.code }
func (r response) Status() string        { return r.status }
func (r response) GetJSONDefault() *body { return r.body }

func TestCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		r    response
		want string // "" for no error
	}{
		{response{code: 200, status: "200 OK"}, ""},
		{response{code: 204}, ""},
		{response{code: 307, status: "307 Temporary Redirect"}, "api: 307 Temporary Redirect"},
		{response{code: 401}, "api: 401 Unauthorized"},
		{response{code: 404, status: "404 Not Found", body: &body{"E", "gone"}}, "api: 404 Not Found: E: gone"},
		{response{code: 500, status: "500 Internal Server Error", body: &body{}}, "api: 500 Internal Server Error"},
	} {
		err := Check[body]("api", tc.r)
		if tc.want == "" {
			if err != nil {
				t.Errorf("Check(%d) = %v, want nil", tc.r.code, err)
			}
			continue
		}
		var e *Error[body]
		if !errors.As(err, &e) || e.StatusCode != tc.r.code || err.Error() != tc.want {
			t.Errorf("Check(%d) = %v, want %q", tc.r.code, err, tc.want)
		}
		if tc.r.body != nil && (e.Body == nil) != (tc.r.body.code == "") {
			t.Errorf("Check(%d): Body %v, want it kept only when it says something", tc.r.code, e.Body)
		}
	}
}

func TestCheckWithoutAnHTTPResponse(t *testing.T) {
	t.Parallel()
	if err := Check[body]("api", response{}); !errors.Is(err, ErrNoHTTPResponse) || err.Error()[:5] != "api: " {
		t.Errorf("status 0: %v", err)
	}
	if err := Check[body]("api", nil); !errors.Is(err, ErrNoHTTPResponse) {
		t.Errorf("nil: %v", err)
	}
}

func TestErrorUnwrapsTheCause(t *testing.T) {
	t.Parallel()
	cause := errors.New("kerberos cause")
	e := &Error[body]{API: "api", StatusCode: 401, Err: cause}
	if !errors.Is(e, cause) || e.Error() != "api: 401 Unauthorized: kerberos cause" {
		t.Errorf("%v", e)
	}
	if JavaException("", "") != "" || JavaException("E", "m") != "E: m" {
		t.Error("JavaException")
	}
}
