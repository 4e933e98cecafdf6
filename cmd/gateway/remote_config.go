package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"time"

	"github.com/edgegw/edgegw/config"
	"github.com/edgegw/edgegw/internal/atomicfile"
	"github.com/edgegw/edgegw/internal/remote"
)

// configSet checks a new configuration document as `gateway check` does,
// writes it atomically over the configuration file and applies it. A change
// of the bridge's upstream settings is then on trial (see startTrial).
func (r *remoteServer) configSet(ctx context.Context, wg *sync.WaitGroup, req remoteRequest) {
	reject := func(errs ...string) {
		r.g.log.Warn("remote: configuration rejected", "id", req.id, "errors", errs)
		r.publishConfig(remote.ConfigResult{ID: req.id, State: remote.StateRejected, Errors: errs})
	}
	doc, seq, err := r.document(req)
	if err == nil && seq > 0 {
		err = r.sequence().Check(seq)
	}
	if err != nil {
		reject(err.Error())
		return
	}
	if id := r.onTrial(); id != "" {
		reject(fmt.Sprintf("busy: the bridge change of request %q is on trial", id))
		return
	}
	var errs errorLines
	l, err := loadCheckedData(r.path, doc, &errs)
	if err != nil {
		reject(errs.lines...)
		return
	}
	if l.cfg.Bridge == nil {
		reject(r.path + ": bridge: a remote configuration must keep a bridge section (without one this gateway is cut off)")
		return
	}
	if seq > 0 {
		if err := r.sequence().Accept(seq); err != nil {
			reject(err.Error())
			return
		}
	}
	r.publishConfig(remote.ConfigResult{ID: req.id, State: remote.StateAccepted})
	trial := !reflect.DeepEqual(upstreamOf(r.g.config().Bridge), upstreamOf(l.cfg.Bridge))
	if err := r.write(req.id, doc, trial); err != nil {
		r.g.log.Error("remote: configuration not written; the old one stays", "id", req.id, "err", err)
		r.publishConfig(remote.ConfigResult{ID: req.id, State: remote.StateFailed, Errors: []string{err.Error()}})
		return
	}
	res := r.g.reloadConfig(r.path)
	if len(res.errs) > 0 || (trial && res.upstream == 0) {
		r.restore(req.id, fmt.Sprintf("apply failed: %v", res.errs))
		return
	}
	if trial {
		r.startTrial(ctx, wg, req.id, res.upstream)
		return
	}
	r.g.log.Info("remote: configuration applied", "id", req.id)
	r.publishConfig(remote.ConfigResult{ID: req.id, State: remote.StateApplied, Restart: res.restart})
}

// document decodes and verifies the envelope of a config/set request and
// returns the document and its sequence (0 for none).
func (r *remoteServer) document(req remoteRequest) ([]byte, uint64, error) {
	var set remote.ConfigSet
	if _, err := remote.ParseRequest(req.payload, &set); err != nil {
		return nil, 0, err
	}
	doc, err := set.Document()
	if err != nil {
		return nil, 0, err
	}
	var key []byte
	if k := r.g.config().Remote.ConfigPublicKey; k != "" {
		key, _ = config.PublicKey(k) // validated
	}
	return doc, set.Seq, set.Verify(key, doc)
}

// sequence is the last accepted configuration sequence, in data_dir.
func (r *remoteServer) sequence() remote.Sequence {
	return remote.Sequence{Path: filepath.Join(r.g.config().Gateway.DataDir, remote.SequenceFile)}
}

