package statuspage

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/netip"
)

// Source supplies the data. Its methods are called on each request's
// goroutine, so they must be safe for concurrent use.
type Source interface {
	// Snapshot returns the gateway's state now.
	Snapshot() Snapshot
	// Health returns the health check's latest verdict.
	Health() Health
}

// Authenticator checks basic-auth credentials.
type Authenticator interface {
	// Allow reports whether username and password may see the pages, for
	// a request from addr (zero when unknown). It may wait (bcrypt,
	// throttling after failures) until ctx ends.
	Allow(ctx context.Context, addr netip.Addr, username, password string) bool
}

// Options configure Handler. The zero value serves every endpoint without
// authentication.
type Options struct {
	// Auth, when set, requires HTTP basic auth on every endpoint but
	// /healthz (a health check must work without credentials; it tells
	// only the verdict). nil: no authentication.
	Auth Authenticator
	// Logger receives refused logins at Debug. nil discards.
	Logger *slog.Logger
}

// Handler returns the handler of /, /status.json, /metrics and /healthz.
func Handler(src Source, o Options) http.Handler {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	guard := func(h http.HandlerFunc) http.Handler { return h }
	if o.Auth != nil {
		guard = func(h http.HandlerFunc) http.Handler { return basicAuth(o.Auth, o.Logger, h) }
	}
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", guard(servePage))
	mux.Handle("GET /status.json", guard(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, src.Snapshot())
	}))
	mux.Handle("GET /metrics", guard(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", MetricsContentType)
		w.Write(AppendMetrics(nil, src.Snapshot()))
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		serveHealth(w, src.Health())
	})
	return securityHeaders(mux)
}

// MetricsContentType is the Content-Type of /metrics: the Prometheus text
// exposition format.
const MetricsContentType = "text/plain; version=0.0.4; charset=utf-8"

//

//go:embed page/index.html
var page []byte

// pageCSP allows the page's own inline style and script (by hash) and
// fetches from its origin, nothing else.
var pageCSP = "default-src 'none'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; " +
	"style-src " + inlineHash("style") + "; script-src " + inlineHash("script")

// inlineHash returns the CSP source of the page's inline <tag> element.
func inlineHash(tag string) string {
	_, rest, _ := bytes.Cut(page, []byte("<"+tag+">"))
	body, _, ok := bytes.Cut(rest, []byte("</"+tag+">"))
	if !ok {
		panic("statuspage: page has no <" + tag + "> element") // the embedded page is broken: a build error
	}
	sum := sha256.Sum256(body)
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

func servePage(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", pageCSP)
	w.Write(page)
}

// healthBody is /healthz's JSON.
type healthBody struct {
	Status    string `json:"status"` // "ok" or "failing"
	Reason    string `json:"reason,omitempty"`
	CheckedAt string `json:"checked_at,omitempty"`
}

func serveHealth(w http.ResponseWriter, h Health) {
	b, code := healthBody{Status: "ok", Reason: h.Reason}, http.StatusOK
	if !h.OK {
		b.Status, code = "failing", http.StatusServiceUnavailable
	}
	if !h.CheckedAt.IsZero() {
		b.CheckedAt = h.CheckedAt.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	}
	writeJSON(w, code, b)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "statuspage: encode: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(append(data, '\n'))
}

// basicAuth serves h to requests whose credentials a allows, and 401 with
// a challenge to the others.
func basicAuth(a Authenticator, log *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if ok {
			addr, _ := netip.ParseAddrPort(r.RemoteAddr)
			if a.Allow(r.Context(), addr.Addr().Unmap(), user, pass) {
				h.ServeHTTP(w, r)
				return
			}
			log.Debug("http: login refused", "user", user, "remote", r.RemoteAddr)
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="edgegw", charset="UTF-8"`)
		http.Error(w, "401 unauthorized", http.StatusUnauthorized)
	})
}

// securityHeaders sets the headers every response carries: nothing is
// cached, sniffed, framed or sent as a referrer.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Cache-Control", "no-store")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}
