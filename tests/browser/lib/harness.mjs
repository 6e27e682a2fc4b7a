// The browser tests' harness (tests/browser/README.md): a `homeward serve` of its own per test
// file (127.0.0.1, an ephemeral port, a fresh data directory), Debian's Chromium driven by
// puppeteer-core (no browser download, a fresh profile, no network beyond the server), and a
// small runner whose every wait is bounded.
//
// Usage from a test file:
//   const h = await Harness.start({ name: 'public', serveArgs: ['--public-window-ms', '1000'] });
//   await h.check('what it proves', async () => { ... throw on failure ... });
//   await h.finish();   // stops the browser and the server, prints a summary, sets the exit code
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

let puppeteer;
try {
  puppeteer = (await import('puppeteer-core')).default;
} catch (error) {
  console.error(
    'browser tests: puppeteer-core is not installed in tests/browser/node_modules; ' +
      '`./run build` installs it (npm ci --prefix tests/browser), from package-lock.json');
  process.exit(1);
}

export const CHROMIUM = process.env.HOMEWARD_CHROMIUM || '/usr/bin/chromium';
// Headless, and quiet on the network: no updates, no sync, no QUIC, no first-run pages.
export const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-default-apps', '--disable-extensions', '--no-default-browser-check',
  '--disable-dev-shm-usage',
];

// Options every test file takes (tests/browser/CMakeLists.txt passes them).
export function options() {
  const { values } = parseArgs({
    options: {
      homeward: { type: 'string' },
      bench: { type: 'string' },
      out: { type: 'string' },
      'source-dir': { type: 'string' },
    },
  });
  for (const required of ['homeward', 'out']) {
    if (!values[required]) {
      console.error(`browser tests: --${required} is required`);
      process.exit(2);
    }
  }
  return values;
}

export function assert(condition, message) {
  if (!condition) throw new Error(message);
}

export function assertEqual(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: got ${a}, expected ${e}`);
}

// Resolves with fn()'s value, or rejects after `ms` naming `what`.
export function within(ms, what, promise) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// Runs a command to its end (bounded), failing on a non-zero exit.
export function run(command, args, { timeoutMs = 60000, input } = {}) {
  const result = spawnSync(command, args, { timeout: timeoutMs, input, encoding: 'utf8' });
  if (result.error) throw new Error(`${command} ${args.join(' ')}: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  }
  return result.stdout;
}

