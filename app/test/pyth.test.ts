// The keeper's Pyth instructions against Pyth's own TypeScript SDK
// (@pythnetwork/pyth-solana-receiver) for the same inputs: a real Hermes update (SOL/USD and
// ETH/USD, 13 guardian signatures), posted fully verified into push feeds (update_price_feed)
// and into accounts of the payer's (post_update), and the closes. Every instruction's program,
// data and account metas must be equal, byte for byte. The SDK makes its own keypairs for the
// VAA's account and the price accounts; they are mapped to the keeper's by their place before
// comparing (nothing else in the instructions depends on them). The fixture is written by
// keeper/client/tests/pyth_fixtures.rs.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
// The SDK's ESM build does not load under Node (directory imports); its CommonJS build does
// (with jito-ts's @solana/web3.js deduplicated: package.json overrides).
const web3 = require("@solana/web3.js") as typeof import("@solana/web3.js");
const { PythSolanaReceiver } = require("@pythnetwork/pyth-solana-receiver") as {
  PythSolanaReceiver: new (a: { connection: unknown; wallet: unknown; treasuryId?: number }) => Receiver;
};

type Ix = { programId: import("@solana/web3.js").PublicKey; keys: { pubkey: import("@solana/web3.js").PublicKey; isSigner: boolean; isWritable: boolean }[]; data: Buffer };
type WithSigners = { instruction: Ix; signers: import("@solana/web3.js").Keypair[]; computeUnits?: number };
type Built = { postInstructions: WithSigners[]; closeInstructions: WithSigners[] };
type Receiver = {
  buildPostPriceUpdateInstructions(updates: string[]): Promise<Built & { priceFeedIdToPriceUpdateAccount: Record<string, import("@solana/web3.js").PublicKey> }>;
  buildUpdatePriceFeedInstructions(updates: string[], shard: number): Promise<Built>;
};
type Key = { pubkey: string; isSigner: boolean; isWritable: boolean };
type FixtureIx = { programId: string; data: string; keys: Key[] };
type Flow = {
  post: FixtureIx[];
  close: FixtureIx[];
  priceAccounts: [string, string][];
  postComputeUnits: number[];
  closeComputeUnits: number[];
};

const fixture = JSON.parse(fs.readFileSync(new URL("./fixtures/pyth-instructions.json", import.meta.url), "utf8")) as {
  update: string;
  payer: string;
  encodedVaa: string;
  priceAccounts: string[];
  treasuryId: number;
  shard: number;
  encodedVaaRent: number;
  pushFeed: Flow;
  accounts: Flow;
};

function sdk(): Receiver {
  // No network: the only question the SDK asks the node is the rent of the VAA's account.
  const connection = new web3.Connection("http://127.0.0.1:1", "confirmed");
  connection.getMinimumBalanceForRentExemption = async () => fixture.encodedVaaRent;
  const payer = new web3.PublicKey(fixture.payer);
  const wallet = { publicKey: payer, signTransaction: async <T>(t: T) => t, signAllTransactions: async <T>(t: T) => t };
  return new PythSolanaReceiver({ connection, wallet, treasuryId: fixture.treasuryId });
}

/** The SDK's instructions as the fixture writes them, its fresh keys replaced by the keeper's. */
function normalise(ixs: WithSigners[], fresh: Map<string, string>): FixtureIx[] {
  return ixs.map(({ instruction: ix }) => ({
    programId: ix.programId.toBase58(),
    data: Buffer.from(ix.data).toString("hex"),
    keys: ix.keys.map((k) => ({ pubkey: fresh.get(k.pubkey.toBase58()) ?? k.pubkey.toBase58(), isSigner: k.isSigner, isWritable: k.isWritable })),
  }));
}

/** The keeper's compute-unit figure of each instruction equals the SDK's wherever the SDK gives
 * one (it gives none for the system create and for reclaim_rent). */
function sameUnits(actual: WithSigners[], expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: instruction count`);
  for (const [i, a] of actual.entries()) {
    if (a.computeUnits !== undefined) assert.equal(expected[i], a.computeUnits, `${what}: instruction ${i}'s compute units`);
  }
}

/** Each instruction compared on its own, so a failure names which. */
function same(actual: FixtureIx[], expected: FixtureIx[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: instruction count`);
  for (const [i, e] of expected.entries()) assert.deepEqual(actual[i], e, `${what}: instruction ${i}`);
}

test("posting into push feeds (update_price_feed) and closing the VAA: Pyth's SDK builds the keeper's instructions", async () => {
  const built = await sdk().buildUpdatePriceFeedInstructions([fixture.update], fixture.shard);
  // The VAA's account: the new account of the first instruction (the system create).
  const vaaKey = built.postInstructions[0]!.instruction.keys[1]!.pubkey.toBase58();
  const fresh = new Map([[vaaKey, fixture.encodedVaa]]);
  same(normalise(built.postInstructions, fresh), fixture.pushFeed.post, "post");
  same(normalise(built.closeInstructions, fresh), fixture.pushFeed.close, "close");
  sameUnits(built.postInstructions, fixture.pushFeed.postComputeUnits, "post");
  sameUnits(built.closeInstructions, fixture.pushFeed.closeComputeUnits, "close");
});

test("posting into the payer's accounts (post_update) and reclaiming their rent: Pyth's SDK builds the keeper's instructions", async () => {
  const built = await sdk().buildPostPriceUpdateInstructions([fixture.update]);
  const vaaKey = built.postInstructions[0]!.instruction.keys[1]!.pubkey.toBase58();
  const fresh = new Map([[vaaKey, fixture.encodedVaa]]);
  // The price accounts, in the update's order: the SDK's map from feed id to account.
  for (const [i, [feed]] of fixture.accounts.priceAccounts.entries()) {
    const key = built.priceFeedIdToPriceUpdateAccount[`0x${feed}`];
    assert.ok(key, `the SDK posts feed ${feed}`);
    fresh.set(key.toBase58(), fixture.priceAccounts[i]!);
  }
  same(normalise(built.postInstructions, fresh), fixture.accounts.post, "post");
  same(normalise(built.closeInstructions, fresh), fixture.accounts.close, "close");
  sameUnits(built.postInstructions, fixture.accounts.postComputeUnits, "post");
  sameUnits(built.closeInstructions, fixture.accounts.closeComputeUnits, "close");
});
