package mqttcore_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/edgegw/edgegw"

// goPackage is what `go list -json` reports of one package.
type goPackage struct {
	ImportPath string
	Name       string
	Doc        string
	Deps       []string
}

// listPackages runs `go list -deps=false -json` over the module.
func listPackages(t *testing.T, args ...string) []goPackage {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not available")
	}
	cmd := exec.Command("go", append([]string{"list", "-json"}, args...)...)
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %v: %v", args, err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var pkgs []goPackage
	for {
		var p goPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// TestLayering enforces the import rules of DESIGN.md §2: data flows one way
// through the packages.
func TestLayering(t *testing.T) {
	rules := []struct {
		pkg       string // import path prefix, below the module
		forbidden []string
	}{
		{"sensors", []string{"mqttcore", "offline", "config"}},
		{"offline", []string{"mqttcore", "sensors", "config"}},
		{"config", []string{"mqttcore", "sensors", "offline"}},
		{"mqttcore/packet", []string{"mqttcore/topic", "mqttcore/session", "mqttcore/broker", "mqttcore/bridge", "offline", "sensors", "config"}},
		{"mqttcore/topic", []string{"mqttcore/session", "mqttcore/broker", "mqttcore/bridge", "offline", "sensors", "config"}},
		{"mqttcore/session", []string{"mqttcore/broker", "mqttcore/bridge", "offline", "sensors", "config"}},
		{"mqttcore/broker", []string{"mqttcore/bridge", "sensors", "config"}},
		{"mqttcore/bridge", []string{"mqttcore/broker", "sensors", "config"}},
		{"internal/statuspage", []string{"mqttcore", "offline", "sensors", "config"}},
	}
	pkgs := listPackages(t, "./...")
	for _, p := range pkgs {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		for _, r := range rules {
			if rel != r.pkg && !strings.HasPrefix(rel, r.pkg+"/") {
				continue
			}
			for _, dep := range p.Deps {
				drel, ok := strings.CutPrefix(dep, module+"/")
				if !ok {
					continue
				}
				for _, f := range r.forbidden {
					if drel == f || strings.HasPrefix(drel, f+"/") {
						t.Errorf("%s imports %s (directly or not): %s must not depend on %s", rel, drel, r.pkg, f)
					}
				}
			}
		}
	}
}

// TestGatewayBinaryDeps keeps test-only and heavy packages out of the
// gateway binary.
func TestGatewayBinaryDeps(t *testing.T) {
	forbidden := []string{
		"testing", "github.com/eclipse/paho.mqtt.golang", "github.com/mochi-mqtt/server",
		"go.uber.org/goleak", "net/http/pprof", "expvar", "html/template", "text/template", "plugin",
		module + "/mqttcore/mqtttest", module + "/sensors/sensorstest",
		"github.com/hanwen/go-fuse", module + "/offline/crashfs",
	}
	pkgs := listPackages(t, "./cmd/gateway")
	if len(pkgs) != 1 {
		t.Fatalf("go list ./cmd/gateway: %d packages", len(pkgs))
	}
	for _, dep := range pkgs[0].Deps {
		for _, f := range forbidden {
			if dep == f || strings.HasPrefix(dep, f+"/") {
				t.Errorf("the gateway binary depends on %s", dep)
			}
		}
	}
}

// TestPackageDocs requires a package comment on every package.
func TestPackageDocs(t *testing.T) {
	for _, p := range listPackages(t, "./...") {
		if strings.TrimSpace(p.Doc) == "" {
			t.Errorf("package %s has no package doc comment", p.ImportPath)
		}
	}
}
