package broker

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/edgegw/edgegw/internal/bootclock"
	"github.com/edgegw/edgegw/mqttcore/packet"
	"github.com/edgegw/edgegw/mqttcore/session"
	"github.com/edgegw/edgegw/mqttcore/topic"
)

// Record format versions, the first byte of every stored value.
const (
	sessionRecordV1  = 1 // no owner: such a session is resumed by nobody
	sessionRecordV2  = 2 // the owner's username after the version byte
	sessionRecordV3  = 3 // V2 and the MQTT 5.0 Session Expiry Interval after the owner
	retainedRecordV1 = 1 // QoS, payload
	retainedRecordV2 = 2 // the PUBLISH in the MQTT 5.0 wire format: a message with properties
	retainedRecordV3 = 3 // an expiry stamp (appendExpiry), then V2's PUBLISH: a message that expires
)

// errBadRecord is wrapped by the errors of decoding stored records.
var errBadRecord = errors.New("broker: bad stored record")

// Flush writes every changed persistent session and retained message to
// Options.Sessions and Options.Retained now. [Broker.Run] calls it every
// PersistInterval and when it returns; call it yourself if you serve
// connections without Run. A record that fails to write stays pending for
// the next Flush, up to maxWriteAttempts attempts. With stores that write
// asynchronously (GroupStore, as offline.KV does), every record of a Flush
// goes out at once and shares one commit: 100,000 retained messages cost a
// hundred fsyncs, not 100,000.
func (b *Broker) Flush() error {
	p := &b.persist
	p.flushMu.Lock()
	defer p.flushMu.Unlock()
	ids, retained := p.take()
	var ws []storeWrite
	var errs []error
	for id := range ids {
		w, err := b.sessionWrite(id)
		if err != nil {
			if p.retry("session "+id, err) {
				p.addSession(id)
			}
			errs = append(errs, err)
			continue
		}
		if w.st != nil {
			ws = append(ws, w)
		}
	}
	for name, msg := range retained {
		if w := b.retainedWrite(name, msg); w.st != nil {
			ws = append(ws, w)
		}
	}
	for i, err := range applyWrites(ws) {
		w := ws[i]
		if err != nil {
			err = fmt.Errorf("broker: store %s: %w", w.what, err)
		}
		if p.retry(w.what, err) {
			w.again()
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// GroupStore is a Store that can also write without waiting: a Flush hands
// it every record at once and waits for all of them, so that they share
// commits. *offline.KV implements it.
type GroupStore interface {
	// PutAsync stores value under key and calls done once it is durable;
	// value is not modified until then.
	PutAsync(key string, value []byte, done func(error))
	// DeleteAsync removes key and calls done once that is durable.
	DeleteAsync(key string, done func(error))
}

// storeWrite is one record a Flush writes, or deletes when del is set.
type storeWrite struct {
	st    Store
	key   string
	value []byte
	del   bool
	what  string // "session <id>", "retained <topic>": for errors and retries
	again func() // marks the record pending again after a failure
}

// submit performs w and calls done with the outcome: on a GroupStore
// without waiting (done runs when the write is durable, sharing a commit
// with the others submitted meanwhile), on another Store at once.
func (w storeWrite) submit(done func(error)) {
	gs, group := w.st.(GroupStore)
	switch {
	case group && w.del:
		gs.DeleteAsync(w.key, done)
	case group:
		gs.PutAsync(w.key, w.value, done)
	case w.del:
		done(w.st.Delete(w.key))
	default:
		done(w.st.Put(w.key, w.value))
	}
}

// applyWrites performs ws and returns their errors, in order: on a
// GroupStore all at once, then waiting for them; else one by one.
func applyWrites(ws []storeWrite) []error {
	errs := make([]error, len(ws))
	var wg sync.WaitGroup
	wg.Add(len(ws))
	for i, w := range ws {
		w.submit(func(err error) { errs[i] = err; wg.Done() })
	}
	wg.Wait()
	return errs
}

// maxWriteAttempts bounds how often Flush tries to write one record, so a
// record the store refuses for good (say, a key too long for it) does not
// fail every Flush forever, while a full disk gets a few chances to clear.
const maxWriteAttempts = 3

//

// persister collects what changed since the last Flush: session ids (the
// store mirrors b.sessions for them) and retained topics.
type persister struct {
	flushMu  sync.Mutex     // one Flush at a time, so writes land in order
	failures map[string]int // failed write attempts by record; under flushMu
	mu       sync.Mutex
	sessions map[string]struct{}
	retained map[string]*retainedMsg // nil: deleted
}

func (p *persister) init() {
	p.sessions = make(map[string]struct{})
	p.retained = make(map[string]*retainedMsg)
	p.failures = make(map[string]int)
}

// retry records the outcome of writing a record and reports whether to
// try again at the next Flush.
func (p *persister) retry(record string, err error) bool {
	if err == nil {
		delete(p.failures, record)
		return false
	}
	p.failures[record]++
	if p.failures[record] < maxWriteAttempts {
		return true
	}
	delete(p.failures, record)
	return false
}

func (p *persister) sessionChanged(s *sess) { p.addSession(s.id) }

func (p *persister) addSession(id string) {
	p.mu.Lock()
	p.sessions[id] = struct{}{}
	p.mu.Unlock()
}

func (p *persister) retainedChanged(name string, msg *retainedMsg) {
	p.mu.Lock()
	p.retained[name] = msg
	p.mu.Unlock()
}

// take returns and resets the pending changes.
func (p *persister) take() (map[string]struct{}, map[string]*retainedMsg) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ids, ret := p.sessions, p.retained
	p.sessions = make(map[string]struct{})
	p.retained = make(map[string]*retainedMsg)
	return ids, ret
}

// persistLoop flushes every PersistInterval until ctx is done.
func (b *Broker) persistLoop(ctx context.Context) {
	if b.opts.Sessions == nil && b.opts.Retained == nil {
		<-ctx.Done()
		return
	}
	t := time.NewTicker(b.opts.PersistInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := b.Flush(); err != nil {
			b.log.Error("persist broker state", "err", err)
		}
	}
}

// storeSessionNow writes a persistent session's record at once, if it
// changed, and waits for it: a SUBACK promises that messages published
// afterwards are kept for the session, which a power cut before the next
// Flush would break. A failed write is logged and left to the next Flush.
func (b *Broker) storeSessionNow(s *sess) {
	if s.clean || b.opts.Sessions == nil || !s.dirty.Load() {
		return
	}
	w, err := b.sessionWrite(s.id)
	if err == nil && w.st != nil {
		err = applyWrites([]storeWrite{w})[0]
	}
	if err != nil {
		b.log.Error("store session", "client", s.id, "err", err)
		b.persist.addSession(s.id)
	}
}

// sessionWrite returns the write storing the current state of the session
// with this id, or deleting it when the id has no persistent session any
// more; a zero write when there is no session store.
func (b *Broker) sessionWrite(id string) (storeWrite, error) {
	st := b.opts.Sessions
	if st == nil {
		return storeWrite{}, nil
	}
	w := storeWrite{st: st, key: id, what: "session " + id, again: func() { b.persist.addSession(id) }}
	b.mu.Lock()
	s := b.sessions[id]
	b.mu.Unlock()
	if s == nil || s.clean {
		w.del = true
		return w, nil
	}
	rec, err := s.record()
	if err != nil {
		return storeWrite{}, fmt.Errorf("broker: store session %q: %w", id, err)
	}
	w.value = rec
	return w, nil
}

// record encodes the session: version, owner, subscriptions, delivery
// state.
func (s *sess) record() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dirty.Store(false)
	state, err := s.st.MarshalBinary()
	if err != nil {
		return nil, err
	}
	version := byte(sessionRecordV2) // as before MQTT 5.0, unless a client chose the expiry
	if s.expiry > 0 {
		version = sessionRecordV3
	}
	b := []byte{version}
	b = binary.AppendUvarint(b, uint64(len(s.username)))
	b = append(b, s.username...)
	if version == sessionRecordV3 {
		b = binary.AppendUvarint(b, uint64(s.expiry/time.Second))
	}
	b = binary.AppendUvarint(b, uint64(len(s.subs)))
	for f, q := range s.subs {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
		b = append(b, q)
	}
	return append(b, state...), nil
}

// retainedWrite returns the write storing or deleting (msg nil) one
// retained message; a zero write when there is no retained store.
func (b *Broker) retainedWrite(name string, msg *retainedMsg) storeWrite {
	st := b.opts.Retained
	if st == nil {
		return storeWrite{}
	}
	w := storeWrite{st: st, key: name, what: "retained " + name, again: func() { b.persist.retainedChanged(name, msg) }}
	if msg == nil {
		w.del = true
	} else {
		w.value = retainedRecord(msg)
	}
	return w
}

// retainedRecord encodes a retained message: in the V1 format of MQTT
// 3.1.1, unless it has MQTT 5.0 properties to keep (V2), with the
// countdown of its Message Expiry Interval if it has one (V3).
func retainedRecord(m *retainedMsg) []byte {
	msg := m.p
	if msg.Props != nil {
		p := *msg
		if p.QoS > 0 {
			p.PacketID = 1
		}
		b := []byte{retainedRecordV2}
		if !m.expires.IsZero() {
			b = appendExpiry([]byte{retainedRecordV3}, m.expires, time.Now(), bootclock.Now())
		}
		if b, err := packet.V5.Append(b, &p); err == nil {
			return b
		}
	}
	return append([]byte{retainedRecordV1, msg.QoS}, msg.Payload...)
}

// decodeRetained decodes a retained message record stored under name, as
// loaded at now (monotonic) and boot stamp at.
func decodeRetained(name string, v []byte, now time.Time, at bootclock.Stamp) (*retainedMsg, error) {
	var expires time.Time
	if len(v) > 0 && v[0] == retainedRecordV3 {
		var err error
		if expires, v, err = decodeExpiry(v[1:], now, at); err != nil {
			return nil, err
		}
		v = append([]byte{retainedRecordV2}, v...)
	}
	if len(v) > 0 && v[0] == retainedRecordV2 {
		pk, err := packet.V5.ReadPacket(bytes.NewReader(v[1:]), 0)
		p, ok := pk.(*packet.Publish)
		if err != nil || !ok || p.Topic != name || len(p.Payload) == 0 {
			return nil, fmt.Errorf("%w: retained message %v", errBadRecord, err)
		}
		p.PacketID, p.Dup, p.Retain = 0, false, true
		if expires.IsZero() {
			// A V2 record (written before the countdown was stored):
			// the full interval, from loading.
			expires = expiresAt(p.Props, now)
		}
		return &retainedMsg{p: p, expires: expires}, nil
	}
	if len(v) < 3 || v[0] != retainedRecordV1 || v[1] > 2 {
		return nil, errBadRecord
	}
	return &retainedMsg{p: &packet.Publish{Topic: name, QoS: v[1], Retain: true, Payload: append([]byte(nil), v[2:]...)}}, nil
}

// restore loads retained messages and persistent sessions from the
// stores. A record that does not decode is logged and skipped.
func (b *Broker) restore() error {
	if st := b.opts.Retained; st != nil {
		if err := st.ForEach(b.restoreRetained); err != nil {
			return fmt.Errorf("broker: restore retained messages: %w", err)
		}
	}
	var held *heldLoad
	if b.held != nil {
		var err error
		if held, err = b.held.load(); err != nil {
			return err
		}
	}
	if st := b.opts.Sessions; st != nil {
		err := st.ForEach(func(id string, v []byte) error { return b.restoreSession(id, v, held) })
		if err != nil {
			return fmt.Errorf("broker: restore sessions: %w", err)
		}
	}
	if held != nil {
		b.held.dropOrphans(held)
	}
	return nil
}

func (b *Broker) restoreRetained(name string, v []byte) error {
	if err := topic.ValidateName(name); err != nil || b.checkTopic(name) != nil {
		b.log.Warn("skipping bad retained message record", "topic", name, "err", errBadRecord)
		return nil
	}
	m, err := decodeRetained(name, v, time.Now(), bootclock.Now())
	if err != nil {
		b.log.Warn("skipping bad retained message record", "topic", name, "err", err)
		return nil
	}
	if m.expired(time.Now()) {
		b.stats.retainedExpired.Add(1)
		b.persist.retainedChanged(name, nil) // deleted with the next Flush
		return nil
	}
	if !b.setRetained(m) {
		b.stats.retainedRefused.Add(1)
		b.log.Warn("retained store full: stored message skipped", "topic", name)
	}
	return nil
}

// restoreSession restores one stored session, with the messages held for
// it (held is nil without Options.Messages).
func (b *Broker) restoreSession(id string, v []byte, held *heldLoad) error {
	s, subs, err := b.decodeSession(id, v)
	if err != nil {
		b.log.Warn("skipping bad session record", "client", id, "err", err)
		return nil
	}
	if held != nil {
		b.held.restoreInto(held, s)
	} else {
		s.st.Restore(func(uint64) (session.Message, bool) { return session.Message{}, false }, nil, time.Now())
	}
	for f, q := range subs {
		b.addSub(f, s, q)
	}
	b.mu.Lock()
	b.addSessionLocked(s)
	b.mu.Unlock()
	return nil
}

// noOwner is the owner of sessions stored before owners were recorded: no
// client has this username (U+0000 is not allowed in one [MQTT-1.5.3-2]),
// so such a session is not resumed by anyone.
const noOwner = "\x00"

// decodeSession decodes a record written by sess.record, or by a version
// that did not record the owner.
func (b *Broker) decodeSession(id string, v []byte) (*sess, map[string]byte, error) {
	if len(v) < 2 || v[0] < sessionRecordV1 || v[0] > sessionRecordV3 {
		return nil, nil, fmt.Errorf("%w: unknown session record version", errBadRecord)
	}
	owner := noOwner
	version := v[0]
	v = v[1:]
	if version >= sessionRecordV2 {
		l, k := binary.Uvarint(v)
		if k <= 0 || l >= uint64(len(v)-k) {
			return nil, nil, fmt.Errorf("%w: owner", errBadRecord)
		}
		owner, v = string(v[k:k+int(l)]), v[k+int(l):]
	}
	var expiry time.Duration // Options.SessionExpiry
	if version == sessionRecordV3 {
		secs, k := binary.Uvarint(v)
		if k <= 0 || secs == 0 || secs > math.MaxUint32 {
			return nil, nil, fmt.Errorf("%w: session expiry", errBadRecord)
		}
		expiry, _ = b.sessionExpiry(uint32(secs)) // capped by today's options
		v = v[k:]
	}
	n, k := binary.Uvarint(v)
	if k <= 0 || n > uint64(len(v)) {
		return nil, nil, fmt.Errorf("%w: subscription count", errBadRecord)
	}
	v = v[k:]
	subs := make(map[string]byte, n)
	for ; n > 0; n-- {
		l, k := binary.Uvarint(v)
		if k <= 0 || l >= uint64(len(v)-k) {
			return nil, nil, fmt.Errorf("%w: truncated subscription", errBadRecord)
		}
		f, q := string(v[k:k+int(l)]), v[k+int(l)]
		if topic.ValidateFilter(f) != nil || q&subQoSMask > 2 || q&^subOptionBits != 0 {
			return nil, nil, fmt.Errorf("%w: bad subscription %q", errBadRecord, f)
		}
		if err := b.checkTopic(f); err != nil {
			b.log.Warn("skipping stored subscription", "client", id, "err", err)
		} else {
			subs[f] = q
		}
		v = v[k+int(l)+1:]
	}
	st, err := session.Unmarshal(v, b.sessionOptions(), time.Now())
	if err != nil {
		return nil, nil, err
	}
	s := newSess(b, id, owner, false)
	s.st, s.subs, s.away = st, subs, time.Now() // monotonic: expiry counts from loading
	s.expiry = expiry

	s.nsubs.Store(int32(len(subs)))
	s.refreshReadAll()
	return s, subs, nil
}
