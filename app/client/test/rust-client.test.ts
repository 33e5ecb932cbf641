// The TypeScript client against the Rust client's answers for the same state (written by
// keeper/cli/tests/cli/ts_fixtures.rs from a demo run with fixed keys): every instruction's data
// and account metas, the in-kind quotes, the PDAs and feed addresses, unit for unit. Runs
// without a node.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { address, createNoopSigner, getBase64Decoder, getBase64Encoder, type Address, type Instruction } from "@solana/kit";
import * as aidx from "../src/index";

type Meta = { address: string; signer: boolean; writable: boolean };
type FixtureIx = { name: string; inputs: Record<string, unknown>; programId: string; data: string; accounts: Meta[] };
const fixture = JSON.parse(fs.readFileSync(new URL("./fixtures/rust-client.json", import.meta.url), "utf8")) as {
  index: string;
  indexData: string;
  holder: string;
  priceFeeds: string[];
  holderAccounts: string[];
  quotes: Record<string, string | number | string[]>;
  quotesWithFees: {
    shares: string; mintFeeBps: number; redeemFeeBps: number; managementFeeBps: number; mintSupply: string;
    now: string; supplyAsOf: string; netShares: string; skipMask: number; mintInKindDeposits: string[]; redeemInKindPayouts: string[];
  };
  instructions: FixtureIx[];
};
const idl = JSON.parse(fs.readFileSync(new URL("../../../programs/aidx/idl/aidx.json", import.meta.url), "utf8"));

const bytes = (b64: string) => Uint8Array.from(getBase64Encoder().encode(b64));
const b64 = (u: ArrayLike<number>) => getBase64Decoder().decode(Uint8Array.from(u));
const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const pascal = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const big = (v: unknown) => (v as string[]).map((x) => BigInt(x));

/** The (address, signer, writable) of each account of a kit instruction. */
function metas(ix: Instruction): Meta[] {
  return (ix.accounts ?? []).map((m) => ({
    address: m.address,
    signer: m.role === aidx.AccountRoleSigner || m.role === aidx.AccountRoleWritableSigner,
    writable: m.role === aidx.AccountRoleWritable || m.role === aidx.AccountRoleWritableSigner,
  }));
}

const index = aidx.fromAccount(address(fixture.index), aidx.getIndexAccountDecoder().decode(bytes(fixture.indexData)));
const holder = createNoopSigner(address(fixture.holder));

test("the index account decodes: every row, its mint, vault, balance and price", () => {
  assert.equal(index.rows.length, 17);
  assert.ok(index.account.shareSupply > 0n);
  for (const c of index.rows) {
    assert.ok(c.balance > 0n && c.price > 0n && c.targetWeight > 0n);
    assert.ok(c.decimals === 8 || c.decimals === 9);
  }
});

test("PDAs, associated token accounts and push-feed accounts equal the Rust client's", async () => {
  assert.deepEqual(await aidx.priceFeedAddresses(index.rows), fixture.priceFeeds);
  assert.deepEqual(await aidx.holderTokenAddresses(index.rows, holder.address), fixture.holderAccounts);
  assert.equal(await aidx.findIndexAddress(index.account.shareMint), fixture.index);
  const [vault] = await aidx.findVaultPda({ index: address(fixture.index), mint: index.rows[3]!.mint });
  assert.equal(vault, index.rows[3]!.vault);
});

test("in-kind quotes equal the Rust client's, unit for unit", () => {
  const shares = BigInt(fixture.quotes.shares as string);
  const bps = fixture.quotes.slippageBps as number;
  const deposits = aidx.mintInKindDeposits(index, shares);
  assert.deepEqual(deposits, big(fixture.quotes.mintInKindDeposits));
  assert.deepEqual(aidx.maxAmountsIn(deposits, bps), big(fixture.quotes.mintInKindMaxAmountsIn));
  const payouts = aidx.redeemInKindPayouts(index, shares);
  assert.deepEqual(payouts, big(fixture.quotes.redeemInKindPayouts));
  assert.deepEqual(aidx.minAmountsOut(payouts, bps), big(fixture.quotes.redeemInKindMinAmountsOut));
});

