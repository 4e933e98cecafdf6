package bridge

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Bridge is the upstream MQTT client. Create it with New, start it with Run,
// and register it as the local broker's publish hook (OnPublish).
//
// Lock order: Bridge.mu, window.mu, ctrlIDs.mu, inbound.mu and sequencer.mu
// are leaves: none is held while taking another.
type Bridge struct {
	o        Options
	log      *slog.Logger
	upstream atomic.Pointer[upstream] // addresses and credentials in force; SetUpstream swaps them
	epoch    time.Time                // monotonic origin of uptime and keepalive stamps

	running atomic.Bool
	order   sequencer   // completes OnPublish's done calls in order per origin
	win     *window     // QoS 1/2 messages sent and not acknowledged
	ctrl    ctrlIDs     // packet ids of SUBSCRIBE and status PUBLISH
	inq2    inboundQoS2 // upstream QoS 2 ids awaiting PUBREL
	acks    chan uint64 // delivered seqs to the acker; set by Run
	cur     atomic.Pointer[conn]
	rules   atomic.Pointer[[]Rule] // the topic rules in force; SetRules swaps them
	stats   counters

	unattended map[string]bool // Options.UnattendedOrigins
	ackLatency atomic.Int64    // smoothed upstream acknowledgement time, ns (see noteAck)
	willPlain  atomic.Bool     // the will goes at QoS 0, not retained (see noteWillRefused)
	logLim     logLimiter      // per-message problems are logged at most every logEvery

	mu             sync.Mutex
	up             chan struct{} // closed while connected
	lastErr        error
	lastDisconnect error
	addr           string        // address of the current or last connection
	connectedAt    time.Duration // since() at the current connection's CONNACK
}

// New checks opts and returns a Bridge. It starts nothing.
func New(opts Options) (*Bridge, error) {
	o := opts.withDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	b := &Bridge{
		o:     o,
		log:   o.Logger,
		epoch: time.Now(),
		win:   newWindow(o.Inflight),
		up:    make(chan struct{}),
	}
	b.unattended = make(map[string]bool, len(o.UnattendedOrigins))
	for _, origin := range o.UnattendedOrigins {
		b.unattended[origin] = true
	}
	b.initUpstream()
	rules := append([]Rule(nil), o.Rules...)
	b.rules.Store(&rules)
	b.order.init()
	b.ctrl.init()
	b.inq2.init()
	b.stats.init()
	return b, nil
}

// Run connects to the upstream and keeps reconnecting, with backoff, until
// ctx ends; it returns nil then. On the way out it publishes the offline
// status and disconnects cleanly (bounded by Options.ShutdownTimeout). Run
// does not use the queue after it returned (OnPublish still appends to it),
// so the caller may close the queue once Run and the local broker stopped.
// A Bridge runs once: a second call returns ErrRunning.
func (b *Bridge) Run(ctx context.Context) error {
	if !b.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	b.acks = make(chan uint64, ackBuffer)
	ackerDone := make(chan struct{})
	go func() {
		defer close(ackerDone)
		b.ackLoop(b.acks)
	}()
	defer func() {
		close(b.acks) // every connection has ended: no more senders
		<-ackerDone
	}()
	b.loop(ctx)
	return nil
}

// AwaitConnection blocks until the bridge is connected to the upstream or ctx
// ends (it returns ctx's error).
func (b *Bridge) AwaitConnection(ctx context.Context) error {
	b.mu.Lock()
	up := b.up
	b.mu.Unlock()
	select {
	case <-up:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

//

// loop is Run's reconnect loop.
func (b *Bridge) loop(ctx context.Context) {
	attempt := 0
	for ctx.Err() == nil {
		c, err := b.connectAny(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			b.stats.connectFailures.Add(1)
			b.setErr(err)
			delay := b.backoff(attempt)
			attempt++
			b.log.Warn("bridge: upstream unreachable", "err", err, "retry_in", delay)
			sleep(ctx, delay)
			continue
		}
		attempt = 0
		err = b.serve(ctx, c)
		if ctx.Err() != nil {
			return
		}
		b.setDisconnect(err)
		delay := b.lostDelay()
		b.log.Warn("bridge: uplink lost", "err", err, "address", c.addr.raw, "retry_in", delay)
		sleep(ctx, delay)
	}
}

// connectAny tries every address in order and returns the first connection.
func (b *Bridge) connectAny(ctx context.Context) (*conn, error) {
	var errs []error
	u := b.upstream.Load()
	for _, a := range u.addrs {
		c, err := b.dial(ctx, u, a)
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// backoff returns a random delay in [MinDelay, min(MaxDelay, MinDelay·2^(attempt+1))].
// Even the first is random: a fleet that lost its upstream at the same
// instant must not retry in lockstep (see Reconnect).
func (b *Bridge) backoff(attempt int) time.Duration {
	lo, hi := b.o.Reconnect.MinDelay, b.o.Reconnect.MaxDelay
	ceil := lo
	for i := 0; i <= attempt && ceil < hi; i++ {
		if ceil > hi/2 {
			ceil = hi
			break
		}
		ceil *= 2
	}
	ceil = min(ceil, hi)
	if ceil <= lo {
		return lo
	}
	return lo + rand.N(ceil-lo+1)
}

// lostDelay returns the wait after a lost connection: random in
// [0, 2·MinDelay], MinDelay on average (see Reconnect).
func (b *Bridge) lostDelay() time.Duration {
	d := min(b.o.Reconnect.MinDelay, math.MaxInt64/2-1) // 2·d must not overflow
	if d <= 0 {
		return 0
	}
	return rand.N(2*d + 1)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// since returns the monotonic time since New, for stamps kept in atomics.
func (b *Bridge) since() time.Duration { return time.Since(b.epoch) }

func (b *Bridge) setErr(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lastErr = err
}

func (b *Bridge) setDisconnect(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lastErr, b.lastDisconnect = err, err
}

// setOnline publishes c as the current connection. It returns false, and
// publishes nothing, when c was made with upstream settings SetUpstream has
// replaced since.
func (b *Bridge) setOnline(c *conn) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if c.up != b.upstream.Load() {
		return false
	}
	b.stats.connects.Add(1)
	b.addr = c.addr.raw
	b.connectedAt = b.since()
	b.cur.Store(c) // before AwaitConnection returns
	close(b.up)
	return true
}

// setOffline withdraws c.
func (b *Bridge) setOffline(c *conn) {
	b.cur.CompareAndSwap(c, nil)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.up = make(chan struct{})
}
