package broker

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/edgegw/edgegw/internal/bootclock"
	"github.com/edgegw/edgegw/mqttcore/packet"
	"github.com/edgegw/edgegw/mqttcore/session"
	"github.com/edgegw/edgegw/mqttcore/topic"
)

// Messages held for persistent sessions (clean session 0) are kept under
// the promise the bridge keeps for messages bound upstream: when the broker
// acknowledges a QoS 1/2 PUBLISH, every persistent session it was queued
// for has either acknowledged it (PUBACK, or PUBCOMP for QoS 2) or it is on
// disk. A message is stored once, in Options.Messages, however many
// sessions hold it; each session that holds it adds a small reference
// record. For a session whose client is offline both are written at once
// (group-committed with whatever else is being written) and the publisher
// is acknowledged when they are durable. For a connected client the write
// waits up to Options.CommitDelay for the client's acknowledgement: a
// subscriber that keeps up costs no write at all. A reference is deleted
// when its session lets go of the message (acknowledged, forgotten as
// unreadable, or the session ended), the message with its last reference.
//
// Store keys: heldMsgKey (m + id) → heldRecordV1, flags, topic length,
// topic, payload; or, for a message with MQTT 5.0 properties, heldRecordV2,
// flags, the expiry stamp if the flags say so (appendExpiry), and the
// PUBLISH in the MQTT 5.0 wire format (its properties as forwarded, so a
// restart keeps user properties, content type, response topic, correlation
// data and payload format, and the Message Expiry Interval counts on); heldRefKey (r + id + client id) → the delivery QoS;
// heldNextKey → the first message id not yet handed out.
//
// Message ids are never used twice, also across restarts: session records
// name the ids of messages in flight, and a record written before a crash
// may name an id whose message was since delivered and deleted. Were the
// id given to a new message after the restart, that message would be taken
// for the old one (say, as a QoS 2 message whose PUBREC already arrived, so
// that only PUBREL is sent) and never delivered. Ids are handed out from
// blocks of heldIDBlock reserved on disk: at start, and ahead of time when
// half of the block is used.

// Stored held-message record versions, key prefixes and id reservation.
const (
	heldRecordV1  = 1
	heldRecordV2  = 2 // with the MQTT 5.0 properties, and the expiry stamp if any
	heldMsgPrefix = 'm'
	heldRefPrefix = 'r'
	heldNextKey   = "n"
	heldFlagRet   = 0x04 // the RETAIN flag it is delivered with
	heldFlagExp   = 0x08 // V2: an expiry stamp follows the flags
	heldIDBlock   = 1 << 40
)

// heldStore keeps the messages held for persistent sessions.
type heldStore struct {
	b     *Broker
	st    Store
	delay time.Duration

	mu   sync.Mutex
	next uint64              // the next message id
	end  uint64              // ids below it are reserved on disk (heldNextKey)
	live map[uint64]*heldMsg // by id: messages some session holds, or unsealed
	idle sync.Cond           // signalled when writing drops to 0
	busy int                 // messages being written
}

// heldState is where a held message stands with the store.
type heldState byte

const (
	heldWaiting heldState = iota // not written: waiting for its sessions' acknowledgements
	heldWriting                  // its records were handed to the store
	heldWritten                  // on disk (or the write failed: deletes are harmless)
)

// heldMsg is one message held by persistent sessions.
type heldMsg struct {
	id      uint64
	p       *packet.Publish
	retain  bool           // the RETAIN flag of its deliveries
	expires time.Time      // when its Message Expiry Interval runs out (monotonic); zero: never
	refs    map[*sess]byte // sessions holding it → delivery QoS
	state   heldState
	sealed  bool // every session it was routed to has it
	away    bool // one of them has no connection: write at once
	timer   *time.Timer
	dones   []func(error) // publishers waiting for the message to be safe
	late    []string      // clients that let go while it was being written
}

func newHeldStore(b *Broker) *heldStore {
	h := &heldStore{b: b, st: b.opts.Messages, delay: b.opts.CommitDelay, next: 1, live: make(map[uint64]*heldMsg)}
	h.idle.L = &h.mu
	return h
}

