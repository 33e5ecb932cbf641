// The TypeScript client against `aidx localnet --demo` (scripts/test-app starts it and passes
// its URLs, index, wallets and lookup tables): decoding, quotes against the Rust client's for
// the same state (the `aidx` binary's dry runs), mint and redeem in kind and single-asset sent
// with the generated builders, confirmed over PubSub, checked by balances and events, and a
// program error arriving by name.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import {
  address,
  createKeyPairSignerFromBytes,
  createSolanaRpc,
  createSolanaRpcSubscriptions,
  type Address,
  type KeyPairSigner,
} from "@solana/kit";
import * as aidx from "../src/index";

const env = (k: string): string => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set (run scripts/test-app)`);
  return v;
};
const rpc = createSolanaRpc(env("AIDX_RPC_URL"));
const subs = createSolanaRpcSubscriptions(env("AIDX_WS_URL"));
const indexAddress = address(env("AIDX_INDEX"));
const wallets = env("AIDX_WALLETS");
const tables = Object.fromEntries(env("AIDX_LOOKUP_TABLES").split(",").map((t) => t.split("=") as [string, string]));
const symbols = env("AIDX_SYMBOLS").split(",");

/** Runs the `aidx` binary against the node as `signer`; its stdout. */
function cli(signer: string, args: string[]): string {
  return execFileSync(env("AIDX_BIN"), args, {
    env: {
      ...process.env,
      RUST_BACKTRACE: "0",
      AIDX_URL: env("AIDX_RPC_URL"),
      AIDX_INDEX: env("AIDX_INDEX"),
      AIDX_SYMBOLS: env("AIDX_SYMBOLS"),
      AIDX_LOOKUP_TABLES: env("AIDX_LOOKUP_TABLES"),
      AIDX_KEYPAIR: path.join(wallets, `${signer}.json`),
    },
    encoding: "utf8",
  });
}

/** JSON whose integers past 2^53 stay exact (kept as strings, read with `BigInt`). */
function parseExact(text: string): any {
  return JSON.parse(text.replace(/(:\s*)(-?\d{16,})(?=\s*[,}\]])/g, '$1"$2"'));
}

/** Numbers of field `field` in the Rust event named `event` of a dry run's JSON. */
function rustEvent(json: string, event: string, field: string): bigint[] {
  const detail = (JSON.parse(json).events as { event: string; detail: string }[]).find((e) => e.event === event)?.detail;
  assert.ok(detail, `the dry run emitted ${event}`);
  const m = new RegExp(`\\b${field}: (\\[[0-9, ]*\\]|[0-9]+)`).exec(detail);
  assert.ok(m, `${event}.${field} in ${detail}`);
  return m[1]!.startsWith("[") ? JSON.parse(m[1]!).map((x: number) => BigInt(x)) : [BigInt(m[1]!)];
}

let holder: KeyPairSigner;
const lookup = (): Address[] => [address(tables.index!), address(tables.bob!)];

async function balance(account: Address): Promise<bigint> {
  const { value } = await rpc.getTokenAccountBalance(account, { commitment: "confirmed" }).send();
  return BigInt(value.amount);
}

before(async () => {
  const secret = Uint8Array.from(JSON.parse(fs.readFileSync(path.join(wallets, "bob.json"), "utf8")));
  holder = await createKeyPairSignerFromBytes(secret);
  // Prices published now (through the node's cheatcodes), for the single-asset trades.
  cli("admin", ["oracle"]);
});

test("the index and every constituent decode as the Rust auditor reads them", async () => {
  const index = await aidx.fetchIndex(rpc, indexAddress);
  const audit = parseExact(cli("bob", ["audit", "--json"]));
  assert.equal(index.rows.length, audit.rows.length);
  assert.equal(index.account.shareSupply, BigInt(audit.share_supply));
  index.rows.forEach((c, i) => {
    const r = audit.rows[i];
    assert.equal(r.symbol, symbols[i]);
    assert.equal(c.balance, BigInt(r.balance));
    assert.equal(c.price, BigInt(r.price));
    assert.equal(c.targetWeight, BigInt(r.target));
  });
  const nav = aidx.navOf(index);
  assert.equal(nav.navMid, BigInt(audit.nav_mid));
  assert.equal(nav.navLow, BigInt(audit.nav_low));
  assert.equal(nav.navHigh, BigInt(audit.nav_high));
  assert.equal(nav.valuePerShare, BigInt(audit.value_per_share));
  nav.weights.forEach((w, i) => assert.equal(w, BigInt(audit.rows[i].weight)));
});

test("mint and redeem in kind: quotes equal the Rust client's; sent, the balances and events agree", async () => {
  const shares = 2n * aidx.ONE_SHARE;
  let index = await aidx.fetchIndex(rpc, indexAddress);
  const deposits = aidx.mintInKindDeposits(index, shares);
  assert.deepEqual(deposits, rustEvent(cli("bob", ["mint", "--holder", "bob", "--shares", "2", "--dry-run", "--json"]), "MintedInKind", "amounts_in"));
  const accounts = await aidx.holderTokenAddresses(index.rows, holder.address);
  const shareAccount = await aidx.findAssociatedTokenAddress(holder.address, index.account.shareMint, aidx.TOKEN_PROGRAM_ADDRESS);
  const before = await Promise.all(accounts.map(balance));
  const sharesBefore = await balance(shareAccount);
  const mint = await aidx.mintInKind(index, holder, { shares, maxAmountsIn: aidx.maxAmountsIn(deposits, 50), minSharesOut: shares });
  const sent = await aidx.sendAndConfirm(rpc, subs, holder, [mint], { lookupTables: lookup() });
  const [m] = aidx.eventsNamed(sent.events, "MintedInKind");
  assert.ok(m);
  assert.deepEqual(m.amountsIn, deposits);
  assert.equal(m.shares, shares);
  assert.equal(await balance(shareAccount), sharesBefore + shares);
  const after = await Promise.all(accounts.map(balance));
  after.forEach((b, i) => assert.equal(b, before[i]! - deposits[i]!));

  index = await aidx.fetchIndex(rpc, indexAddress);
  const payouts = aidx.redeemInKindPayouts(index, aidx.ONE_SHARE);
  assert.deepEqual(payouts, rustEvent(cli("bob", ["redeem", "--holder", "bob", "--shares", "1", "--dry-run", "--json"]), "RedeemedInKind", "amounts_out"));
  const redeem = await aidx.redeemInKind(index, holder, { shares: aidx.ONE_SHARE, minAmountsOut: aidx.minAmountsOut(payouts, 50) });
  const back = await aidx.sendAndConfirm(rpc, subs, holder, [redeem], { lookupTables: lookup() });
  const [r] = aidx.eventsNamed(back.events, "RedeemedInKind");
  assert.deepEqual(r?.amountsOut, payouts);
  const end = await Promise.all(accounts.map(balance));
  end.forEach((b, i) => assert.equal(b, after[i]! + payouts[i]!));
  assert.equal(await balance(shareAccount), sharesBefore + shares - aidx.ONE_SHARE);
});

test("single-asset mint and redeem: quotes by simulation equal the Rust client's; sent, they pay the quote", async () => {
  let index = await aidx.fetchIndex(rpc, indexAddress);
  const row = index.rows.length - 1;
  const c = index.rows[row]!;
  const amountIn = 10n ** BigInt(c.decimals); // one whole token
  const q = await aidx.quoteMintSingle(rpc, index, holder, row, amountIn, 50, lookup());
  const rust = rustEvent(cli("bob", ["mint", "--holder", "bob", "--single", symbols[row]!, "--amount", "1", "--dry-run", "--json"]), "MintedSingle", "shares");
  assert.deepEqual([q.quoted], rust);
  const token = await aidx.findAssociatedTokenAddress(holder.address, c.mint, c.tokenProgram);
  const before = await balance(token);
  const refresh = aidx.refreshPrices(indexAddress, await aidx.refreshFeedAddresses(index.rows));
  const ix = await aidx.mintSingle(index, holder, row, { amountIn, minSharesOut: q.bound });
  const sent = await aidx.sendAndConfirm(rpc, subs, holder, [refresh, ix], { lookupTables: lookup() });
  const [m] = aidx.eventsNamed(sent.events, "MintedSingle");
  assert.equal(m?.shares, q.quoted);
  assert.equal(await balance(token), before - amountIn);

  // Redeemed from the heaviest row (out of it, every weight moves toward its target).
  index = await aidx.fetchIndex(rpc, indexAddress);
  const weights = aidx.navOf(index).weights;
  const heavy = weights.indexOf(weights.reduce((a, w) => (w > a ? w : a), 0n));
  const h = index.rows[heavy]!;
  const heavyToken = await aidx.findAssociatedTokenAddress(holder.address, h.mint, h.tokenProgram);
  const heavyBefore = await balance(heavyToken);
  const shares = aidx.ONE_SHARE / 10n;
  const rq = await aidx.quoteRedeemSingle(rpc, index, holder, heavy, shares, 50, lookup());
  const rrust = rustEvent(cli("bob", ["redeem", "--holder", "bob", "--shares", "0.1", "--single", symbols[heavy]!, "--dry-run", "--json"]), "RedeemedSingle", "amount_out");
  assert.deepEqual([rq.quoted], rrust);
  const rix = await aidx.redeemSingle(index, holder, heavy, { shares, minAmountOut: rq.bound });
  const back = await aidx.sendAndConfirm(rpc, subs, holder, [refresh, rix], { lookupTables: lookup() });
  const [r] = aidx.eventsNamed(back.events, "RedeemedSingle");
  assert.equal(r?.amountOut, rq.quoted);
  assert.equal(await balance(heavyToken), heavyBefore + rq.quoted);
});

test("a program error arrives in TypeScript by name, with its message", async () => {
  const index = await aidx.fetchIndex(rpc, indexAddress);
  const shares = aidx.ONE_SHARE;
  const deposits = aidx.mintInKindDeposits(index, shares);
  const tooLittle = deposits.map((d, i) => (i === 0 ? d - 1n : d));
  const ix = await aidx.mintInKind(index, holder, { shares, maxAmountsIn: tooLittle, minSharesOut: shares });
  await assert.rejects(aidx.sendAndConfirm(rpc, subs, holder, [ix], { lookupTables: lookup() }), (e: unknown) => {
    assert.ok(e instanceof aidx.AidxTransactionError, String(e));
    assert.equal(e.aidx?.name, "MaxAmountInExceeded");
    assert.equal(e.message, `MaxAmountInExceeded: ${aidx.getAidxErrorMessage(e.aidx!.code)}`);
    assert.ok(e.logs.some((l) => l.includes(`${aidx.AIDX_PROGRAM_ADDRESS} failed`)), "the logs came with it");
    return true;
  });
  await assert.rejects(aidx.simulate(rpc, holder.address, [ix], lookup()), (e: unknown) => {
    assert.equal((e as aidx.AidxTransactionError).aidx?.name, "MaxAmountInExceeded");
    return true;
  });
});
