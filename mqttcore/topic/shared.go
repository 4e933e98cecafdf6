package topic

import (
	"errors"
	"fmt"
	"strings"
)

// SharePrefix starts a shared subscription's filter: "$share/<name>/<filter>"
// (MQTT 5.0 section 4.8.2).
const SharePrefix = "$share/"

// ErrShareName means a shared subscription's filter has an empty Share
// Name, one containing '+' or '#', or no filter after it
// [MQTT-4.8.2-1] [MQTT-4.8.2-2].
var ErrShareName = errors.New("topic: invalid shared subscription")

// IsShared reports whether filter names a shared subscription: its first
// level is "$share". It does not validate it; see [ParseShared].
func IsShared(filter string) bool {
	return filter == "$share" || strings.HasPrefix(filter, SharePrefix)
}

// ParseShared splits a shared subscription's filter "$share/<name>/<filter>"
// into its Share Name and the filter its members subscribe to, and
// validates both: the Share Name is at least one character and holds none
// of '/', '+' and '#' [MQTT-4.8.2-1], and a valid filter follows it
// [MQTT-4.8.2-2]. A filter that is not shared (see [IsShared]) returns
// ok false and no error. The error wraps [ErrShareName] or one of
// [ValidateFilter]'s errors.
func ParseShared(full string) (name, filter string, ok bool, err error) {
	if !IsShared(full) {
		return "", "", false, nil
	}
	rest := strings.TrimPrefix(full, SharePrefix)
	name, filter, more := strings.Cut(rest, "/")
	switch {
	case full == "$share" || !more:
		return "", "", true, fmt.Errorf("%w: %q has no filter", ErrShareName, full)
	case name == "":
		return "", "", true, fmt.Errorf("%w: %q has an empty share name", ErrShareName, full)
	case strings.ContainsAny(name, "+#"):
		return "", "", true, fmt.Errorf("%w: share name %q holds a wildcard", ErrShareName, name)
	}
	if err := ValidateFilter(filter); err != nil {
		return "", "", true, fmt.Errorf("%w: %w", ErrShareName, err)
	}
	return name, filter, true, nil
}

// FilterOf returns the filter a subscription matches topic names with: the
// filter part of a shared subscription, filter itself otherwise. It does
// not validate.
func FilterOf(filter string) string {
	if !strings.HasPrefix(filter, SharePrefix) {
		return filter
	}
	_, f, _ := strings.Cut(filter[len(SharePrefix):], "/")
	return f
}