// hold returns d's held message, created by the first persistent session
// that takes d, and adds s to its holders. s.mu is held.
func (h *heldStore) hold(d *delivery, s *sess, qos byte) uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := d.held
	if m == nil {
		m = &heldMsg{id: h.next, p: d.p, retain: d.retain, expires: d.expires, refs: make(map[*sess]byte, 1)}
		h.next++
		if h.end-h.next == heldIDBlock/2 { // reserve the next block while half of this one is left
			h.end += heldIDBlock
			h.putAsync(heldNextKey, binary.BigEndian.AppendUint64(nil, h.end))
		}
		h.live[m.id] = m
		d.held = m
	}
	m.refs[s] = qos
	if s.conn.Load() == nil {
		m.away = true
	}
	return m.id
}

// seal is called once m went to every subscriber: done (nil for none) is
// called when every session that took the message acknowledged it or it
// is durable.
func (h *heldStore) seal(m *heldMsg, done func(error)) {
	h.mu.Lock()
	m.sealed = true
	if done != nil {
		m.dones = append(m.dones, done)
	}
	switch {
	case len(m.refs) == 0:
		h.finishLocked(m, nil)
	case m.away || h.delay <= 0:
		h.writeLocked(m)
	default:
		m.timer = time.AfterFunc(h.delay, func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.writeLocked(m)
		})
	}
	h.mu.Unlock()
}

// release tells the store that s let go of the message ref: acknowledged,
// dropped as unreadable, or the session ended. s.mu is held.
func (h *heldStore) release(s *sess, ref uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := h.live[ref]
	if m == nil {
		return
	}
	if _, ok := m.refs[s]; !ok {
		return
	}
	delete(m.refs, s)
	if m.state == heldWriting { // its deletes must follow the writes
		m.late = append(m.late, s.id)
		return
	}
	if m.state == heldWritten {
		h.deleteAsync(heldRefKey(m.id, s.id))
		if len(m.refs) == 0 {
			h.deleteAsync(heldMsgKey(m.id))
			delete(h.live, m.id)
		}
		return
	}
	if m.sealed && len(m.refs) == 0 {
		if m.timer != nil {
			m.timer.Stop()
		}
		h.finishLocked(m, nil)
	}
}

// finishLocked forgets a message no session holds and was never written,
// and calls its waiters.
func (h *heldStore) finishLocked(m *heldMsg, err error) {
	delete(h.live, m.id)
	for _, done := range m.dones {
		done(err)
	}
	m.dones = nil
}

// writeLocked writes m and its references, with the records of the
// sessions holding it that changed since they were last stored (so that a
// new session's subscriptions are never behind its messages), and calls
// its waiters once all are durable.
func (h *heldStore) writeLocked(m *heldMsg) {
	if m.state != heldWaiting || len(m.refs) == 0 {
		return
	}
	m.state = heldWriting
	h.busy++
	ws := []storeWrite{{st: h.st, key: heldMsgKey(m.id), value: heldRecord(m), what: "held message"}}
	var dirty []*sess
	for s, qos := range m.refs {
		ws = append(ws, storeWrite{st: h.st, key: heldRefKey(m.id, s.id), value: []byte{qos}, what: "held message"})
		if s.dirty.Load() {
			dirty = append(dirty, s)
		}
	}
	go func() { // off the caller's locks: session records take b.mu and s.mu
		for _, s := range dirty {
			if w, err := h.b.sessionWrite(s.id); err == nil && w.st != nil {
				ws = append(ws, w)
			}
		}
		err := firstError(applyWrites(ws))
		if err != nil {
			h.b.log.Error("store message for persistent sessions", "topic", m.p.Topic, "err", err)
		}
		h.mu.Lock()
		m.state = heldWritten
		dones := m.dones
		m.dones = nil
		for _, id := range m.late {
			h.deleteAsync(heldRefKey(m.id, id))
		}
		m.late = nil
		if len(m.refs) == 0 {
			h.deleteAsync(heldMsgKey(m.id))
			delete(h.live, m.id)
		}
		if h.busy--; h.busy == 0 {
			h.idle.Broadcast()
		}
		h.mu.Unlock()
		for _, done := range dones {
			done(err)
		}
	}()
}

// putAsync stores key without waiting (see storeWrite.submit); a failure
// is logged.
func (h *heldStore) putAsync(key string, value []byte) {
	storeWrite{st: h.st, key: key, value: value}.submit(func(err error) {
		if err != nil {
			h.b.log.Error("store message id reservation", "err", err)
		}
	})
}

// deleteAsync deletes key without waiting; a failure leaves a record the
// next start finds without a holder and deletes.
func (h *heldStore) deleteAsync(key string) {
	storeWrite{st: h.st, key: key, del: true}.submit(ignoreDone)
}

