package statuspage_test

import (
	"time"

	"github.com/edgegw/edgegw/internal/statuspage"
)

// testTime is the fixed time of the test snapshots.
var testTime = time.Date(2026, 12, 2, 19, 30, 0, 0, time.UTC)

// testSnapshot is a gateway with a bridge, one sensor that reads and one
// that cannot be opened.
func testSnapshot() statuspage.Snapshot {
	errAt := testTime.Add(-time.Minute)
	return statuspage.Snapshot{
		GatewayID: "pi-kitchen", Version: "v1.2.3 (abc)", TS: testTime, UptimeSeconds: 3600.5,
		Uplink: &statuspage.Uplink{
			State: "online", Address: "tcp://upstream:1883", ConnectedSeconds: 12.25, Connects: 3, Reconnects: 2,
			ConnectFailures: 7, Forwarded: 1000, Received: 5, Inflight: 2,
			Dropped:           map[string]uint64{"overflow_oldest": 4, "expired": 0, "overflow_new": 0, "offline": 9},
			ServerDisconnects: map[string]uint64{"server_shutting_down": 2},
			Outage:            statuspage.Outage{Count: 2, LastSeconds: 61.5, PeakBacklog: 300, LastDrainSeconds: 2.5},
		},
		Queue:        &statuspage.Queue{Messages: 10, Bytes: 2048, OldestAgeSeconds: 1.5, Quarantined: 1},
		LocalClients: 3,
		Broker:       statuspage.Broker{PublishReceived: 500, PublishSent: 700, Retained: 4, Sessions: 3},
		Store:        statuspage.Store{FileSize: 65536, Commits: 10, Fsyncs: 20, BytesWritten: 40960},
		Sensors: []statuspage.Sensor{
			{Name: "kitchen", Driver: "bme280", Topic: "sensors/kitchen", State: statuspage.SensorOK, Reads: 100, Errors: 1, Published: 200, Commands: 5, CommandErrors: 2,
				Readings: []statuspage.Reading{
					{Quantity: "humidity", Value: 40.5, Unit: "%", TS: testTime},
					{Quantity: "temperature", Value: 21.53, Unit: "°C", TS: testTime},
				}},
			{Name: "cellar", Driver: "ds18b20", Topic: "sensors/cellar", State: statuspage.SensorUnavailable,
				Error: "ds18b20: open: no such \"device\"\nsecond line", ErrorTime: &errAt},
		},
		RSSBytes: 12 << 20, DiskFreeBytes: 1 << 30,
		Health: statuspage.Health{OK: true, CheckedAt: testTime},
	}
}

// fakeSource serves fixed data.
type fakeSource struct {
	snap   statuspage.Snapshot
	health statuspage.Health
}

func (f fakeSource) Snapshot() statuspage.Snapshot { return f.snap }
func (f fakeSource) Health() statuspage.Health     { return f.health }
