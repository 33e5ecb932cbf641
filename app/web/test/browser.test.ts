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
import crypto from "node:crypto";
import { address, createKeyPairSignerFromBytes, createSolanaRpc, generateKeyPairSigner, getAddressDecoder, getAddressEncoder, lamports } from "@solana/kit";
import * as aidx from "@aidx/client";
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

/** The index's own lookup table (the one a holder's transactions go through). */
const indexTable = () =>
  env("AIDX_LOOKUP_TABLES")
    .split(",")
    .map((t) => t.split("="))
    .find(([name]) => name === "index")?.[1] ?? "";

function url(view: string, rpc = env("AIDX_RPC_URL"), symbols = env("AIDX_SYMBOLS")): string {
  const q = new URLSearchParams({ rpc, index: env("AIDX_INDEX"), symbols, tables: indexTable() });
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
  // And as `aidx nav --stored-prices --json` prints them (dollars to 4 places, the page to 2).
  const nav = JSON.parse(cli(["nav", "--stored-prices", "--json"]));
  const plain = (s: string) => s.replace(/[$,]/g, "");
  assert.equal(plain(await text(page, "nav-mid")), nav.nav_usd.slice(0, -2));
  assert.equal(plain(await text(page, "nav-low")), nav.nav_low_usd.slice(0, -2));
  assert.equal(plain(await text(page, "value-per-share")), nav.value_per_share_usd);
  await axe(page, "overview");
  await shoot(page, "overview");
  assert.equal(await text(page, "index-address"), env("AIDX_INDEX"));
  assert.equal(await text(page, "rpc-url"), env("AIDX_RPC_URL"));
  await page.close();
});

