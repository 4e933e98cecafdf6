package topic

import "strings"

// Match reports whether the topic name matches the topic filter
// (MQTT 3.1.1 section 4.7.1). A filter whose first level is a wildcard does
// not match a name beginning with '$' [MQTT-4.7.2-1]. Both arguments are
// assumed valid (see [ValidateName] and [ValidateFilter]). Match does not
// allocate.
func Match(filter, name string) bool {
	if isDollar(name) && startsWithWildcard(filter) {
		return false
	}
	for {
		f, frest, fmore := strings.Cut(filter, "/")
		if f == "#" {
			return true
		}
		n, nrest, nmore := strings.Cut(name, "/")
		if f != "+" && f != n {
			return false
		}
		switch {
		case !fmore && !nmore:
			return true
		case !nmore: // "a/#" matches "a": '#' includes the parent level
			return frest == "#"
		case !fmore:
			return false
		}
		filter, name = frest, nrest
	}
}

// Covers reports whether filter outer matches every topic name that filter
// inner matches, so a permission granted for outer extends to a
// subscription to inner. "sensors/#" covers "sensors/+/temp", "sensors" and
// itself; "sensors/+" does not cover "sensors/#"; "#" does not cover
// "$SYS/#" [MQTT-4.7.2-1]. Both arguments are assumed valid filters.
func Covers(outer, inner string) bool {
	if startsWithWildcard(outer) && isDollar(inner) {
		return false
	}
	for first := true; ; first = false {
		o, orest, omore := strings.Cut(outer, "/")
		if o == "#" {
			return true
		}
		i, irest, imore := strings.Cut(inner, "/")
		switch {
		case i == "#":
			// inner matches the parent and any depth below; only '#' in
			// outer does too, except at the root, which has no parent
			// level: there "+/#" is as wide as "#".
			return first && o == "+" && orest == "#"
		case o != "+" && (i == "+" || o != i):
			return false
		}
		switch {
		case !omore && !imore:
			return true
		case !imore:
			return orest == "#"
		case !omore:
			return false
		}
		outer, inner = orest, irest
	}
}

//

// isDollar reports whether name begins with '$', the prefix [MQTT-4.7.2-1]
// reserves for the server. For a filter it means the first level names a
// '$' topic literally.
func isDollar(s string) bool { return s != "" && s[0] == '$' }

// startsWithWildcard reports whether the first level of filter is '+' or '#'.
func startsWithWildcard(filter string) bool {
	return filter != "" && (filter[0] == '+' || filter[0] == '#')
}