test("with fees: quotes on the index as the program sees it (burns synced, management fee accrued) equal the Rust client's", () => {
  const q = fixture.quotesWithFees;
  const shares = BigInt(q.shares);
  const charged: aidx.LoadedIndex = {
    ...index,
    account: {
      ...index.account,
      params: { ...index.account.params, mintFeeBps: q.mintFeeBps, redeemFeeBps: q.redeemFeeBps, managementFeeBps: q.managementFeeBps },
    },
  };
  const at = aidx.asOf(charged, BigInt(q.mintSupply), BigInt(q.now));
  assert.equal(at.account.shareSupply, BigInt(q.supplyAsOf));
  assert.equal(aidx.mintInKindNetShares(at, shares), BigInt(q.netShares));
  assert.deepEqual(aidx.mintInKindDeposits(at, shares), big(q.mintInKindDeposits));
  assert.deepEqual(aidx.redeemInKindPayouts(at, shares, q.skipMask), big(q.redeemInKindPayouts));
  assert.throws(() => aidx.asOf(charged, index.account.shareSupply + 1n, 0n), aidx.ShareSupplyMismatchError);
});

test("every instruction: the generated builder gives the Rust client's data and account metas", () => {
  assert.equal(fixture.instructions.length, idl.instructions.length);
  for (const f of fixture.instructions) {
    const spec = idl.instructions.find((i: { name: string }) => camel(i.name) === f.name);
    assert.ok(spec, `${f.name} is in the IDL`);
    const mod = aidx as unknown as Record<string, (...a: unknown[]) => unknown>;
    const decoder = mod[`get${pascal(f.name)}InstructionDataDecoder`]!() as { decode(b: Uint8Array): Record<string, unknown> };
    const args = decoder.decode(bytes(f.data));
    const named = spec.accounts.length as number;
    const accounts: Record<string, unknown> = {};
    spec.accounts.forEach((a: { name: string }, i: number) => {
      const m = f.accounts[i]!;
      accounts[camel(a.name)] = m.signer ? createNoopSigner(address(m.address)) : address(m.address);
    });
    const built = mod[`get${pascal(f.name)}Instruction`]!({ ...accounts, ...args }) as Instruction;
    assert.equal(built.programAddress, f.programId, f.name);
    assert.equal(b64(built.data ?? []), f.data, `${f.name}: data`);
    assert.deepEqual(metas(built), f.accounts.slice(0, named), `${f.name}: named accounts`);
  }
});

test("holder builders (legs as remaining accounts, table order) equal the Rust client's, every account", async () => {
  const byName = (n: string) => fixture.instructions.find((i) => i.name === n)!;
  const same = (ix: Instruction, f: FixtureIx) => {
    assert.equal(b64(ix.data ?? []), f.data, `${f.name}: data`);
    assert.deepEqual(metas(ix), f.accounts, `${f.name}: accounts`);
  };
  const shares = BigInt(fixture.quotes.shares as string);
  same(
    await aidx.mintInKind(index, holder, {
      shares,
      maxAmountsIn: big(fixture.quotes.mintInKindMaxAmountsIn),
      minSharesOut: shares,
    }),
    byName("mintInKind"),
  );
  same(
    await aidx.redeemInKind(index, holder, { shares, minAmountsOut: big(fixture.quotes.redeemInKindMinAmountsOut) }),
    byName("redeemInKind"),
  );
  const row = byName("mintSingle").inputs.row as number;
  same(await aidx.mintSingle(index, holder, row, { amountIn: 123_456_789n, minSharesOut: 42n }), byName("mintSingle"));
  same(await aidx.redeemSingle(index, holder, row, { shares: aidx.ONE_SHARE / 7n, minAmountOut: 99n }), byName("redeemSingle"));
  same(aidx.refreshPrices(index.address, fixture.priceFeeds.map((k) => address(k)) as Address[]), byName("refreshPrices"));
});