// flush writes every message still waiting for its sessions and waits
// until all writes are done: for a clean stop.
func (h *heldStore) flush() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, m := range h.live {
		if m.sealed && m.state == heldWaiting {
			if m.timer != nil {
				m.timer.Stop()
			}
			h.writeLocked(m)
		}
	}
	for h.busy > 0 {
		h.idle.Wait()
	}
}

func heldMsgKey(id uint64) string {
	var k [9]byte
	k[0] = heldMsgPrefix
	binary.BigEndian.PutUint64(k[1:], id)
	return string(k[:])
}

func heldRefKey(id uint64, client string) string {
	k := make([]byte, 9, 9+len(client))
	k[0] = heldRefPrefix
	binary.BigEndian.PutUint64(k[1:], id)
	return string(append(k, client...))
}

func heldRecord(m *heldMsg) []byte {
	flags := m.p.QoS
	if m.retain {
		flags |= heldFlagRet
	}
	if m.p.Props != nil {
		if b, err := heldRecordV5(m, flags); err == nil {
			return b
		}
	}
	b := make([]byte, 0, 2+binary.MaxVarintLen64+len(m.p.Topic)+len(m.p.Payload))
	b = append(b, heldRecordV1, flags)
	b = binary.AppendUvarint(b, uint64(len(m.p.Topic)))
	b = append(b, m.p.Topic...)
	return append(b, m.p.Payload...)
}

// heldRecordV5 encodes a message with MQTT 5.0 properties (heldRecordV2): those it is
// forwarded with, and the countdown of its Message Expiry Interval.
func heldRecordV5(m *heldMsg, flags byte) ([]byte, error) {
	b := []byte{heldRecordV2, flags}
	if !m.expires.IsZero() {
		b[1] |= heldFlagExp
		b = appendExpiry(b, m.expires, time.Now(), bootclock.Now())
	}
	p := packet.Publish{Topic: m.p.Topic, QoS: m.p.QoS, Payload: m.p.Payload, Props: forwardProps(m.p.Props)}
	if p.QoS > 0 {
		p.PacketID = 1
	}
	return packet.V5.Append(b, &p)
}

func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

//

// heldLoad is what restore read from Options.Messages.
type heldLoad struct {
	msgs map[uint64]*packet.Publish
	ret  map[uint64]bool
	exp  map[uint64]time.Time // when set, the message's Message Expiry runs out
	refs map[string][]heldRef // by client id, in message order
	max  uint64
}

type heldRef struct {
	id  uint64
	qos byte
}

