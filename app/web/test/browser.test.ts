// The web app in headless Chromium (the system's, driven by playwright-core) against
// `aidx localnet --demo` (scripts/test-app starts it): every view shows the numbers the Rust
// auditor (`aidx audit --json`, stored prices) gives for the same state; the history pages
// through the index's own transactions; no serious or critical accessibility violation (axe);
// screenshots at a desktop and a phone width when AIDX_SCREENSHOTS names a folder.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { decimal, pct, shares, usd } from "../src/format";

const env = (k: string): string => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set (run scripts/test-app)`);
  return v;
};
const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../dist");
const shots = process.env.AIDX_SCREENSHOTS;

function cli(args: string[]): string {
  return execFileSync(env("AIDX_BIN"), args, {
    env: {
      ...process.env,
      RUST_BACKTRACE: "0",
      AIDX_URL: env("AIDX_RPC_URL"),
      AIDX_INDEX: env("AIDX_INDEX"),
      AIDX_SYMBOLS: env("AIDX_SYMBOLS"),
      AIDX_LOOKUP_TABLES: env("AIDX_LOOKUP_TABLES"),
      AIDX_KEYPAIR: path.join(env("AIDX_WALLETS"), "bob.json"),
    },
    encoding: "utf8",
  });
}
/** JSON whose integers past 2^53 stay exact (as strings). */
const parseExact = (t: string) => JSON.parse(t.replace(/(:\s*)(-?\d{16,})(?=\s*[,}\]])/g, '$1"$2"'));

let server: http.Server;
let browser: Browser;
let base: string;

before(async () => {
  assert.ok(fs.existsSync(path.join(dist, "index.html")), "the app is built (npm run build -w @aidx/web)");
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const file = path.join(dist, url.pathname === "/" ? "index.html" : url.pathname);
    if (!file.startsWith(dist) || !fs.existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    const type = file.endsWith(".js") ? "text/javascript" : file.endsWith(".css") ? "text/css" : "text/html";
    res.writeHead(200, { "content-type": type }).end(fs.readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}/index.html`;
  browser = await chromium.launch({ executablePath: process.env.AIDX_CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
});

after(async () => {
  await browser?.close();
  server?.close();
});

function url(view: string, rpc = env("AIDX_RPC_URL")): string {
  const q = new URLSearchParams({ rpc, index: env("AIDX_INDEX"), symbols: env("AIDX_SYMBOLS") });
  return `${base}?${q}#${view}`;
}

async function open(view: string, width = 1280, height = 900): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height } });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url(view));
  await page.waitForSelector(`body[data-ready="${view}"]`, { timeout: 20_000 });
  assert.deepEqual(errors, [], "no script errors");
  return page;
}

const text = (page: Page, id: string) => page.locator(`[data-testid="${id}"]`).first().innerText();

