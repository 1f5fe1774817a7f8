package restapis_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/krbhttp/krbhttp/sdk/ssrs"
)

// rdlWithSources is a report definition with an embedded data source and
// one that refers to a shared data source.
const rdlWithSources = `<?xml version="1.0"?><Report><DataSources>` +
	`<DataSource Name="dw"><ConnectionProperties><DataProvider>SQL</DataProvider><ConnectString>Data Source=dw1;Initial Catalog=sales</ConnectString></ConnectionProperties></DataSource>` +
	`<DataSource Name="shared"><DataSourceReference>/Data Sources/Old</DataSourceReference></DataSource>` +
	`</DataSources></Report>`

func TestReportsByPathPatchContentAndSelect(t *testing.T) {
	t.Parallel()
	c := newReports(t)
	ctx := t.Context()
	okR(c.CreateFolderWithResponse(ctx, ssrs.Folder{Name: new("O'Brien Reports")}))(t)
	content := []byte(rdl)
	okR(c.CreateReportWithResponse(ctx, ssrs.Report{Name: new("Q1 Sales"), Path: new("/O'Brien Reports"), Content: &content}))(t)

	key := ssrs.PathKey("/O'Brien Reports/Q1 Sales")
	got := okR(c.GetReportWithResponse(ctx, key, nil))(t).JSON200
	if *got.Name != "Q1 Sales" || !*got.HasParameters {
		t.Fatalf("GetReport by path: %+v", got)
	}
	sel := okR(c.GetCatalogItemWithResponse(ctx, key, &ssrs.GetCatalogItemParams{Select: new("Name,Size")}))(t)
	if body := string(sel.Body); !strings.Contains(body, `"Name":"Q1 Sales"`) || strings.Contains(body, `"Path"`) || strings.Contains(body, `"CreatedBy"`) {
		t.Errorf("$select=Name,Size answered %s", body)
	}
	s, err := c.GetCatalogItemWithResponse(ctx, key, &ssrs.GetCatalogItemParams{Select: new("Nope")})
	wantODataError(t, s, err, http.StatusBadRequest, "rsInvalidParameter")
	list := okR(c.ListCatalogItemsWithResponse(ctx, &ssrs.ListCatalogItemsParams{Select: new("Path"), Filter: new("Type eq 'Report'")}))(t).JSON200
	if len(list.Value) != 1 || *list.Value[0].Path != "/O'Brien Reports/Q1 Sales" || list.Value[0].Name != nil {
		t.Errorf("list with $select=Path: %+v", list.Value)
	}

	// The definition comes back as bytes; PATCH replaces it and renames.
	dl := okR(c.GetReportContentWithResponse(ctx, key))(t)
	if string(dl.Body) != rdl || dl.HTTPResponse.Header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("Content/$value: %q", dl.Body)
	}
	newRDL := []byte(rdlWithSources)
	up := okR(c.UpdateReportWithResponse(ctx, key, ssrs.Report{Name: new("Q1 Revenue"), Content: &newRDL}))(t)
	if up.StatusCode() != http.StatusNoContent {
		t.Errorf("PATCH: %s, want 204", up.Status())
	}
	renamed := ssrs.PathKey("/O'Brien Reports/Q1 Revenue")
	if dl := okR(c.GetCatalogItemContentWithResponse(ctx, renamed))(t); string(dl.Body) != rdlWithSources {
		t.Errorf("content after PATCH: %q", dl.Body)
	}
	g, err := c.GetReportWithResponse(ctx, key, nil)
	wantODataError(t, g, err, http.StatusNotFound, "rsItemNotFound")
	if fc := okR(c.GetCatalogItemContentWithResponse(ctx, ssrs.PathKey("/O'Brien Reports")))(t); fc.StatusCode() != http.StatusNoContent {
		t.Errorf("a folder's content: %s, want 204", fc.Status())
	}

	// DELETE answers 200, as documented.
	del := okR(c.DeleteReportWithResponse(ctx, renamed))(t)
	if del.StatusCode() != http.StatusOK {
		t.Errorf("DELETE: %s, want 200", del.Status())
	}
}

