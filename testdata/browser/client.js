// Runs the example page's client (docs/browser/natsws.js) under Node, as the page does in
// a browser: it watches a bus pattern and prints each message as a JSON line, and for
// each line "publish" on its stdin it publishes a message as the app "browser".
// cli_serve_test.go starts it against `mfelab serve -websocket` and checks both ways.
//
//	node --experimental-websocket testdata/browser/client.js WS_URL PATTERN TOPIC PAYLOAD CORRELATION
"use strict";

const path = require("path");
const MfeNats = require(path.join(__dirname, "..", "..", "docs", "browser", "natsws.js"));

async function main() {
  const [url, pattern, topic, payload, correlation] = process.argv.slice(2);
  // Listen to stdin from the start: a line that arrives while connecting waits for it.
  process.stdin.setEncoding("utf8");
  let ready;
  const connected = new Promise((resolve) => (ready = resolve));
  let work = connected; // each line's publish, in order; the end waits for the last
  process.stdin.on("data", (lines) => {
    work = work.then(async () => {
      const conn = await connected;
      for (const line of lines.split("\n")) {
        if (line.trim() !== "publish") continue;
        const sent = new MfeNats.Sender(conn, "browser").publish(topic, payload, { correlation });
        await conn.flush();
        console.log(JSON.stringify({ sent }));
      }
    });
  });
  process.stdin.on("end", async () => {
    await work;
    (await connected).close();
    process.exit(0);
  });

  const conn = await MfeNats.connect(url, {
    name: "mfelab page under node",
    onerror: (e) => console.log(JSON.stringify({ error: String(e.message || e) })),
  });
  for (const subject of MfeNats.subjectsFor(pattern)) {
    conn.subscribe(subject, (msg) => console.log(JSON.stringify({ received: MfeNats.decodeEnvelope(msg) })));
  }
  await conn.flush();
  console.log(JSON.stringify({ ready: true }));
  ready(conn);
}

main().catch((e) => {
  console.log(JSON.stringify({ error: String(e.message || e) }));
  process.exit(1);
});