test("basket: every row's balance, price, weight and target equal the Rust auditor's", async () => {
  const audit = parseExact(cli(["audit", "--json"]));
  const page = await open("basket");
  const nav = JSON.parse(cli(["nav", "--stored-prices", "--json"]));
  for (const [i, c] of (nav.constituents as { weight: string; target: string }[]).entries()) {
    assert.equal(await text(page, `weight-${i}`), c.weight, `row ${i} weight as aidx nav prints it`);
    assert.equal(await text(page, `target-${i}`), c.target, `row ${i} target as aidx nav prints it`);
  }
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

/** A Wallet Standard wallet for the page, holding `secret` (a Solana CLI keypair's 64 bytes),
 * registered before the page's scripts run; it signs with the browser's Ed25519. */
function testWallet(secret: number[]): string {
  return `(() => {
  const secret = Uint8Array.from(${JSON.stringify(secret)});
  const pkcs8 = new Uint8Array([0x30,0x2e,0x02,0x01,0x00,0x30,0x05,0x06,0x03,0x2b,0x65,0x70,0x04,0x22,0x04,0x20, ...secret.slice(0, 32)]);
  const key = crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, false, ["sign"]);
  const A = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  const b58 = (b) => { let n = 0n; for (const x of b) n = n * 256n + BigInt(x); let s = ""; while (n > 0n) { s = A[Number(n % 58n)] + s; n /= 58n; } for (const x of b) { if (x !== 0) break; s = "1" + s; } return s; };
  const pub = secret.slice(32);
  const account = { address: b58(pub), publicKey: pub, chains: ["solana:localnet"], features: ["solana:signTransaction"] };
  const wallet = {
    version: "1.0.0", name: "aidx test wallet", icon: "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4=",
    chains: ["solana:localnet"], accounts: [account],
    features: {
      "standard:connect": { version: "1.0.0", connect: async () => ({ accounts: [account] }) },
      "standard:events": { version: "1.0.0", on: () => () => {} },
      "solana:signTransaction": { version: "1.0.0", supportedTransactionVersions: ["legacy", 0],
        signTransaction: async (...inputs) => Promise.all(inputs.map(async ({ transaction }) => {
          const n = transaction[0];
          const sig = new Uint8Array(await crypto.subtle.sign("Ed25519", await key, transaction.slice(1 + 64 * n)));
          const out = transaction.slice(); out.set(sig, 1);
          return { signedTransaction: out };
        })) },
    },
  };
  const register = ({ register }) => register(wallet);
  window.addEventListener("wallet-standard:app-ready", ({ detail }) => register(detail));
  window.dispatchEvent(new CustomEvent("wallet-standard:register-wallet", { detail: register }));
})();`;
}

const bobSecret = () => JSON.parse(fs.readFileSync(path.join(env("AIDX_WALLETS"), "bob.json"), "utf8")) as number[];

/** The trade view with the test wallet holding `secret` (bob's keys by default), connected. */
async function trading(secret = bobSecret(), symbols = env("AIDX_SYMBOLS"), width = 1280): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  await page.addInitScript(testWallet(secret));
  await page.goto(url("trade", env("AIDX_RPC_URL"), symbols));
  await page.waitForSelector('body[data-ready="trade"]', { timeout: 20_000 });
  await page.getByRole("button", { name: "Connect aidx test wallet" }).click();
  await page.waitForSelector('[data-testid="account"]');
  return page;
}

const held = async (page: Page) => BigInt((await page.locator('[data-testid="shares-held"]').getAttribute("data-raw"))!);

test("a Wallet Standard wallet signs an in-kind mint; the page shows the new balance and the event", async () => {
  const page = await trading();
  const before = await held(page);
  await page.locator("input[name=amount]").fill("1");
  await page.getByRole("button", { name: "Quote" }).click();
  await page.waitForSelector('[data-testid="leg-0"]');
  // The legs quoted in the page are what the Rust client's dry run deposits.
  const rust = JSON.parse(cli(["mint", "--holder", "bob", "--shares", "1", "--dry-run", "--json"])).events.find((e: { event: string }) => e.event === "MintedInKind").detail as string;
  const amountsIn = JSON.parse(/amounts_in: (\[[0-9, ]*\])/.exec(rust)![1]!) as number[];
  const index = await aidx.fetchIndex(createSolanaRpc(env("AIDX_RPC_URL")), address(env("AIDX_INDEX")));
  assert.equal(amountsIn.length, index.rows.length);
  for (const [i, a] of amountsIn.entries()) {
    assert.equal(await text(page, `leg-${i}`), decimal(BigInt(a), index.rows[i]!.decimals, 4), `leg ${i}`);
  }
  await page.getByRole("button", { name: "Send" }).click();
  await page.waitForSelector('[data-testid="events"]', { timeout: 20_000 });
  assert.match(await text(page, "events"), /MintedInKind/);
  assert.equal(await held(page), before + 1_000_000_000n);
  if (shots) await page.screenshot({ path: path.join(shots, "trade-desktop.png"), fullPage: true });
  await axe(page, "trade");
  await page.close();
  // At a phone's width: the form and a quote, readable, and no serious accessibility finding.
  const phone = await trading(bobSecret(), env("AIDX_SYMBOLS"), 390);
  await phone.getByRole("button", { name: "Quote" }).click();
  await phone.waitForSelector('[data-testid="leg-0"]');
  if (shots) await phone.screenshot({ path: path.join(shots, "trade-phone.png"), fullPage: true });
  await axe(phone, "trade (phone)");
  await phone.close();
});

test("a Wallet Standard wallet signs a single-asset redeem quoted by simulation; the page shows it", async () => {
  const page = await trading();
  const before = await held(page);
  const audit = parseExact(cli(["audit", "--json"]));
  const weights = (audit.rows as { weight: string | number }[]).map((r) => BigInt(r.weight));
  const heavy = weights.indexOf(weights.reduce((a, w) => (w > a ? w : a), 0n));
  await page.locator("select[name=op]").selectOption("redeemSingle");
  await page.locator("select[name=row]").selectOption(String(heavy));
  await page.locator("input[name=amount]").fill("0.1");
  await page.getByRole("button", { name: "Quote" }).click();
  await page.waitForSelector('[data-testid="quoted"]');
  await page.getByRole("button", { name: "Send" }).click();
  await page.waitForSelector('[data-testid="events"]', { timeout: 20_000 });
  assert.match(await text(page, "events"), /RedeemedSingle/);
  assert.equal(await held(page), before - 100_000_000n);
  await page.close();
});

test("the program's error by its message, a wallet short of tokens, and a paused operation", async () => {
  const page = await trading();
  await page.locator("select[name=op]").selectOption("mintSingle");
  await page.locator("input[name=amount]").fill("0");
  await page.getByRole("button", { name: "Quote" }).click();
  await page.waitForSelector('[data-testid="error"]');
  assert.equal(await text(page, "error"), "ZeroAmount: Amount must be positive");
  await page.locator("select[name=op]").selectOption("mintInKind");
  await page.locator("input[name=amount]").fill("1000000");
  await page.getByRole("button", { name: "Quote" }).click();
  await page.waitForSelector('[data-testid="error"]');
  assert.match(await text(page, "error"), /^the wallet holds .* the mint needs /);
  assert.ok(await page.getByRole("button", { name: "Send" }).isDisabled());
  await page.close();
  // Paused by the admin (whose wallet pays its own fees here): the action is disabled with the
  // reason.
  const admin = await createKeyPairSignerFromBytes(Uint8Array.from(JSON.parse(fs.readFileSync(path.join(env("AIDX_WALLETS"), "admin.json"), "utf8"))));
  await createSolanaRpc(env("AIDX_RPC_URL")).requestAirdrop(admin.address, lamports(1_000_000_000n)).send();
  execFileSync(env("AIDX_BIN"), ["admin", "pause", "--flags", "mint-single"], {
    env: { ...process.env, RUST_BACKTRACE: "0", AIDX_URL: env("AIDX_RPC_URL"), AIDX_INDEX: env("AIDX_INDEX"), AIDX_KEYPAIR: path.join(env("AIDX_WALLETS"), "admin.json") },
  });
  try {
    const paused = await trading();
    await paused.locator("select[name=op]").selectOption("mintSingle");
    assert.match(await text(paused, "paused-reason"), /Mint with one token is paused/);
    await paused.close();
  } finally {
    execFileSync(env("AIDX_BIN"), ["admin", "pause", "--flags", "none"], {
      env: { ...process.env, RUST_BACKTRACE: "0", AIDX_URL: env("AIDX_RPC_URL"), AIDX_INDEX: env("AIDX_INDEX"), AIDX_KEYPAIR: path.join(env("AIDX_WALLETS"), "admin.json") },
    });
  }
});

/** Runs `aidx admin ...` as the admin (funded first: it pays its own fees here). */
async function admin(args: string[]): Promise<void> {
  const signer = await createKeyPairSignerFromBytes(Uint8Array.from(JSON.parse(fs.readFileSync(path.join(env("AIDX_WALLETS"), "admin.json"), "utf8"))));
  await createSolanaRpc(env("AIDX_RPC_URL")).requestAirdrop(signer.address, lamports(1_000_000_000n)).send();
  execFileSync(env("AIDX_BIN"), ["admin", ...args], {
    env: { ...process.env, RUST_BACKTRACE: "0", AIDX_URL: env("AIDX_RPC_URL"), AIDX_INDEX: env("AIDX_INDEX"), AIDX_KEYPAIR: path.join(env("AIDX_WALLETS"), "admin.json") },
  });
}

/** Writes an account through the node's development method. */
async function setAccount(at: string, lamportsAmount: number, data: Uint8Array, owner: string): Promise<void> {
  const r = await fetch(env("AIDX_RPC_URL"), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "surfnet_setAccount", params: [at, { lamports: lamportsAmount, data: Buffer.from(data).toString("hex"), owner }] }),
  });
  assert.ok(r.ok);
  assert.equal((await r.json()).error, undefined);
}

