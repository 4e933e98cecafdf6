package broker

// Outbound Topic Aliases (MQTT 5.0 section 3.3.2.3.4). An MQTT 5.0 client
// whose CONNECT has a Topic Alias Maximum above 0 accepts aliases on the
// PUBLISHes it receives; the broker gives the first Options.TopicAliasOut
// topic names it sends on the connection (at most the client's maximum)
// an alias each, for the connection's life: the first PUBLISH of such a
// topic carries the name and the alias, later ones an empty name and the
// alias. Topics after those go out in full; aliases are never reassigned,
// which suits a gateway's stable set of topics and needs no bookkeeping
// per message beyond one map lookup.
//
// The fan-out is not touched: it still encodes a message once per QoS for
// every MQTT 5.0 subscriber (delivery.encoded5). The writer, which copies
// each packet into its write buffer anyway (appendBatch), rewrites the
// topic and adds the alias while it copies, for the connections that
// accept aliases only. A topic of fewer than minAliasTopic bytes gains
// nothing from an alias and keeps its name, and a PUBLISH that would grow
// past the client's Maximum Packet Size goes out as it is.

import "github.com/edgegw/edgegw/mqttcore/packet"

// minAliasTopic is the shortest topic name given an alias: the Topic Alias
// property takes 3 bytes.
const minAliasTopic = 4

// propTopicAlias is the Topic Alias property identifier.
const propTopicAlias = 0x23

// aliasOut is the outbound Topic Aliases of one connection. Only the
// connection's writer uses it (one writer at a time, see writeLoop).
type aliasOut struct {
	max    int               // aliases to give: 1 to 65535
	maxOut int               // the client's Maximum Packet Size; 0: no limit
	ids    map[string]uint16 // topic name → alias
	names  []string          // alias a's topic name is names[a-1]
	// last is the last topic given an alias, and its alias: a fan-out
	// sends runs of one topic, which then cost a comparison, not a hash.
	last      string
	lastAlias uint16
}

// newAliasOut returns the outbound alias state for a client that accepts
// clientMax aliases, or nil if there are to be none.
func newAliasOut(brokerMax int, clientMax uint16, maxOut int) *aliasOut {
	n := min(brokerMax, int(clientMax))
	if n <= 0 {
		return nil
	}
	return &aliasOut{max: n, maxOut: maxOut, ids: make(map[string]uint16)}
}

// appendPublish appends the MQTT 5.0 PUBLISH of it (its packet identifier
// and flags applied, as appendBatch does) to buf with a Topic Alias, and
// reports false, appending nothing, if it gets none.
func (a *aliasOut) appendPublish(buf []byte, it *outItem) ([]byte, bool) {
	b := it.b
	rl, i, err := packet.ReadVarint(b, 1)
	if err != nil || i+2 > len(b) {
		return buf, false
	}
	tl := int(b[i])<<8 | int(b[i+1])
	topicAt := i + 2
	j := topicAt + tl
	if tl < minAliasTopic || j > len(b) {
		return buf, false
	}
	topic := b[topicAt:j]
	idAt := -1
	if b[0]>>1&3 > 0 {
		idAt, j = j, j+2
	}
	pl, k, err := packet.ReadVarint(b, j)
	if err != nil || k+pl > len(b) {
		return buf, false
	}
	alias, known := a.lastAlias, a.last == string(topic) && a.lastAlias != 0
	if !known {
		alias, known = a.ids[string(topic)]
	}
	if !known && len(a.ids) >= a.max {
		return buf, false
	}
	name := topic
	if known {
		name = nil
	}
	newPL := pl + 3
	newRL := rl - tl + len(name) + packet.VarintSize(newPL) - (k - j) + 3
	if a.maxOut > 0 && 1+packet.VarintSize(newRL)+newRL > a.maxOut {
		return buf, false
	}
	if !known {
		name := string(topic)
		alias = uint16(len(a.ids) + 1)
		a.ids[name] = alias
		a.names = append(a.names, name)
	}
	a.last, a.lastAlias = a.names[alias-1], alias
	buf = append(buf, b[0]|it.set)
	buf = packet.AppendVarint(buf, newRL)
	buf = append(buf, byte(len(name)>>8), byte(len(name)))
	buf = append(buf, name...)
	if idAt >= 0 {
		id := it.id
		if id == 0 {
			id = uint16(b[idAt])<<8 | uint16(b[idAt+1])
		}
		buf = append(buf, byte(id>>8), byte(id))
	}
	buf = packet.AppendVarint(buf, newPL)
	buf = append(buf, b[k:k+pl]...)
	buf = append(buf, propTopicAlias, byte(alias>>8), byte(alias))
	buf = append(buf, b[k+pl:]...)
	return buf, true
}
