package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/edgegw/edgegw/mqttcore/mqtttest"
)

// The status page in a real browser: Debian's chromium, headless, driven
// over the DevTools protocol on a loopback port.

// TestGateway_StatusPage_Browser: chromium loads the demo gateway's page,
// which shows both demo sensors with their quantities, updates by itself
// (new temperatures), and logs no console error, exception or CSP
// violation. With EDGEGW_SCREENSHOT=FILE it also saves a phone-sized
// screenshot (chromium --screenshot), e.g. docs/status-page.png.
func TestGateway_StatusPage_Browser(t *testing.T) {
	bin := chromiumPath(t)
	p := startGateway(t, statusConfig)
	url := "http://" + p.HTTPAddr + "/"
	b := startChromium(t, bin)
	page := b.openPage(t)
	page.call(t, "Runtime.enable", nil)
	page.call(t, "Log.enable", nil)
	page.call(t, "Page.enable", nil)
	page.call(t, "Page.navigate", map[string]any{"url": url})

	type view struct {
		ID      string
		Updates int
		Sensors []string
		Demo    []string // quantities of the demo sensor
		Temp    string
	}
	look := func() view {
		var v view
		page.eval(t, `JSON.stringify({
			ID: (document.getElementById("id") || {}).textContent || "",
			Updates: +((document.body || {dataset: {}}).dataset.updates || 0),
			Sensors: [...document.querySelectorAll("[data-sensor]")].map(e => e.dataset.sensor),
			Demo: [...document.querySelectorAll('[data-sensor="demo"] [data-quantity]')].map(e => e.dataset.quantity),
			Temp: (document.querySelector('[data-sensor="demo"] [data-quantity="temperature"]') || {}).textContent || "",
		})`, &v)
		return v
	}
	var first, later view
	detail := func() string { return fmt.Sprintf("first view %+v, last %+v, console %q", first, later, page.errors()) }
	waitFor(t, mqtttest.DefaultWait, "the page to render the sensors", func() bool {
		first = look()
		return first.Updates >= 1 && len(first.Sensors) == 2
	}, detail)
	if first.ID != "demo" || strings.Join(first.Sensors, ",") != "demo,power" || strings.Join(first.Demo, ",") != "humidity,temperature" {
		t.Errorf("page shows %+v; want gateway demo, sensors demo and power, demo's humidity and temperature", first)
	}
	waitFor(t, mqtttest.DefaultWait, "the page to update itself with a new temperature", func() bool {
		later = look()
		return later.Updates >= first.Updates+2 && later.Temp != first.Temp
	}, detail)

	if errs := page.errors(); len(errs) > 0 {
		t.Errorf("browser console errors:\n%s", strings.Join(errs, "\n"))
	}
	if file := os.Getenv("EDGEGW_SCREENSHOT"); file != "" {
		screenshot(t, bin, url, file)
	}
}

// chromiumPath finds Debian's chromium; without it the test is skipped,
// unless CI is set.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed (CI is set, so this is a failure): apt-get install chromium")
	}
	t.Skip("chromium is not installed (Debian package chromium)")
	return ""
}

// chromiumArgs are the flags of every headless run. --no-sandbox: the
// tests may run as root, where chromium's sandbox refuses to start; the
// page is our own, on loopback.
func chromiumArgs(profile string) []string {
	return []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--no-default-browser-check", "--disable-extensions", "--disable-background-networking", "--disable-sync",
		"--user-data-dir=" + profile}
}

// screenshot saves the page at url as a 420-pixel-wide PNG, after 4 s of
// virtual time (the page has fetched its data).
func screenshot(t *testing.T, bin, url, file string) {
	t.Helper()
	abs, err := filepath.Abs(file)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := append(chromiumArgs(t.TempDir()), "--hide-scrollbars", "--window-size=420,760",
		"--virtual-time-budget=4000", "--screenshot="+abs, url)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium --screenshot: %v\n%s", err, out)
	}
	t.Logf("screenshot saved: %s", abs)
}

//

// browser is a headless chromium with its DevTools endpoint on loopback.
type browser struct {
	cmd    *exec.Cmd
	exited chan struct{}
	debug  string // http://127.0.0.1:<port>
}

var devtoolsLine = regexp.MustCompile(`DevTools listening on ws://(127\.0\.0\.1:\d+)/`)

// startChromium starts chromium on about:blank and stops it (its whole
// process group) when the test ends.
func startChromium(t *testing.T, bin string) *browser {
	t.Helper()
	args := append(chromiumArgs(t.TempDir()), "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank")
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	b := &browser{cmd: cmd, exited: make(chan struct{})}
	addr := make(chan string, 1)
	var log strings.Builder
	var logMu sync.Mutex
	go func() { // ends when chromium closes stderr
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logMu.Lock()
			log.WriteString(sc.Text() + "\n")
			logMu.Unlock()
			if m := devtoolsLine.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		io.Copy(io.Discard, stderr)
		cmd.Wait()
		close(b.exited)
	}()
	t.Cleanup(b.stop)
	select {
	case a := <-addr:
		b.debug = "http://" + a
	case <-b.exited:
		logMu.Lock()
		defer logMu.Unlock()
		t.Fatalf("chromium exited before its DevTools endpoint was up:\n%s", log.String())
	case <-time.After(30 * time.Second):
		t.Fatal("chromium: no DevTools endpoint within 30 s")
	}
	return b
}

