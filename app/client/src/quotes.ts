// Quotes with slippage bounds, as the Rust client computes them (keeper/client/src/holder.rs):
// in kind by the program's own share math on the current balances, single-asset by
// simulating the instruction (what the program would pay, to the unit).
import { DEAD_SHARES, Quarantine } from "./constants";
import type { LoadedIndex } from "./accounts";
import { isSeeded } from "./accounts";
import { lessSlippage, mintDeposit, plusSlippage, redeemPayout, seedDeposit } from "./math";

/** An in-kind quote that needs the chain: a quarantined row that cannot move is paid for in
 * the other rows at their trade prices; quote it by simulating the mint instead. */
export class QuoteNeedsSimulationError extends Error {
  constructor() {
    super("a quarantined row that cannot move is paid for at trade prices: quote by simulation");
    this.name = "QuoteNeedsSimulationError";
  }
}

/** What an in-kind mint of `shares` deposits of each row, raw units, table order. `stuck`
 * marks the quarantined rows that cannot move (a frozen vault or paused mint), if any. */
export function mintInKindDeposits(index: LoadedIndex, shares: bigint, stuck: readonly boolean[] = []): bigint[] {
  const { account, rows } = index;
  if (isSeeded(account)) {
    if (rows.some((c, i) => c.quarantine !== Quarantine.None && stuck[i])) throw new QuoteNeedsSimulationError();
    return rows.map((c) => mintDeposit(shares, c.balance, account.shareSupply));
  }
  // The first mint seeds the basket at its stated composition, dead shares included.
  const amounts = rows.map((c) => seedDeposit(shares + DEAD_SHARES, c.initialUnitsPerShare));
  return amounts;
}

/** What an in-kind redeem of `shares` pays of each row, raw units, table order (a
 * quarantined row pays nothing until it is released). */
export function redeemInKindPayouts(index: LoadedIndex, shares: bigint): bigint[] {
  return index.rows.map((c) =>
    c.quarantine !== Quarantine.None ? 0n : redeemPayout(shares, c.balance, index.account.shareSupply),
  );
}

/** An in-kind mint's bounds: the most of each row it may take. */
export function maxAmountsIn(deposits: readonly bigint[], slippageBps: number): bigint[] {
  return deposits.map((d) => plusSlippage(d, slippageBps));
}

/** An in-kind redeem's bounds: the least of each row it must pay. */
export function minAmountsOut(payouts: readonly bigint[], slippageBps: number): bigint[] {
  return payouts.map((p) => lessSlippage(p, slippageBps));
}
