package ssrs_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/google/uuid"

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
	items, err := c.ListFolderCatalogItemsWithResponse(ctx, *created.JSON201.ParentFolderId, nil)
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
	resp, err := c.GetFolderWithResponse(context.Background(), uuid.MustParse("00000000-0000-0000-0000-000000000001"))
	if err != nil {
		log.Fatal(err)
	}
	err = ssrs.CheckResponse(resp)
	fmt.Println(err)
	// Output: ssrs: 404 Not Found: rsItemNotFound: The item cannot be found.
}
