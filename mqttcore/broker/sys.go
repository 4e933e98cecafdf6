package broker

import (
	"context"
	"math"
	"runtime/metrics"
	"strconv"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// sysLoop publishes the $SYS topics at once and then every SysInterval
// until ctx is done.
func (b *Broker) sysLoop(ctx context.Context) {
	if b.opts.SysInterval < 0 {
		<-ctx.Done()
		return
	}
	sp := newSysPublisher(b)
	sp.publish()
	t := time.NewTicker(b.opts.SysInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			sp.publish()
		}
	}
}

//

// sysPublisher publishes $SYS values, retained, with Mosquitto's names,
// skipping values that did not change since the last round.
type sysPublisher struct {
	b       *Broker
	last    map[string]string
	prev    Stats
	prevAt  time.Time
	loads   map[string]*[3]float64 // 1, 5 and 15 minute averages per minute
	samples []metrics.Sample
}

func newSysPublisher(b *Broker) *sysPublisher {
	return &sysPublisher{
		b: b, last: make(map[string]string), loads: make(map[string]*[3]float64),
		samples: []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}},
	}
}

// publish publishes one round of $SYS values.
func (sp *sysPublisher) publish() {
	st := sp.b.Stats()
	now := time.Now()
	v := map[string]string{
		"$SYS/broker/version":                   sp.b.opts.Version,
		"$SYS/broker/uptime":                    strconv.FormatInt(int64(st.Uptime/time.Second), 10) + " seconds",
		"$SYS/broker/clients/connected":         itoa(st.ClientsConnected),
		"$SYS/broker/clients/total":             itoa(st.Sessions),
		"$SYS/broker/clients/disconnected":      itoa(max(st.Sessions-st.ClientsConnected, 0)),
		"$SYS/broker/clients/maximum":           itoa(st.ClientsMaximum),
		"$SYS/broker/clients/auth_failures":     utoa(st.AuthFailures),
		"$SYS/broker/messages/received":         utoa(st.PacketsReceived),
		"$SYS/broker/messages/sent":             utoa(st.PacketsSent),
		"$SYS/broker/publish/messages/received": utoa(st.PublishReceived),
		"$SYS/broker/publish/messages/sent":     utoa(st.PublishSent),
		"$SYS/broker/publish/messages/dropped":  utoa(st.Dropped.Total()),
		"$SYS/broker/bytes/received":            utoa(st.BytesReceived),
		"$SYS/broker/bytes/sent":                utoa(st.BytesSent),
		"$SYS/broker/retained messages/count":   itoa(st.Retained),
		"$SYS/broker/subscriptions/count":       itoa(st.Subscriptions),
		"$SYS/broker/heap/current":              utoa(sp.heap()),
	}
	if !sp.prevAt.IsZero() {
		sp.addLoads(v, st, now.Sub(sp.prevAt))
	}
	sp.prev, sp.prevAt = st, now
	if extra := sp.b.opts.SysExtra; extra != nil {
		for k, val := range extra() {
			v["$SYS/gateway/"+k] = val
		}
	}
	for name, val := range v {
		if sp.last[name] == val {
			continue
		}
		sp.last[name] = val
		sp.b.seal(sp.b.route(&packet.Publish{Topic: name, Payload: []byte(val), Retain: true}, nil), nil)
	}
}

// addLoads adds Mosquitto's load averages: per-minute rates over 1, 5 and
// 15 minutes, as exponentially weighted moving averages.
func (sp *sysPublisher) addLoads(v map[string]string, st Stats, dt time.Duration) {
	rates := map[string]uint64{
		"messages/received": st.PacketsReceived - sp.prev.PacketsReceived,
		"messages/sent":     st.PacketsSent - sp.prev.PacketsSent,
		"publish/received":  st.PublishReceived - sp.prev.PublishReceived,
		"publish/sent":      st.PublishSent - sp.prev.PublishSent,
		"publish/dropped":   st.Dropped.Total() - sp.prev.Dropped.Total(),
		"bytes/received":    st.BytesReceived - sp.prev.BytesReceived,
		"bytes/sent":        st.BytesSent - sp.prev.BytesSent,
	}
	for name, delta := range rates {
		perMinute := float64(delta) / dt.Minutes()
		avg := sp.loads[name]
		if avg == nil {
			avg = &[3]float64{perMinute, perMinute, perMinute}
			sp.loads[name] = avg
		}
		for i, window := range [3]float64{1, 5, 15} {
			k := math.Exp(-dt.Minutes() / window)
			avg[i] = avg[i]*k + perMinute*(1-k)
			v["$SYS/broker/load/"+name+"/"+[3]string{"1min", "5min", "15min"}[i]] = strconv.FormatFloat(avg[i], 'f', 2, 64)
		}
	}
}

// heap returns the bytes of live heap objects (runtime/metrics is cheap and
// does not stop the world).
func (sp *sysPublisher) heap() uint64 {
	metrics.Read(sp.samples)
	if sp.samples[0].Value.Kind() == metrics.KindUint64 {
		return sp.samples[0].Value.Uint64()
	}
	return 0
}

func itoa(n int) string    { return strconv.Itoa(n) }
func utoa(n uint64) string { return strconv.FormatUint(n, 10) }
