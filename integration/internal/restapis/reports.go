package restapis

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/krbhttp/krbhttp/auth/acceptor"
)

// ReportsPrefix is the root of the report server's REST API.
const ReportsPrefix = "/reports/api/v2.0"

// NewReports returns the handler of an in-memory report server catalog
// that holds only the root folder "/", whose policy gives
// BUILTIN\Administrators the Content Manager role. Mount it at
// ReportsPrefix+"/" (or at the root). It serves, under ReportsPrefix, as
// Microsoft's REST API v2.0 swagger documents them:
//
//	GET, POST          /CatalogItems, /Folders, /Reports, /DataSources, /Subscriptions
//	POST               /CatalogItems/Model.MoveItems, /CatalogItems/Model.DeleteItems
//	GET, PATCH, DELETE /CatalogItems(key), /Folders(key), /Reports(key), /DataSources(key), /Subscriptions(id)
//	GET                /CatalogItems(key)/Content/$value, /Reports(key)/Content/$value
//	GET, PUT           /{CatalogItems,Folders,Reports,DataSources}(key)/Policies, /Reports(key)/DataSources
//	GET                /Folders(key)/CatalogItems, /Reports(key)/Subscriptions
//	POST               /Subscriptions(id)/Model.Enable, Model.Disable, Model.Execute
//
// where key is an item's GUID or Path='/a/b' (quotes doubled). Lists take
// $top, $skip, $count, $select, $orderby (Name or Path, asc or desc) and
// $filter of the form "Path eq '/a'", "Name eq 'a'" or "Type eq 'Report'".
// Creating takes the item's full path or its parent folder's in Path;
// reports need an RDL document (XML) in Content. Statuses are the
// swagger's: 201 for a new item, 204 for PATCH and for subscription
// changes, 200 for DELETE (204 for a subscription). Errors are OData error
// objects: 400 bad request, 404 no such item (rsItemNotFound), 405 wrong
// method, 409 the path is taken (rsItemAlreadyExists).
func NewReports() http.Handler {
	c := &catalog{items: map[string]*catalogItem{}, subscriptions: map[string]*subscription{}}
	root := &catalogItem{ID: newGUID(), Path: "/", Type: "Folder", CreatedBy: "NT AUTHORITY\\SYSTEM"}
	root.ModifiedBy = root.CreatedBy
	root.Created = time.Now().UTC()
	root.Modified = root.Created
	root.policy = &itemPolicy{Policies: []policy{{GroupUserName: "BUILTIN\\Administrators", Roles: []role{roleByName("Content Manager")}}}}
	c.items[root.ID] = root
	return c
}

// catalogItem is one item of the catalog.
type catalogItem struct {
	ID, Name, Path, Type  string
	Description           *string
	Hidden                bool
	Content               []byte
	ContentType           *string
	CreatedBy, ModifiedBy string
	Created, Modified     time.Time
	ParentID              string // "" for the root

	policy *itemPolicy // nil: inherited

	// A shared data source's connection.
	ds dataSourceFields
	// A report's data sources as set with PUT DataSources, by name.
	reportSources map[string]dataSourceFields
}

// dataSourceFields are the connection properties of a data source.
type dataSourceFields struct {
	IsEnabled           bool                 `json:"IsEnabled"`
	ConnectionString    *string              `json:"ConnectionString"`
	DataSourceType      string               `json:"DataSourceType"`
	CredentialRetrieval string               `json:"CredentialRetrieval"`
	CredentialsInServer *credentialsInServer `json:"CredentialsInServer,omitempty"`
	CredentialsByUser   *map[string]any      `json:"CredentialsByUser,omitempty"`
	IsReference         bool                 `json:"IsReference"`
	ReferencePath       string               `json:"-"`
}

type credentialsInServer struct {
	UserName                     string  `json:"UserName"`
	Password                     *string `json:"Password"`
	UseAsWindowsCredentials      bool    `json:"UseAsWindowsCredentials"`
	ImpersonateAuthenticatedUser bool    `json:"ImpersonateAuthenticatedUser"`
}

