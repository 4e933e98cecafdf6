package offline

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// KV is a durable key/value bucket in a DB, e.g. for an MQTT broker's
// retained messages and persistent sessions. Writes are group-committed with
// everything else the DB writes and are durable when they return. A KV is
// safe for concurrent use.
type KV struct {
	d      *DB
	name   string
	bucket []byte // kvPrefix + name
}

// KV returns the KV bucket with the given name; it is created by the first
// Put. Different names never share keys.
func (d *DB) KV(bucket string) *KV {
	return &KV{d: d, name: bucket, bucket: []byte(kvPrefix + bucket)}
}

// Put stores value under key, durably on return.
func (kv *KV) Put(key string, value []byte) error {
	res := make(chan error, 1)
	kv.PutAsync(key, value, func(err error) { res <- err })
	return <-res
}

// PutAsync is Put without waiting: done is called once value is durable
// under key, or with the error, from the DB's writer goroutine (so it must
// be quick). Puts and deletes issued together share one commit: writing
// many records costs one fsync, not one each. value must not be modified
// until done is called.
func (kv *KV) PutAsync(key string, value []byte, done func(error)) {
	if err := kv.checkKey(key); err != nil {
		done(err)
		return
	}
	if len(value) > bolt.MaxValueSize {
		done(fmt.Errorf("%w: kv %q: value of %d bytes", ErrInvalid, kv.name, len(value)))
		return
	}
	kv.submit(func(b *batch) error {
		bk, err := b.tx.CreateBucketIfNotExists(kv.bucket)
		if err != nil {
			return fmt.Errorf("offline: kv %q: %w", kv.name, err)
		}
		if err := bk.Put([]byte(key), value); err != nil {
			return fmt.Errorf("offline: kv %q: put: %w", kv.name, err)
		}
		return nil
	}, done)
}

// Delete removes key, durably on return. A missing key is not an error.
func (kv *KV) Delete(key string) error {
	res := make(chan error, 1)
	kv.DeleteAsync(key, func(err error) { res <- err })
	return <-res
}

// DeleteAsync is Delete without waiting, as PutAsync is for Put.
func (kv *KV) DeleteAsync(key string, done func(error)) {
	if err := kv.checkKey(key); err != nil {
		done(err)
		return
	}
	kv.submit(func(b *batch) error {
		bk := b.tx.Bucket(kv.bucket)
		if bk == nil {
			return nil
		}
		if err := bk.Delete([]byte(key)); err != nil {
			return fmt.Errorf("offline: kv %q: delete: %w", kv.name, err)
		}
		return nil
	}, done)
}

// submit hands a write to the writer goroutine.
func (kv *KV) submit(apply func(*batch) error, done func(error)) {
	if err := kv.d.submit(&op{apply: apply, done: done}); err != nil {
		done(err)
	}
}

// Get returns a copy of the value of key and whether it exists.
func (kv *KV) Get(key string) ([]byte, bool, error) {
	var val []byte
	var found bool
	err := kv.d.view(func(tx *bolt.Tx) error {
		if bk := tx.Bucket(kv.bucket); bk != nil {
			if v := bk.Get([]byte(key)); v != nil {
				val, found = bytes.Clone(v), true
			}
		}
		return nil
	})
	return val, found, err
}

// ForEach calls fn for every key in key order with a copy of its value,
// stopping at fn's first error, which it returns. fn runs outside any
// transaction and may call Put or Delete; it sees the bucket as it is when
// each page of keys is read.
func (kv *KV) ForEach(fn func(key string, value []byte) error) error {
	return kv.d.forEachPaged([][]byte{kv.bucket}, func(k, v []byte) error {
		return fn(string(k), v)
	})
}

func (kv *KV) checkKey(key string) error {
	if key == "" || len(key) > bolt.MaxKeySize {
		return fmt.Errorf("%w: kv %q: key of %d bytes", ErrInvalid, kv.name, len(key))
	}
	return nil
}

// forEachPageSize is how many key/value pairs forEachPaged copies per read
// transaction.
const forEachPageSize = 256

// forEachPaged calls fn for every key/value of the bucket at path (nested
// bucket names), in key order, with copies, outside read transactions: fn
// may write to the DB without deadlocking against a transaction it holds.
func (d *DB) forEachPaged(path [][]byte, fn func(k, v []byte) error) error {
	var from []byte
	for {
		var keys, vals [][]byte
		err := d.view(func(tx *bolt.Tx) error {
			bk := tx.Bucket(path[0])
			for _, name := range path[1:] {
				if bk == nil {
					break
				}
				bk = bk.Bucket(name)
			}
			if bk == nil {
				return nil
			}
			c := bk.Cursor()
			k, v := c.First()
			if from != nil {
				if k, v = c.Seek(from); k != nil && bytes.Equal(k, from) {
					k, v = c.Next()
				}
			}
			for ; k != nil && len(keys) < forEachPageSize; k, v = c.Next() {
				if v == nil { // a nested bucket, not a value
					continue
				}
				keys, vals = append(keys, bytes.Clone(k)), append(vals, bytes.Clone(v))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for i := range keys {
			if err := fn(keys[i], vals[i]); err != nil {
				return err
			}
		}
		if len(keys) < forEachPageSize {
			return nil
		}
		from = keys[len(keys)-1]
	}
}
