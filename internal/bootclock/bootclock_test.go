package bootclock

import (
	"testing"
	"time"
)

func TestStamp_Elapsed(t *testing.T) {
	a := Now()
	time.Sleep(20 * time.Millisecond)
	b := Now()
	if d, ok := a.Elapsed(b); !ok || d < 20*time.Millisecond || d > 5*time.Second {
		t.Errorf("Elapsed = %v, %v; want about 20ms, known", d, ok)
	}
	if BootID() != a.Boot || a.Boot == 0 {
		t.Errorf("boot id %x then %x: want one non-zero id per process", a.Boot, BootID())
	}
	other := Stamp{Boot: a.Boot + 1, Since: 0}
	if d, ok := other.Elapsed(b); ok || d != 0 {
		t.Errorf("stamp of another boot: Elapsed = %v, %v; want 0, unknown", d, ok)
	}
	if d, ok := b.Elapsed(a); !ok || d != 0 {
		t.Errorf("a later stamp: Elapsed = %v, %v; want 0, known", d, ok)
	}
}