// itemJSON is a catalog item as the API writes it.
type itemJSON struct {
	ODataContext      string  `json:"@odata.context,omitempty"`
	ODataType         string  `json:"@odata.type"`
	ID                string  `json:"Id"`
	Name              string  `json:"Name"`
	Description       *string `json:"Description"`
	Path              string  `json:"Path"`
	Type              string  `json:"Type"`
	Hidden            bool    `json:"Hidden"`
	Size              int64   `json:"Size"`
	ModifiedBy        string  `json:"ModifiedBy"`
	ModifiedDate      string  `json:"ModifiedDate"`
	CreatedBy         string  `json:"CreatedBy"`
	CreatedDate       string  `json:"CreatedDate"`
	ParentFolderID    *string `json:"ParentFolderId"`
	ContentType       *string `json:"ContentType"`
	IsFavorite        bool    `json:"IsFavorite"`
	HasDataSources    *bool   `json:"HasDataSources,omitempty"`
	HasSharedDataSets *bool   `json:"HasSharedDataSets,omitempty"`
	HasParameters     *bool   `json:"HasParameters,omitempty"`
	*dataSourceFields
}

// itemInput is the body of a create or update request.
type itemInput struct {
	ODataType   string  `json:"@odata.type"`
	Name        *string `json:"Name"`
	Description *string `json:"Description"`
	Path        *string `json:"Path"`
	Hidden      *bool   `json:"Hidden"`
	Content     []byte  `json:"Content"`
	ContentType *string `json:"ContentType"`
	// Data source properties.
	IsEnabled           *bool                `json:"IsEnabled"`
	ConnectionString    *string              `json:"ConnectionString"`
	DataSourceType      *string              `json:"DataSourceType"`
	CredentialRetrieval *string              `json:"CredentialRetrieval"`
	CredentialsInServer *credentialsInServer `json:"CredentialsInServer"`
	CredentialsByUser   *map[string]any      `json:"CredentialsByUser"`
	IsReference         *bool                `json:"IsReference"`
}

// catalogTypes are the item types of the API's CatalogItemType enum that
// can be created.
var catalogTypes = []string{
	"Folder", "Report", "DataSource", "DataSet", "Component", "Resource", "Kpi",
	"MobileReport", "LinkedReport", "ReportModel", "PowerBIReport", "ExcelWorkbook",
}

// odataErr is a failure to report as an OData error object.
type odataErr struct {
	status int
	code   string
	msg    string
}

