package remote_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/edgegw/edgegw/internal/remote"
)

func TestParseRequest(t *testing.T) {
	long := make([]byte, remote.MaxIDLength+1)
	for i := range long {
		long[i] = 'x'
	}
	for _, tt := range []struct {
		name, payload, id string
		ok                bool
	}{
		{"ok", `{"id":"a1"}`, "a1", true},
		{"no id", `{"x":1}`, "", false},
		{"empty id", `{"id":""}`, "", false},
		{"long id", `{"id":"` + string(long) + `"}`, "", false},
		{"not json", `{id`, "", false},
		{"unknown fields ignored", `{"id":"a2","id2":1,"config":5}`, "a2", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var r remote.Request
			id, err := remote.ParseRequest([]byte(tt.payload), &r)
			if (err == nil) != tt.ok || id != tt.id {
				t.Errorf("ParseRequest(%s) = %q, %v; want %q, ok %v", tt.payload, id, err, tt.id, tt.ok)
			}
			if err != nil && !errors.Is(err, remote.ErrBadRequest) {
				t.Errorf("error %v is not ErrBadRequest", err)
			}
		})
	}
}

func TestConfigSet_Document_Verify(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	other, _, _ := ed25519.GenerateKey(nil)
	yamlDoc := "gateway:\n  id: pi\n"
	sig := base64.StdEncoding.EncodeToString(ed25519.Sign(priv, remote.SignedMessage(7, []byte(yamlDoc))))
	docOnly := base64.StdEncoding.EncodeToString(ed25519.Sign(priv, []byte(yamlDoc)))
	for _, tt := range []struct {
		name, payload string
		key           ed25519.PublicKey
		doc           string
		err           error
	}{
		{"yaml string, no key", `{"id":"1","config":"gateway:\n  id: pi\n"}`, nil, yamlDoc, nil},
		{"json object", `{"id":"1","config": {"gateway": {"id": "pi"}}}`, nil, `{"gateway": {"id": "pi"}}`, nil},
		{"signed", `{"id":"1","seq":7,"config":"gateway:\n  id: pi\n","signature":"` + sig + `"}`, pub, yamlDoc, nil},
		{"unsigned", `{"id":"1","config":"gateway:\n  id: pi\n"}`, pub, yamlDoc, remote.ErrUnsigned},
		{"other key", `{"id":"1","seq":7,"config":"gateway:\n  id: pi\n","signature":"` + sig + `"}`, other, yamlDoc, remote.ErrBadSignature},
		{"not base64", `{"id":"1","seq":7,"config":"gateway:\n  id: pi\n","signature":"!!"}`, pub, yamlDoc, remote.ErrBadSignature},
		{"document changed", `{"id":"1","seq":7,"config":"gateway:\n  id: px\n","signature":"` + sig + `"}`, pub, "gateway:\n  id: px\n", remote.ErrBadSignature},
		{"seq changed", `{"id":"1","seq":8,"config":"gateway:\n  id: pi\n","signature":"` + sig + `"}`, pub, yamlDoc, remote.ErrBadSignature},
		{"no seq", `{"id":"1","config":"gateway:\n  id: pi\n","signature":"` + sig + `"}`, pub, yamlDoc, remote.ErrNoSequence},
		{"signed without seq", `{"id":"1","seq":7,"config":"gateway:\n  id: pi\n","signature":"` + docOnly + `"}`, pub, yamlDoc, remote.ErrNoSequence},
		{"no config", `{"id":"1"}`, nil, "", remote.ErrBadRequest},
		{"config a number", `{"id":"1","config":5}`, nil, "", remote.ErrBadRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var set remote.ConfigSet
			if _, err := remote.ParseRequest([]byte(tt.payload), &set); err != nil {
				t.Fatal(err)
			}
			doc, err := set.Document()
			if err == nil {
				if string(doc) != tt.doc {
					t.Errorf("Document = %q, want %q", doc, tt.doc)
				}
				err = set.Verify(tt.key, doc)
			}
			if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Errorf("error %v, want %v", err, tt.err)
			}
		})
	}
}

func TestRecent_Seen(t *testing.T) {
	r := remote.NewRecent(2)
	for _, step := range []struct {
		topic, id string
		seen      bool
	}{
		{"cmd/status", "1", false},
		{"cmd/status", "1", true},
		{"cmd/queue", "1", false},  // another topic
		{"cmd/status", "2", false}, // evicts cmd/status 1
		{"cmd/status", "1", false},
	} {
		if got := r.Seen(step.topic, step.id); got != step.seen {
			t.Errorf("Seen(%s, %s) = %v, want %v", step.topic, step.id, got, step.seen)
		}
	}
}