test("every program error has its name and message, and a transaction error names it", () => {
  for (const e of idl.errors as { code: number; name: string; msg: string }[]) {
    const named = aidx.aidxError(e.code);
    assert.ok(named, `${e.name}`);
    assert.equal(named.name, e.name);
    assert.equal(named.message, e.msg);
  }
  const slippage = (idl.errors as { code: number; name: string }[]).find((e) => e.name === "MaxAmountInExceeded")!;
  assert.deepEqual(aidx.explainTransactionError({ InstructionError: [1, { Custom: slippage.code }] })?.name, "MaxAmountInExceeded");
  assert.equal(aidx.explainTransactionError({ InstructionError: [0, "InvalidAccountData"] }), undefined);
  assert.equal(aidx.aidxError(1), undefined);
});

test("events decode from logs, following the invoke stack, and bad payloads are named", () => {
  const ev = aidx.getNavReportedEncoder().encode({
    index: address(fixture.index),
    slot: 5n,
    navMid: 10n,
    navLow: 9n,
    navHigh: 11n,
    shareSupply: 3n,
    valuePerShare: 4n,
    weights: [1n, 2n],
  });
  const raw = new Uint8Array([...aidx.AIDX_EVENTS.NavReported.discriminator, ...ev]);
  const logs = [
    `Program ${aidx.AIDX_PROGRAM_ADDRESS} invoke [1]`,
    `Program data: ${b64(raw)}`,
    `Program ${aidx.TOKEN_PROGRAM_ADDRESS} invoke [2]`,
    `Program data: ${b64(raw)}`,
    `Program ${aidx.TOKEN_PROGRAM_ADDRESS} success`,
    `Program ${aidx.AIDX_PROGRAM_ADDRESS} success`,
  ];
  const events = aidx.eventsFromLogs(logs);
  assert.equal(events.length, 1, "the token program's data line is not the program's");
  const [nav] = aidx.eventsNamed(events, "NavReported");
  assert.equal(nav?.navMid, 10n);
  assert.deepEqual(nav?.weights, [1n, 2n]);
  assert.throws(() => aidx.decodeEvent(raw.subarray(0, raw.length - 3)), aidx.EventDecodeError);
  assert.throws(() => aidx.decodeEvent(new Uint8Array([...raw, 0])), aidx.EventDecodeError);
  assert.throws(() => aidx.decodeEvent(new Uint8Array(12)), /unknown event discriminator/);
});

test("NAV and weights from stored prices follow the program's rounding", () => {
  const nav = aidx.navOf(index);
  assert.equal(nav.weights.length, 17);
  const sum = nav.weights.reduce((a, w) => a + w, 0n);
  assert.ok(sum <= aidx.WEIGHT_SCALE && sum > aidx.WEIGHT_SCALE - 17n);
  assert.ok(nav.navLow <= nav.navMid && nav.navMid <= nav.navHigh);
  assert.equal(nav.valuePerShare, (nav.navMid * aidx.ONE_SHARE) / index.account.shareSupply);
});

test("slippage bounds round toward the vault and refuse more than 50%", () => {
  assert.equal(aidx.plusSlippage(10_001n, 50), 10_052n);
  assert.equal(aidx.lessSlippage(10_001n, 50), 9_950n);
  assert.throws(() => aidx.plusSlippage(1n, 5_001), RangeError);
  assert.throws(() => aidx.mintDeposit(1n, (1n << 64n) - 1n, 1n) && aidx.mintDeposit((1n << 64n) - 1n, (1n << 64n) - 1n, 1n), aidx.MathOverflowError);
});
