package natsbridge

import (
	"encoding/json"
	"testing"

	"github.com/nats-io/nats.go"

	"mfelab/bus"
)

// The bridge's own work per message, without the network: what a forward and an import
// cost on top of the client and the server. bench/nats_test.go measures the whole trip.
//
//	go test -run '^$' -bench 'Forward|Import|Headers' -benchmem ./bus/natsbridge

// benchEnvelope is a reply as a handler publishes it: correlated and caused, 100 bytes.
func benchEnvelope(b *testing.B) *bus.Envelope {
	bs := bus.New(bus.Options{Seed: 1})
	app := bs.MustRegister(bus.AppConfig{Name: "inventory"})
	payload := json.RawMessage(`{"order":"o-1234","sku":"mouse","qty":1,"warehouse":"north","note":"a hundred bytes of json payload"}`)
	env, err := app.Send(bus.Msg{Topic: "inventory.reserved", Payload: payload, CorrelationID: "0190c4a2-0000-7000-8000-0000000000aa",
		CausationID: [16]byte{1, 2, 3}})
	if err != nil {
		b.Fatal(err)
	}
	return env
}

// wire is what the server hands a subscriber for env: its header block, as nats.go
// decodes it on arrival.
func wire(b *testing.B, env *bus.Envelope) nats.Header {
	h := nats.Header{}
	var enc headerEncoder
	if err := enc.encode(h, "0123456789abcdef", env, 7); err != nil {
		b.Fatal(err)
	}
	block := []byte("NATS/1.0\r\n")
	for k, vs := range h {
		for _, v := range vs {
			block = append(block, k+": "+v+"\r\n"...)
		}
	}
	block = append(block, "\r\n"...)
	dec, err := nats.DecodeHeadersMsg(block)
	if err != nil {
		b.Fatal(err)
	}
	return dec
}

func BenchmarkEncodeHeaders(b *testing.B) {
	env := benchEnvelope(b)
	h := nats.Header{}
	var enc headerEncoder
	b.ReportAllocs()
	for b.Loop() {
		if err := enc.encode(h, "0123456789abcdef", env, 7); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeHeaders(b *testing.B) {
	env := benchEnvelope(b)
	h := wire(b, env)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeHeaders(h, env.Topic, env.Payload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkForward sends one message to a server on loopback that nobody listens to, as
// the bridge does when it is published: headers, the client's encoding of them and its
// buffered write.
func BenchmarkForward(b *testing.B) {
	srv := startServer(b, ServerOptions{})
	bs := bus.New(LiveOptions(bus.Options{}))
	br, err := connect(bs, srv.URL(), Options{Export: []string{}, Import: []string{}, Driven: true, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer br.Close()
	env := benchEnvelope(b)
	b.ReportAllocs()
	for b.Loop() {
		br.sendMu.Lock()
		err := br.send(env)
		br.sendMu.Unlock()
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkImport brings one remote message, as the client hands it over, onto a bus
// with nobody subscribed: decoding, the sender's numbering and the bus's Import.
func BenchmarkImport(b *testing.B) {
	srv := startServer(b, ServerOptions{})
	bs := bus.New(LiveOptions(bus.Options{RetainMax: -1}))
	br, err := connect(bs, srv.URL(), Options{Export: []string{}, Import: []string{}, Driven: true, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer br.Close()
	env := benchEnvelope(b)
	m := &nats.Msg{Subject: env.Topic, Header: wire(b, env), Data: env.Payload}
	var enc headerEncoder
	seq := uint64(0)
	b.ReportAllocs()
	for b.Loop() {
		seq++ // a fresh number each time, as a sender gives them
		if err := enc.encode(m.Header, "0123456789abcdef", env, seq); err != nil {
			b.Fatal(err)
		}
		br.importMsg(m)
	}
	b.StopTimer()
	if s := br.Stats(); s.Imported != uint64(b.N) {
		b.Fatalf("imported %d of %d: %+v", s.Imported, b.N, s)
	}
}
