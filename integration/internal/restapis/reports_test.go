package restapis_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/krbhttp/krbhttp/integration/internal/restapis"
	"github.com/krbhttp/krbhttp/sdk/ssrs"
)

const rdl = `<?xml version="1.0"?><Report><DataSources><DataSource Name="dw"/></DataSources>` +
	`<ReportParameters><ReportParameter Name="Year"/></ReportParameters></Report>`

func newReports(t *testing.T) *ssrs.ClientWithResponses {
	t.Helper()
	srv := httptest.NewServer(restapis.NewReports())
	t.Cleanup(srv.Close)
	c, err := ssrs.NewWithClient(srv.URL+restapis.ReportsPrefix, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type ssrsResponse interface {
	StatusCode() int
	Status() string
	GetJSONDefault() *ssrs.Error
}

// okR returns r once the call succeeded with a 2xx status, for
// okR(c.Call(...))(t).
func okR[R ssrsResponse](r R, err error) func(*testing.T) R {
	return func(t *testing.T) R {
		t.Helper()
		if err == nil {
			err = ssrs.CheckResponse(r)
		}
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
}

func wantODataError(t *testing.T, r ssrsResponse, err error, status int, code string) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	var re *ssrs.ResponseError
	if !errors.As(ssrs.CheckResponse(r), &re) || re.StatusCode != status || re.Body == nil || re.Body.Error.Code != code {
		t.Fatalf("got %v, want %d %s", ssrs.CheckResponse(r), status, code)
	}
}

func paths[T ssrs.CatalogItem | ssrs.Report](items []T) string {
	var out []string
	for _, it := range items {
		switch it := any(it).(type) {
		case ssrs.CatalogItem:
			out = append(out, *it.Path)
		case ssrs.Report:
			out = append(out, *it.Path)
		}
	}
	return strings.Join(out, " ")
}

func TestReportsCatalog(t *testing.T) {
	t.Parallel()
	c := newReports(t)
	ctx := t.Context()
	// Path as the parent folder, and as the full path.
	finance := okR(c.CreateFolderWithResponse(ctx, ssrs.Folder{Name: new("Finance"), Path: new("/")}))(t).JSON201
	okR(c.CreateFolderWithResponse(ctx, ssrs.Folder{Name: new("Archive"), Path: new("/Finance/Archive")}))(t)
	f, err := c.CreateFolderWithResponse(ctx, ssrs.Folder{Name: new("Finance")})
	wantODataError(t, f, err, http.StatusConflict, "rsItemAlreadyExists")
	f, err = c.CreateFolderWithResponse(ctx, ssrs.Folder{Name: new("x"), Path: new("/nowhere")})
	wantODataError(t, f, err, http.StatusNotFound, "rsItemNotFound")
	f, err = c.CreateFolderWithResponse(ctx, ssrs.Folder{Name: new("a/b")})
	wantODataError(t, f, err, http.StatusBadRequest, "rsInvalidItemName")

	content := []byte(rdl)
	sales := okR(c.CreateReportWithResponse(ctx, ssrs.Report{Name: new("Sales"), Path: new("/Finance"), Content: &content}))(t).JSON201
	if *sales.Path != "/Finance/Sales" || *sales.Type != ssrs.CatalogItemTypeReport || *sales.ParentFolderId != *finance.Id ||
		*sales.Size != int64(len(rdl)) || !*sales.HasParameters || !*sales.HasDataSources || *sales.CreatedBy != "anonymous" {
		t.Errorf("created report %+v", sales)
	}
	bad := []byte("not xml")
	r, err := c.CreateReportWithResponse(ctx, ssrs.Report{Name: new("Bad"), Path: new("/Finance"), Content: &bad})
	wantODataError(t, r, err, http.StatusBadRequest, "rsInvalidReportDefinition")
	res := []byte("PNG")
	okR(c.CreateCatalogItemWithResponse(ctx, ssrs.CatalogItem{OdataType: new("#Model.Resource"), Name: new("logo.png"), Path: new("/Finance"), Content: &res}))(t)
	ci, err := c.CreateCatalogItemWithResponse(ctx, ssrs.CatalogItem{Name: new("untyped")})
	wantODataError(t, ci, err, http.StatusBadRequest, "rsInvalidParameter")

	in := okR(c.ListFolderCatalogItemsWithResponse(ctx, ssrs.IDKey(*finance.Id), &ssrs.ListFolderCatalogItemsParams{Orderby: new("Name desc")}))(t).JSON200
	if got := paths(in.Value); got != "/Finance/Sales /Finance/logo.png /Finance/Archive" {
		t.Errorf("items in /Finance by Name desc: %s", got)
	}
	all := okR(c.ListCatalogItemsWithResponse(ctx, &ssrs.ListCatalogItemsParams{Skip: new(int32(1)), Top: new(int32(2)), Count: new(true)}))(t).JSON200
	if got := paths(all.Value); got != "/Finance /Finance/Archive" || *all.OdataCount != 5 {
		t.Errorf("catalog page: %s (count %v)", got, all.OdataCount)
	}
	folders := okR(c.ListFoldersWithResponse(ctx, &ssrs.ListFoldersParams{Filter: new("Path eq '/finance/archive'")}))(t).JSON200
	if got := paths(folders.Value); got != "/Finance/Archive" {
		t.Errorf("filtered folders: %s", got)
	}
	reports := okR(c.ListReportsWithResponse(ctx, nil))(t).JSON200
	if got := paths(reports.Value); got != "/Finance/Sales" {
		t.Errorf("reports: %s", got)
	}
	l, err := c.ListFoldersWithResponse(ctx, &ssrs.ListFoldersParams{Filter: new("startswith(Path,'/F')")})
	wantODataError(t, l, err, http.StatusBadRequest, "rsInvalidParameter")

	got := okR(c.GetReportWithResponse(ctx, ssrs.IDKey(*sales.Id), nil))(t).JSON200
	if *got.Name != "Sales" || got.Content != nil {
		t.Errorf("GetReport: %+v", got)
	}
	okR(c.GetCatalogItemWithResponse(ctx, ssrs.IDKey(*sales.Id), nil))(t)
	g, err := c.GetFolderWithResponse(ctx, ssrs.IDKey(*sales.Id), nil) // a report is not a folder
	wantODataError(t, g, err, http.StatusNotFound, "rsItemNotFound")

	// Deleting a folder deletes what is in it.
	okR(c.DeleteFolderWithResponse(ctx, ssrs.IDKey(*finance.Id)))(t)
	d, err := c.DeleteReportWithResponse(ctx, ssrs.IDKey(*sales.Id))
	wantODataError(t, d, err, http.StatusNotFound, "rsItemNotFound")
	rest := okR(c.ListCatalogItemsWithResponse(ctx, nil))(t).JSON200
	if got := paths(rest.Value); got != "/" {
		t.Errorf("after deleting /Finance: %q", got)
	}
	root := rest.Value[0].Id
	dc, err := c.DeleteCatalogItemWithResponse(ctx, ssrs.IDKey(*root))
	wantODataError(t, dc, err, http.StatusBadRequest, "rsInvalidOperation")
	gf, err := c.GetFolderWithResponse(ctx, ssrs.IDKey(uuid.New()), nil)
	wantODataError(t, gf, err, http.StatusNotFound, "rsItemNotFound")
}

func TestReportsRoutes(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(restapis.NewReports())
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/Folders(Path='/')", http.StatusOK},
		{"GET", "/Folders(Path='/')/CatalogItems", http.StatusOK},
		{"GET", "/CatalogItems(Path='/nope')", http.StatusNotFound},
		{"PUT", "/Folders", http.StatusMethodNotAllowed},
		{"PUT", "/Folders(Path='/')", http.StatusMethodNotAllowed},
		{"GET", "/Reports(Path='/')/CatalogItems", http.StatusNotFound},
		{"GET", "/Subscriptions", http.StatusOK},
		{"GET", "/Nothing", http.StatusNotFound},
		{"GET", "/Folders(Path='/unterminated)", http.StatusBadRequest},
	} {
		req, _ := http.NewRequestWithContext(t.Context(), tc.method, srv.URL+restapis.ReportsPrefix+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s %s: %s %s, want %d JSON", tc.method, tc.path, resp.Status, resp.Header.Get("Content-Type"), tc.status)
		}
	}
}