// write saves the file in force as the last good one (the request came in
// through its uplink, so it has a working one), marks a trial when there is
// one, and replaces the file with doc. Each step is atomic and durable.
func (r *remoteServer) write(id string, doc []byte, trial bool) error {
	cur, err := os.ReadFile(r.path)
	if err != nil {
		return fmt.Errorf("read %s: %w", r.path, err)
	}
	perm := os.FileMode(0o640)
	if fi, err := os.Stat(r.path); err == nil {
		perm = fi.Mode().Perm()
	}
	if err := atomicfile.WriteFile(lastGoodFile(r.path), cur, perm); err != nil {
		return err
	}
	if trial {
		if err := atomicfile.WriteFile(trialFile(r.path), []byte(id+"\n"), 0o640); err != nil {
			return err
		}
	}
	return atomicfile.WriteFile(r.path, doc, perm)
}

// onTrial returns the id of the request on trial, "" when none.
func (r *remoteServer) onTrial() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.trialID
}

// startTrial waits, in a goroutine of wg, for the uplink to come back with
// the upstream settings of generation gen, at most remote.rollback_after;
// then it reports the change applied, or rolls it back.
func (r *remoteServer) startTrial(ctx context.Context, wg *sync.WaitGroup, id string, gen uint64) {
	wait := time.Duration(r.g.config().Remote.RollbackAfter)
	r.mu.Lock()
	r.trialID = id
	r.mu.Unlock()
	r.g.log.Info("remote: bridge change on trial", "id", id, "rollback_after", wait)
	wg.Go(func() {
		defer func() {
			r.mu.Lock()
			r.trialID = ""
			r.mu.Unlock()
		}()
		ok, err := r.awaitUplink(ctx, gen, wait)
		switch {
		case err != nil: // shutting down: the trial resumes at the next start
		case ok:
			_ = os.Remove(trialFile(r.path))
			r.g.log.Info("remote: bridge change applied: the uplink is back", "id", id)
			r.publishConfig(remote.ConfigResult{ID: id, State: remote.StateApplied})
		default:
			r.restore(id, fmt.Sprintf("the uplink did not come back within %v with the new bridge settings (last error: %v)",
				wait, r.g.bridge.Stats().LastError))
		}
	})
}

// awaitUplink reports whether the bridge connects with the settings of
// generation gen (or a later one) within wait; it returns ctx's error if ctx
// ends first.
func (r *remoteServer) awaitUplink(ctx context.Context, gen uint64, wait time.Duration) (bool, error) {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(trialPoll)
	defer tick.Stop()
	for {
		if st := r.g.bridge.Stats(); st.Connected && st.Generation >= gen {
			return true, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-deadline.C:
			return false, nil
		case <-tick.C:
		}
	}
}

// restore puts the last good configuration back and applies it, after a
// bridge change that failed its trial (or could not be applied), and
// reports why on config/result (queued until the uplink is back).
func (r *remoteServer) restore(id, why string) {
	r.g.log.Error("remote: rolling back to the last configuration with a working uplink", "id", id, "reason", why)
	res := remote.ConfigResult{ID: id, State: remote.StateRolledBack, Errors: []string{why}}
	err := r.rollBack()
	if err != nil {
		r.g.log.Error("remote: rollback failed", "id", id, "err", err)
		res.State, res.Errors = remote.StateFailed, append(res.Errors, "rollback: "+err.Error())
	}
	r.publishConfig(res)
}

// rollBack writes the last good file over the configuration file, applies
// it and clears the trial mark.
func (r *remoteServer) rollBack() error {
	good, err := os.ReadFile(lastGoodFile(r.path))
	if err != nil {
		return fmt.Errorf("read the last good configuration: %w", err)
	}
	perm := os.FileMode(0o640)
	if fi, err := os.Stat(r.path); err == nil {
		perm = fi.Mode().Perm()
	}
	if err := atomicfile.WriteFile(r.path, good, perm); err != nil {
		return err
	}
	res := r.g.reloadConfig(r.path)
	if err := os.Remove(trialFile(r.path)); err != nil && !errors.Is(err, os.ErrNotExist) {
		r.g.log.Warn("remote: remove trial mark", "err", err)
	}
	if len(res.errs) > 0 {
		return fmt.Errorf("apply %s: %v", lastGoodFile(r.path), res.errs)
	}
	return nil
}
