package restapis

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/json"
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
// that holds only the root folder "/". Mount it at ReportsPrefix+"/" (or
// at the root). It serves, under ReportsPrefix:
//
//	GET, POST   /Folders, /CatalogItems, /Reports
//	GET, DELETE /Folders(key), /CatalogItems(key), /Reports(key)
//	GET         /Folders(key)/CatalogItems
//
// where key is an item's GUID or Path='/a/b'. Lists take $top, $skip,
// $count, $orderby (Name or Path, asc or desc) and $filter of the form
// "Path eq '/a'", "Name eq 'a'" or "Type eq 'Report'". Creating takes the
// item's full path or its parent folder's in Path; reports need an RDL
// document (XML) in Content. Errors are OData error objects: 400 bad
// request, 404 no such item, 405 wrong method, 409 the path is taken.
func NewReports() http.Handler {
	c := &catalog{items: map[string]*catalogItem{}}
	root := &catalogItem{ID: newGUID(), Path: "/", Type: "Folder", CreatedBy: "NT AUTHORITY\\SYSTEM"}
	root.Created = time.Now().UTC()
	root.Modified = root.Created
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
}

// itemInput is the body of a create request.
type itemInput struct {
	ODataType   string  `json:"@odata.type"`
	Name        string  `json:"Name"`
	Description *string `json:"Description"`
	Path        string  `json:"Path"`
	Hidden      bool    `json:"Hidden"`
	Content     []byte  `json:"Content"`
	ContentType *string `json:"ContentType"`
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

const odataJSON = "application/json; odata.metadata=minimal; odata.streaming=true"

// catalog is the handler.
type catalog struct {
	mu    sync.Mutex              // guards items and what they hold
	items map[string]*catalogItem // by Id
}

// route matches the path below ReportsPrefix: the entity set, the key
// in parentheses, and a navigation to a folder's items.
var route = regexp.MustCompile(`^/(Folders|CatalogItems|Reports)(?:\((.+)\))?(/CatalogItems)?$`)

func (c *catalog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	status, body, err := c.serve(r)
	if err != nil {
		status = err.status
		body = map[string]any{"error": map[string]string{"code": err.code, "message": err.msg}}
	}
	if body == nil {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, odataJSON, body)
}

func (c *catalog) serve(r *http.Request) (int, any, *odataErr) {
	m := route.FindStringSubmatch(strings.TrimPrefix(r.URL.Path, ReportsPrefix))
	if m == nil || !strings.HasPrefix(r.URL.Path, ReportsPrefix+"/") || m[3] != "" && (m[1] != "Folders" || m[2] == "") {
		return 0, nil, odataError(http.StatusNotFound, "rsNotFound", "No resource at %s", r.URL.Path)
	}
	set, key, nav := m[1], m[2], m[3]
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case key == "" && r.Method == http.MethodGet:
		return c.list(r, set, func(it *catalogItem) bool { return set == "CatalogItems" || it.Type == singular(set) })
	case key == "" && r.Method == http.MethodPost:
		return c.create(r, set)
	case key == "":
		return 0, nil, odataError(http.StatusMethodNotAllowed, "rsMethodNotAllowed", "%s is not allowed on %s", r.Method, set)
	}
	it, err := c.lookup(set, key)
	if err != nil {
		return 0, nil, err
	}
	switch {
	case nav != "" && r.Method == http.MethodGet:
		return c.list(r, "CatalogItems", func(child *catalogItem) bool { return child.ParentID == it.ID })
	case nav == "" && r.Method == http.MethodGet:
		return http.StatusOK, c.toJSON(it, set+"/$entity"), nil
	case nav == "" && r.Method == http.MethodDelete:
		if it.ParentID == "" {
			return 0, nil, odataError(http.StatusBadRequest, "rsInvalidOperation", "The root folder cannot be deleted.")
		}
		for id, other := range c.items {
			if other == it || strings.HasPrefix(other.Path, it.Path+"/") {
				delete(c.items, id)
			}
		}
		return http.StatusNoContent, nil, nil
	}
	return 0, nil, odataError(http.StatusMethodNotAllowed, "rsMethodNotAllowed", "%s is not allowed here", r.Method)
}

// singular is the item type an entity set holds ("Folders": "Folder").
func singular(set string) string { return strings.TrimSuffix(set, "s") }