async function axe(page: Page, view: string): Promise<void> {
  await page.addScriptTag({ path: path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../node_modules/axe-core/axe.min.js") }).catch(
    async () => page.addScriptTag({ path: path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../node_modules/axe-core/axe.min.js") }),
  );
  const result = (await page.evaluate("axe.run()")) as { violations: { id: string; impact: string; help: string }[] };
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help}`), [], `${view}: serious or critical accessibility violations`);
}

async function shoot(page: Page, view: string): Promise<void> {
  if (!shots) return;
  fs.mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, `${view}-desktop.png`), fullPage: true });
  // A phone loads the page at its own width (the chart is laid out for it).
  const phone = await open(view, 390, 844);
  await phone.screenshot({ path: path.join(shots, `${view}-phone.png`), fullPage: true });
  await axe(phone, `${view} (phone)`);
  await phone.close();
}

test("overview: NAV, value per share and supply equal the Rust auditor's; the audit verdict agrees", async () => {
  const audit = parseExact(cli(["audit", "--json"]));
  const started = Date.now();
  const page = await open("overview");
  console.log(`overview shows its numbers ${Date.now() - started} ms after navigation (loopback)`);
  assert.equal(await text(page, "nav-mid"), usd(BigInt(audit.nav_mid)));
  assert.equal(await text(page, "nav-low"), usd(BigInt(audit.nav_low)));
  assert.equal(await text(page, "nav-high"), usd(BigInt(audit.nav_high)));
  assert.equal(await text(page, "value-per-share"), usd(BigInt(audit.value_per_share), 4));
  assert.equal(await text(page, "share-supply"), shares(BigInt(audit.share_supply), 6));
  assert.equal(await text(page, "constituents"), String(audit.rows.length));
  assert.equal(audit.violations.length, 0);
  assert.match(await text(page, "audit-verdict"), /checks passed/);
  await axe(page, "overview");
  await shoot(page, "overview");
  await page.close();
});

test("basket: every row's balance, price, weight and target equal the Rust auditor's", async () => {
  const audit = parseExact(cli(["audit", "--json"]));
  const page = await open("basket");
  for (const [i, r] of (audit.rows as Record<string, string | number>[]).entries()) {
    const decimals = (await page.locator(`[data-testid="row-${i}"] td`).nth(3).innerText()) === "spl-token" ? 9 : 8;
    assert.equal(await text(page, `balance-${i}`), decimal(BigInt(r.balance!), decimals, 4), `row ${i} balance`);
    assert.ok((await text(page, `price-${i}`)).startsWith(usd(BigInt(r.price!), 4)), `row ${i} price`);
    assert.equal(await text(page, `weight-${i}`), pct(BigInt(r.weight!)), `row ${i} weight`);
    assert.equal(await text(page, `target-${i}`), pct(BigInt(r.target!)), `row ${i} target`);
  }
  await axe(page, "basket");
  await shoot(page, "basket");
  await page.close();
});

test("sector map: a tile per constituent, sector weights summing to the whole", async () => {
  const audit = parseExact(cli(["audit", "--json"]));
  const page = await open("map");
  assert.equal(await page.locator('[data-testid^="tile-"]').count(), audit.rows.length);
  const sectorPcts = await page.locator('[data-testid^="sector-weight-"]').allInnerTexts();
  const total = sectorPcts.reduce((a, s) => a + Number(s.replace("%", "")), 0);
  assert.ok(Math.abs(total - 100) < 0.2, `sector weights sum to ${total}%`);
  await axe(page, "map");
  await shoot(page, "map");
  await page.close();
});

test("history: the index's events from transaction logs, newest first, paged", async () => {
  const page = await open("history");
  const first = await page.locator('[data-testid="event-name"]').allInnerTexts();
  assert.ok(first.length > 0, "events on the first page");
  const known = new Set(["MintedInKind", "RedeemedInKind", "MintedSingle", "RedeemedSingle", "PricesRefreshed", "NavReported", "RebalanceSwapped", "ImbalanceStarted", "ImbalanceCleared", "TargetsRecomputed", "MethodologyInputsSet", "ConstituentAdded", "IndexInitialized", "IndexOpened", "PauseSet", "FeesAccrued"]);
  for (const n of first) assert.ok(known.has(n), `known event ${n}`);
  await page.locator('button[data-page="next"]').click();
  await page.waitForFunction(() => document.querySelector(".pager span")?.textContent === "page 2");
  const second = await page.locator('[data-testid="event-name"]').allInnerTexts();
  assert.ok(second.length > 0 && second.join() !== first.join(), "the second page holds older events");
  await axe(page, "history");
  await shoot(page, "history");
  await page.close();
});

test("audit: every check computed in the browser passes, as the Rust auditor finds", async () => {
  const page = await open("audit");
  assert.equal(await page.locator('[data-testid="check-fail"]').count(), 0);
  assert.ok((await page.locator('[data-testid="check-pass"]').count()) >= 8);
  assert.match(await text(page, "audit-summary"), /All \d+ checks passed/);
  await axe(page, "audit");
  await shoot(page, "audit");
  await page.close();
});

test("a node that cannot be reached shows a banner with a retry", async () => {
  const page = await browser.newPage();
  await page.goto(url("overview", "http://127.0.0.1:9"));
  await page.waitForSelector("#banner button#retry", { timeout: 20_000 });
  assert.match(await page.locator("#banner").innerText(), /could not be read/);
  await page.close();
});
