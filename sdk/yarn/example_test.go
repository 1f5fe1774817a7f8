package yarn_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/krbhttp/krbhttp/auth"
	"github.com/krbhttp/krbhttp/sdk/yarn"
)

// Kill the running applications of a queue, as the service principal of
// a keytab.
func ExampleNew() {
	ctx := context.Background()
	c, err := yarn.New("https://rm.example.com:8090",
		auth.WithPrincipal("ops@EXAMPLE.COM"), auth.WithKeytab("/etc/security/keytabs/ops.keytab"))
	if err != nil {
		log.Fatal(err)
	}
	apps, err := c.ListAppsWithResponse(ctx, &yarn.ListAppsParams{States: new("RUNNING"), Queue: new("adhoc")})
	if err != nil {
		log.Fatal(err)
	}
	if err := yarn.CheckResponse(apps); err != nil {
		log.Fatal(err)
	}
	if apps.JSON200.Apps == nil {
		return // none
	}
	for _, app := range apps.JSON200.Apps.App {
		resp, err := c.UpdateAppStateWithResponse(ctx, app.Id, yarn.AppState{State: yarn.AppStateValueKILLED})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(app.Id, resp.Status())
	}
}

// A job that outlives its Kerberos tickets works with a ResourceManager
// delegation token, sent in a header. (A test server stands in for the
// ResourceManager.)
func ExampleNewWithDelegationToken() {
	rm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("token:", r.Header.Get(yarn.DelegationTokenHeader))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"app":{"id":"application_1_0001","user":"etl","name":"nightly","queue":"default","state":"RUNNING","finalStatus":"UNDEFINED"}}`)
	}))
	defer rm.Close()
	// Earlier, with Kerberos (yarn.New): CreateDelegationToken answers
	// the token, here "MgASY2xp".
	c, err := yarn.NewWithDelegationToken(rm.URL, "MgASY2xp", nil)
	if err != nil {
		log.Fatal(err)
	}
	resp, err := c.GetAppWithResponse(context.Background(), "application_1_0001")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.JSON200.App.Name, resp.JSON200.App.State)
	// Output:
	// token: MgASY2xp
	// nightly RUNNING
}

// Errors are RemoteExceptions. (A test server stands in for the
// ResourceManager.)
func ExampleCheckResponse() {
	rm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"RemoteException":{"exception":"NotFoundException","message":"java.lang.Exception: app with id: application_1_0009 not found","javaClassName":"org.apache.hadoop.yarn.webapp.NotFoundException"}}`)
	}))
	defer rm.Close()
	c, err := yarn.NewWithClient(rm.URL, rm.Client())
	if err != nil {
		log.Fatal(err)
	}
	resp, err := c.GetAppWithResponse(context.Background(), "application_1_0009")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(yarn.CheckResponse(resp))
	// Output: yarn: 404 Not Found: NotFoundException: java.lang.Exception: app with id: application_1_0009 not found
}
