package modbus_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"strings"

	mb "github.com/simonvetter/modbus"

	"github.com/edgegw/edgegw/sensors/modbus"
)

// meter stands in for an energy meter: input registers 0-1 hold the
// voltage (float32 230.5, high word first), 6-7 the current (1.25 A),
// coil 0 a relay that is on. It uses the client library's own server; the
// tests use an independent one (modbustest).
type meter struct{}

func (meter) HandleInputRegisters(req *mb.InputRegistersRequest) ([]uint16, error) {
	regs := []uint16{0x4366, 0x8000, 0, 0, 0, 0, 0x3FA0, 0x0000}
	if int(req.Addr)+int(req.Quantity) > len(regs) {
		return nil, mb.ErrIllegalDataAddress
	}
	return regs[req.Addr : req.Addr+req.Quantity], nil
}

func (meter) HandleCoils(req *mb.CoilsRequest) ([]bool, error) {
	if req.Addr != 0 || req.Quantity != 1 {
		return nil, mb.ErrIllegalDataAddress
	}
	return []bool{true}, nil
}

func (meter) HandleDiscreteInputs(*mb.DiscreteInputsRequest) ([]bool, error) {
	return nil, mb.ErrIllegalFunction
}

func (meter) HandleHoldingRegisters(*mb.HoldingRegistersRequest) ([]uint16, error) {
	return nil, mb.ErrIllegalFunction
}

func Example() {
	srv, addr := startMeter()
	defer srv.Stop()

	d, err := modbus.New(&modbus.Opts{
		URL:    "tcp://" + addr,
		UnitID: 1,
		MaxGap: 4, // voltage and current in one request
		Points: []modbus.Point{
			{Quantity: "voltage", Table: modbus.Input, Address: 0, Type: modbus.Float32, Unit: "V"},
			{Quantity: "current", Table: modbus.Input, Address: 6, Type: modbus.Float32, Unit: "A"},
			{Quantity: "relay", Table: modbus.Coil, Address: 0},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer d.Halt()
	readings, err := d.Sense(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range readings {
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%s: %v %s", r.Quantity, r.Value, r.Unit)))
	}
	fmt.Printf("%d requests\n", d.Stats().Requests)
	// Output:
	// voltage: 230.5 V
	// current: 1.25 A
	// relay: 1
	// 2 requests
}

// startMeter serves meter on a free loopback port.
func startMeter() (*mb.ModbusServer, string) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	srv, err := mb.NewServer(&mb.ServerConfiguration{URL: "tcp://" + addr, Logger: log.New(io.Discard, "", 0)}, meter{})
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	return srv, addr
}
