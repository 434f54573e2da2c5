// The gateway and the Calendly stand-in as the browser tests run them: the binaries cargo built
// (target/debug), each on a port of its own, on a throwaway SQLite file; and, for a page served
// from another origin, a static server of web/dist.
import { spawn } from "node:child_process";
import { createReadStream, existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as netServer } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(process.env.CARGO_TARGET_DIR ?? join(ROOT, "target"), "debug");

/** A port nothing listens on right now. */
export function freePort() {
  return new Promise((done, fail) => {
    const server = netServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

/** Starts `program` and waits for it to log "listening on http://ADDRESS"; resolves to its URL. */
function started(program, args, env, log) {
  const path = join(BIN, program);
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: run \`cargo build -p app-http -p calendly-stand-in\` first`);
  }
  const child = spawn(path, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`${program} did not start:\n${output}`)), 20_000);
    const read = (chunk) => {
      output += chunk;
      log.push(String(chunk));
      const found = output.match(/listening on (http:\/\/[^\s"]+)/);
      if (found) {
        clearTimeout(timer);
        done({ url: found[1], child });
      }
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    child.once("exit", (code) => fail(new Error(`${program} exited (${code}):\n${output}`)));
  });
}

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css" };

/** web/dist served as a web application of its own would serve it, on another origin. */
function staticSite(port) {
  const dist = join(ROOT, "web", "dist");
  const server = createServer((request, response) => {
    const path = new URL(request.url, "http://site").pathname;
    const file = join(dist, path === "/" ? "index.html" : path.slice(1));
    if (!file.startsWith(dist) || !existsSync(file)) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream" });
    createReadStream(file).pipe(response);
  });
  return new Promise((done) => server.listen(port, "127.0.0.1", () => done(server)));
}

/**
 * The stand-in (its booking limit `bookingLimit`: a minute, an hour, a day) and the gateway in
 * front of it with OAuth and the demo on. `crossOrigin`: the page is served by a static server
 * on another port (the gateway allowing it by CORS); otherwise by the gateway at `/demo/`.
 */
export async function startAll({ crossOrigin, bookingLimit }) {
  const work = mkdtempSync(join(tmpdir(), "calendly-gateway-web-"));
  const log = [];
  const children = [];
  let site = null;
  const stop = async () => {
    for (const child of children) child.kill();
    if (site) await new Promise((done) => site.close(done));
    rmSync(work, { recursive: true, force: true });
  };
  try {
    const standIn = await started("calendly-stand-in", ["--port", "0", "--booking-limit", ...bookingLimit.map(String)], {}, log);
    children.push(standIn.child);
    const gatewayPort = await freePort();
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    let pageUrl = `${gatewayUrl}/demo/`;
    const env = {
      APP_ENV: "local",
      APP__SERVER__PORT: String(gatewayPort),
      APP__DATABASE__URL: `sqlite://${join(work, "gateway.db")}`,
      APP__CALENDLY__API_BASE_URL: standIn.url,
      APP__CALENDLY__AUTH_BASE_URL: standIn.url,
      APP__CALENDLY__OAUTH__CLIENT_ID: "stand-in-client",
      APP__CALENDLY__OAUTH__REDIRECT_URI: pageUrl,
      APP__DEMO__ENABLED: "true",
      RUST_LOG: "info,app_http=debug,adapters=debug,domain=debug",
    };
    if (crossOrigin) {
      const sitePort = await freePort();
      site = await staticSite(sitePort);
      const siteUrl = `http://127.0.0.1:${sitePort}`;
      env.APP__HTTP__CORS_ALLOWED_ORIGINS = siteUrl;
      env.APP__CALENDLY__OAUTH__REDIRECT_URI = `${siteUrl}/`;
      pageUrl = `${siteUrl}/?gateway=${encodeURIComponent(gatewayUrl)}`;
    }
    const gateway = await started("calendly-gateway", ["serve"], env, log);
    children.push(gateway.child);
    return { standIn: standIn.url, gateway: gatewayUrl, page: pageUrl, log, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