test("with mint and redeem fees on: an in-kind mint asks for the shares net of the fee; a first-time holder's share account is created first", async () => {
  await admin(["set-params", "--mint-fee-bps", "30", "--redeem-fee-bps", "40"]);
  try {
    const page = await trading();
    const before = await held(page);
    await page.locator("input[name=amount]").fill("1");
    await page.getByRole("button", { name: "Quote" }).click();
    await page.waitForSelector('[data-testid="net-shares"]');
    assert.equal(await text(page, "net-shares"), shares(1_000_000_000n - 3_000_000n));
    await page.getByRole("button", { name: "Send" }).click();
    await page.waitForSelector('[data-testid="events"]', { timeout: 20_000 });
    assert.match(await text(page, "events"), /MintedInKind/);
    assert.equal(await held(page), before + 997_000_000n);
    await page.close();

    // A wallet that never held shares: SOL, and 5 tokens of one row in its associated account
    // (written through the node), but no share account.
    const rpc = createSolanaRpc(env("AIDX_RPC_URL"));
    const index = await aidx.fetchIndex(rpc, address(env("AIDX_INDEX")));
    // A row whose mint has no extensions (either token program): its account is the plain 165 bytes.
    const mints = await rpc.getMultipleAccounts(index.rows.map((c) => c.mint), { encoding: "base64" }).send();
    // The most underweight of them: a single-asset mint of it moves it toward its target.
    const { weights } = aidx.navOf(index);
    const plain = index.rows.map((_, i) => i).filter((i) => mints.value[i] !== null && Buffer.from(mints.value[i]!.data[0], "base64").length === 82);
    assert.ok(plain.length > 0, "a row with a plain mint");
    const gap = (i: number) => weights[i]! - index.rows[i]!.targetWeight;
    const row = plain.reduce((a, i) => (gap(i) < gap(a) ? i : a));
    const program = index.rows[row]!.tokenProgram;
    const { publicKey, privateKey } = crypto.generateKeyPairSync("ed25519");
    const pub = publicKey.export({ format: "der", type: "spki" }).subarray(-32);
    const secret = [...privateKey.export({ format: "der", type: "pkcs8" }).subarray(-32), ...pub];
    const owner = getAddressDecoder().decode(pub);
    await rpc.requestAirdrop(owner, lamports(1_000_000_000n)).send();
    const ata = await aidx.findAssociatedTokenAddress(owner, index.rows[row]!.mint, program);
    const data = new Uint8Array(165);
    data.set(getAddressEncoder().encode(index.rows[row]!.mint), 0);
    data.set(getAddressEncoder().encode(owner), 32);
    new DataView(data.buffer).setBigUint64(64, 5n * 10n ** BigInt(index.rows[row]!.decimals), true);
    data[108] = 1; // initialized
    await setAccount(ata, 2_039_280, data, program);
    const shareAta = await aidx.findAssociatedTokenAddress(owner, index.account.shareMint, aidx.TOKEN_PROGRAM_ADDRESS);
    assert.equal((await rpc.getAccountInfo(shareAta, { encoding: "base64" }).send()).value, null);

    const fresh = await trading(secret);
    await fresh.locator("select[name=op]").selectOption("mintSingle");
    await fresh.locator("select[name=row]").selectOption(String(row));
    await fresh.locator("input[name=amount]").fill("1");
    await fresh.getByRole("button", { name: "Quote" }).click();
    await fresh.waitForSelector('[data-testid="quoted"], [data-testid="error"]');
    assert.equal(await fresh.locator('[data-testid="error"]').count(), 0, await text(fresh, "quote"));
    assert.match(await text(fresh, "quote"), /1 token account\(s\) of yours are created first/);
    await fresh.getByRole("button", { name: "Send" }).click();
    await fresh.waitForSelector('[data-testid="events"]', { timeout: 20_000 });
    assert.match(await text(fresh, "events"), /MintedSingle/);
    assert.ok((await held(fresh)) > 0n);
    await fresh.close();
  } finally {
    await admin(["set-params", "--mint-fee-bps", "0", "--redeem-fee-bps", "0"]);
  }
});

