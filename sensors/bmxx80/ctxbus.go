package bmxx80

import (
	"context"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
)

// ctxBus is the bus handed to periph's driver. periph's calls take no
// context, so Dev sets ctx (under Dev.mu) before each call into periph, and
// every transaction checks it first: a cancelled Sense stops at the next
// transaction, including periph's busy-wait on the status register.
type ctxBus struct {
	bus i2c.Bus
	ctx context.Context // guarded by Dev.mu; never nil
}

// String implements i2c.Bus.
func (b *ctxBus) String() string { return b.bus.String() }

// Tx implements i2c.Bus: it refuses to start once ctx is done.
func (b *ctxBus) Tx(addr uint16, w, r []byte) error {
	if err := b.ctx.Err(); err != nil {
		return err
	}
	return b.bus.Tx(addr, w, r)
}

// SetSpeed implements i2c.Bus.
func (b *ctxBus) SetSpeed(f physic.Frequency) error { return b.bus.SetSpeed(f) }

var _ i2c.Bus = (*ctxBus)(nil)
