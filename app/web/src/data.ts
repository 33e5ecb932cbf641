// Everything the views show, read from the chain through the TypeScript client: the index and
// its rows, the vaults and the share mint, the clock, the history from transaction logs, and
// the invariant checks `aidx audit` runs, recomputed here.
import {
  address,
  getAddressDecoder,
  getBase64Encoder,
  getU64Decoder,
  type Address,
  type Rpc,
  type SolanaRpcApi,
} from "@solana/kit";
import * as aidx from "@aidx/client";

export const SUB_SECTORS = ["compute", "inference", "models", "agents", "data", "ai_chains", "infra", "host"];
export const PAUSES: [number, string][] = [
  [1, "mint in kind"],
  [2, "mint single"],
  [4, "redeem single"],
  [8, "rebalance"],
  [16, "targets"],
];

/** A row as the views use it. */
export type RowView = {
  row: number;
  symbol: string;
  sector: string;
  bucket: string;
  program: string;
  c: aidx.Row;
  vault: bigint;
  value: bigint;
  weight: bigint;
  band: { low: bigint; high: bigint };
  ageSecs: number;
};

/** One audit check, by the name `aidx audit` gives it. */
export type Check = { rule: string; what: string; ok: boolean; detail: string };

export type Loaded = {
  /** The node the page reads from and sends to. */
  rpcUrl: string;
  index: aidx.LoadedIndex;
  nav: aidx.Nav;
  rows: RowView[];
  mintSupply: bigint;
  feeShares: bigint;
  deadShares: bigint;
  now: number;
  checks: Check[];
};

const b64 = (s: string) => Uint8Array.from(getBase64Encoder().encode(s));

/** The raw data of `keys` (null where no account), in order. */
async function accounts(rpc: Rpc<SolanaRpcApi>, keys: Address[]): Promise<(Uint8Array | null)[]> {
  const out: (Uint8Array | null)[] = [];
  for (let i = 0; i < keys.length; i += 100) {
    const { value } = await rpc.getMultipleAccounts(keys.slice(i, i + 100), { encoding: "base64", commitment: "confirmed" }).send();
    out.push(...value.map((a) => (a ? b64(a.data[0]) : null)));
  }
  return out;
}

const u64At = (d: Uint8Array, at: number) => getU64Decoder().decode(d.subarray(at, at + 8));
const addressAt = (d: Uint8Array, at: number) => getAddressDecoder().decode(d.subarray(at, at + 32));

/** The aidx index the node holds, when it holds exactly one (what the page shows without
 * `?index=`): with several, the page does not pick one for the reader. */
export async function findIndex(rpc: Rpc<SolanaRpcApi>): Promise<Address> {
  const found = (await rpc
    .getProgramAccounts(aidx.AIDX_PROGRAM_ADDRESS, {
      encoding: "base64",
      dataSlice: { offset: 0, length: 0 },
      filters: [{ dataSize: BigInt(aidx.getIndexAccountSize()) }],
    })
    .send()) as unknown as { pubkey: Address }[];
  if (found.length === 0) throw new Error("no aidx index on this node");
  if (found.length > 1) {
    throw new Error(`this node holds ${found.length} aidx indexes; choose one with ?index= (${found.map((f) => f.pubkey).join(", ")})`);
  }
  return found[0]!.pubkey;
}

/** The cluster's unix time (the Clock sysvar) and the share mint's supply: what the program
 * accrues the management fee to and syncs the supply from. */
export async function clockAndSupply(rpc: Rpc<SolanaRpcApi>, shareMint: Address): Promise<{ now: bigint; mintSupply: bigint }> {
  const [clock, mint] = await accounts(rpc, [address("SysvarC1ock11111111111111111111111111111111"), shareMint]);
  if (!clock || !mint) throw new Error("the clock or the share mint could not be read");
  return { now: u64At(clock, 32), mintSupply: u64At(mint, 36) };
}

/** The Wallet Standard chain of the node, from its genesis hash (a local node otherwise). */
export async function walletChain(rpc: Rpc<SolanaRpcApi>): Promise<string> {
  const genesis = await rpc.getGenesisHash().send();
  const known: Record<string, string> = {
    "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d": "solana:mainnet",
    EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG: "solana:devnet",
    "4uhcVJyU9pJkvQyS88uRDiswHXSCkY3zQawwpjk2NsNY": "solana:testnet",
  };
  return known[genesis] ?? "solana:localnet";
}

