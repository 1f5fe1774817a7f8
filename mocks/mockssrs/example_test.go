package mockssrs_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"go.uber.org/mock/gomock"

	"github.com/krbhttp/krbhttp/mocks/mockssrs"
	"github.com/krbhttp/krbhttp/sdk/ssrs"
)

// UploadReport is the user code under test: it uploads a report
// definition into a folder, then lists the folder and returns the names
// in it. It depends on the client's interface, which ssrs.New's client
// implements.
func UploadReport(ctx context.Context, c ssrs.ClientWithResponsesInterface, folder, name string, rdl []byte) ([]string, error) {
	created, err := c.CreateReportWithResponse(ctx, ssrs.Report{Name: &name, Path: &folder, Content: &rdl})
	if err != nil {
		return nil, err
	}
	if err := ssrs.CheckResponse(created); err != nil {
		return nil, err
	}
	items, err := c.ListFolderCatalogItemsWithResponse(ctx, ssrs.PathKey(folder), nil)
	if err != nil {
		return nil, err
	}
	if err := ssrs.CheckResponse(items); err != nil {
		return nil, err
	}
	var names []string
	for _, it := range items.JSON200.Value {
		names = append(names, *it.Name)
	}
	return names, nil
}

func response(status int) *http.Response {
	return &http.Response{StatusCode: status, Status: http.StatusText(status)}
}

func item(name string) ssrs.CatalogItem { return ssrs.CatalogItem{Name: &name} }

func TestUploadReportThenListTheFolder(t *testing.T) {
	ctrl := gomock.NewController(t)
	c := mockssrs.NewMockClientWithResponsesInterface(ctrl)
	rdl := []byte(`<Report/>`)
	gomock.InOrder(
		c.EXPECT().CreateReportWithResponse(gomock.Any(), gomock.Cond(func(r ssrs.Report) bool {
			return *r.Name == "Sales" && *r.Path == "/Finance" && string(*r.Content) == string(rdl)
		})).Return(&ssrs.CreateReportResponse{
			HTTPResponse: response(201),
			JSON201:      &ssrs.Report{Id: new(uuid.New())},
		}, nil),
		c.EXPECT().ListFolderCatalogItemsWithResponse(gomock.Any(), ssrs.PathKey("/Finance"), gomock.Nil()).
			Return(&ssrs.ListFolderCatalogItemsResponse{
				HTTPResponse: response(200),
				JSON200:      &ssrs.CatalogItemCollection{Value: []ssrs.CatalogItem{item("Budget"), item("Sales")}},
			}, nil),
	)
	names, err := UploadReport(t.Context(), c, "/Finance", "Sales", rdl)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 2 || names[0] != "Budget" || names[1] != "Sales" {
		t.Errorf("names %q", names)
	}
}

func TestUploadReportReportsAConflict(t *testing.T) {
	ctrl := gomock.NewController(t)
	c := mockssrs.NewMockClientWithResponsesInterface(ctrl)
	exists := &ssrs.Error{Error: ssrs.ODataErrorDetail{Code: "rsItemAlreadyExists", Message: "An item with the path '/Finance/Sales' already exists."}}
	c.EXPECT().CreateReportWithResponse(gomock.Any(), gomock.Any()).
		Return(&ssrs.CreateReportResponse{HTTPResponse: response(409), JSONDefault: exists}, nil)
	// No listing is expected after a failed upload.

	_, err := UploadReport(t.Context(), c, "/Finance", "Sales", []byte(`<Report/>`))
	var re *ssrs.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusConflict || re.Body.Error.Code != "rsItemAlreadyExists" {
		t.Fatalf("UploadReport = %v, want the 409 rsItemAlreadyExists", err)
	}
}
