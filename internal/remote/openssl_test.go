package remote_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/internal/remote"
)

// TestConfigSet_Verify_openssl: the README's OpenSSL recipe (key, public
// key, a signature over the sequence header and the document) makes a
// signature Verify accepts, and the same signature under another seq fails.
func TestConfigSet_Verify_openssl(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	dir := t.TempDir()
	doc := []byte("gateway:\n  id: pi\n")
	if err := os.WriteFile(filepath.Join(dir, "new.yaml"), doc, 0o600); err != nil {
		t.Fatal(err)
	}
	script := `set -e
openssl genpkey -algorithm ed25519 -out remote.key
openssl pkey -in remote.key -pubout -outform DER | tail -c 32 | base64
seq=17
{ printf 'edgegw-config-v1 seq=%s\n' "$seq"; cat new.yaml; } > signed.bin
openssl pkeyutl -sign -inkey remote.key -rawin -in signed.bin | base64 -w0
`
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Skipf("this openssl cannot sign ed25519 (OpenSSL 3 needed): %v\n%s", err, out)
	}
	lines := strings.Fields(string(out))
	if len(lines) != 2 {
		t.Fatalf("recipe printed %q", out)
	}
	pub, err := base64.StdEncoding.DecodeString(lines[0])
	if err != nil || len(pub) != ed25519.PublicKeySize {
		t.Fatalf("public key %q: %v", lines[0], err)
	}
	set := remote.ConfigSet{Seq: 17, Signature: lines[1]}
	if err := set.Verify(pub, doc); err != nil {
		t.Errorf("Verify = %v", err)
	}
	set.Seq = 18
	if err := set.Verify(pub, doc); err == nil {
		t.Error("Verify under another seq = nil")
	}
}