/** Loads the index and everything derived from it. */
export async function load(rpc: Rpc<SolanaRpcApi>, indexAddress: Address, symbols: string[], rpcUrl: string): Promise<Loaded> {
  const index = await aidx.fetchIndex(rpc, indexAddress);
  const { account, rows } = index;
  const [clockData, mintData, feeData, deadData, ...vaultData] = await accounts(rpc, [
    address("SysvarC1ock11111111111111111111111111111111"),
    account.shareMint,
    account.feeShares,
    account.deadShares,
    ...rows.map((c) => c.vault),
  ]);
  const now = Number(clockData ? u64At(clockData, 32) : 0n);
  const nav = aidx.navOf(index);
  const views: RowView[] = rows.map((c, i) => ({
    row: i,
    symbol: symbols[i] ?? c.mint.slice(0, 6),
    sector: SUB_SECTORS[c.subSector] ?? "?",
    bucket: c.bucket === 0 ? "pure play" : "host",
    program: c.tokenProgram === aidx.TOKEN_PROGRAM_ADDRESS ? "spl-token" : "token-2022",
    c,
    vault: vaultData[i] ? u64At(vaultData[i]!, 64) : -1n,
    value: nav.values[i]!,
    weight: nav.weights[i]!,
    band: aidx.band(c.targetWeight, account.params.band),
    ageSecs: Math.max(0, now - Number(c.publishTime)),
  }));
  const loaded: Loaded = {
    rpcUrl,
    index,
    nav,
    rows: views,
    mintSupply: mintData ? u64At(mintData, 36) : -1n,
    feeShares: feeData ? u64At(feeData, 64) : 0n,
    deadShares: deadData ? u64At(deadData, 64) : 0n,
    now,
    checks: [],
  };
  loaded.checks = await audit(loaded, vaultData);
  return loaded;
}

/** The invariant checks, named as `aidx audit` names them. */
async function audit(l: Loaded, vaultData: (Uint8Array | null)[]): Promise<Check[]> {
  const { account } = l.index;
  const checks: Check[] = [];
  const check = (rule: string, what: string, ok: boolean, detail = "") => checks.push({ rule, what, ok, detail });
  const pda = await aidx.findIndexAddress(account.shareMint);
  check("index-address", "the index is the share mint's PDA", pda === l.index.address, pda);
  for (const r of l.rows) {
    const [vault] = await aidx.findVaultPda({ index: l.index.address, mint: r.c.mint });
    const data = vaultData[r.row];
    check("vault-address", `${r.symbol}: vault is the PDA ["vault", index, mint]`, vault === r.c.vault, vault);
    check(
      "vault-ownership",
      `${r.symbol}: vault holds the mint and the index owns it`,
      !!data && addressAt(data, 0) === r.c.mint && addressAt(data, 32) === l.index.address,
    );
    check("vault-balance", `${r.symbol}: vault holds at least what the index accounts for`, r.vault >= r.c.balance, `${r.vault} / ${r.c.balance}`);
    check("target-over-cap", `${r.symbol}: target within the cap`, r.c.targetWeight <= account.params.maxWeight);
    const outOfBand = r.weight > r.band.high || r.weight < r.band.low;
    check("weight-over-cap", `${r.symbol}: weight not above the cap while out of band`, !(r.weight > account.params.maxWeight && outOfBand));
  }
  check("share-supply", "share mint supply equals the index's share supply", l.mintSupply === account.shareSupply, `${l.mintSupply} / ${account.shareSupply}`);
  const targets = l.rows.reduce((a, r) => a + r.c.targetWeight, 0n);
  check("targets-sum", "targets sum to at most 100%", targets <= aidx.WEIGHT_SCALE, targets.toString());
  check("dead-shares", "the dead shares are locked after the first mint", account.shareSupply === 0n || l.deadShares >= aidx.DEAD_SHARES);
  return checks;
}

/** One event of the history, with where it came from. */
export type HistoryItem = { signature: string; blockTime: number | null; slot: bigint; event: aidx.AidxEvent };

/** A page of the index's history, newest first: `limit` transactions before `before`. */
export async function history(
  rpc: Rpc<SolanaRpcApi>,
  indexAddress: Address,
  limit: number,
  before?: string,
): Promise<{ items: HistoryItem[]; last?: string; more: boolean }> {
  const sigs = await rpc
    .getSignaturesForAddress(indexAddress, { limit, commitment: "confirmed", ...(before ? { before: before as never } : {}) })
    .send();
  const items: HistoryItem[] = [];
  for (const s of sigs) {
    if (s.err) continue;
    const tx = await rpc.getTransaction(s.signature, { encoding: "json", commitment: "confirmed", maxSupportedTransactionVersion: 0 }).send();
    const logs = tx?.meta?.logMessages ?? [];
    for (const event of aidx.eventsFromLogs(logs).reverse()) {
      items.push({ signature: s.signature, blockTime: s.blockTime === null ? null : Number(s.blockTime), slot: s.slot, event });
    }
  }
  return { items, last: sigs[sigs.length - 1]?.signature, more: sigs.length === limit };
}