func TestReportsDataSourcesPoliciesAndSubscriptions(t *testing.T) {
	t.Parallel()
	c := newReports(t)
	ctx := t.Context()
	okR(c.CreateFolderWithResponse(ctx, ssrs.Folder{Name: new("Data Sources")}))(t)
	ds := okR(c.CreateDataSourceWithResponse(ctx, ssrs.DataSource{
		Name: new("Warehouse"), Path: new("/Data Sources"), DataSourceType: new("SQL"),
		ConnectionString:    new("Data Source=dw2;Initial Catalog=sales"),
		CredentialRetrieval: new(ssrs.DataSourceCredentialRetrievalStore),
		CredentialsInServer: &ssrs.CredentialsStoredInServer{UserName: new("svc_reports"), Password: new("s3cret")},
	}))(t).JSON201
	if *ds.Type != ssrs.CatalogItemTypeDataSource || *ds.ConnectionString != "Data Source=dw2;Initial Catalog=sales" ||
		ds.CredentialsInServer == nil || ds.CredentialsInServer.Password != nil {
		t.Errorf("created data source %+v (the password must not come back)", ds)
	}
	okR(c.UpdateDataSourceWithResponse(ctx, ssrs.PathKey("/Data Sources/Warehouse"), ssrs.DataSource{IsEnabled: new(false)}))(t)
	if got := okR(c.GetDataSourceWithResponse(ctx, ssrs.PathKey("/Data Sources/Warehouse"), nil))(t).JSON200; *got.IsEnabled {
		t.Error("PATCH IsEnabled=false did not stick")
	}

	content := []byte(rdlWithSources)
	okR(c.CreateReportWithResponse(ctx, ssrs.Report{Name: new("Sales"), Content: &content}))(t)
	report := ssrs.PathKey("/Sales")
	sources := okR(c.GetReportDataSourcesWithResponse(ctx, report))(t).JSON200.Value
	if len(sources) != 2 || *sources[0].Name != "dw" || *sources[0].ConnectionString != "Data Source=dw1;Initial Catalog=sales" ||
		!*sources[1].IsReference || *sources[1].Path != "/Data Sources/Old" {
		t.Fatalf("report data sources: %+v", sources)
	}
	okR(c.SetReportDataSourcesWithResponse(ctx, report, []ssrs.DataSource{{Name: new("shared"), IsReference: new(true), Path: new("/Data Sources/Warehouse")}}))(t)
	sources = okR(c.GetReportDataSourcesWithResponse(ctx, report))(t).JSON200.Value
	if *sources[1].Path != "/Data Sources/Warehouse" {
		t.Errorf("after SetReportDataSources: %+v", sources[1])
	}
	sr, err := c.SetReportDataSourcesWithResponse(ctx, report, []ssrs.DataSource{{Name: new("nope")}})
	wantODataError(t, sr, err, http.StatusBadRequest, "rsDataSourceNotFound")

	// Policies: inherited from the root until set.
	pol := okR(c.GetReportPoliciesWithResponse(ctx, report))(t).JSON200
	if !*pol.InheritParentPolicy || len(*pol.Policies) != 1 || *(*pol.Policies)[0].GroupUserName != `BUILTIN\Administrators` {
		t.Fatalf("inherited policy: %+v", pol)
	}
	browser := []ssrs.Role{{Name: new("Browser")}}
	okR(c.SetReportPoliciesWithResponse(ctx, report, ssrs.ItemPolicy{Policies: &[]ssrs.Policy{{GroupUserName: new(`KRBHTTP\analysts`), Roles: &browser}}}))(t)
	pol = okR(c.GetCatalogItemPoliciesWithResponse(ctx, report))(t).JSON200
	if *pol.InheritParentPolicy || len(*pol.Policies) != 1 || *(*(*pol.Policies)[0].Roles)[0].Description == "" {
		t.Errorf("set policy: %+v", pol)
	}
	bad := []ssrs.Role{{Name: new("Overlord")}}
	sp, err := c.SetFolderPoliciesWithResponse(ctx, ssrs.PathKey("/Data Sources"), ssrs.ItemPolicy{Policies: &[]ssrs.Policy{{GroupUserName: new("x"), Roles: &bad}}})
	wantODataError(t, sp, err, http.StatusBadRequest, "rsUnknownRoleName")
	okR(c.SetReportPoliciesWithResponse(ctx, report, ssrs.ItemPolicy{InheritParentPolicy: new(true)}))(t)
	if pol := okR(c.GetReportPoliciesWithResponse(ctx, report))(t).JSON200; !*pol.InheritParentPolicy {
		t.Error("InheritParentPolicy did not revert")
	}

	// Subscriptions: created for a report by path, listed, run, disabled.
	sub := okR(c.CreateSubscriptionWithResponse(ctx, ssrs.Subscription{
		Report: new("/Sales"), DeliveryExtension: new("Report Server Email"), Description: new("Monday mail"),
		ExtensionSettings: &ssrs.ExtensionSettings{Extension: new("DeliveryExtension"),
			ParameterValues: &[]ssrs.ParameterValue{{Name: new("TO"), Value: new("team@example.test")}}},
	}))(t).JSON201
	if !*sub.IsActive || *sub.LocalizedDeliveryExtensionName != "E-Mail" || *sub.Owner != "anonymous" {
		t.Errorf("created subscription %+v", sub)
	}
	bySub := okR(c.ListReportSubscriptionsWithResponse(ctx, report, nil))(t).JSON200.Value
	if len(bySub) != 1 || *bySub[0].Id != *sub.Id {
		t.Errorf("report subscriptions: %+v", bySub)
	}
	ex := okR(c.ExecuteSubscriptionWithResponse(ctx, *sub.Id))(t)
	if ex.StatusCode() != http.StatusNoContent {
		t.Errorf("Execute: %s, want 204", ex.Status())
	}
	okR(c.DisableSubscriptionWithResponse(ctx, *sub.Id))(t)
	okR(c.UpdateSubscriptionWithResponse(ctx, *sub.Id, ssrs.Subscription{Description: new("Tuesday mail")}))(t)
	got := okR(c.GetSubscriptionWithResponse(ctx, *sub.Id))(t).JSON200
	if *got.IsActive || got.LastRunTime == nil || *got.Description != "Tuesday mail" {
		t.Errorf("subscription after Execute, Disable, PATCH: %+v", got)
	}
	cs, err := c.CreateSubscriptionWithResponse(ctx, ssrs.Subscription{Report: new("/Nope"), DeliveryExtension: new("NULL")})
	wantODataError(t, cs, err, http.StatusBadRequest, "rsItemNotFound")
	del := okR(c.DeleteSubscriptionWithResponse(ctx, *sub.Id))(t)
	if del.StatusCode() != http.StatusNoContent {
		t.Errorf("DELETE subscription: %s, want 204 as documented", del.Status())
	}

	// Bulk moves and deletes report the items that failed.
	okR(c.CreateFolderWithResponse(ctx, ssrs.Folder{Name: new("Archive")}))(t)
	mv := okR(c.MoveCatalogItemsWithResponse(ctx, ssrs.MoveItemsRequest{CatalogItemPaths: []string{"/Sales", "/Nope"}, TargetPath: "/Archive"}))(t).JSON200
	if !*mv.HasErrors || len(*mv.FailedOperations) != 1 || (*mv.FailedOperations)[0] != "/Nope" {
		t.Errorf("MoveItems: %+v", mv)
	}
	okR(c.GetReportWithResponse(ctx, ssrs.PathKey("/Archive/Sales"), nil))(t)
	rm := okR(c.DeleteCatalogItemsWithResponse(ctx, ssrs.DeleteItemsRequest{CatalogItemPaths: []string{"/Archive/Sales", "/Data Sources"}}))(t).JSON200
	if *rm.HasErrors {
		t.Errorf("DeleteItems: %+v", rm)
	}
	if n := len(okR(c.ListCatalogItemsWithResponse(ctx, nil))(t).JSON200.Value); n != 2 {
		t.Errorf("%d items left, want / and /Archive", n)
	}
}
