// natsclient: a second real NATS client for the tests (nats.go, pinned in go.mod). It connects to a
// nats-server with a client certificate (nats.ClientCert) and the CA (nats.RootCAs), proves the
// connection with a request to its own responder and a flush, and prints one JSON object per line.
//
//	natsclient -url tls://127.0.0.1:4222 -cert c.crt -key c.key -ca ca.crt [-name N] [-hold]
//
// Without -hold it exits after the first round trip: 0 when accepted, 1 (with {"event":"error"})
// when refused. With -hold it stays connected and reads commands on stdin, one a line:
// "reconnect" (nc.ForceReconnect: a new TCP+TLS connection, which re-reads the certificate files),
// "ping" (another request + flush), "quit". Every event (connected, reconnected, disconnected,
// reconnect-error, ping, closed) is a JSON line on stdout.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

var outMu sync.Mutex

func emit(ev map[string]any) {
	outMu.Lock()
	defer outMu.Unlock()
	b, _ := json.Marshal(ev)
	fmt.Println(string(b))
}

func roundTrip(nc *nats.Conn, subject string) (map[string]any, error) {
	start := time.Now()
	msg, err := nc.Request(subject, []byte("ping"), 3*time.Second)
	if err != nil {
		return nil, fmt.Errorf("request: %w", err)
	}
	if err := nc.FlushTimeout(3 * time.Second); err != nil {
		return nil, fmt.Errorf("flush: %w", err)
	}
	return map[string]any{"reply": string(msg.Data), "rtt_ms": time.Since(start).Milliseconds(), "server_id": nc.ConnectedServerId(), "url": nc.ConnectedUrl()}, nil
}

func main() {
	url := flag.String("url", "", "server URL (tls://127.0.0.1:PORT)")
	cert := flag.String("cert", "", "client certificate file (PEM)")
	key := flag.String("key", "", "client key file (PEM)")
	ca := flag.String("ca", "", "CA file (PEM)")
	name := flag.String("name", "natsgo", "client name sent in CONNECT")
	hold := flag.Bool("hold", false, "stay connected and read commands on stdin")
	flag.Parse()
	if *url == "" || *ca == "" {
		fmt.Fprintln(os.Stderr, "natsclient: -url and -ca are required")
		os.Exit(2)
	}
	subject := "natsgo.echo." + *name
	opts := []nats.Option{
		nats.Name(*name),
		nats.RootCAs(*ca),
		nats.Timeout(5 * time.Second),
		nats.ReconnectWait(200 * time.Millisecond),
		nats.MaxReconnects(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			emit(map[string]any{"event": "disconnected", "error": fmt.Sprint(err)})
		}),
		nats.ReconnectErrHandler(func(_ *nats.Conn, err error) {
			emit(map[string]any{"event": "reconnect-error", "error": fmt.Sprint(err)})
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			emit(map[string]any{"event": "async-error", "error": fmt.Sprint(err)})
		}),
		nats.ClosedHandler(func(_ *nats.Conn) { emit(map[string]any{"event": "closed"}) }),
	}
	if *cert != "" || *key != "" {
		opts = append(opts, nats.ClientCert(*cert, *key))
	}
	if !*hold {
		opts = append(opts, nats.NoReconnect())
	}
	reconnected := make(chan struct{}, 16)
	opts = append(opts, nats.ReconnectHandler(func(_ *nats.Conn) { reconnected <- struct{}{} }))

	nc, err := nats.Connect(*url, opts...)
	if err != nil {
		emit(map[string]any{"event": "error", "ok": false, "error": err.Error()})
		os.Exit(1)
	}
	if _, err := nc.Subscribe(subject, func(m *nats.Msg) { _ = m.Respond([]byte("pong")) }); err != nil {
		emit(map[string]any{"event": "error", "ok": false, "error": err.Error()})
		os.Exit(1)
	}
	rt, err := roundTrip(nc, subject)
	if err != nil {
		emit(map[string]any{"event": "error", "ok": false, "error": err.Error()})
		os.Exit(1)
	}
	rt["event"], rt["ok"] = "connected", true
	emit(rt)
	if !*hold {
		nc.Close()
		return
	}
	go func() {
		for range reconnected {
			rt, err := roundTrip(nc, subject)
			if err != nil {
				emit(map[string]any{"event": "reconnected", "ok": false, "error": err.Error()})
				continue
			}
			rt["event"], rt["ok"] = "reconnected", true
			emit(rt)
		}
	}()
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch in.Text() {
		case "reconnect":
			if err := nc.ForceReconnect(); err != nil {
				emit(map[string]any{"event": "error", "ok": false, "error": err.Error()})
			}
		case "ping":
			rt, err := roundTrip(nc, subject)
			if err != nil {
				emit(map[string]any{"event": "ping", "ok": false, "error": err.Error()})
				continue
			}
			rt["event"], rt["ok"] = "ping", true
			emit(rt)
		case "quit":
			nc.Close()
			return
		}
	}
	nc.Close()
}
