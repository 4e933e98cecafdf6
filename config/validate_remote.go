package config

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"time"
)

// ErrBadPublicKey is returned by PublicKey for a key that is not 32 bytes in
// standard base64.
var ErrBadPublicKey = errors.New("config: not an ed25519 public key (32 bytes in standard base64)")

func (p *parser) validateRemote(r *Remote, bridge bool) {
	if !bridge {
		for _, k := range []struct {
			path string
			on   bool
		}{{"remote.config", r.Config}, {"remote.commands", r.Commands}} {
			if k.on {
				p.failAt(k.path, "true needs a bridge section: the remote topics live on the upstream broker")
			}
		}
	}
	if r.ConfigPublicKey != "" {
		if _, err := PublicKey(r.ConfigPublicKey); err != nil {
			p.failCause("remote.config_public_key", err, "not an ed25519 public key: want 32 bytes in standard base64")
		}
	}
	p.atLeast("remote.rollback_after", r.RollbackAfter, Duration(time.Second))
}

// PublicKey decodes remote.config_public_key: 32 bytes in standard base64.
func PublicKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, ErrBadPublicKey
	}
	if len(b) != ed25519.PublicKeySize {
		return nil, ErrBadPublicKey
	}
	return ed25519.PublicKey(b), nil
}
