// The index account, decoded by the generated codec, with its rows.
import type { Address, GetAccountInfoApi, Rpc } from "@solana/kit";
import { fetchIndexAccount, type IndexAccount } from "./generated/accounts";
import type { Constituent } from "./generated/types";

/** A constituent row of the table. */
export type Row = Constituent;

/** The index account and its rows (the first `numConstituents` of the fixed table). */
export type LoadedIndex = {
  address: Address;
  account: IndexAccount;
  rows: Row[];
};

/** Fetches and decodes the index at `address`. */
export async function fetchIndex(rpc: Rpc<GetAccountInfoApi>, address: Address): Promise<LoadedIndex> {
  const account = await fetchIndexAccount(rpc, address);
  return fromAccount(address, account.data);
}

/** The rows of a decoded index account. */
export function fromAccount(address: Address, account: IndexAccount): LoadedIndex {
  return { address, account, rows: account.constituents.slice(0, account.numConstituents) };
}

/** Whether the index has had its first mint (its basket is seeded). */
export function isSeeded(index: IndexAccount): boolean {
  return index.shareSupply > 0n;
}
