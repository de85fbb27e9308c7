// One HTTP request for the UrlFetchApp stand-in, run as a child process so that fetch() can be
// synchronous as it is in Apps Script. Reads {url, method, headers, body} as JSON on stdin and
// prints {status, body} as JSON on stdout. Loopback only: anything else is refused.
"use strict";
const http = require("http");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const request = JSON.parse(input);
  const url = new URL(request.url);
  if (url.protocol !== "http:" || !["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) {
    process.stdout.write(JSON.stringify({ status: 0, body: "refused: not a loopback URL" }));
    return;
  }
  const body = Buffer.from(request.body || "", "utf8");
  const headers = Object.assign({}, request.headers, { "Content-Length": body.length });
  const req = http.request(
    { hostname: url.hostname, port: url.port, path: url.pathname + url.search, method: request.method, headers },
    (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () =>
        process.stdout.write(JSON.stringify({ status: res.statusCode, body: Buffer.concat(chunks).toString("utf8") }))
      );
    }
  );
  req.setTimeout(60000, () => req.destroy(new Error("timeout")));
  req.on("error", (err) => process.stdout.write(JSON.stringify({ status: 0, body: String(err) })));
  req.end(body);
});
