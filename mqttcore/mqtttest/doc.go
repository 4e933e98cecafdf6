// Package mqtttest provides test doubles and real peers for MQTT tests. It is
// imported only by _test.go files.
//
//   - [StartMosquitto] and [StartMosquittoTLS] run the system's Mosquitto
//     broker (/usr/sbin/mosquitto) on a free loopback port for the duration of
//     a test. The TLS variant generates a throw-away CA, a server certificate
//     and a client certificate, and requires the client certificate (mutual
//     TLS). When Mosquitto is not installed the test is skipped with a clear
//     message, unless the environment variable CI is set, in which case it
//     fails.
//   - [StartMochi] runs github.com/mochi-mqtt/server/v2, an independent Go
//     broker, in-process on a loopback port, with every client and topic
//     allowed.
//   - [Proxy] is a TCP fault proxy placed between a client and a broker. Its
//     [Mode] can be switched at run time to pass, refuse, reset, blackhole or
//     slow down traffic.
//   - [Subscribe] connects a Paho client that records every message it
//     receives, so a test can assert what an upstream subscriber saw.
//   - [WaitFor] polls a condition until a deadline; tests use it instead of
//     sleeping or asserting on timings.
//   - Small helpers for tests that run their own processes and clients:
//     [FreeAddr] picks a free loopback port, [SyncBuffer] collects a child
//     process's output safely, [MessageOf] records a message a Paho handler
//     received.
//
// Limitations: the brokers listen on 127.0.0.1 only; Mosquitto runs with
// persistence disabled, so its sessions live as long as the process; the
// proxy works on TCP byte streams, not on MQTT packets (see [Proxy]).
package mqtttest
