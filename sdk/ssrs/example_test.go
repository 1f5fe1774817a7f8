package ssrs_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/sdk/ssrs"
)

// Upload a report definition into a folder, then list the folder, as the
// user whose ticket kinit left in the default credential cache.
func ExampleNew() {
	ctx := context.Background()
	c, err := ssrs.New("https://reports.example.com/reports/api/v2.0",
		auth.WithMutualAuthentication(auth.MutualRequired))
	if err != nil {
		log.Fatal(err)
	}
	rdl, err := os.ReadFile("Sales.rdl")
	if err != nil {
		log.Fatal(err)
	}
	created, err := c.CreateReportWithResponse(ctx, ssrs.Report{
		Name:    new("Sales"),
		Path:    new("/Finance"),
		Content: &rdl,
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := ssrs.CheckResponse(created); err != nil {
		log.Fatal(err)
	}
	items, err := c.ListFolderCatalogItemsWithResponse(ctx, ssrs.IDKey(*created.JSON201.ParentFolderId), nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := ssrs.CheckResponse(items); err != nil {
		log.Fatal(err)
	}
	for _, it := range items.JSON200.Value {
		fmt.Println(*it.Path, *it.Type)
	}
}

// Errors come back as OData error objects. (A test server stands in for
// the report server.)
func ExampleCheckResponse() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"error":{"code":"rsItemNotFound","message":"The item cannot be found."}}`)
	}))
	defer srv.Close()
	c, err := ssrs.NewWithClient(srv.URL+"/reports/api/v2.0", srv.Client())
	if err != nil {
		log.Fatal(err)
	}
	resp, err := c.GetFolderWithResponse(context.Background(), ssrs.PathKey("/Missing"), nil)
	if err != nil {
		log.Fatal(err)
	}
	err = ssrs.CheckResponse(resp)
	fmt.Println(err)
	// Output: ssrs: 404 Not Found: rsItemNotFound: The item cannot be found.
}

// Address an item by its path, as Microsoft's samples do; a quote in the
// path is doubled.
func ExamplePathKey() {
	fmt.Println(ssrs.PathKey("/Finance/O'Brien"))
	// Output: Path='/Finance/O''Brien'
}

// Download a report's definition by path, change it, and upload it again.
func ExampleClientWithResponses_GetReportContentWithResponse() {
	ctx := context.Background()
	c, err := ssrs.New("https://reports.example.com/reports/api/v2.0")
	if err != nil {
		log.Fatal(err)
	}
	key := ssrs.PathKey("/Finance/Sales")
	rdl, err := c.GetReportContentWithResponse(ctx, key)
	if err != nil {
		log.Fatal(err)
	}
	if err := ssrs.CheckResponse(rdl); err != nil {
		log.Fatal(err)
	}
	updated := bytes.ReplaceAll(rdl.Body, []byte("FY2024"), []byte("FY2025"))
	resp, err := c.UpdateReportWithResponse(ctx, key, ssrs.Report{Content: &updated})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ssrs.CheckResponse(resp)) // 204 No Content
}
