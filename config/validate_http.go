package config

import (
	"fmt"
	"slices"
)

func (p *parser) validateHTTP(h *HTTP, users []User) {
	if p.required("http.address", h.Address) {
		if msg := listenAddressProblem(h.Address); msg != "" {
			p.failAt("http.address", "%s", msg)
		}
	}
	if t := h.TLS; t != nil {
		p.validateTLSFiles("http.tls", t)
	}
	names := make([]string, len(users))
	for i, u := range users {
		names[i] = u.Username
	}
	switch {
	case !h.Auth && len(h.Users) > 0:
		p.failAt("http.users", "users need http.auth: true (or leave auth out)")
	case h.Auth && len(users) == 0:
		p.failAt("http.auth", "true needs at least one user in broker.users (its bcrypt hash is the password check)")
	}
	for i, u := range h.Users {
		if !slices.Contains(names, u) {
			p.failAt(fmt.Sprintf("http.users[%d]", i), "%q is not in broker.users%s", u, suggest(u, names))
		}
	}
}