// `homeward --data DIR serve --listen 127.0.0.1:0 ARGS...` (or, with `argv`, that command
// line, whose standard output names the address as `http://ADDRESS/`) until stop().
export class Serve {
  static async start(homeward, dataDir, args, logFile, argv, tmpDir) {
    const log = fs.openSync(logFile, 'a');
    const command = argv || ['--data', dataDir, 'serve', '--listen', '127.0.0.1:0', ...args];
    // TMPDIR: what the command makes there (demo's ledger) is the test's to look at.
    const env = tmpDir ? { ...process.env, TMPDIR: tmpDir } : process.env;
    const child = spawn(homeward, command, { stdio: ['ignore', 'pipe', log], env });
    fs.closeSync(log);
    const output = { text: '' };
    const address = await within(60000, 'serve printing its address', new Promise((resolve, reject) => {
      child.stdout.on('data', (chunk) => {
        output.text += chunk;
        const text = output.text;
        if (argv) {
          const url = /http:\/\/(127\.0\.0\.1:[0-9]+)\//.exec(text);
          if (url) resolve(url[1]);
          return;
        }
        const newline = text.indexOf('\n');
        if (newline >= 0) resolve(text.slice(0, newline).trim());
      });
      child.on('exit', (code) => reject(new Error(`serve exited ${code} before listening (see ${logFile})`)));
    }));
    const serve = new Serve(child, address);
    serve.output = output;  // its standard output, as it comes
    // Ready once its first round is done.
    const deadline = Date.now() + 60000;
    for (;;) {
      const ready = await fetch(serve.url('/readyz')).catch(() => null);
      if (ready && ready.status === 200) break;
      if (Date.now() > deadline) throw new Error('serve did not become ready within 60 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    return serve;
  }

  constructor(child, address) {
    this.child = child;
    this.address = address;  // "127.0.0.1:PORT"
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  url(p) { return `http://${this.address}${p}`; }

  async getJson(p) {
    const response = await fetch(this.url(p));
    assert(response.ok, `GET ${p}: ${response.status}`);
    return response.json();
  }

  // Every public case, following the pages' cursors.
  async publicCases() {
    const cases = [];
    let next = '/v1/public/cases';
    while (next) {
      const response = await fetch(this.url(next));
      assert(response.ok, `GET ${next}: ${response.status}`);
      cases.push(...(await response.json()));
      const cursor = response.headers.get('homeward-next-cursor');
      next = cursor ? `/v1/public/cases?cursor=${encodeURIComponent(cursor)}` : null;
    }
    return cases;
  }

  // POST /v1/events?wait=outcome with NDJSON lines; the answer's document.
  async publish(lines) {
    const response = await fetch(this.url('/v1/events?wait=outcome'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-ndjson' },
      body: lines.map((l) => JSON.stringify(l)).join('\n') + '\n',
    });
    const body = await response.json();
    assert(response.status === 200, `POST /v1/events: ${response.status} ${JSON.stringify(body)}`);
    return body;
  }

  // SIGTERM, a graceful stop (exit 0 expected; under ASan, LeakSanitizer runs at exit).
  async stop() {
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      return this.child.signalCode ? 128 : this.child.exitCode;
    }
    this.child.kill('SIGTERM');
    const { code, signal } = await within(60000, 'serve stopping', this.exited).catch((e) => {
      this.child.kill('SIGKILL');
      throw e;
    });
    return signal ? 128 : code;
  }
}

export class Harness {
  // Makes a fresh directory, starts `serve` on `dataDir` (published beforehand by `prepare`,
  // given the data directory) and a browser.
  // With `argv`, runs `homeward ARGV...` instead of serve (it must print http://ADDRESS/).
  static async start({ name, serveArgs = [], prepare, argv }) {
    const opts = options();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `homeward-browser-${name}-`));
    const h = new Harness(opts, name, tmp);
    try {
      const dataDir = path.join(tmp, 'data');
      if (prepare) await prepare({ dataDir, tmp, opts });
      h.serve = await Serve.start(opts.homeward, dataDir, serveArgs, path.join(tmp, 'serve.err'), argv, tmp);
      h.browser = await puppeteer.launch({
        executablePath: CHROMIUM,
        headless: true,
        userDataDir: path.join(tmp, 'chromium-profile'),
        args: CHROMIUM_FLAGS,
        protocolTimeout: 30000,
        timeout: 30000,
      });
    } catch (error) {
      await h.cleanup();
      console.error(`${name}: could not start: ${error.stack || error}`);
      process.exit(1);
    }
    return h;
  }

  constructor(opts, name, tmp) {
    this.opts = opts;
    this.name = name;
    this.tmp = tmp;
    this.out = opts.out;
    fs.mkdirSync(this.out, { recursive: true });
    this.failures = 0;
    this.started = Date.now();
  }

  // Runs one check, bounded by `timeoutMs`; a failure is reported and counted, the next
  // check still runs.
  async check(what, fn, { timeoutMs = 20000 } = {}) {
    const t0 = Date.now();
    try {
      await within(timeoutMs, what, Promise.resolve().then(fn));
      console.log(`ok   ${what} (${Date.now() - t0} ms)`);
    } catch (error) {
      this.failures += 1;
      console.log(`FAIL ${what} (${Date.now() - t0} ms)\n     ${String(error.stack || error).replace(/\n/g, '\n     ')}`);
    }
  }

  // A new page at `width` x 900 (a phone: 375; a laptop: 1440).
  async page(width = 1440, { javaScript = true } = {}) {
    const page = await this.browser.newPage();
    await page.setViewport({ width, height: 900 });
    await page.setJavaScriptEnabled(javaScript);
    return page;
  }

  note(text) { console.log(`     ${text}`); }

  async cleanup() {
    if (this.browser) await this.browser.close().catch(() => {});
    let serveExit = 0;
    if (this.serve) serveExit = await this.serve.stop().catch(() => -1);
    if (serveExit !== 0) {
      this.failures += 1;
      const log = path.join(this.tmp, 'serve.err');
      console.log(`FAIL serve exited ${serveExit} at the end; its log:\n${fs.existsSync(log) ? fs.readFileSync(log, 'utf8').slice(-4000) : ''}`);
    }
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }

  async finish() {
    await this.cleanup();
    console.log(`${this.name}: ${this.failures ? `${this.failures} failed` : 'all passed'} in ${Date.now() - this.started} ms`);
    process.exitCode = this.failures ? 1 : 0;
  }
}
