// Starts the real reference server (or any binary with the same command line) on an ephemeral
// port with a fresh data dir, and can restart it on the same port and data dir.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '../../..');
const defaultBin = resolve(here, '../../../target/debug/reference-server');

/** The command to run: CHAT_SERVER_BIN, or the debug build of the reference server. */
function command(args) {
  const bin = process.env.CHAT_SERVER_BIN ? resolve(process.env.CHAT_SERVER_BIN) : defaultBin;
  return [bin, args];
}

const LISTEN_RE = /listening on (http:\/\/127\.0\.0\.1:(\d+))/;

/**
 * Starts a server and resolves once it printed its address. `args` are extra command-line
 * flags (e.g. ['--max-upload', '100000']), kept across restarts.
 * @returns {Promise<{url, port, dataDir, stop, kill, restart, output}>}
 */
export async function startServer({ dataDir, port = 0, args = [] } = {}) {
  dataDir ??= mkdtempSync(join(tmpdir(), 'chat-e2e-'));
  const ownsDir = !process.env.KEEP_DATA;
  let handle = await spawnServer(dataDir, port, args);
  const server = {
    get url() { return handle.url; },
    get port() { return handle.port; },
    dataDir,
    output: () => handle.output(),
    async stop() { await handle.stop(); },
    /** Kills the process without letting it shut down (SIGKILL). */
    async kill() { await handle.stop('SIGKILL'); },
    /** Stops (if running) and starts again on the same port and data dir. */
    async restart() {
      await handle.stop();
      handle = await retry(() => spawnServer(dataDir, handle.port, args));
    },
    /** Runs an operator command on the same data dir, e.g. ['admin', 'promote', 'alice']. */
    async cli(args) {
      const [cmd, full] = command(['--data-dir', dataDir, ...args]);
      const child = spawn(cmd, full, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (c) => { out += c; });
      child.stderr.on('data', (c) => { out += c; });
      const code = await new Promise((res) => child.on('exit', res));
      if (code !== 0) throw new Error(`${args.join(' ')} exited ${code}: ${out}`);
      return out;
    },
    async close() {
      await handle.stop();
      if (ownsDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}

async function retry(fn, attempts = 10) {
  for (let i = 1; ; i += 1) {
    try { return await fn(); } catch (err) {
      if (i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 300));   // the port may still be held by the old process
    }
  }
}

function spawnServer(dataDir, port, extra) {
  const [cmd, args] = command(['--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--web-dir', join(repoRoot, 'web'), ...extra]);
  const child = spawn(cmd, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { RUST_LOG: 'info', ...process.env },
  });
  let output = '';
  let exited = false;
  const exitPromise = new Promise((res) => child.on('exit', (code, signal) => { exited = true; res({ code, signal }); }));
  return new Promise((resolveStart, rejectStart) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rejectStart(new Error(`server did not print its address within 30 s. Output:\n${output}`));
    }, 30000);
    const onData = (chunk) => {
      output += chunk;
      const m = LISTEN_RE.exec(output);
      if (m) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.stdout.on('data', (c) => { output += c; });
        resolveStart({
          url: m[1], port: Number(m[2]), child, output: () => output,
          async stop(signal = 'SIGTERM') {
            if (exited) return;
            child.kill(signal);
            const t = setTimeout(() => child.kill('SIGKILL'), 5000);
            await exitPromise;
            clearTimeout(t);
          },
        });
      }
    };
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', onData);
    child.stderr.on('data', (c) => { output += c; });
    child.on('error', (err) => { clearTimeout(timer); rejectStart(err); });
    exitPromise.then(({ code, signal }) => {
      clearTimeout(timer);
      rejectStart(new Error(`server exited early (${code ?? signal}). Output:\n${output}`));
    });
  });
}

/** A REST client with a bearer token, for driving "the other side" from Node. */
export async function apiUser(server, username, password = 'correct-horse-battery-9', displayName) {
  const res = await fetch(`${server.url}/api/v1/auth/register`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password, ...(displayName ? { display_name: displayName } : {}) }),
  });
  if (res.status !== 201) throw new Error(`register ${username}: ${res.status} ${await res.text()}`);
  const { user, token } = await res.json();
  const call = async (method, path, body) => {
    const r = await fetch(`${server.url}/api/v1${path}`, {
      method, headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  return { user, token, call };
}
