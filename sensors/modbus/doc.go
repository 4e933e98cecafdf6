// Package modbus reads Modbus devices — energy meters, inverters, PLCs,
// industrial sensors — over Modbus TCP, or Modbus RTU on a serial line (an
// RS485 USB adapter, a UART), through github.com/simonvetter/modbus.
//
// A Dev reads one unit id of one device. Its Points each name a quantity,
// the table the value lives in (holding or input registers, coils,
// discrete inputs), the first address as it goes on the wire (0-based:
// what the 4xxxx convention calls register 40001 is holding 0), how the
// registers encode the value, and a scale, offset and unit:
//
//	type     registers   value
//	uint16   1           0 … 65535 (the default for registers)
//	int16    1           two's complement
//	uint32   2           \
//	int32    2            | the most significant register first, unless
//	float32  2            | LowWordFirst; each register high byte first,
//	uint64   4            | unless LittleEndian
//	int64    4            |
//	float64  4           /
//	bool     1 bit       coils and discrete inputs: 1 or 0
//
// Device manuals name a 32-bit layout by its bytes: ABCD is the default,
// CDAB is LowWordFirst, BADC LittleEndian, DCBA both. The published value
// is raw × Scale + Offset.
//
// # Requests
//
// New plans the reads once: within each table, points in address order
// share a request while it spans at most 125 registers (2000 bits) and the
// gap between them is at most MaxGap unused registers; overlapping points
// share registers. Sense sends the requests one after the other. A Modbus
// exception (the device refused one request: illegal data address, device
// busy, …) fails that request only: Sense returns the other readings with a
// *RequestError naming the unit, the registers and the exception, and the
// connection stays up. Any other failure (no answer within RequestTimeout, a
// connection refused or lost, a bad CRC) ends that Sense and, but for a
// timeout on a serial line, closes the connection or serial port; the next
// Sense reconnects. The poller publishes
// what Sense returned, reports the error on the sensor's status topic once
// per change, and retries with backoff.
//
// # Lines
//
// The driver's sensors with the same address or port share one connection
// or serial port, a line: several unit ids on one RS485 line, or behind one
// Modbus TCP gateway. One Sense at a time holds the line, so requests to
// different units never interleave; the others wait for it within their
// poll's timeout. They must agree on the line's settings (baud, parity, stop
// bits, request_timeout): a sensor asking for others fails to open. The
// line opens on the first Sense and closes when its last sensor halts. A
// unit that does not answer on a serial line leaves the port open for the
// other units; over TCP a timeout closes the connection (a late answer
// would be taken for the next one's), and the next Sense reconnects.
//
// Modbus RTU uses the library's own serial code (github.com/goburrow/serial),
// not sensors.Hardware. The library keeps the inter-frame silence before
// each request (3.5 characters, 1.75 ms from 19200 baud up).
//
// Config keys (beside the common ones):
//
//	address: tcp://192.168.1.50:502  # or rtuovertcp://host:port; or
//	port: /dev/ttyUSB0               # a serial device: Modbus RTU (= address: rtu:///dev/ttyUSB0)
//	unit_id: 1                       # 1–247 on a serial line, 0–255 over TCP
//	baud: 9600                       # serial only
//	parity: none                     # serial only: none | even | odd
//	stop_bits: 2                     # serial only: 1 | 2; default 2 without parity, 1 with
//	request_timeout: 1s              # each answer; at most the sensor's timeout
//	max_gap: 0                       # unused registers (bits) a request may read, 0–124
//	points:                          # required
//	  - quantity: voltage            # required
//	    table: input                 # holding (default) | input | coil | discrete
//	    address: 0x0000              # required, 0–65535
//	    type: float32                # see above; default uint16 (bool for coils, discrete inputs)
//	    word_order: high_first       # high_first (default) | low_first
//	    byte_order: big              # big (default) | little
//	    scale: 1
//	    offset: 0
//	    unit: V
//	    writable: false              # holding and coil only: commanded from <topic>/<quantity>/set
//
// # Writes
//
// A Dev is a sensors.QuantitySetter: SetQuantity writes a point marked
// Writable (a holding register or a coil) and reads it back. The value, in
// published units, has the point's Scale and Offset undone, is rounded to
// the nearest raw value for integer types, and must fit the point's Type
// (a coil: 0 or 1), or ErrOutOfRange refuses it before anything is sent.
// A coil is written with function 5, one register with function 6, more
// registers with function 16, in the point's word and byte order.
package modbus
