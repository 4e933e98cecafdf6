package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// Report is the outcome of `mqttbench compare`, as printed with -json.
type Report struct {
	// Runs is how many times each scenario ran per broker.
	Runs int `json:"runs"`
	// Duration is each throughput scenario's publishing time.
	Duration string `json:"duration"`
	// Versions are the brokers' version lines.
	Versions map[string]string `json:"versions"`
	// Rows are the table's rows, in display units.
	Rows []Row `json:"rows"`
	// Raw holds every run's measurements per broker, in base units
	// (msg/s, conn/s, seconds, bytes, messages).
	Raw map[string][]runValues `json:"raw"`
	// EdgegwError says why edgegw could not be run, if it could not.
	EdgegwError string `json:"edgegw_error,omitempty"`
	// Errors lists the measurements that failed.
	Errors []string `json:"errors,omitempty"`
}

// Row is one line of the comparison table.
type Row struct {
	Key      string `json:"key"`
	Scenario string `json:"scenario"`
	Unit     string `json:"unit"`
	// Edgegw and Mosquitto are the medians over the runs (worst run for
	// loss counts); null when not measured.
	Edgegw    *float64 `json:"edgegw"`
	Mosquitto *float64 `json:"mosquitto"`
	// Ratio is oriented so that above 1 favours edgegw; RatioKind says
	// which way it was computed.
	Ratio     *float64 `json:"ratio"`
	RatioKind string   `json:"ratio_kind,omitempty"`
	Target    string   `json:"target,omitempty"`
	// Met is null when there is no target or it cannot be decided.
	Met *bool `json:"met"`
}

// report reduces the comparison to rows.
func (cmp *comparison) report() *Report {
	rep := &Report{Runs: cmp.cfg.Runs, Duration: cmp.cfg.Duration.String(), Versions: cmp.versions, Raw: cmp.runs}
	if cmp.gatewayErr != nil {
		rep.EdgegwError = cmp.gatewayErr.Error()
	}
	for _, err := range cmp.errs {
		rep.Errors = append(rep.Errors, err.Error())
	}
	for _, m := range metrics {
		if (strings.HasPrefix(m.key, "durable_") && !cmp.cfg.Durable) || (m.key == "drain_rate" && !cmp.cfg.Drain) ||
			(isV5Metric(m) && !cmp.cfg.V5) {
			continue
		}
		rep.Rows = append(rep.Rows, cmp.row(m))
	}
	return rep
}

// row computes one row of the table.
func (cmp *comparison) row(m metric) Row {
	ours, theirs := cmp.summary(nameEdgegw, m), cmp.summary(nameMosquitto, m)
	r := Row{Key: m.key, Scenario: m.label, Unit: m.unit, Target: m.target.text,
		Edgegw: finite(ours * m.scale), Mosquitto: finite(theirs * m.scale)}
	ratio := math.NaN()
	if !m.worst && !m.own {
		ratio = m.ratio(ours, theirs)
		if r.Ratio = finite(ratio); r.Ratio != nil {
			r.RatioKind = m.ratioKind()
		}
	}
	if met, ok := m.target.met(ours, ratio); ok {
		r.Met = &met
	}
	return r
}

// isV5Metric reports whether m is a row of the MQTT 5.0 scenarios.
func isV5Metric(m metric) bool {
	return strings.HasPrefix(m.key, v5Prefix) || strings.HasSuffix(m.key, "_v5_vs_v311")
}

// Unmet counts the rows whose target was missed.
func (rep *Report) Unmet() int {
	n := 0
	for _, r := range rep.Rows {
		if r.Met != nil && !*r.Met {
			n++
		}
	}
	return n
}

// WriteTable prints the report as an aligned table with notes.
func (rep *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tedgegw\tmosquitto\tratio\ttarget\tmet?")
	for _, r := range rep.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Scenario, cell(r.Edgegw, r.Unit), cell(r.Mosquitto, r.Unit),
			ratioCell(r.Ratio), dash(r.Target), metCell(r.Met))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nMedian of %d runs (loss rows: worst run); throughput scenarios publish for %s.\n", rep.Runs, rep.Duration)
	fmt.Fprintln(w, "ratio > 1 favours edgegw: edgegw/mosquitto for rates, mosquitto/edgegw for latency and RSS.")
	fmt.Fprintln(w, "v5 rows: every client speaks MQTT 5.0; v5/3.1.1 rows: each broker's MQTT 5.0 rate / its 3.1.1 rate in the same run.")
	writeVersions(w, rep.Versions)
	if rep.EdgegwError != "" {
		fmt.Fprintf(w, "\nedgegw could not be run, so its column is empty:\n  %s\n", rep.EdgegwError)
	}
	writeErrors(w, rep.Errors)
	return nil
}

// WriteJSON prints the report as indented JSON.
func (rep *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// Summary is a one-line description of r.
func (r FlowResult) Summary() string {
	s := fmt.Sprintf("%8.0f msg/s  sent %d, received %d/%d, lost %d, dup %d", r.Rate, r.Sent, r.Received, r.Expected,
		r.Lost, r.Duplicates)
	if r.Reordered > 0 || r.Stray > 0 {
		s += fmt.Sprintf(", reordered %d, stray %d", r.Reordered, r.Stray)
	}
	if r.Latency != nil {
		s += "\n            latency " + r.Latency.String()
	}
	return s
}

//

// writeVersions prints the brokers' version lines, edgegw first, under a
// table (WriteTable of compare and of wear).
func writeVersions(w io.Writer, versions map[string]string) {
	for _, name := range []string{nameEdgegw, nameMosquitto} {
		if v := versions[name]; v != "" {
			fmt.Fprintf(w, "%s: %s\n", name, v)
		}
	}
}

// writeErrors prints the measurements that failed, if any, under a table.
func writeErrors(w io.Writer, errs []string) {
	if len(errs) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%d measurements failed:\n", len(errs))
	for _, e := range errs {
		fmt.Fprintf(w, "  %s\n", e)
	}
}

// finite returns &v, or nil for NaN and infinities (not representable in
// JSON, and meaningless in the table).
func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// cell formats a value in unit.
func cell(v *float64, unit string) string {
	if v == nil {
		return "—"
	}
	m := metric{unit: unit, scale: 1}
	return m.format(*v)
}

// ratioCell formats a ratio.
func ratioCell(v *float64) string {
	if v == nil {
		return "—"
	}
	return fmt.Sprintf("%.2f×", *v)
}

// metCell formats whether a target was met.
func metCell(met *bool) string {
	switch {
	case met == nil:
		return "—"
	case *met:
		return "yes"
	}
	return "NO"
}

// dash stands in for an empty string.
func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
