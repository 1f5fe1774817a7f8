package endpoint

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/krbhttp/krbhttp/auth"
)

// Doer is the generated packages' HttpRequestDoer.
type Doer interface {
	Do(req *http.Request) (*http.Response, error)
}

// Check returns an error, prefixed with pkg, when hc is nil or raw is not
// an absolute http or https URL with a host and without a query or
// fragment.
func Check(pkg, raw string, hc Doer) error {
	if hc == nil {
		return errors.New(pkg + ": nil HTTP client")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%s: base URL: %w", pkg, err)
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme != "http" && scheme != "https":
		return fmt.Errorf("%s: base URL %q: scheme must be http or https", pkg, raw)
	case u.Host == "":
		return fmt.Errorf("%s: base URL %q: no host", pkg, raw)
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("%s: base URL %q: must not have a query or fragment", pkg, raw)
	}
	return nil
}

// NewClient returns auth.NewClient(opts...) once raw passes [Check], with
// errors prefixed by pkg.
func NewClient(pkg, raw string, opts []auth.Option) (*http.Client, error) {
	if err := Check(pkg, raw, http.DefaultClient); err != nil {
		return nil, err
	}
	hc, err := auth.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pkg, err)
	}
	return hc, nil
}
