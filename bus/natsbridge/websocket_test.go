package natsbridge

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"mfelab/bus"
)

// A browser speaks to the server in the NATS client protocol carried in WebSocket frames
// (docs/browser/natsws.js). wsClient does the same from Go with nothing but the standard
// library, so the bridge's side of that conversation is tested where node is not
// installed too: the opening handshake, masked frames out, the server's frames in.
type wsClient struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
	buf  []byte // protocol bytes received and not yet read
}

func dialWS(t *testing.T, url string) *wsClient {
	t.Helper()
	host := strings.TrimPrefix(url, "ws://")
	conn, err := net.DialTimeout("tcp", host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nOrigin: null\r\n\r\n", host, key)
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		t.Fatalf("websocket handshake: %s %v", resp.Status, resp.Header)
	}
	return &wsClient{t: t, conn: conn, r: r}
}

// send writes s as one masked binary frame, as a browser must.
func (c *wsClient) send(s string) {
	c.t.Helper()
	frame := []byte{0x82} // FIN, binary
	switch n := len(s); {
	case n < 126:
		frame = append(frame, 0x80|byte(n))
	case n < 1<<16:
		frame = append(frame, 0x80|126, byte(n>>8), byte(n))
	default:
		frame = append(frame, 0x80|127)
		frame = binary.BigEndian.AppendUint64(frame, uint64(n))
	}
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	frame = append(frame, mask[:]...)
	for i := range len(s) {
		frame = append(frame, s[i]^mask[i%4])
	}
	if _, err := c.conn.Write(frame); err != nil {
		c.t.Fatal(err)
	}
}