test("labels from the page's address are shown as text, never run as markup", async () => {
  const evil = env("AIDX_SYMBOLS")
    .split(",")
    .map((s, i) => (i === 0 ? `<img src=x onerror="window.__xss=1">` : s))
    .join(",");
  const page = await trading(bobSecret(), evil);
  await page.locator("select[name=op]").selectOption("redeemInKind");
  await page.locator("input[name=amount]").fill("0.5");
  await page.getByRole("button", { name: "Quote" }).click();
  await page.waitForSelector('[data-testid="leg-0"]');
  assert.match(await text(page, "quote"), /<img src=x onerror=/);
  await page.goto(url("basket", env("AIDX_RPC_URL"), evil));
  await page.waitForSelector('body[data-ready="basket"]', { timeout: 20_000 });
  assert.match(await page.locator('[data-testid="row-0"]').innerText(), /<img src=x/);
  assert.equal(await page.evaluate("window.__xss"), undefined);
  await page.close();
});

test("a wallet registered after the page loaded shows up; disconnecting returns to the wallet list", async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(url("trade"));
  await page.waitForSelector('body[data-ready="trade"]', { timeout: 20_000 });
  assert.equal(await page.getByRole("button", { name: "Connect aidx test wallet" }).count(), 0);
  await page.evaluate(testWallet(bobSecret()));
  await page.getByRole("button", { name: "Connect aidx test wallet" }).click();
  await page.waitForSelector('[data-testid="account"]');
  await page.getByRole("button", { name: "Disconnect" }).click();
  await page.waitForSelector('button:has-text("Connect aidx test wallet")');
  assert.equal(await page.locator('[data-testid="account"]').count(), 0);
  await page.close();
});

