package statuspage_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/internal/statuspage"
)

// fakeAuth allows admin:secret and records the address it was asked about.
type fakeAuth struct{ addrs chan netip.Addr }

func (a fakeAuth) Allow(_ context.Context, addr netip.Addr, user, pass string) bool {
	a.addrs <- addr
	return user == "admin" && pass == "secret"
}

func get(t *testing.T, h http.Handler, path string, setup ...func(*http.Request)) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.RemoteAddr = "192.0.2.7:5555"
	for _, f := range setup {
		f(r)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestHandler_basicAuth(t *testing.T) {
	a := fakeAuth{addrs: make(chan netip.Addr, 10)}
	h := statuspage.Handler(fakeSource{snap: testSnapshot(), health: statuspage.Health{OK: true}}, statuspage.Options{Auth: a})
	for _, c := range []struct {
		name, path, user, pass string
		basic                  bool
		want                   int
	}{
		{"no credentials", "/", "", "", false, http.StatusUnauthorized},
		{"wrong password", "/status.json", "admin", "wrong", true, http.StatusUnauthorized},
		{"unknown user", "/metrics", "eve", "secret", true, http.StatusUnauthorized},
		{"right password", "/status.json", "admin", "secret", true, http.StatusOK},
		{"metrics", "/metrics", "admin", "secret", true, http.StatusOK},
		{"healthz needs none", "/healthz", "", "", false, http.StatusOK},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := get(t, h, c.path, func(r *http.Request) {
				if c.basic {
					r.SetBasicAuth(c.user, c.pass)
				}
			})
			if w.Code != c.want {
				t.Fatalf("GET %s = %d, want %d", c.path, w.Code, c.want)
			}
			if c.want == http.StatusUnauthorized && !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Basic ") {
				t.Errorf("401 without a Basic challenge: %q", w.Header().Get("WWW-Authenticate"))
			}
		})
	}
	select {
	case got := <-a.addrs:
		if got != netip.MustParseAddr("192.0.2.7") {
			t.Errorf("Allow got address %v, want the client's 192.0.2.7", got)
		}
	default:
		t.Error("Allow was never called")
	}
}

func TestHandler_healthz(t *testing.T) {
	for _, c := range []struct {
		name   string
		health statuspage.Health
		code   int
		status string
	}{
		{"ok", statuspage.Health{OK: true, CheckedAt: testTime}, 200, "ok"},
		{"failing", statuspage.Health{Reason: "broker: probe not routed", CheckedAt: testTime}, 503, "failing"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := get(t, statuspage.Handler(fakeSource{health: c.health}, statuspage.Options{}), "/healthz")
			var body struct{ Status, Reason, Checked_At string }
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", w.Body, err)
			}
			if w.Code != c.code || body.Status != c.status || body.Reason != c.health.Reason || body.Checked_At != "2026-12-02T19:30:00.000Z" {
				t.Errorf("GET /healthz = %d %s, want %d with status %q, reason %q", w.Code, w.Body, c.code, c.status, c.health.Reason)
			}
		})
	}
}

func TestHandler_statusJSON(t *testing.T) {
	w := get(t, statuspage.Handler(fakeSource{snap: testSnapshot()}, statuspage.Options{}), "/status.json")
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var got statuspage.Snapshot
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.GatewayID != "pi-kitchen" || len(got.Sensors) != 2 || got.Sensors[0].Readings[1].Value != 21.53 || got.Queue.Messages != 10 {
		t.Errorf("status.json = %s", w.Body)
	}
}

// The page loads nothing from elsewhere, and its Content-Security-Policy
// allows exactly its inline style and script.
func TestHandler_pageSelfContained(t *testing.T) {
	w := get(t, statuspage.Handler(fakeSource{}, statuspage.Options{}), "/")
	body := w.Body.String()
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	if m := regexp.MustCompile(`(?i)(src|href)\s*=\s*"(https?:)?//|url\(|@import`).FindString(body); m != "" {
		t.Errorf("page loads an external asset: %q", m)
	}
	csp := w.Header().Get("Content-Security-Policy")
	for _, tag := range []string{"style", "script"} {
		inline := regexp.MustCompile(`(?s)<` + tag + `>(.*?)</` + tag + `>`).FindStringSubmatch(body)
		if inline == nil {
			t.Fatalf("no inline <%s>", tag)
		}
		sum := sha256.Sum256([]byte(inline[1]))
		want := tag + "-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q does not allow the page's <%s> (%s)", csp, tag, want)
		}
	}
	if got := get(t, statuspage.Handler(fakeSource{}, statuspage.Options{}), "/nothing").Code; got != 404 {
		t.Errorf("GET /nothing = %d, want 404", got)
	}
}

func TestHandler_methods(t *testing.T) {
	h := statuspage.Handler(fakeSource{snap: testSnapshot()}, statuspage.Options{})
	srv := httptest.NewServer(h)
	defer srv.Close()
	res, err := http.Post(srv.URL+"/metrics", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics = %d, want 405", res.StatusCode)
	}
}