// fill reads one frame's payload into buf; it answers pings and fails on a close.
func (c *wsClient) fill() {
	c.t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(c.r, h[:]); err != nil {
		c.t.Fatal(err)
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var l [2]byte
		_, _ = io.ReadFull(c.r, l[:])
		n = uint64(binary.BigEndian.Uint16(l[:]))
	case 127:
		var l [8]byte
		_, _ = io.ReadFull(c.r, l[:])
		n = binary.BigEndian.Uint64(l[:])
	}
	if h[1]&0x80 != 0 {
		c.t.Fatal("the server masked a frame")
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(c.r, payload); err != nil {
		c.t.Fatal(err)
	}
	switch h[0] & 0x0f {
	case 0x8:
		c.t.Fatalf("the server closed the websocket: %q", payload)
	case 0x9:
		c.conn.Write([]byte{0x8a, 0x80, 0, 0, 0, 0}) // pong, empty and masked
	case 0x0, 0x1, 0x2:
		c.buf = append(c.buf, payload...)
	}
}

// line reads the next protocol line, without its CRLF.
func (c *wsClient) line() string {
	c.t.Helper()
	for {
		if i := bytes.Index(c.buf, []byte("\r\n")); i >= 0 {
			l := string(c.buf[:i])
			c.buf = c.buf[i+2:]
			return l
		}
		c.fill()
	}
}

// take reads n bytes and the CRLF after them.
func (c *wsClient) take(n int) []byte {
	c.t.Helper()
	for len(c.buf) < n+2 {
		c.fill()
	}
	b := append([]byte(nil), c.buf[:n]...)
	c.buf = c.buf[n+2:]
	return b
}

// hmsg reads protocol lines until a message arrives, answering the server's pings, and
// returns its subject, its header lines by name, and its payload.
func (c *wsClient) hmsg() (string, map[string]string, string) {
	c.t.Helper()
	for {
		l := c.line()
		f := strings.Fields(l)
		switch {
		case len(f) == 0:
		case f[0] == "PING":
			c.send("PONG\r\n")
		case f[0] == "HMSG" && len(f) >= 5:
			hl, _ := strconv.Atoi(f[len(f)-2])
			tl, _ := strconv.Atoi(f[len(f)-1])
			body := c.take(tl)
			h := map[string]string{}
			for _, hl := range strings.Split(string(body[:hl]), "\r\n")[1:] {
				if k, v, ok := strings.Cut(hl, ":"); ok {
					h[k] = strings.TrimLeft(v, " \t")
				}
			}
			return f[1], h, string(body[hl:])
		case f[0] == "-ERR":
			c.t.Fatalf("server: %s", l)
		}
	}
}

func TestABrowserJoinsOverWebSocket(t *testing.T) {
	srv := startServer(t, ServerOptions{WebSocket: "127.0.0.1:0"})
	b, br := join(t, srv.URL(), Options{})
	fromPage := subscribe(t, b, "inventory", "browser.#")

	ws := dialWS(t, srv.WebSocketURL())
	if l := ws.line(); !strings.HasPrefix(l, "INFO ") || !strings.Contains(l, `"headers":true`) {
		t.Fatalf("first line %q, want the server's INFO offering headers", l)
	}
	ws.send(`CONNECT {"verbose":false,"pedantic":false,"headers":true,"protocol":1,"name":"page"}` + "\r\n")
	ws.send("SUB cart 1\r\nSUB cart.> 2\r\nPING\r\n") // the pattern cart.#, as SubjectsFor maps it
	if l := ws.line(); l != "PONG" {
		t.Fatalf("got %q, want PONG once the server has the subscriptions", l)
	}

	t.Run("a bus message arrives with the envelope in its headers", func(t *testing.T) {
		cause := uuid.MustParse("0190c4a2-0000-7000-8000-0000000000bb")
		sent, err := b.MustRegister(bus.AppConfig{Name: "cart"}).Send(bus.Msg{Topic: "cart.item.added", Payload: map[string]int{"qty": 2},
			CorrelationID: " order 7 ", CausationID: cause})
		if err != nil {
			t.Fatal(err)
		}
		subject, h, payload := ws.hmsg()
		f := strings.Fields(h[HeaderOrigin])
		if subject != "cart.item.added" || payload != `{"qty":2}` || len(f) != 7 {
			t.Fatalf("got %s %v %s", subject, h, payload)
		}
		corr, err := readValue(h[HeaderCorrelation])
		if f[0] != br.ID() || f[1] != strconv.FormatUint(sent.Seq, 10) || f[4] != sent.ID.String() || f[5] != "cart" ||
			f[6] != sent.Meta.TraceParent.String() || corr != " order 7 " || err != nil || h[HeaderCausation] != cause.String() {
			t.Errorf("headers %q, want those of %v (%+v) from bridge %s", h, sent, sent.Meta, br.ID())
		}
	})

	t.Run("a message the page publishes reaches the bus as from its remote app", func(t *testing.T) {
		id := uuid.Must(uuid.NewV7())
		hdr := "NATS/1.0\r\n" +
			HeaderOrigin + ": 00000000000000aa 1 1 2026-01-02T03:04:05.006Z " + id.String() + " browser -\r\n" +
			HeaderCorrelation + ": order 7\r\n\r\n"
		data := `{"hello":"from the page"}`
		ws.send(fmt.Sprintf("HPUB browser.hello %d %d\r\n%s%s\r\nPING\r\n", len(hdr), len(hdr)+len(data), hdr, data))
		waitFor(t, "the page's message on the bus", func() bool { return fromPage.len() > 0 })
		env := fromPage.last()
		if env.ID != id || env.Meta.Source != "browser" || env.Meta.CorrelationID != "order 7" || string(env.Payload) != data {
			t.Errorf("bus got %v %+v", env, env.Meta)
		}
		if a := b.App("browser"); a == nil || !a.Remote() {
			t.Errorf("app browser is %v, want a remote app", a)
		}
		if o, ok := OriginOf(env); !ok || o.Bridge != "00000000000000aa" || o.Seq != 1 {
			t.Errorf("origin %+v %v", o, ok)
		}
	})

}
