package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/edgegw/edgegw/config"
	"github.com/edgegw/edgegw/internal/remote"
	"github.com/edgegw/edgegw/mqttcore/bridge"
	"github.com/edgegw/edgegw/mqttcore/packet"
)

// This file serves remote configuration and remote commands (remote:), on
// topics under monitor.topic_prefix on the upstream (see internal/remote for
// the protocol). Requests come in through bridge "in" rules mapped to local
// topics under remoteLocal, which localBroker hands to the remote server
// before the broker sees them: no local client can read or send them.
// Answers go out through "out" rules and the bridge's durable queue, so an
// answer written while the uplink is down (a rollback's) is sent once it is
// back.

// remoteLocal is the local topic prefix of the remote topics. Under $SYS,
// where clients may not publish: no local client can forge an answer that
// the out rules would forward upstream.
const remoteLocal = "$SYS/gateway/remote/"

// remoteOrigin is the inline-client name answers are published under.
const remoteOrigin = "$remote"

// Remote bounds.
const (
	remotePending  = 8                // requests waiting for the worker; more are answered "busy"
	remoteRecent   = 64               // request ids remembered against duplicates
	maxLogLevelFor = 24 * time.Hour   // the longest temporary log level
	defLogLevelFor = 10 * time.Minute // its default
	commandTimeout = 10 * time.Second // bounds sensor_read
	trialPoll      = 100 * time.Millisecond
)

// remoteRules are the bridge rules of the remote topics enabled in c.
func remoteRules(c *config.Config) []bridge.Rule {
	prefix := c.Monitor.TopicPrefix + "/"
	rule := func(pattern string, d bridge.Direction) bridge.Rule {
		return bridge.Rule{Pattern: pattern, Direction: d, QoS: 1, LocalPrefix: remoteLocal, RemotePrefix: prefix}
	}
	var rs []bridge.Rule
	if c.Remote.Config {
		rs = append(rs, rule("config/set", bridge.In), rule("config/get", bridge.In),
			rule("config/result", bridge.Out), rule("config/get/result", bridge.Out))
	}
	if c.Remote.Commands {
		rs = append(rs, rule("cmd/+", bridge.In), rule("cmd/+/result", bridge.Out))
	}
	return rs
}

// remoteServer runs the remote requests one at a time, in its own
// goroutine (run), and the trial of a bridge change.
type remoteServer struct {
	g      *gateway
	path   string // the configuration file
	reqs   chan remoteRequest
	recent *remote.Recent

	mu        sync.Mutex
	trialID   string      // the request on trial ("" when none)
	levelTill *time.Timer // the temporary log level's expiry
}

// remoteRequest is one request for the worker: its topic below remoteLocal
// ("config/set", "cmd/status", …), id and payload, and where an MQTT 5
// requester asked for the answer (see reply).
type remoteRequest struct {
	topic   string
	id      string
	payload []byte
	reply   replyTo
}

// replyTo is an MQTT 5 request's Response Topic (on the upstream) and
// Correlation Data; the zero value when it gave none.
type replyTo struct {
	topic       string
	correlation []byte
}

// replyOf returns p's Response Topic and Correlation Data.
func replyOf(p *packet.Publish) replyTo {
	if p.Props == nil || p.Props.ResponseTopic == "" {
		return replyTo{}
	}
	return replyTo{topic: p.Props.ResponseTopic, correlation: bytes.Clone(p.Props.CorrelationData)}
}

func newRemoteServer(g *gateway, path string) *remoteServer {
	return &remoteServer{g: g, path: path, reqs: make(chan remoteRequest, remotePending), recent: remote.NewRecent(remoteRecent)}
}

// receive takes a message from the bridge (on its inbound goroutine: it
// must not block) and queues it for the worker, or answers it at once when
// it is refused.
func (r *remoteServer) receive(p *packet.Publish) {
	topic := strings.TrimPrefix(p.Topic, remoteLocal)
	log := r.g.log.With("topic", topic)
	if p.Retain {
		log.Warn("remote: retained request ignored (publish requests without retain)")
		return
	}
	if !r.enabled(topic) {
		log.Warn("remote: request for a disabled feature ignored")
		return
	}
	reply := replyOf(p)
	id, err := remote.ParseRequest(p.Payload, &remote.Request{})
	if err != nil {
		log.Warn("remote: bad request", "err", err)
		r.fail(topic, id, reply, err)
		return
	}
	if r.recent.Seen(topic, id) {
		log.Debug("remote: duplicate request ignored", "id", id)
		return
	}
	select {
	case r.reqs <- remoteRequest{topic: topic, id: id, payload: p.Payload, reply: reply}:
	default:
		log.Warn("remote: too many requests pending, refused", "id", id)
		r.fail(topic, id, reply, fmt.Errorf("busy: %d requests pending", remotePending))
	}
}

// enabled reports whether topic's feature is on in the configuration in force.
func (r *remoteServer) enabled(topic string) bool {
	rc := r.g.config().Remote
	if strings.HasPrefix(topic, "cmd/") {
		return rc.Commands
	}
	return rc.Config
}

