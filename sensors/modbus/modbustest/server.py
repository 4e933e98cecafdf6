"""An independent Modbus server for edgegw's tests, on pymodbus (Debian's
python3-pymodbus): Modbus TCP (or RTU frames over TCP) on a loopback port,
or Modbus RTU on a serial device (one end of a socat pseudo-terminal pair).

    server.py tcp HOST PORT
    server.py rtuovertcp HOST PORT   (RTU frames over TCP)
    server.py rtu DEVICE BAUD
    server.py read HOST PORT UNIT TABLE ADDRESS COUNT

It prints "ready" once it serves. "read" is not a server: it is pymodbus's
own client reading a Modbus TCP server's holding registers or coils (TABLE
holding or coil), printing them as decimal numbers on one line, so that a
test checks what a write left in the server without the driver's help. The register map is modbustest's Map
(modbustest.go holds the values the tests expect); addresses are the ones on
the wire (zero_mode), and anything past a table's end is answered with
exception 2, illegal data address. Unit 9 is not served and gets no answer
at all, so a request to it times out.
"""

import asyncio
import sys

from pymodbus.datastore import (
    ModbusSequentialDataBlock,
    ModbusServerContext,
    ModbusSlaveContext,
)
from pymodbus.server import StartAsyncSerialServer, StartAsyncTcpServer
from pymodbus.transaction import ModbusRtuFramer, ModbusSocketFramer

HOLDING = [
    215,             # 0: uint16 21.5 with scale 0.1
    0xFFF6,          # 1: int16 -10
    0x0001, 0xE240,  # 2-3: uint32 123456, high word first
    0xFFFE, 0x1DC0,  # 4-5: int32 -123456
    0x4366, 0x8000,  # 6-7: float32 230.5
    0x0000, 0xC144,  # 8-9: float32 -12.25, low word first
    0x3412,          # 10: uint16 0x1234 with little-endian bytes
    0x0000, 0x44C1,  # 11-12: float32 -12.25, little-endian bytes, low word first
] + [0] * 7 + [7] + [0] * 9  # 20: 7; 30 registers in all
INPUT = [0x4248, 0x0000, 1013]  # 0-1: float32 50.0; 2: uint16 1013
COILS = [1, 0, 0, 0, 0, 1]
DISCRETE = [1, 0]


def unit(holding, inputs, coils, discrete):
    return ModbusSlaveContext(
        hr=ModbusSequentialDataBlock(0, holding),
        ir=ModbusSequentialDataBlock(0, inputs),
        co=ModbusSequentialDataBlock(0, coils),
        di=ModbusSequentialDataBlock(0, discrete),
        zero_mode=True,
    )


def context():
    return ModbusServerContext(
        slaves={
            1: unit(HOLDING, INPUT, COILS, DISCRETE),
            2: unit([42, 43], [44], [0], [1]),
        },
        single=False,
    )


def read(argv):
    from pymodbus.client import ModbusTcpClient
    host, port, unit, table, addr, count = argv[2], int(argv[3]), int(argv[4]), argv[5], int(argv[6]), int(argv[7])
    client = ModbusTcpClient(host, port=port, timeout=5)
    if not client.connect():
        raise SystemExit("read: cannot connect")
    if table == "holding":
        rr = client.read_holding_registers(addr, count, slave=unit)
        values = rr.registers
    else:
        rr = client.read_coils(addr, count, slave=unit)
        values = [int(b) for b in rr.bits[:count]]
    client.close()
    print(" ".join(str(v) for v in values), flush=True)


async def main(argv):
    mode = argv[1]
    if mode in ("tcp", "rtuovertcp"):
        framer = ModbusSocketFramer if mode == "tcp" else ModbusRtuFramer
        server = await StartAsyncTcpServer(
            context=context(), address=(argv[2], int(argv[3])), framer=framer,
            ignore_missing_slaves=True, allow_reuse_address=True, defer_start=True)
        task = asyncio.create_task(server.serve_forever())
        await server.serving
    elif mode == "rtu":
        server = await StartAsyncSerialServer(
            context=context(), framer=ModbusRtuFramer, port=argv[2], baudrate=int(argv[3]),
            ignore_missing_slaves=True, defer_start=True)
        await server.start()
        task = asyncio.create_task(server.serve_forever())
    else:
        raise SystemExit("usage: server.py tcp|rtuovertcp HOST PORT | rtu DEVICE BAUD")
    print("ready", flush=True)
    await task


if __name__ == "__main__":
    if sys.argv[1] == "read":
        read(sys.argv)
    else:
        asyncio.run(main(sys.argv))
