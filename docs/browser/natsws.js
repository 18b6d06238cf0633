// A browser microfrontend's way onto an MFE Lab bus: the NATS client protocol over a
// WebSocket, and the envelope headers the lab's bridge (bus/natsbridge) reads and writes.
//
// It is the few protocol verbs a microfrontend needs (CONNECT, PING/PONG, SUB/UNSUB,
// HPUB, MSG/HMSG) in plain JavaScript with no dependency, so that the whole exchange can
// be read in one file. It runs as a classic <script> (window.MfeNats), which works from
// file://, and under Node 20+ (`node --experimental-websocket`) as a CommonJS module.
//
// What it leaves out: TLS options (use a wss:// URL), reconnecting, request/reply, JetStream,
// and the client's own flow control. For an application, a maintained client such as
// @nats-io/nats-core does those.
(function (root) {
  "use strict";

  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const CRLF = "\r\n";

  // Header names the bridge uses (see bus/natsbridge/headers.go).
  const H = {
    origin: "Mfelab-Origin", // <bridge id> <Seq> <subject count> <TS> <ID> <source> <traceparent or ->
    correlation: "Mfelab-Correlation",
    causation: "Mfelab-Causation",
    schema: "Mfelab-Schema",
    headers: "Mfelab-Headers", // the free headers, as one JSON object
  };

  function concat(a, b) {
    if (a.length === 0) return b;
    const out = new Uint8Array(a.length + b.length);
    out.set(a);
    out.set(b, a.length);
    return out;
  }

  // indexOfCRLF finds "\r\n" in buf at or after from, or -1.
  function indexOfCRLF(buf, from) {
    for (let i = from; i + 1 < buf.length; i++) {
      if (buf[i] === 13 && buf[i + 1] === 10) return i;
    }
    return -1;
  }

  // A connection to a NATS server over a WebSocket. Use connect() to make one.
  class Connection {
    constructor(ws, opts) {
      this.ws = ws;
      this.opts = opts;
      this.buf = new Uint8Array(0);
      this.subs = new Map(); // sid -> callback
      this.nextSid = 1;
      this.pongs = []; // resolvers of flush(), in order
      this.info = null;
      this.closed = false;
      this.onerror = opts.onerror || (() => {});
      this.onclose = opts.onclose || (() => {});
    }

    send(text, ...parts) {
      if (this.closed) throw new Error("the connection is closed");
      let out = enc.encode(text);
      for (const p of parts) out = concat(out, p);
      this.ws.send(out);
    }

    // receive parses what the server sent: the protocol is a stream, and one WebSocket
    // message may hold several protocol messages or part of one.
    receive(chunk) {
      this.buf = concat(this.buf, chunk);
      for (;;) {
        const eol = indexOfCRLF(this.buf, 0);
        if (eol < 0) return;
        const line = dec.decode(this.buf.subarray(0, eol));
        const op = line.split(" ", 1)[0].toUpperCase();
        if (op === "MSG" || op === "HMSG") {
          // MSG <subject> <sid> [reply] <bytes>; HMSG <subject> <sid> [reply] <header bytes> <bytes>
          const f = line.split(" ").filter((s) => s !== "");
          const total = Number(f[f.length - 1]);
          const hdrLen = op === "HMSG" ? Number(f[f.length - 2]) : 0;
          const start = eol + 2;
          if (this.buf.length < start + total + 2) return; // wait for the rest
          const body = this.buf.slice(start, start + total);
          this.buf = this.buf.subarray(start + total + 2);
          const n = f.length - (op === "HMSG" ? 5 : 4); // 1 if there is a reply subject
          const msg = {
            subject: f[1],
            sid: Number(f[2]),
            reply: n === 1 ? f[3] : "",
            headers: op === "HMSG" ? decodeHeaderBlock(body.subarray(0, hdrLen)) : {},
            data: body.subarray(hdrLen),
          };
          const cb = this.subs.get(msg.sid);
          if (cb) {
            try {
              cb(msg);
            } catch (e) {
              this.onerror(e);
            }
          }
          continue;
        }
        this.buf = this.buf.subarray(eol + 2);
        switch (op) {
          case "INFO":
            this.info = JSON.parse(line.slice(5));
            break;
          case "PING":
            this.send("PONG" + CRLF);
            break;
          case "PONG": {
            const r = this.pongs.shift();
            if (r) r.resolve();
            break;
          }
          case "+OK":
            break;
          case "-ERR":
            this.onerror(new Error("server: " + line.slice(5).replace(/^'|'$/g, "")));
            break;
        }
      }
    }

    // subscribe asks for the messages on a NATS subject (`*` one token, `>` the rest) and
    // calls cb with each as {subject, reply, headers, data}; it returns the subscription id.
    subscribe(subject, cb) {
      const sid = this.nextSid++;
      this.subs.set(sid, cb);
      this.send(`SUB ${subject} ${sid}` + CRLF);
      return sid;
    }

    unsubscribe(sid) {
      this.subs.delete(sid);
      if (!this.closed) this.send(`UNSUB ${sid}` + CRLF);
    }

    // publish sends data (a string or bytes) on subject, with headers ({name: value}).
    publish(subject, data, headers) {
      const body = typeof data === "string" ? enc.encode(data) : data || new Uint8Array(0);
      const hdr = encodeHeaderBlock(headers || {});
      this.send(`HPUB ${subject} ${hdr.length} ${hdr.length + body.length}` + CRLF, hdr, body, enc.encode(CRLF));
    }

    // flush resolves once the server has everything sent so far (it answers a PING in
    // order), and is rejected when the connection closes first.
    flush() {
      return new Promise((resolve, reject) => {
        this.pongs.push({ resolve, reject });
        this.send("PING" + CRLF);
      });
    }

    close() {
      if (this.closed) return;
      this.closed = true;
      this.ws.close();
    }
  }

  // connect opens a WebSocket to url (ws:// or wss://), says CONNECT once the server has
  // introduced itself, and resolves when the server has answered a PING: from then on it
  // has the connection's options. opts: name, user, pass, onerror(err), onclose(), and
  // WebSocket (the constructor, where there is no global one).
  function connect(url, opts) {
    opts = opts || {};
    const WS = opts.WebSocket || root.WebSocket;
    if (!WS) return Promise.reject(new Error("no WebSocket here (Node needs --experimental-websocket before version 22)"));
    return new Promise((resolve, reject) => {
      let ws;
      try {
        ws = new WS(url);
      } catch (e) {
        reject(e);
        return;
      }
      ws.binaryType = "arraybuffer";
      const c = new Connection(ws, opts);
      let ready = false;
      ws.onmessage = (ev) => {
        const chunk = typeof ev.data === "string" ? enc.encode(ev.data) : new Uint8Array(ev.data);
        const first = c.info === null;
        c.receive(chunk);
        if (first && c.info !== null) {
          // Headers must be asked for: the server sends HMSG only to clients that say so.
          const hello = { verbose: false, pedantic: false, headers: true, no_responders: true, protocol: 1, lang: "js", version: "mfelab-page", name: opts.name || "mfelab browser" };
          if (opts.user) {
            hello.user = opts.user;
            hello.pass = opts.pass || "";
          }
          c.send("CONNECT " + JSON.stringify(hello) + CRLF);
          c.flush().then(
            () => {
              ready = true;
              resolve(c);
            },
            (e) => reject(e),
          );
        }
      };
      ws.onerror = () => {
        const err = new Error("cannot reach " + url + " (is `mfelab serve -websocket ADDR` running there?)");
        if (!ready) reject(err);
        else c.onerror(err);
      };
      ws.onclose = () => {
        c.closed = true;
        for (const p of c.pongs.splice(0)) p.reject(new Error("the connection closed"));
        if (!ready) reject(new Error("the server closed the connection (wrong user or password?)"));
        c.onclose();
      };
    });
  }

  // A header block: "NATS/1.0", then "Name: value" lines, then an empty line.
  function encodeHeaderBlock(headers) {
    let s = "NATS/1.0" + CRLF;
    for (const [k, v] of Object.entries(headers)) {
      if (/[\r\n:\s]/.test(k) || /[\r\n]/.test(v)) throw new Error(`header ${k} cannot travel as a header line`);
      s += `${k}: ${v}` + CRLF;
    }
    return enc.encode(s + CRLF);
  }

  function decodeHeaderBlock(bytes) {
    const out = {};
    const lines = dec.decode(bytes).split(CRLF);
    for (const l of lines.slice(1)) {
      const i = l.indexOf(":");
      if (i <= 0) continue;
      const k = l.slice(0, i);
      (out[k] = out[k] || []).push(l.slice(i + 1).replace(/^[ \t]+/, ""));
    }
    return out;
  }

  // subjectsFor maps a bus pattern to the NATS subjects that together match exactly its
  // topics, as the bridge's SubjectsFor: `+` is `*`, `#` alone is `>`, `x.#` is `x` and `x.>`.
  function subjectsFor(pattern) {
    pattern = pattern.trim();
    if (!/^([A-Za-z0-9_-]+|\+)(\.([A-Za-z0-9_-]+|\+))*(\.#)?$|^#$/.test(pattern)) {
      throw new Error(`"${pattern}" is not a bus pattern: segments of A-Z a-z 0-9 _ -, or + for one segment, # last for any number`);
    }
    if (pattern === "#") return [">"];
    const trailing = pattern.endsWith(".#");
    const head = (trailing ? pattern.slice(0, -2) : pattern).replace(/(^|\.)\+(?=\.|$)/g, "$1*");
    return trailing ? [head, head + ".>"] : [head];
  }

  // validTopic says why topic cannot be published on a bus, or "" when it can.
  function validTopic(topic) {
    if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(topic)) return `"${topic}" is not a topic: segments of A-Z a-z 0-9 _ - separated by dots`;
    if (enc.encode(topic).length > 255 || topic.split(".").length > 32) return `"${topic}" is longer than a topic may be (255 bytes, 32 segments)`;
    return "";
  }

  // readValue undoes the quoting the bridge gives a value with spaces at its ends, line
  // breaks or a leading quote (Go syntax, which is JSON's but for a few escapes).
  function readValue(v) {
    if (!v || v[0] !== '"') return v || "";
    try {
      return JSON.parse(v.replace(/\\a/g, "\\u0007").replace(/\\v/g, "\\u000b").replace(/\\x([0-9a-fA-F]{2})/g, "\\u00$1"));
    } catch (e) {
      return v;
    }
  }

  function writeValue(v) {
    return /^["\s]|\s$|[\x00-\x1f\x7f]/.test(v) ? JSON.stringify(v) : v;
  }

  // decodeEnvelope reads a message as the bus would: its topic, and the envelope fields
  // the sending bridge put in its headers. A message without them (a plain NATS client)
  // is foreign: the bus takes it in as published by the app "nats".
  function decodeEnvelope(msg) {
    const get = (k) => (msg.headers[k] ? msg.headers[k][0] : "");
    const env = { topic: msg.subject, payload: dec.decode(msg.data), foreign: true, source: "nats", headers: {} };
    const origin = get(H.origin);
    if (origin) {
      const f = origin.split(" ");
      if (f.length === 7) {
        Object.assign(env, { foreign: false, bridge: f[0], seq: Number(f[1]), subjectCount: Number(f[2]), ts: f[3], id: f[4], source: f[5], traceparent: f[6] === "-" ? "" : f[6] });
      }
    }
    env.correlation = readValue(get(H.correlation));
    env.causation = get(H.causation);
    env.schema = readValue(get(H.schema));
    try {
      env.headers = JSON.parse(get(H.headers) || "{}");
    } catch (e) {
      env.headers = {};
    }
    return env;
  }

  function hex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function randomBytes(n) {
    const b = new Uint8Array(n);
    root.crypto.getRandomValues(b);
    return b;
  }

  // uuidv7 makes a time-ordered UUID, as a live bus makes its envelope IDs.
  function uuidv7(now) {
    const b = randomBytes(16);
    let ms = now;
    for (let i = 5; i >= 0; i--) {
      b[i] = ms % 256;
      ms = Math.floor(ms / 256);
    }
    b[6] = (b[6] & 0x0f) | 0x70;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = hex(b);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // Sender publishes as a bridge does, so that a bus takes each message in as published
  // by the remote app `source`, with the ID, correlation and causation it is given here,
  // and counts any that go missing. The page is a bus of one app: its own bridge id,
  // Seq, and numbering of each subject.
  class Sender {
    constructor(conn, source) {
      if (!/^[A-Za-z0-9_.-]+$/.test(source)) throw new Error(`"${source}" cannot be an app name here: use letters, digits, _ - and .`);
      this.conn = conn;
      this.source = source;
      this.bridge = hex(randomBytes(8));
      this.seq = 0;
      this.counts = new Map();
    }

    // publish sends payload (JSON text) to topic; opts: correlation, causation (an
    // envelope ID), schema, headers (the envelope's free headers, {name: string}). It
    // returns the envelope as sent.
    publish(topic, payload, opts) {
      opts = opts || {};
      const bad = validTopic(topic);
      if (bad) throw new Error(bad);
      JSON.parse(payload); // the bus refuses a payload that is not JSON: say so here
      if (opts.causation && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(opts.causation)) {
        throw new Error(`"${opts.causation}" is not an envelope ID (a UUID): the bus would refuse the message`);
      }
      const now = Date.now();
      const n = (this.counts.get(topic) || 0) + 1;
      this.counts.set(topic, n);
      const env = { topic, payload, source: this.source, bridge: this.bridge, seq: ++this.seq, subjectCount: n, ts: new Date(now).toISOString(), id: uuidv7(now) };
      env.traceparent = `00-${hex(randomBytes(16))}-${hex(randomBytes(8))}-01`;
      const headers = { [H.origin]: [env.bridge, env.seq, env.subjectCount, env.ts, env.id, env.source, env.traceparent].join(" ") };
      if (opts.correlation) headers[H.correlation] = writeValue((env.correlation = opts.correlation));
      if (opts.causation) headers[H.causation] = env.causation = opts.causation;
      if (opts.schema) headers[H.schema] = writeValue((env.schema = opts.schema));
      if (opts.headers && Object.keys(opts.headers).length > 0) {
        for (const [k, v] of Object.entries(opts.headers)) {
          if (typeof v !== "string") throw new Error(`header ${k}: the bus's headers are strings, not ${JSON.stringify(v)}`);
        }
        headers[H.headers] = JSON.stringify((env.headers = opts.headers));
      }
      this.conn.publish(topic, payload, headers);
      return env;
    }
  }

  const api = { connect, subjectsFor, validTopic, decodeEnvelope, Sender, uuidv7, headers: H };
  if (typeof module === "object" && module.exports) module.exports = api;
  else root.MfeNats = api;
})(typeof globalThis !== "undefined" ? globalThis : this);