// run serves requests until ctx is done; it resumes a trial interrupted by
// a restart first.
func (r *remoteServer) run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	defer r.stopLevelTimer()
	if id, ok := r.pendingTrial(); ok {
		r.startTrial(ctx, &wg, id, 1)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case req := <-r.reqs:
			r.serve(ctx, &wg, req)
		}
	}
}

// serve runs one request.
func (r *remoteServer) serve(ctx context.Context, wg *sync.WaitGroup, req remoteRequest) {
	r.g.log.Info("remote: request", "topic", req.topic, "id", req.id)
	switch {
	case req.topic == "config/set":
		r.configSet(ctx, wg, req)
	case req.topic == "config/get":
		r.answer(req.topic, req.id, req.reply, r.g.config().Redact(), nil)
	default:
		name := strings.TrimPrefix(req.topic, "cmd/")
		res, err := r.command(ctx, name, req.payload)
		r.answer(req.topic, req.id, req.reply, res, err)
	}
}

// answer publishes a request's result on <topic>/result, and on its
// Response Topic with its Correlation Data when it gave one (MQTT 5).
func (r *remoteServer) answer(topic, id string, reply replyTo, res any, err error) {
	out := remote.CommandResult{ID: id, Command: strings.TrimPrefix(topic, "cmd/"), OK: err == nil, Result: res,
		TS: remote.Stamp(time.Now())}
	if err != nil {
		out.Error = err.Error()
		out.Result = nil
	}
	r.publish(topic+"/result", out)
	if reply.topic != "" {
		r.reply(reply, out)
	}
}

// fail answers a request refused before it ran.
func (r *remoteServer) fail(topic, id string, reply replyTo, err error) {
	if topic == "config/set" {
		r.publishConfig(remote.ConfigResult{ID: id, State: remote.StateRejected, Errors: []string{err.Error()}})
		return
	}
	r.answer(topic, id, reply, nil, err)
}

// publishConfig publishes a config/set result.
func (r *remoteServer) publishConfig(res remote.ConfigResult) {
	res.TS = remote.Stamp(time.Now())
	r.publish("config/result", res)
}

// publish sends v as JSON at QoS 1 on the remote topic under the monitor
// prefix, through the bridge's queue.
func (r *remoteServer) publish(topic string, v any) {
	payload, ok := r.encode(topic, v)
	if !ok {
		return
	}
	p := &packet.Publish{QoS: 1, Topic: remoteLocal + topic, Payload: payload}
	r.g.bridge.OnPublish(remoteOrigin, p, func(err error) {
		if err != nil {
			r.g.log.Error("remote: answer not queued", "topic", topic, "err", err)
		}
	})
}

// reply sends v as JSON at QoS 1 to an MQTT 5 requester's Response Topic on
// the upstream, with its Correlation Data, through the bridge's queue. The
// upstream's access rules decide whether the gateway may publish there.
func (r *remoteServer) reply(to replyTo, v any) {
	payload, ok := r.encode(to.topic, v)
	if !ok {
		return
	}
	p := &packet.Publish{QoS: 1, Topic: to.topic, Payload: payload}
	if to.correlation != nil {
		p.Props = &packet.Properties{CorrelationData: to.correlation}
	}
	r.g.bridge.OnPublishTo(remoteOrigin, to.topic, p, func(err error) {
		if err != nil {
			r.g.log.Error("remote: reply not queued", "response_topic", to.topic, "err", err)
		}
	})
}

// encode returns v as JSON, without the encoder's trailing newline.
func (r *remoteServer) encode(topic string, v any) ([]byte, bool) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // "<redacted>", not "\u003credacted\u003e"
	if err := enc.Encode(v); err != nil {
		r.g.log.Error("remote: encode answer", "topic", topic, "err", err)
		return nil, false
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), true
}

// command runs the command name with the request's payload.
func (r *remoteServer) command(ctx context.Context, name string, payload []byte) (any, error) {
	switch name {
	case "status":
		return r.g.bridge.Metrics(), nil
	case "queue":
		return queueDocument(r.g.queue.Stats()), nil
	case "log_level":
		return r.logLevel(payload)
	case "sensor_read":
		return r.sensorRead(ctx, payload)
	case "reload":
		res := r.g.reloadConfig(r.path)
		if len(res.errs) > 0 {
			return nil, errors.New(strings.Join(res.errs, "\n"))
		}
		return map[string]any{"restart_needed": res.restart}, nil
	case "restart":
		r.g.requestStop("remote restart command")
		return map[string]any{"restarting": true}, nil
	}
	return nil, fmt.Errorf("unknown command %q (known: status, queue, log_level, sensor_read, reload, restart)", name)
}

// pendingTrial returns the id of a bridge change whose trial a restart
// interrupted.
func (r *remoteServer) pendingTrial() (string, bool) {
	data, err := os.ReadFile(trialFile(r.path))
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(string(data)), true
}

func (r *remoteServer) stopLevelTimer() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.levelTill != nil {
		r.levelTill.Stop()
	}
}

// trialFile marks a bridge change on trial: it holds the request id, and a
// gateway that starts with it gives the uplink rollback_after to come back.
func trialFile(path string) string { return path + ".trial" }

// lastGoodFile is the last configuration file with a working uplink.
func lastGoodFile(path string) string { return path + ".last-good" }