// lookup finds the item a key names (GUID or Path='...') in set; c.mu
// must be held.
func (c *catalog) lookup(set, key string) (*catalogItem, *odataErr) {
	var it *catalogItem
	if p, ok := strings.CutPrefix(key, "Path='"); ok && strings.HasSuffix(p, "'") {
		p = strings.ReplaceAll(strings.TrimSuffix(p, "'"), "''", "'")
		it = c.byPath(p)
	} else {
		it = c.items[strings.ToLower(strings.Trim(key, "'"))]
	}
	if it == nil || set != "CatalogItems" && it.Type != singular(set) {
		return nil, odataError(http.StatusNotFound, "rsItemNotFound", "The item '%s' cannot be found.", key)
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

// list answers a collection with the OData query options applied; c.mu
// must be held.
func (c *catalog) list(r *http.Request, set string, keep func(*catalogItem) bool) (int, any, *odataErr) {
	q := r.URL.Query()
	if f := q.Get("$filter"); f != "" {
		m := filterExpr.FindStringSubmatch(f)
		if m == nil {
			return 0, nil, odataError(http.StatusBadRequest, "rsInvalidParameter", "Unsupported $filter %q", f)
		}
		field, want, inner := m[1], strings.ReplaceAll(m[2], "''", "'"), keep
		keep = func(it *catalogItem) bool {
			got := map[string]string{"Path": it.Path, "Name": it.Name, "Type": it.Type}[field]
			return inner(it) && strings.EqualFold(got, want)
		}
	}
	var items []*catalogItem
	for _, it := range c.items {
		if keep(it) {
			items = append(items, it)
		}
	}
	field, desc := "Path", false
	if o := q.Get("$orderby"); o != "" {
		m := orderbyExpr.FindStringSubmatch(o)
		if m == nil {
			return 0, nil, odataError(http.StatusBadRequest, "rsInvalidParameter", "Unsupported $orderby %q", o)
		}
		field, desc = m[1], m[2] == "desc"
	}
	slices.SortFunc(items, func(a, b *catalogItem) int {
		x, y := a.Path, b.Path
		if field == "Name" {
			x, y = a.Name, b.Name
		}
		if desc {
			x, y = y, x
		}
		return cmp.Compare(strings.ToLower(x), strings.ToLower(y))
	})
	total := len(items)
	for _, opt := range []string{"$skip", "$top"} {
		v := q.Get(opt)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, nil, odataError(http.StatusBadRequest, "rsInvalidParameter", "Invalid %s %q", opt, v)
		}
		if opt == "$skip" {
			items = items[min(n, len(items)):]
		} else {
			items = items[:min(n, len(items))]
		}
	}
	out := map[string]any{"@odata.context": ReportsPrefix + "/$metadata#" + set, "value": c.toJSONList(items)}
	if strings.EqualFold(q.Get("$count"), "true") {
		out["@odata.count"] = total
	}
	return http.StatusOK, out, nil
}

// create adds an item from the request body; c.mu must be held.
func (c *catalog) create(r *http.Request, set string) (int, any, *odataErr) {
	var in itemInput
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&in); err != nil {
		return 0, nil, odataError(http.StatusBadRequest, "rsInvalidParameter", "The request body is not a catalog item: %v", err)
	}
	typ := strings.TrimPrefix(in.ODataType, "#Model.")
	switch {
	case set != "CatalogItems" && in.ODataType == "":
		typ = singular(set)
	case set != "CatalogItems" && typ != singular(set):
		return 0, nil, odataError(http.StatusBadRequest, "rsInvalidParameter", "%s takes %s items, not %q", set, singular(set), in.ODataType)
	case !slices.Contains(catalogTypes, typ):
		return 0, nil, odataError(http.StatusBadRequest, "rsInvalidParameter", "Unknown or missing @odata.type %q", in.ODataType)
	}
	if in.Name == "" || strings.ContainsAny(in.Name, "/\\") || len(in.Name) > 260 {
		return 0, nil, odataError(http.StatusBadRequest, "rsInvalidItemName", "The name %q is not valid.", in.Name)
	}
	if typ == "Report" && !strings.HasPrefix(strings.TrimSpace(string(in.Content)), "<") {
		return 0, nil, odataError(http.StatusBadRequest, "rsInvalidReportDefinition", "The report definition is not valid XML.")
	}
	parent, err := c.parentFor(in)
	if err != nil {
		return 0, nil, err
	}
	full := path.Join(parent.Path, in.Name)
	if c.byPath(full) != nil {
		return 0, nil, odataError(http.StatusConflict, "rsItemAlreadyExists", "An item with the path '%s' already exists.", full)
	}
	who := principal(r)
	it := &catalogItem{
		ID: newGUID(), Name: in.Name, Path: full, Type: typ, Description: in.Description, Hidden: in.Hidden,
		Content: in.Content, ContentType: in.ContentType, CreatedBy: who, ModifiedBy: who, ParentID: parent.ID,
	}
	it.Created = time.Now().UTC()
	it.Modified = it.Created
	c.items[it.ID] = it
	return http.StatusCreated, c.toJSON(it, set+"/$entity"), nil
}

// parentFor resolves the folder a new item goes into: Path names the
// parent folder, or is the item's full path (ending in its name); none
// means the root. c.mu must be held.
func (c *catalog) parentFor(in itemInput) (*catalogItem, *odataErr) {
	p := in.Path
	if p == "" {
		p = "/"
	}
	if it := c.byPath(p); it != nil && it.Type == "Folder" {
		return it, nil
	}
	if path.Base(p) == in.Name {
		if it := c.byPath(path.Dir(p)); it != nil && it.Type == "Folder" {
			return it, nil
		}
	}
	return nil, odataError(http.StatusNotFound, "rsItemNotFound", "The folder for '%s' cannot be found.", p)
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
	if it.Type == "Report" {
		ds, sds, params := hasElement(it.Content, "DataSource"), hasElement(it.Content, "SharedDataSet"), hasElement(it.Content, "ReportParameter")
		out.HasDataSources, out.HasSharedDataSets, out.HasParameters = &ds, &sds, &params
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

func (c *catalog) toJSONList(items []*catalogItem) []itemJSON {
	out := make([]itemJSON, 0, len(items))
	for _, it := range items {
		out = append(out, c.toJSON(it, ""))
	}
	return out
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