// stop kills chromium's process group and waits for it.
func (b *browser) stop() {
	syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
	<-b.exited
}

// openPage connects to the browser's first page target.
func (b *browser) openPage(t *testing.T) *devtools {
	t.Helper()
	var targets []struct{ Type, WebSocketDebuggerURL string }
	_, body, _ := httpGet(t, nil, b.debug+"/json/list")
	if err := json.Unmarshal(body, &targets); err != nil {
		t.Fatalf("devtools /json/list: %v: %s", err, body)
	}
	for _, tg := range targets {
		if tg.Type == "page" {
			return dialDevtools(t, tg.WebSocketDebuggerURL)
		}
	}
	t.Fatalf("devtools: no page target in %s", body)
	return nil
}

// devtools is one DevTools protocol session: calls by id, and the error
// events (console errors, exceptions, log entries) collected on the way.
type devtools struct {
	conn *websocket.Conn
	done chan struct{}

	mu      sync.Mutex
	next    int
	waiting map[int]chan devtoolsMsg
	errs    []string
}

type devtoolsMsg struct {
	ID     int             `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

func dialDevtools(t *testing.T, url string) *devtools {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("devtools: dial %s: %v", url, err)
	}
	d := &devtools{conn: conn, done: make(chan struct{}), waiting: map[int]chan devtoolsMsg{}}
	go d.read()
	t.Cleanup(func() {
		conn.Close()
		<-d.done
	})
	return d
}

// read dispatches replies and records error events until the connection
// closes.
func (d *devtools) read() {
	defer close(d.done)
	for {
		var m devtoolsMsg
		if err := d.conn.ReadJSON(&m); err != nil {
			return
		}
		d.mu.Lock()
		if ch, ok := d.waiting[m.ID]; ok && m.ID != 0 {
			delete(d.waiting, m.ID)
			ch <- m
		} else if e := devtoolsError(m); e != "" {
			d.errs = append(d.errs, e)
		}
		d.mu.Unlock()
	}
}

// devtoolsError describes an event that reports an error, or returns "".
func devtoolsError(m devtoolsMsg) string {
	var p struct {
		Type  string                `json:"type"`
		Args  []struct{ Value any } `json:"args"`
		Entry struct {
			Level, Text, URL string
		} `json:"entry"`
		ExceptionDetails struct {
			Text      string
			Exception struct{ Description string }
		} `json:"exceptionDetails"`
	}
	json.Unmarshal(m.Params, &p)
	switch {
	case m.Method == "Runtime.consoleAPICalled" && (p.Type == "error" || p.Type == "warning" || p.Type == "assert"):
		return fmt.Sprintf("console.%s: %v", p.Type, p.Args)
	case m.Method == "Runtime.exceptionThrown":
		return "exception: " + p.ExceptionDetails.Text + " " + p.ExceptionDetails.Exception.Description
	case m.Method == "Log.entryAdded" && (p.Entry.Level == "error" || p.Entry.Level == "warning"):
		return fmt.Sprintf("log %s: %s %s", p.Entry.Level, p.Entry.Text, p.Entry.URL)
	}
	return ""
}

// call sends one command and returns its result.
func (d *devtools) call(t *testing.T, method string, params any) json.RawMessage {
	t.Helper()
	ch := make(chan devtoolsMsg, 1)
	d.mu.Lock()
	d.next++
	id := d.next
	d.waiting[id] = ch
	err := d.conn.WriteJSON(map[string]any{"id": id, "method": method, "params": params})
	d.mu.Unlock()
	if err != nil {
		t.Fatalf("devtools %s: %v", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			t.Fatalf("devtools %s: %s", method, m.Error.Message)
		}
		return m.Result
	case <-d.done:
		t.Fatalf("devtools %s: connection closed", method)
	case <-time.After(30 * time.Second):
		t.Fatalf("devtools %s: no reply in 30 s", method)
	}
	return nil
}

// eval evaluates a JavaScript expression that returns a JSON string in the
// page and decodes it into v.
func (d *devtools) eval(t *testing.T, expr string, v any) {
	t.Helper()
	var r struct {
		Result struct {
			Value string `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct{ Text string } `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(d.call(t, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}), &r); err != nil {
		t.Fatalf("devtools evaluate: %v", err)
	}
	if r.ExceptionDetails != nil {
		t.Fatalf("devtools evaluate: %s", r.ExceptionDetails.Text)
	}
	if err := json.Unmarshal([]byte(r.Result.Value), v); err != nil {
		t.Fatalf("devtools evaluate: %v: %q", err, r.Result.Value)
	}
}

// errors returns the error events seen so far.
func (d *devtools) errors() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.errs...)
}
