// Package statuspage serves the gateway's local HTTP endpoints:
//
//   - / — a status page for a browser (phone-sized, no external assets: its
//     CSS and script are inline, embedded in the binary), which fetches
//     /status.json every few seconds and renders it;
//   - /status.json — the [Snapshot] as JSON;
//   - /metrics — the same figures in the Prometheus text exposition format
//     (version 0.0.4), written by a small formatter of its own (about 100
//     lines: prometheus/client_golang would link its registry and the
//     protobuf runtime, more than the armv6 binary's remaining headroom
//     under its 10 MB budget, for what is a snapshot printed as text; the
//     tests check the output with prometheus/common/expfmt's parser);
//   - /healthz — the health check's verdict: 200 or 503 with a short JSON
//     reason.
//
// The gateway supplies the data through [Source] and, for basic auth, an
// [Authenticator]; this package imports nothing from the rest of the tree.
// [Serve] runs an http.Server with bounded timeouts, header size and
// connections on a listener until its context ends.
package statuspage
