package restapis

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// subscription is a report subscription.
type subscription struct {
	ID                string           `json:"Id"`
	Owner             string           `json:"Owner"`
	IsDataDriven      bool             `json:"IsDataDriven"`
	Description       string           `json:"Description"`
	Report            string           `json:"Report"`
	IsActive          bool             `json:"IsActive"`
	EventType         string           `json:"EventType"`
	ScheduleDesc      string           `json:"ScheduleDescription"`
	LastRunTime       *string          `json:"LastRunTime"`
	LastStatus        string           `json:"LastStatus"`
	ExtensionSettings json.RawMessage  `json:"ExtensionSettings"`
	DeliveryExtension string           `json:"DeliveryExtension"`
	LocalizedName     string           `json:"LocalizedDeliveryExtensionName"`
	ModifiedBy        string           `json:"ModifiedBy"`
	ModifiedDate      string           `json:"ModifiedDate"`
	Schedule          json.RawMessage  `json:"Schedule"`
	ParameterValues   []map[string]any `json:"ParameterValues"`
}

// subscriptionInput is the body of a create or update.
type subscriptionInput struct {
	Description       *string          `json:"Description"`
	Report            *string          `json:"Report"`
	IsDataDriven      *bool            `json:"IsDataDriven"`
	EventType         *string          `json:"EventType"`
	ExtensionSettings json.RawMessage  `json:"ExtensionSettings"`
	DeliveryExtension *string          `json:"DeliveryExtension"`
	Schedule          json.RawMessage  `json:"Schedule"`
	ParameterValues   []map[string]any `json:"ParameterValues"`
}

// deliveryExtensions are the delivery extensions of a default install,
// with their display names.
var deliveryExtensions = map[string]string{
	"Report Server Email":     "E-Mail",
	"Report Server FileShare": "Windows File Share",
	"NULL":                    "Null Delivery Provider",
}

func (c *catalog) serveSubscriptions(r *http.Request, rt route) (reply, *odataErr) {
	switch {
	case rt.key == "" && rt.rest == "" && r.Method == http.MethodGet:
		return c.listSubscriptions(r, func(*subscription) bool { return true })
	case rt.key == "" && rt.rest == "" && r.Method == http.MethodPost:
		return c.createSubscription(r)
	case rt.key == "" || rt.byPath:
		return reply{}, methodNotAllowed(r, "Subscriptions")
	}
	s := c.subscriptions[rt.key]
	if s == nil {
		return reply{}, odataError(http.StatusNotFound, "rsSubscriptionNotFound", "The subscription '%s' cannot be found.", rt.key)
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	switch r.Method + " " + rt.rest {
	case "GET ":
		return reply{status: http.StatusOK, body: s}, nil
	case "PATCH ":
		var in subscriptionInput
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			return reply{}, badRequest("The request body is not a subscription: %v", err)
		}
		if err := c.applySubscription(s, in); err != nil {
			return reply{}, err
		}
		s.ModifiedBy, s.ModifiedDate = principal(r), now
		return reply{status: http.StatusNoContent}, nil
	case "DELETE ":
		delete(c.subscriptions, s.ID)
		return reply{status: http.StatusNoContent}, nil
	case "POST /Model.Enable", "POST /Model.Disable":
		s.IsActive = strings.HasSuffix(rt.rest, "Enable")
		s.LastStatus = map[bool]string{true: "Ready", false: "Disabled"}[s.IsActive]
		return reply{status: http.StatusNoContent}, nil
	case "POST /Model.Execute":
		s.LastRunTime = &now
		s.LastStatus = "Done: 1 processed of 1 total; 0 errors."
		return reply{status: http.StatusNoContent}, nil
	}
	return reply{}, methodNotAllowed(r, "Subscriptions")
}

func (c *catalog) listSubscriptions(r *http.Request, keep func(*subscription) bool) (reply, *odataErr) {
	var subs []*subscription
	for _, s := range c.subscriptions {
		if keep(s) {
			subs = append(subs, s)
		}
	}
	subs, total, err := queryOptions(r, subs, func(s *subscription, f string) string {
		return map[string]string{"Path": s.Report, "Name": s.Description, "Type": s.EventType}[f]
	})
	if err != nil {
		return reply{}, err
	}
	values := []any{}
	for _, s := range subs {
		v, err := selectFields(r, s)
		if err != nil {
			return reply{}, err
		}
		values = append(values, v)
	}
	out := map[string]any{"@odata.context": ReportsPrefix + "/$metadata#Subscriptions", "value": values}
	if strings.EqualFold(r.URL.Query().Get("$count"), "true") {
		out["@odata.count"] = total
	}
	return reply{status: http.StatusOK, body: out}, nil
}

func (c *catalog) createSubscription(r *http.Request) (reply, *odataErr) {
	var in subscriptionInput
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		return reply{}, badRequest("The request body is not a subscription: %v", err)
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	s := &subscription{
		ID: newGUID(), Owner: principal(r), IsActive: true, EventType: "TimedSubscription",
		LastStatus: "New Subscription", ModifiedBy: principal(r), ModifiedDate: now,
		ExtensionSettings: json.RawMessage("null"), Schedule: json.RawMessage("null"), ParameterValues: []map[string]any{},
	}
	if in.Report == nil || in.DeliveryExtension == nil {
		return reply{}, badRequest("A subscription needs a Report and a DeliveryExtension.")
	}
	if err := c.applySubscription(s, in); err != nil {
		return reply{}, err
	}
	c.subscriptions[s.ID] = s
	return reply{status: http.StatusCreated, body: s}, nil
}

// applySubscription copies what an input sets; c.mu must be held.
func (c *catalog) applySubscription(s *subscription, in subscriptionInput) *odataErr {
	if in.Report != nil {
		rep := c.byPath(*in.Report)
		if rep == nil || rep.Type != "Report" {
			return odataError(http.StatusBadRequest, "rsItemNotFound", "The item '%s' cannot be found.", *in.Report)
		}
		s.Report = rep.Path
	}
	if in.DeliveryExtension != nil {
		name, ok := deliveryExtensions[*in.DeliveryExtension]
		if !ok {
			return odataError(http.StatusBadRequest, "rsDeliveryExtensionNotFound", "The delivery extension '%s' is not valid.", *in.DeliveryExtension)
		}
		s.DeliveryExtension, s.LocalizedName = *in.DeliveryExtension, name
	}
	if in.Description != nil {
		s.Description = *in.Description
	}
	if in.IsDataDriven != nil {
		s.IsDataDriven = *in.IsDataDriven
	}
	if in.EventType != nil {
		s.EventType = *in.EventType
	}
	if in.ExtensionSettings != nil {
		s.ExtensionSettings = in.ExtensionSettings
	}
	if in.Schedule != nil {
		s.Schedule = in.Schedule
		s.ScheduleDesc = "Own schedule"
	}
	if in.ParameterValues != nil {
		s.ParameterValues = in.ParameterValues
	}
	return nil
}