test("an empty index says so on every view instead of drawing nothing; with two indexes the page asks which", async () => {
  // An index account with no constituents and no shares, written beside the real one through
  // the node's development method.
  const rpc = createSolanaRpc(env("AIDX_RPC_URL"));
  const real = await aidx.fetchIndex(rpc, address(env("AIDX_INDEX")));
  const bytes = aidx.getIndexAccountEncoder().encode({ ...real.account, numConstituents: 0, shareSupply: 0n });
  const empty = (await generateKeyPairSigner()).address;
  const hex = Buffer.from(bytes).toString("hex");
  const r = await fetch(env("AIDX_RPC_URL"), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "surfnet_setAccount", params: [empty, { lamports: 100_000_000, data: hex, owner: aidx.AIDX_PROGRAM_ADDRESS }] }),
  });
  assert.ok(r.ok);
  for (const view of ["overview", "basket", "map"]) {
    const page = await browser.newPage();
    await page.goto(`${base}?${new URLSearchParams({ rpc: env("AIDX_RPC_URL"), index: empty })}#${view}`);
    await page.waitForSelector(`body[data-ready="${view}"]`, { timeout: 20_000 });
    assert.match(await text(page, "empty"), /no constituents yet/, view);
    await page.close();
  }
  // Two indexes on the node now: without ?index= the page does not pick one.
  const page = await browser.newPage();
  await page.goto(`${base}?${new URLSearchParams({ rpc: env("AIDX_RPC_URL") })}#overview`);
  await page.waitForSelector("#banner button#retry", { timeout: 20_000 });
  assert.match(await page.locator("#banner").innerText(), /this node holds 2 aidx indexes; choose one with \?index=/);
  await page.close();
});
