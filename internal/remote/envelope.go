package remote

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// MaxIDLength is the longest request id accepted, in bytes.
const MaxIDLength = 128

// Errors of request decoding and signature checks.
var (
	// ErrBadRequest: the payload is not a JSON object with a valid id.
	ErrBadRequest = errors.New("remote: bad request")
	// ErrUnsigned: a key is configured and the document carries no signature.
	ErrUnsigned = errors.New("remote: document not signed (remote.config_public_key is set)")
	// ErrBadSignature: the signature does not verify with the configured key.
	ErrBadSignature = errors.New("remote: bad signature")
	// ErrNoSequence: a key is configured and the document carries no
	// "seq" (or a signature made over the document alone, without it).
	ErrNoSequence = errors.New(`remote: signed document without a sequence: give "seq" (above the last one accepted) and sign SignedMessage(seq, document)`)
	// ErrReplay: the document's sequence is not above the last one this
	// gateway accepted: a replayed or out-of-order document (see Sequence).
	ErrReplay = errors.New("remote: replayed document")
)

// Request is the part every request shares: its id.
type Request struct {
	// ID identifies the request in its answers. Required.
	ID string `json:"id"`
}

// ParseRequest decodes payload into v (a pointer to a struct embedding
// Request, or a Request) and returns its id. An error still returns the id
// when one could be read, so that the answer can carry it.
func ParseRequest(payload []byte, v any) (string, error) {
	var r Request
	_ = json.Unmarshal(payload, &r) // best effort, for the answer
	if err := json.Unmarshal(payload, v); err != nil {
		return r.ID, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	switch {
	case r.ID == "":
		return "", fmt.Errorf("%w: missing \"id\"", ErrBadRequest)
	case len(r.ID) > MaxIDLength:
		return "", fmt.Errorf("%w: \"id\" longer than %d bytes", ErrBadRequest, MaxIDLength)
	}
	return r.ID, nil
}

// ConfigSet is the payload of config/set:
//
//	{"id": "r42", "seq": 17, "config": "gateway:\n  id: pi\n...", "signature": "<base64>"}
//
// "config" is the YAML document as a string, or a JSON object.
type ConfigSet struct {
	Request
	// Seq is the document's sequence number, which the signature covers:
	// the gateway accepts a document only when Seq is above the last one
	// it accepted (see Sequence), so that a captured signed document cannot
	// be replayed. Required (1 or more) when the document is signed;
	// optional, and checked when given, otherwise.
	Seq uint64 `json:"seq,omitempty"`
	// Config is the document as it stands in the envelope.
	Config json.RawMessage `json:"config"`
	// Signature is the ed25519 signature of SignedMessage(Seq, Document()),
	// standard base64.
	Signature string `json:"signature,omitempty"`
}

// SignedMessage returns the bytes a config/set signature covers: a fixed
// header, the sequence in decimal, a newline and the document's exact
// bytes ("edgegw-config-v1 seq=17\n" + doc). An operator's signing tool
// builds the same bytes.
func SignedMessage(seq uint64, doc []byte) []byte {
	head := fmt.Sprintf("edgegw-config-v1 seq=%d\n", seq)
	return append([]byte(head), doc...)
}

// Document returns the configuration file's bytes: the "config" string's
// contents, or the "config" object's raw JSON.
func (c *ConfigSet) Document() ([]byte, error) {
	raw := bytes.TrimSpace(c.Config)
	switch {
	case len(raw) == 0 || bytes.Equal(raw, []byte("null")):
		return nil, fmt.Errorf("%w: missing \"config\"", ErrBadRequest)
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("%w: config: %w", ErrBadRequest, err)
		}
		return []byte(s), nil
	case raw[0] == '{':
		return raw, nil
	}
	return nil, fmt.Errorf("%w: \"config\" must be a string (YAML) or an object (JSON)", ErrBadRequest)
}

// Verify checks the signature of SignedMessage(c.Seq, doc) (doc is
// Document's result) with key; a nil key accepts anything. A signed
// document needs a Seq (ErrNoSequence); whether Seq is new is Sequence's
// business.
func (c *ConfigSet) Verify(key ed25519.PublicKey, doc []byte) error {
	if key == nil {
		return nil
	}
	if c.Signature == "" {
		return ErrUnsigned
	}
	sig, err := base64.StdEncoding.DecodeString(c.Signature)
	if err != nil {
		return ErrBadSignature
	}
	if c.Seq == 0 || !ed25519.Verify(key, SignedMessage(c.Seq, doc), sig) {
		if ed25519.Verify(key, doc, sig) || c.Seq == 0 { // an old signer's, over the document alone
			return ErrNoSequence
		}
		return ErrBadSignature
	}
	return nil
}
