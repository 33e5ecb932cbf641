// The index's addresses: its PDA, associated token accounts, Pyth push-feed accounts.
import {
  getAddressEncoder,
  getProgramDerivedAddress,
  getU16Encoder,
  type Address,
  type ReadonlyUint8Array,
} from "@solana/kit";
import {
  AIDX_PROGRAM_ADDRESS,
  ASSOCIATED_TOKEN_PROGRAM_ADDRESS,
  PYTH_PUSH_ORACLE_ADDRESS,
  Quarantine,
} from "./constants";
import type { Row } from "./accounts";

const addressBytes = (a: Address) => getAddressEncoder().encode(a);

/** The index account of `shareMint`: PDA `["index", share_mint]`. */
export async function findIndexAddress(shareMint: Address): Promise<Address> {
  const [pda] = await getProgramDerivedAddress({
    programAddress: AIDX_PROGRAM_ADDRESS,
    seeds: [new TextEncoder().encode("index"), addressBytes(shareMint)],
  });
  return pda;
}

/** The associated token account of `owner` for `mint` under `tokenProgram`. */
export async function findAssociatedTokenAddress(owner: Address, mint: Address, tokenProgram: Address): Promise<Address> {
  const [pda] = await getProgramDerivedAddress({
    programAddress: ASSOCIATED_TOKEN_PROGRAM_ADDRESS,
    seeds: [addressBytes(owner), addressBytes(tokenProgram), addressBytes(mint)],
  });
  return pda;
}

/** Pyth's push-feed account of `feedId` on `shard`. */
export async function findPushFeedAddress(feedId: ReadonlyUint8Array, shard = 0): Promise<Address> {
  const [pda] = await getProgramDerivedAddress({
    programAddress: PYTH_PUSH_ORACLE_ADDRESS,
    seeds: [getU16Encoder().encode(shard), feedId],
  });
  return pda;
}

/** Every row's push-feed account (shard 0), table order: what `refresh_prices` reads. */
export function priceFeedAddresses(rows: readonly Row[]): Promise<Address[]> {
  return Promise.all(rows.map((c) => findPushFeedAddress(c.feedId)));
}

/** The push-feed accounts a refresh before a trade needs: every row's but one the admin or
 * guardian quarantined (its feed may be dead). */
export function refreshFeedAddresses(rows: readonly Row[]): Promise<Address[]> {
  return priceFeedAddresses(rows.filter((c) => c.quarantine !== Quarantine.Authority));
}

/** The holder's associated token account of every row, table order. */
export function holderTokenAddresses(rows: readonly Row[], holder: Address): Promise<Address[]> {
  return Promise.all(rows.map((c) => findAssociatedTokenAddress(holder, c.mint, c.tokenProgram)));
}