func odataError(status int, code, format string, args ...any) *odataErr {
	return &odataErr{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *odataErr {
	return odataError(http.StatusBadRequest, "rsInvalidParameter", format, args...)
}

const odataJSON = "application/json; odata.metadata=minimal; odata.streaming=true"

// catalog is the handler.
type catalog struct {
	mu            sync.Mutex              // guards everything below and what it holds
	items         map[string]*catalogItem // by Id
	subscriptions map[string]*subscription
}

// reply is a handler's answer: a status and a JSON body (nil: none), or
// raw bytes.
type reply struct {
	status int
	body   any
	raw    []byte
}

func (c *catalog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	rep, err := c.serve(r)
	c.mu.Unlock()
	if err != nil {
		writeJSON(w, err.status, odataJSON, map[string]any{"error": map[string]string{"code": err.code, "message": err.msg}})
		return
	}
	switch {
	case rep.raw != nil:
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(len(rep.raw)))
		w.WriteHeader(rep.status)
		_, _ = w.Write(rep.raw)
	case rep.body == nil:
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(rep.status)
	default:
		writeJSON(w, rep.status, odataJSON, rep.body)
	}
}

// route is a parsed request path: the entity set, the key (unquoted
// path or GUID, "" for the set) and what follows it.
type route struct {
	set, key, rest string
	byPath         bool
}

var sets = []string{"CatalogItems", "Folders", "Reports", "DataSources", "Subscriptions"}

// parseRoute splits /Set(key)/rest, reading a Path='...' key with its
// doubled quotes.
func parseRoute(p string) (route, *odataErr) {
	notFound := odataError(http.StatusNotFound, "rsNotFound", "No resource at %s", p)
	rest, ok := strings.CutPrefix(p, ReportsPrefix+"/")
	if !ok {
		return route{}, notFound
	}
	var rt route
	for _, s := range sets {
		if strings.HasPrefix(rest, s) && (len(rest) == len(s) || rest[len(s)] == '(' || rest[len(s)] == '/') {
			rt.set, rest = s, rest[len(s):]
			break
		}
	}
	if rt.set == "" {
		return route{}, notFound
	}
	if strings.HasPrefix(rest, "(") {
		end, key, byPath, err := parseKey(rest)
		if err != nil {
			return route{}, err
		}
		rt.key, rt.byPath, rest = key, byPath, rest[end:]
	}
	rt.rest = rest
	return rt, nil
}

// parseKey reads "(guid)" or "(Path='...')" at the start of s, returning
// the index after the closing parenthesis.
func parseKey(s string) (int, string, bool, *odataErr) {
	if inner, ok := strings.CutPrefix(s, "(Path='"); ok {
		var b strings.Builder
		for i := 0; i < len(inner); i++ {
			if inner[i] != '\'' {
				b.WriteByte(inner[i])
				continue
			}
			if i+1 < len(inner) && inner[i+1] == '\'' {
				b.WriteByte('\'')
				i++
				continue
			}
			if i+1 < len(inner) && inner[i+1] == ')' {
				return len("(Path='") + i + 2, b.String(), true, nil
			}
			break
		}
		return 0, "", false, badRequest("The key %s is not valid.", s)
	}
	end := strings.IndexByte(s, ')')
	if end < 0 {
		return 0, "", false, badRequest("The key %s is not valid.", s)
	}
	return end + 1, strings.ToLower(strings.Trim(s[1:end], "'")), false, nil
}

func (c *catalog) serve(r *http.Request) (reply, *odataErr) {
	rt, err := parseRoute(r.URL.Path)
	if err != nil {
		return reply{}, err
	}
	if rt.set == "Subscriptions" {
		return c.serveSubscriptions(r, rt)
	}
	switch {
	case rt.key == "" && rt.rest == "" && r.Method == http.MethodGet:
		return c.list(r, rt.set, func(it *catalogItem) bool { return rt.set == "CatalogItems" || it.Type == singular(rt.set) })
	case rt.key == "" && rt.rest == "" && r.Method == http.MethodPost:
		return c.create(r, rt.set)
	case rt.set == "CatalogItems" && rt.key == "" && r.Method == http.MethodPost && (rt.rest == "/Model.MoveItems" || rt.rest == "/Model.DeleteItems"):
		return c.bulk(r, rt.rest)
	case rt.key == "":
		return reply{}, methodNotAllowed(r, rt.set)
	}
	it, err := c.lookup(rt)
	if err != nil {
		return reply{}, err
	}
	switch op := r.Method + " " + rt.rest; {
	case op == "GET ":
		return c.single(r, it, rt.set)
	case op == "PATCH ":
		return c.update(r, it, rt.set)
	case op == "DELETE ":
		if it.ParentID == "" {
			return reply{}, odataError(http.StatusBadRequest, "rsInvalidOperation", "The root folder cannot be deleted.")
		}
		c.remove(it)
		return reply{status: http.StatusOK}, nil
	case op == "GET /Content/$value" && (rt.set == "CatalogItems" || rt.set == "Reports"):
		if len(it.Content) == 0 {
			return reply{status: http.StatusNoContent}, nil
		}
		return reply{status: http.StatusOK, raw: it.Content}, nil
	case op == "GET /Policies" && rt.set != "Subscriptions":
		return reply{status: http.StatusOK, body: c.effectivePolicy(it)}, nil
	case op == "PUT /Policies" && rt.set != "Subscriptions":
		return c.setPolicy(r, it)
	case op == "GET /CatalogItems" && rt.set == "Folders":
		return c.list(r, "CatalogItems", func(child *catalogItem) bool { return child.ParentID == it.ID })
	case op == "GET /DataSources" && rt.set == "Reports":
		return reply{status: http.StatusOK, body: map[string]any{
			"@odata.context": ReportsPrefix + "/$metadata#DataSources", "value": c.reportDataSources(it),
		}}, nil
	case op == "PUT /DataSources" && rt.set == "Reports":
		return c.setReportDataSources(r, it)
	case op == "GET /Subscriptions" && rt.set == "Reports":
		return c.listSubscriptions(r, func(s *subscription) bool { return strings.EqualFold(s.Report, it.Path) })
	}
	return reply{}, methodNotAllowed(r, rt.set)
}

func methodNotAllowed(r *http.Request, where string) *odataErr {
	return odataError(http.StatusMethodNotAllowed, "rsMethodNotAllowed", "%s is not allowed on %s", r.Method, where)
}

// singular is the item type an entity set holds ("Folders": "Folder").
func singular(set string) string { return strings.TrimSuffix(set, "s") }

// lookup finds the item a route's key names; c.mu must be held.
func (c *catalog) lookup(rt route) (*catalogItem, *odataErr) {
	var it *catalogItem
	if rt.byPath {
		it = c.byPath(rt.key)
	} else {
		it = c.items[rt.key]
	}
	if it == nil || rt.set != "CatalogItems" && it.Type != singular(rt.set) {
		return nil, odataError(http.StatusNotFound, "rsItemNotFound", "The item '%s' cannot be found.", rt.key)
	}
	return it, nil
}

// byPath finds an item by path, ignoring case as the server does; c.mu
// must be held.
func (c *catalog) byPath(p string) *catalogItem {
	for _, it := range c.items {
		if strings.EqualFold(it.Path, p) {
			return it
		}
	}
	return nil
}

var (
	filterExpr  = regexp.MustCompile(`^(Path|Name|Type) eq '((?:[^']|'')*)'$`)
	orderbyExpr = regexp.MustCompile(`^(Path|Name)(?: (asc|desc))?$`)
)

// queryOptions applies $filter, $orderby, $skip and $top to items, and
// returns the total before paging.
func queryOptions[T any](r *http.Request, items []T, field func(T, string) string) ([]T, int, *odataErr) {
	q := r.URL.Query()
	if f := q.Get("$filter"); f != "" {
		m := filterExpr.FindStringSubmatch(f)
		if m == nil {
			return nil, 0, badRequest("Unsupported $filter %q", f)
		}
		want := strings.ReplaceAll(m[2], "''", "'")
		items = slices.DeleteFunc(items, func(it T) bool { return !strings.EqualFold(field(it, m[1]), want) })
	}
	by, desc := "Path", false
	if o := q.Get("$orderby"); o != "" {
		m := orderbyExpr.FindStringSubmatch(o)
		if m == nil {
			return nil, 0, badRequest("Unsupported $orderby %q", o)
		}
		by, desc = m[1], m[2] == "desc"
	}
	slices.SortStableFunc(items, func(a, b T) int {
		x, y := strings.ToLower(field(a, by)), strings.ToLower(field(b, by))
		if desc {
			x, y = y, x
		}
		return cmp.Compare(x, y)
	})
	total := len(items)
	for _, opt := range []string{"$skip", "$top"} {
		v := q.Get(opt)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, 0, badRequest("Invalid %s %q", opt, v)
		}
		if opt == "$skip" {
			items = items[min(n, len(items)):]
		} else {
			items = items[:min(n, len(items))]
		}
	}
	return items, total, nil
}

