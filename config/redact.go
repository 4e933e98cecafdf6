package config

import "slices"

// Redacted is what Redact puts in place of a secret.
const Redacted = "<redacted>"

// Redact returns a copy of c whose secrets are replaced by Redacted: the
// bridge password, the users' password hashes and credentials written in a
// bridge address. The files secrets were read from (*_file) stay named.
// c is not modified.
func (c *Config) Redact() *Config {
	r := *c
	r.Broker.Users = slices.Clone(c.Broker.Users)
	for i := range r.Broker.Users {
		r.Broker.Users[i].PasswordHash = redacted(r.Broker.Users[i].PasswordHash)
	}
	if c.Bridge != nil {
		b := *c.Bridge
		b.Password = redacted(b.Password)
		b.Addresses = make([]string, len(c.Bridge.Addresses))
		for i, a := range c.Bridge.Addresses {
			b.Addresses[i] = redactAddress(a)
		}
		r.Bridge = &b
	}
	return &r
}

// redacted returns Redacted for a set secret and "" for an unset one.
func redacted(s string) string {
	if s == "" {
		return ""
	}
	return Redacted
}
