package auth

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
)

// prepareBody returns the body for the first send and sets x.getBody to a
// way of producing it again after a 401. GetBody is used when the caller
// gave it. Otherwise, unless a token goes up front (so no challenge is
// expected), up to replayBuffer bytes are read ahead: a body that fits is
// replayed from memory, a longer one is streamed and cannot be replayed.
func (x *exchange) prepareBody(tokenUpFront bool) (io.ReadCloser, error) {
	req := x.req
	switch {
	case req.Body == nil || req.Body == http.NoBody:
		x.getBody = func() (io.ReadCloser, error) { return req.Body, nil }
		return req.Body, nil
	case req.GetBody != nil:
		x.getBody = req.GetBody
		return req.Body, nil
	case tokenUpFront || x.t.cfg.replayBuffer == 0:
		return req.Body, nil
	}
	limit := int64(x.t.cfg.replayBuffer)
	buf, err := io.ReadAll(io.LimitReader(req.Body, limit+1))
	if err != nil {
		closeRequestBody(req)
		return nil, fmt.Errorf("auth: reading the request body: %w", err)
	}
	if int64(len(buf)) <= limit {
		closeRequestBody(req)
		x.getBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
		return x.getBody()
	}
	return struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(buf), req.Body), req.Body}, nil
}
