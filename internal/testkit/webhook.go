package testkit

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Webhook is an Alertmanager webhook receiver inside the test: it keeps
// every notification with the time it arrived.
type Webhook struct {
	URL string // the receiver's base URL; Alertmanager may post to any path under it

	mu  sync.Mutex
	got []Notification
}

// Notification is one webhook call of Alertmanager.
type Notification struct {
	At       time.Time      `json:"-"`
	GroupKey string         `json:"groupKey"` // the alert group it notifies: one incident to a pager
	Status   string         `json:"status"`
	Alerts   []WebhookAlert `json:"alerts"`
}

// WebhookAlert is one alert in a notification.
type WebhookAlert struct {
	Status      string            `json:"status"`   // firing or resolved
	StartsAt    time.Time         `json:"startsAt"` // when it began firing: a new value is a new firing
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// NewWebhook starts a receiver on loopback, closed when the test ends.
func NewWebhook(t testing.TB) *Webhook {
	w := &Webhook{}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var n Notification
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		n.At = time.Now()
		w.mu.Lock()
		w.got = append(w.got, n)
		w.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	w.URL = srv.URL
	return w
}

// Find returns when the first notification after since arrived that holds
// alerts with the status and labels, and how many such alerts it held.
func (w *Webhook) Find(status string, since time.Time, labels map[string]string) (time.Time, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, n := range w.got {
		if n.At.Before(since) {
			continue
		}
		count := 0
		for _, a := range n.Alerts {
			if a.Status == status && hasLabels(a.Labels, labels) {
				count++
			}
		}
		if count > 0 {
			return n.At, count
		}
	}
	return time.Time{}, 0
}

// Since returns the notifications that arrived at or after since, in
// arrival order.
func (w *Webhook) Since(since time.Time) []Notification {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []Notification
	for _, n := range w.got {
		if !n.At.Before(since) {
			out = append(out, n)
		}
	}
	return out
}

// HasLabels reports whether the alert carries every label of want.
func (a WebhookAlert) HasLabels(want map[string]string) bool { return hasLabels(a.Labels, want) }

// Alerts returns every delivered alert with the status, in arrival order.
func (w *Webhook) Alerts(status string) []WebhookAlert {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []WebhookAlert
	for _, n := range w.got {
		for _, a := range n.Alerts {
			if a.Status == status {
				out = append(out, a)
			}
		}
	}
	return out
}

// String is every notification as JSON, for failure messages and scans.
func (w *Webhook) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	b, _ := json.Marshal(w.got)
	return string(b)
}

func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}
