package mockwebhdfs_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"path"
	"testing"

	"go.uber.org/mock/gomock"

	"github.com/krbhttp/krbhttp/mocks/mockwebhdfs"
	"github.com/krbhttp/krbhttp/sdk/webhdfs"
)

// Publish is the user code under test: it makes dir (with its parents)
// and writes name in it, replacing an older version. It depends on the
// client's interface, which webhdfs.New's client implements.
func Publish(ctx context.Context, c webhdfs.ClientWithResponsesInterface, dir, name string, data []byte) error {
	mk, err := c.PutWithBodyWithResponse(ctx, dir, &webhdfs.PutParams{Op: webhdfs.PutOpMKDIRS}, "", nil)
	if err != nil {
		return err
	}
	if err := webhdfs.CheckResponse(mk); err != nil {
		return err
	}
	overwrite := true
	cr, err := c.PutWithBodyWithResponse(ctx, path.Join(dir, name),
		&webhdfs.PutParams{Op: webhdfs.PutOpCREATE, Overwrite: &overwrite},
		"application/octet-stream", bytes.NewReader(data))
	if err != nil {
		return err
	}
	return webhdfs.CheckResponse(cr)
}

// op matches PutParams with the given operation.
func op(want webhdfs.PutOp) gomock.Matcher {
	return gomock.Cond(func(p *webhdfs.PutParams) bool { return p != nil && p.Op == want })
}

func response(status int) *http.Response {
	return &http.Response{StatusCode: status, Status: http.StatusText(status)}
}

func TestPublishMakesTheDirectoryThenCreatesTheFile(t *testing.T) {
	ctrl := gomock.NewController(t)
	c := mockwebhdfs.NewMockClientWithResponsesInterface(ctrl)
	gomock.InOrder(
		c.EXPECT().PutWithBodyWithResponse(gomock.Any(), "data/in", op(webhdfs.PutOpMKDIRS), "", nil).
			Return(&webhdfs.PutResponse{HTTPResponse: response(200), JSON200: &webhdfs.PutResult{Boolean: true}}, nil),
		c.EXPECT().PutWithBodyWithResponse(gomock.Any(), "data/in/report.csv", op(webhdfs.PutOpCREATE), "application/octet-stream", gomock.Any()).
			DoAndReturn(func(_ context.Context, _ webhdfs.Path, p *webhdfs.PutParams, _ string, body io.Reader, _ ...webhdfs.RequestEditorFn) (*webhdfs.PutResponse, error) {
				got, _ := io.ReadAll(body)
				if string(got) != "a,b\n" || p.Overwrite == nil || !*p.Overwrite {
					t.Errorf("CREATE with body %q, overwrite %v", got, p.Overwrite)
				}
				return &webhdfs.PutResponse{HTTPResponse: response(201)}, nil
			}),
	)
	if err := Publish(t.Context(), c, "data/in", "report.csv", []byte("a,b\n")); err != nil {
		t.Fatal(err)
	}
}

func TestPublishStopsWhenTheDirectoryCannotBeMade(t *testing.T) {
	ctrl := gomock.NewController(t)
	c := mockwebhdfs.NewMockClientWithResponsesInterface(ctrl)
	denied := &webhdfs.Error{RemoteException: webhdfs.RemoteException{
		Exception: "AccessControlException", Message: "Permission denied: user=etl, access=WRITE, inode=\"/data\"",
	}}
	c.EXPECT().PutWithBodyWithResponse(gomock.Any(), "data/in", op(webhdfs.PutOpMKDIRS), "", nil).
		Return(&webhdfs.PutResponse{HTTPResponse: response(403), JSONDefault: denied}, nil)
	// No CREATE is expected: the mock fails the test if Publish sends one.

	err := Publish(t.Context(), c, "data/in", "report.csv", []byte("a,b\n"))
	var re *webhdfs.ResponseError
	if !errors.As(err, &re) || re.StatusCode != 403 || re.Body.RemoteException.Exception != "AccessControlException" {
		t.Fatalf("Publish = %v, want the 403 AccessControlException", err)
	}
}