// selectFields keeps the properties $select names (OData control
// information, "@odata.*", stays).
func selectFields(r *http.Request, v any) (any, *odataErr) {
	sel := r.URL.Query().Get("$select")
	if sel == "" {
		return v, nil
	}
	b, _ := json.Marshal(v)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	out := map[string]any{}
	for k, val := range m {
		if strings.HasPrefix(k, "@odata.") {
			out[k] = val
		}
	}
	for name := range strings.SplitSeq(sel, ",") {
		name = strings.TrimSpace(name)
		val, ok := m[name]
		if !ok {
			return nil, badRequest("Could not find a property named '%s' on type 'Model.CatalogItem'.", name)
		}
		out[name] = val
	}
	return out, nil
}

// list answers a collection with the OData query options applied; c.mu
// must be held.
func (c *catalog) list(r *http.Request, set string, keep func(*catalogItem) bool) (reply, *odataErr) {
	var items []*catalogItem
	for _, it := range c.items {
		if keep(it) {
			items = append(items, it)
		}
	}
	items, total, err := queryOptions(r, items, func(it *catalogItem, f string) string {
		return map[string]string{"Path": it.Path, "Name": it.Name, "Type": it.Type}[f]
	})
	if err != nil {
		return reply{}, err
	}
	values := []any{}
	for _, it := range items {
		v, err := selectFields(r, c.toJSON(it, ""))
		if err != nil {
			return reply{}, err
		}
		values = append(values, v)
	}
	out := map[string]any{"@odata.context": ReportsPrefix + "/$metadata#" + set, "value": values}
	if strings.EqualFold(r.URL.Query().Get("$count"), "true") {
		out["@odata.count"] = total
	}
	return reply{status: http.StatusOK, body: out}, nil
}