// load reads every stored message and reference. Records that do not
// decode are logged and deleted.
func (h *heldStore) load() (*heldLoad, error) {
	l := &heldLoad{msgs: make(map[uint64]*packet.Publish), ret: make(map[uint64]bool), exp: make(map[uint64]time.Time),
		refs: make(map[string][]heldRef)}
	now, at := time.Now(), bootclock.Now()
	var reserved uint64
	err := h.st.ForEach(func(k string, v []byte) error {
		if k == heldNextKey && len(v) == 8 {
			reserved = binary.BigEndian.Uint64(v)
			return nil
		}
		if len(k) < 9 {
			h.bad(k, "short key")
			return nil
		}
		id := binary.BigEndian.Uint64([]byte(k[1:9]))
		l.max = max(l.max, id)
		switch k[0] {
		case heldMsgPrefix:
			p, retain, expires, err := h.decode(v, now, at)
			if err != nil {
				h.bad(k, err.Error())
				return nil
			}
			l.msgs[id], l.ret[id] = p, retain
			if !expires.IsZero() {
				l.exp[id] = expires
			}
		case heldRefPrefix:
			if len(v) != 1 || v[0] < 1 || v[0] > 2 || len(k) == 9 {
				h.bad(k, "bad reference")
				return nil
			}
			l.refs[k[9:]] = append(l.refs[k[9:]], heldRef{id, v[0]})
		default:
			h.bad(k, "unknown key")
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("broker: restore held messages: %w", err)
	}
	// Ids from here on are new: past every id reserved or stored before.
	h.next = max(reserved, l.max+1)
	h.end = h.next + heldIDBlock
	if err := h.st.Put(heldNextKey, binary.BigEndian.AppendUint64(nil, h.end)); err != nil {
		return nil, fmt.Errorf("broker: reserve held message ids: %w", err)
	}
	return l, nil
}

// decode decodes a stored message, as loaded at now and boot stamp at.
func (h *heldStore) decode(v []byte, now time.Time, at bootclock.Stamp) (*packet.Publish, bool, time.Time, error) {
	if len(v) > 0 && v[0] == heldRecordV2 {
		return decodeHeldV5(v, now, at)
	}
	p, retain, err := decodeHeldV1(v)
	return p, retain, time.Time{}, err
}

// decodeHeldV5 decodes a heldRecordV2 record.
func decodeHeldV5(v []byte, now time.Time, at bootclock.Stamp) (*packet.Publish, bool, time.Time, error) {
	if len(v) < 3 || v[1]&^(3|heldFlagRet|heldFlagExp) != 0 || v[1]&3 == 0 || v[1]&3 == 3 {
		return nil, false, time.Time{}, fmt.Errorf("%w: held message header", errBadRecord)
	}
	flags, rest := v[1], v[2:]
	var expires time.Time
	if flags&heldFlagExp != 0 {
		var err error
		if expires, rest, err = decodeExpiry(rest, now, at); err != nil {
			return nil, false, time.Time{}, err
		}
	}
	pk, err := packet.V5.ReadPacket(bytes.NewReader(rest), 0)
	p, ok := pk.(*packet.Publish)
	if err != nil || !ok || p.QoS != flags&3 || topic.ValidateName(p.Topic) != nil {
		return nil, false, time.Time{}, fmt.Errorf("%w: held message %v", errBadRecord, err)
	}
	p.PacketID, p.Dup, p.Retain = 0, false, false
	return p, flags&heldFlagRet != 0, expires, nil
}

// decodeHeldV1 decodes a heldRecordV1 record.
func decodeHeldV1(v []byte) (*packet.Publish, bool, error) {
	if len(v) < 3 || v[0] != heldRecordV1 || v[1]&^(3|heldFlagRet) != 0 || v[1]&3 == 0 || v[1]&3 == 3 {
		return nil, false, fmt.Errorf("%w: held message header", errBadRecord)
	}
	n, k := binary.Uvarint(v[2:])
	if k <= 0 || n == 0 || n > uint64(len(v)-2-k) {
		return nil, false, fmt.Errorf("%w: held message topic", errBadRecord)
	}
	name := string(v[2+k : 2+k+int(n)])
	if topic.ValidateName(name) != nil {
		return nil, false, fmt.Errorf("%w: held message topic", errBadRecord)
	}
	p := &packet.Publish{Topic: name, QoS: v[1] & 3, Payload: append([]byte(nil), v[2+k+int(n):]...)}
	return p, v[1]&heldFlagRet != 0, nil
}

func (h *heldStore) bad(key, why string) {
	h.b.log.Warn("deleting bad held-message record", "err", fmt.Errorf("%w: %s", errBadRecord, why))
	h.deleteAsync(key)
}

// restoreInto gives session s the messages stored for it, and registers
// them as written.
func (h *heldStore) restoreInto(l *heldLoad, s *sess) {
	refs := l.refs[s.id]
	delete(l.refs, s.id)
	held := make([]session.Message, 0, len(refs))
	byID := make(map[uint64]session.Message, len(refs))
	h.mu.Lock()
	for _, r := range refs {
		p := l.msgs[r.id]
		if p == nil {
			h.deleteAsync(heldRefKey(r.id, s.id))
			continue
		}
		m := h.live[r.id]
		if m == nil {
			m = &heldMsg{id: r.id, p: p, retain: l.ret[r.id], expires: l.exp[r.id], refs: make(map[*sess]byte, 1),
				state: heldWritten, sealed: true}
			h.live[r.id] = m
		}
		m.refs[s] = r.qos
		sm := session.Message{Topic: p.Topic, Payload: p.Payload, QoS: r.qos, Retain: m.retain, Ref: r.id,
			Props: p.Props, Expires: l.exp[r.id]} // an expired one is dropped when due to be sent
		held = append(held, sm)
		byID[r.id] = sm
	}
	h.mu.Unlock()
	s.st.Restore(func(ref uint64) (session.Message, bool) { m, ok := byID[ref]; return m, ok }, held, time.Now())
}

// dropOrphans deletes the references of clients without a session and
// the messages nobody holds any more.
func (h *heldStore) dropOrphans(l *heldLoad) {
	for client, refs := range l.refs {
		for _, r := range refs {
			h.deleteAsync(heldRefKey(r.id, client))
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for id := range l.msgs {
		if h.live[id] == nil {
			h.deleteAsync(heldMsgKey(id))
		}
	}
}
