package ssrs

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/krbhttp/krbhttp/auth"
)

const apiRoot = "/reports/api/v2.0"

// newServer starts a test server answering as a report server would, and
// a client for it.
func newServer(t *testing.T, h http.HandlerFunc) *ClientWithResponses {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := NewWithClient(srv.URL+apiRoot, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; odata.metadata=minimal")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func TestCreateReportSendsTheDefinitionBase64(t *testing.T) {
	t.Parallel()
	rdl := []byte(`<Report xmlns="http://schemas.microsoft.com/sqlserver/reporting/2016/01/reportdefinition"/>`)
	id := uuid.New()
	c := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		var got struct {
			Name, Path, Content string
			Type                CatalogItemType
		}
		if r.Method != http.MethodPost || r.URL.Path != apiRoot+"/Reports" ||
			r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&got) != nil {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		if got.Content != "PFJlcG9ydCB4bWxucz0iaHR0cDovL3NjaGVtYXMubWljcm9zb2Z0LmNvbS9zcWxzZXJ2ZXIvcmVwb3J0aW5nLzIwMTYvMDEvcmVwb3J0ZGVmaW5pdGlvbiIvPg==" {
			http.Error(w, "content "+got.Content, http.StatusBadRequest)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"Id": id, "Name": got.Name, "Path": got.Path + "/" + got.Name, "Type": got.Type})
	})
	resp, err := c.CreateReportWithResponse(t.Context(), Report{
		Name: new("Sales"), Path: new("/Finance"), Type: new(CatalogItemTypeReport), Content: &rdl,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckResponse(resp); err != nil {
		t.Fatalf("%v: %s", err, resp.Body)
	}
	if resp.JSON201 == nil || *resp.JSON201.Id != id || *resp.JSON201.Path != "/Finance/Sales" {
		t.Fatalf("created %+v", resp.JSON201)
	}
}

func TestItemsAreAddressedByKeyAndListsTakeODataOptions(t *testing.T) {
	t.Parallel()
	id := uuid.MustParse("5b1a6b5b-0c0c-4a9e-9d8e-1f2e3d4c5b6a")
	var seen []string
	c := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		// What went on the wire: the request line's path, as sent.
		seen = append(seen, r.Method+" "+strings.TrimPrefix(r.RequestURI, apiRoot))
		switch r.Method {
		case http.MethodDelete:
			w.WriteHeader(http.StatusOK) // as documented: 200, no body
		default:
			writeJSON(w, http.StatusOK, map[string]any{"value": []any{map[string]any{"Id": id, "Name": "Sales", "Type": "Folder"}}})
		}
	})
	list, err := c.ListFolderCatalogItemsWithResponse(t.Context(), IDKey(id), &ListFolderCatalogItemsParams{Top: new(int32(5)), Filter: new("Type eq 'Report'")})
	if err != nil || CheckResponse(list) != nil || len(list.JSON200.Value) != 1 || *list.JSON200.Value[0].Name != "Sales" {
		t.Fatalf("list: %v, %v, %s", err, CheckResponse(list), list.Body)
	}
	del, err := c.DeleteFolderWithResponse(t.Context(), PathKey("/Finance/O'Brien Reports"))
	if err != nil || CheckResponse(del) != nil {
		t.Fatalf("delete: %v, %v", err, CheckResponse(del))
	}
	sel, err := c.GetCatalogItemWithResponse(t.Context(), PathKey("/Finance"), &GetCatalogItemParams{Select: new("Name,Path")})
	if err != nil {
		t.Fatal(err)
	}
	_ = sel
	want := []string{
		"GET /Folders(5b1a6b5b-0c0c-4a9e-9d8e-1f2e3d4c5b6a)/CatalogItems?%24top=5&%24filter=Type+eq+%27Report%27",
		"DELETE /Folders(Path='/Finance/O''Brien%20Reports')",
		"GET /CatalogItems(Path='/Finance')?%24select=Name%2CPath",
	}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("server saw\n%q\nwant\n%q", seen, want)
	}
}

func TestCheckResponseCarriesTheODataError(t *testing.T) {
	t.Parallel()
	c := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]any{
			"code": "rsItemNotFound", "message": "The item '/x' cannot be found."}})
	})
	resp, err := c.GetReportWithResponse(t.Context(), IDKey(uuid.New()), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = CheckResponse(resp)
	var re *ResponseError
	if !errors.As(err, &re) || re.StatusCode != 404 || re.Body == nil || re.Body.Error.Code != "rsItemNotFound" {
		t.Fatalf("CheckResponse = %#v", err)
	}
	if want := "ssrs: 404 Not Found: rsItemNotFound: The item '/x' cannot be found."; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err, want)
	}
}

func TestConstructorsValidate(t *testing.T) {
	t.Parallel()
	if _, err := New("reports.example.com/reports/api/v2.0"); err == nil || !strings.HasPrefix(err.Error(), "ssrs: ") {
		t.Errorf("New with a URL without scheme: %v", err)
	}
	if _, err := New("https://reports/reports/api/v2.0", auth.WithKeytab("/k")); err == nil ||
		!strings.HasPrefix(err.Error(), "ssrs: auth: ") {
		t.Errorf("New with an invalid auth option set: %v, want auth's error", err)
	}
	if _, err := NewWithClient("https://reports/reports/api/v2.0", nil); err == nil {
		t.Error("NewWithClient(nil) succeeded")
	}
	if _, err := New("https://reports/reports/api/v2.0", auth.WithChannelBinding(true)); err != nil {
		t.Errorf("New: %v", err)
	}
}