func (c *catalog) single(r *http.Request, it *catalogItem, set string) (reply, *odataErr) {
	v, err := selectFields(r, c.toJSON(it, set+"/$entity"))
	if err != nil {
		return reply{}, err
	}
	return reply{status: http.StatusOK, body: v}, nil
}

func decodeInput(r *http.Request) (itemInput, *odataErr) {
	var in itemInput
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		return in, badRequest("The request body is not a catalog item: %v", err)
	}
	return in, nil
}

func validName(name string) bool {
	return name != "" && !strings.ContainsAny(name, "/\\") && len(name) <= 260
}

// create adds an item from the request body; c.mu must be held.
func (c *catalog) create(r *http.Request, set string) (reply, *odataErr) {
	in, err := decodeInput(r)
	if err != nil {
		return reply{}, err
	}
	typ := strings.TrimPrefix(in.ODataType, "#Model.")
	switch {
	case set != "CatalogItems" && in.ODataType == "":
		typ = singular(set)
	case set != "CatalogItems" && typ != singular(set):
		return reply{}, badRequest("%s takes %s items, not %q", set, singular(set), in.ODataType)
	case !slices.Contains(catalogTypes, typ):
		return reply{}, badRequest("Unknown or missing @odata.type %q", in.ODataType)
	}
	name := deref(in.Name)
	if !validName(name) {
		return reply{}, odataError(http.StatusBadRequest, "rsInvalidItemName", "The name %q is not valid.", name)
	}
	if typ == "Report" && !strings.HasPrefix(strings.TrimSpace(string(in.Content)), "<") {
		return reply{}, odataError(http.StatusBadRequest, "rsInvalidReportDefinition", "The report definition is not valid XML.")
	}
	parent, err := c.parentFor(deref(in.Path), name)
	if err != nil {
		return reply{}, err
	}
	full := path.Join(parent.Path, name)
	if c.byPath(full) != nil {
		return reply{}, odataError(http.StatusConflict, "rsItemAlreadyExists", "An item with the path '%s' already exists.", full)
	}
	who := principal(r)
	it := &catalogItem{
		ID: newGUID(), Name: name, Path: full, Type: typ, Description: in.Description, Hidden: deref(in.Hidden),
		Content: in.Content, ContentType: in.ContentType, CreatedBy: who, ModifiedBy: who, ParentID: parent.ID,
	}
	if typ == "DataSource" {
		it.ds = dataSourceFields{IsEnabled: true, CredentialRetrieval: "integrated"}
		applyDataSource(&it.ds, in)
	}
	it.Created = time.Now().UTC()
	it.Modified = it.Created
	c.items[it.ID] = it
	return reply{status: http.StatusCreated, body: c.toJSON(it, set+"/$entity")}, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// applyDataSource copies the data source properties an input sets.
func applyDataSource(ds *dataSourceFields, in itemInput) {
	if in.IsEnabled != nil {
		ds.IsEnabled = *in.IsEnabled
	}
	if in.ConnectionString != nil {
		ds.ConnectionString = in.ConnectionString
	}
	if in.DataSourceType != nil {
		ds.DataSourceType = *in.DataSourceType
	}
	if in.CredentialRetrieval != nil {
		ds.CredentialRetrieval = *in.CredentialRetrieval
	}
	if in.CredentialsInServer != nil {
		ds.CredentialsInServer = in.CredentialsInServer
	}
	if in.CredentialsByUser != nil {
		ds.CredentialsByUser = in.CredentialsByUser
	}
}

// parentFor resolves the folder a new item goes into: p names the parent
// folder, or is the item's full path (ending in its name); none means the
// root. c.mu must be held.
func (c *catalog) parentFor(p, name string) (*catalogItem, *odataErr) {
	if p == "" {
		p = "/"
	}
	if it := c.byPath(p); it != nil && it.Type == "Folder" {
		return it, nil
	}
	if path.Base(p) == name {
		if it := c.byPath(path.Dir(p)); it != nil && it.Type == "Folder" {
			return it, nil
		}
	}
	return nil, odataError(http.StatusNotFound, "rsItemNotFound", "The folder for '%s' cannot be found.", p)
}

// update is PATCH: the properties the body sets change; a new name moves
// the item (and what is below it). c.mu must be held.
func (c *catalog) update(r *http.Request, it *catalogItem, set string) (reply, *odataErr) {
	in, err := decodeInput(r)
	if err != nil {
		return reply{}, err
	}
	if in.Name != nil && *in.Name != it.Name {
		if !validName(*in.Name) || it.ParentID == "" {
			return reply{}, odataError(http.StatusBadRequest, "rsInvalidItemName", "The name %q is not valid.", *in.Name)
		}
		newPath := path.Join(path.Dir(it.Path), *in.Name)
		if other := c.byPath(newPath); other != nil && other != it {
			return reply{}, odataError(http.StatusConflict, "rsItemAlreadyExists", "An item with the path '%s' already exists.", newPath)
		}
		c.movePaths(it, newPath)
		it.Name = *in.Name
	}
	if in.Description != nil {
		it.Description = in.Description
	}
	if in.Hidden != nil {
		it.Hidden = *in.Hidden
	}
	if in.Content != nil {
		if it.Type == "Report" && !strings.HasPrefix(strings.TrimSpace(string(in.Content)), "<") {
			return reply{}, odataError(http.StatusBadRequest, "rsInvalidReportDefinition", "The report definition is not valid XML.")
		}
		it.Content = in.Content
	}
	if in.ContentType != nil {
		it.ContentType = in.ContentType
	}
	if it.Type == "DataSource" {
		applyDataSource(&it.ds, in)
	}
	it.ModifiedBy, it.Modified = principal(r), time.Now().UTC()
	return reply{status: http.StatusNoContent}, nil
}

// movePaths changes it's path to newPath, and its descendants' with it;
// c.mu must be held.
func (c *catalog) movePaths(it *catalogItem, newPath string) {
	old := it.Path
	for _, other := range c.items {
		if other == it || strings.HasPrefix(other.Path, old+"/") {
			other.Path = newPath + strings.TrimPrefix(other.Path, old)
		}
	}
	for _, s := range c.subscriptions {
		if strings.EqualFold(s.Report, old) || strings.HasPrefix(strings.ToLower(s.Report), strings.ToLower(old)+"/") {
			s.Report = newPath + s.Report[len(old):]
		}
	}
}

// remove deletes it, what is below it, and the subscriptions of the
// reports deleted; c.mu must be held.
func (c *catalog) remove(it *catalogItem) {
	for id, other := range c.items {
		if other == it || strings.HasPrefix(other.Path, it.Path+"/") {
			delete(c.items, id)
			for sid, s := range c.subscriptions {
				if strings.EqualFold(s.Report, other.Path) {
					delete(c.subscriptions, sid)
				}
			}
		}
	}
}

// bulk is Model.MoveItems and Model.DeleteItems: each path on its own,
// the failures listed.
func (c *catalog) bulk(r *http.Request, action string) (reply, *odataErr) {
	var in struct {
		CatalogItemPaths []string `json:"CatalogItemPaths"`
		TargetPath       string   `json:"TargetPath"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		return reply{}, badRequest("The request body is not valid: %v", err)
	}
	var target *catalogItem
	if action == "/Model.MoveItems" {
		if target = c.byPath(in.TargetPath); target == nil || target.Type != "Folder" {
			return reply{}, odataError(http.StatusBadRequest, "rsItemNotFound", "The folder '%s' cannot be found.", in.TargetPath)
		}
	}
	failed := []string{}
	for _, p := range in.CatalogItemPaths {
		it := c.byPath(p)
		switch {
		case it == nil || it.ParentID == "":
			failed = append(failed, p)
		case target == nil:
			c.remove(it)
		case target.Path == it.Path || strings.HasPrefix(target.Path, it.Path+"/") || c.byPath(path.Join(target.Path, it.Name)) != nil:
			failed = append(failed, p)
		default:
			c.movePaths(it, path.Join(target.Path, it.Name))
			it.ParentID = target.ID
		}
	}
	return reply{status: http.StatusOK, body: map[string]any{"HasErrors": len(failed) > 0, "FailedOperations": failed}}, nil
}

// toJSON renders an item; c.mu must be held.
func (c *catalog) toJSON(it *catalogItem, context string) itemJSON {
	out := itemJSON{
		ODataType: "#Model." + it.Type, ID: it.ID, Name: it.Name, Description: it.Description,
		Path: it.Path, Type: it.Type, Hidden: it.Hidden, Size: int64(len(it.Content)),
		ModifiedBy: it.ModifiedBy, ModifiedDate: it.Modified.Format(time.RFC3339Nano),
		CreatedBy: it.CreatedBy, CreatedDate: it.Created.Format(time.RFC3339Nano),
		ContentType: it.ContentType,
	}
	if context != "" {
		out.ODataContext = ReportsPrefix + "/$metadata#" + context
	}
	if it.ParentID != "" {
		out.ParentFolderID = &it.ParentID
	}
	switch it.Type {
	case "Report":
		sources := rdlDataSources(it.Content)
		ds, sds, params := len(sources) > 0, hasElement(it.Content, "SharedDataSet"), hasElement(it.Content, "ReportParameter")
		out.HasDataSources, out.HasSharedDataSets, out.HasParameters = &ds, &sds, &params
	case "DataSource":
		ds := it.ds
		if ds.CredentialsInServer != nil {
			// The password is stored, never returned.
			creds := *ds.CredentialsInServer
			creds.Password = nil
			ds.CredentialsInServer = &creds
		}
		out.dataSourceFields = &ds
	}
	return out
}

// hasElement reports whether the RDL document has an element called name
// (a rough look, enough for the Has* flags).
func hasElement(rdl []byte, name string) bool {
	for _, end := range []string{" ", ">", "/"} {
		if bytes.Contains(rdl, []byte("<"+name+end)) {
			return true
		}
	}
	return false
}

// rdlDataSource is a report definition's DataSource element.
type rdlDataSource struct {
	Name      string `xml:"Name,attr"`
	Reference string `xml:"DataSourceReference"`
	Provider  string `xml:"ConnectionProperties>DataProvider"`
	Connect   string `xml:"ConnectionProperties>ConnectString"`
}

// rdlDataSources reads the data sources a report definition declares.
func rdlDataSources(rdl []byte) []rdlDataSource {
	var doc struct {
		Sources []rdlDataSource `xml:"DataSources>DataSource"`
	}
	_ = xml.Unmarshal(rdl, &doc)
	return doc.Sources
}

// reportDataSources is a report's data sources: as its definition
// declares them, with what PUT DataSources set on top; c.mu must be held.
func (c *catalog) reportDataSources(it *catalogItem) []map[string]any {
	out := []map[string]any{}
	for _, src := range rdlDataSources(it.Content) {
		ds, set := it.reportSources[src.Name]
		if !set {
			ds = dataSourceFields{IsEnabled: true, IsReference: src.Reference != "", ReferencePath: src.Reference,
				DataSourceType: src.Provider, CredentialRetrieval: "integrated"}
			if src.Connect != "" {
				ds.ConnectionString = &src.Connect
			}
		}
		m := map[string]any{
			"Name": src.Name, "IsEnabled": ds.IsEnabled, "IsReference": ds.IsReference,
			"DataSourceType": ds.DataSourceType, "ConnectionString": ds.ConnectionString,
			"CredentialRetrieval": ds.CredentialRetrieval, "Type": "DataSource",
		}
		if ds.IsReference {
			m["Path"] = ds.ReferencePath
		}
		out = append(out, m)
	}
	return out
}

// setReportDataSources points a report's data sources elsewhere; c.mu
// must be held.
func (c *catalog) setReportDataSources(r *http.Request, it *catalogItem) (reply, *odataErr) {
	var in []itemInput
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		return reply{}, badRequest("The request body is not an array of data sources: %v", err)
	}
	declared := map[string]bool{}
	for _, src := range rdlDataSources(it.Content) {
		declared[src.Name] = true
	}
	updates := map[string]dataSourceFields{}
	for _, d := range in {
		name := deref(d.Name)
		if !declared[name] {
			return reply{}, odataError(http.StatusBadRequest, "rsDataSourceNotFound", "The data source '%s' cannot be found.", name)
		}
		ds := dataSourceFields{IsEnabled: true, CredentialRetrieval: "integrated"}
		applyDataSource(&ds, d)
		if deref(d.IsReference) {
			ref := c.byPath(deref(d.Path))
			if ref == nil || ref.Type != "DataSource" {
				return reply{}, odataError(http.StatusBadRequest, "rsInvalidDataSourceReference", "The data source reference '%s' is not valid.", deref(d.Path))
			}
			ds.IsReference, ds.ReferencePath, ds.ConnectionString, ds.DataSourceType = true, ref.Path, nil, ref.ds.DataSourceType
		}
		updates[name] = ds
	}
	if it.reportSources == nil {
		it.reportSources = map[string]dataSourceFields{}
	}
	for name, ds := range updates {
		it.reportSources[name] = ds
	}
	return reply{status: http.StatusOK}, nil
}

// role is a Reporting Services role.
type role struct {
	Name        string `json:"Name"`
	Description string `json:"Description"`
}

// roles are the built-in item-level roles.
var roles = []role{
	{"Browser", "May view folders, reports and subscribe to reports."},
	{"Content Manager", "May manage content in the Report Server.  This includes folders, reports and resources."},
	{"My Reports", "May publish reports and linked reports; manage folders, reports and resources in a users My Reports folder."},
	{"Publisher", "May publish reports and linked reports to the Report Server."},
	{"Report Builder", "May view report definitions."},
}

func roleByName(name string) role {
	for _, r := range roles {
		if strings.EqualFold(r.Name, name) {
			return r
		}
	}
	return role{}
}

type policy struct {
	GroupUserName string `json:"GroupUserName"`
	Roles         []role `json:"Roles"`
}

type itemPolicy struct {
	InheritParentPolicy bool     `json:"InheritParentPolicy"`
	Policies            []policy `json:"Policies"`
}

// effectivePolicy is the item's policy, or its nearest ancestor's with
// InheritParentPolicy set; c.mu must be held.
func (c *catalog) effectivePolicy(it *catalogItem) itemPolicy {
	inherit := it.policy == nil
	for cur := it; cur != nil; cur = c.items[cur.ParentID] {
		if cur.policy != nil {
			return itemPolicy{InheritParentPolicy: inherit, Policies: cur.policy.Policies}
		}
	}
	return itemPolicy{InheritParentPolicy: inherit, Policies: []policy{}}
}

func (c *catalog) setPolicy(r *http.Request, it *catalogItem) (reply, *odataErr) {
	var in itemPolicy
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		return reply{}, badRequest("The request body is not an item policy: %v", err)
	}
	if in.InheritParentPolicy {
		if it.ParentID == "" {
			return reply{}, odataError(http.StatusBadRequest, "rsInvalidOperation", "The root folder cannot inherit a policy.")
		}
		it.policy = nil
		return reply{status: http.StatusOK}, nil
	}
	out := &itemPolicy{Policies: []policy{}}
	for _, p := range in.Policies {
		if p.GroupUserName == "" {
			return reply{}, badRequest("A policy needs a GroupUserName.")
		}
		np := policy{GroupUserName: p.GroupUserName}
		for _, rl := range p.Roles {
			known := roleByName(rl.Name)
			if known.Name == "" {
				return reply{}, odataError(http.StatusBadRequest, "rsUnknownRoleName", "The role name '%s' is not valid.", rl.Name)
			}
			np.Roles = append(np.Roles, known)
		}
		out.Policies = append(out.Policies, np)
	}
	it.policy = out
	return reply{status: http.StatusOK}, nil
}

// principal is the authenticated client, as the report server records
// it in CreatedBy and ModifiedBy.
func principal(r *http.Request) string {
	if id, ok := acceptor.IdentityFromContext(r.Context()); ok {
		return id.Principal
	}
	return "anonymous"
}

// newGUID returns a random (version 4) GUID in lower case.
func newGUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
