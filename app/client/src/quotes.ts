// Quotes with slippage bounds, as the Rust client computes them (keeper/client/src/holder.rs):
// in kind by the program's own share math on the current balances, single-asset by
// simulating the instruction (what the program would pay, to the unit).
import { DEAD_SHARES, Quarantine } from "./constants";
import type { LoadedIndex } from "./accounts";
import { isSeeded } from "./accounts";
import { feeOn, lessSlippage, managementFeeShares, mintDeposit, plusSlippage, redeemPayout, seedDeposit } from "./math";

/** An in-kind quote that needs the chain: a quarantined row that cannot move is paid for in
 * the other rows at their trade prices; quote it by simulating the mint instead. */
export class QuoteNeedsSimulationError extends Error {
  constructor() {
    super("a quarantined row that cannot move is paid for at trade prices: quote by simulation");
    this.name = "QuoteNeedsSimulationError";
  }
}

/** The share mint holds more shares than the index accounts for (the program refuses every
 * supply change with `ShareSupplyMismatch`). */
export class ShareSupplyMismatchError extends Error {
  constructor(mintSupply: bigint, indexSupply: bigint) {
    super(`the share mint's supply ${mintSupply} is above the index's ${indexSupply}`);
    this.name = "ShareSupplyMismatchError";
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

/** What an in-kind redeem of `shares` pays of each row, raw units, table order
 * (`redeem_in_kind_payouts`): the shares net of the redeem fee, pro rata, rounded down;
 * nothing of a skipped row (`skipMask`, a bit per row) or of a quarantined one (it pays
 * nothing until released). Quote on the index brought to the time of sending ([`asOf`]). */
export function redeemInKindPayouts(index: LoadedIndex, shares: bigint, skipMask = 0): bigint[] {
  const net = shares - feeOn(shares, index.account.params.redeemFeeBps);
  return index.rows.map((c, i) =>
    (skipMask & (1 << i)) !== 0 || c.quarantine !== Quarantine.None
      ? 0n
      : redeemPayout(net, c.balance, index.account.shareSupply),
  );
}

/** The shares an in-kind mint of `shares` gives: the mint fee (rounded up) taken off. The
 * instruction's `minSharesOut`. */
export function mintInKindNetShares(index: LoadedIndex, shares: bigint): bigint {
  return shares - feeOn(shares, index.account.params.mintFeeBps);
}

/** `index` as the program sees it at unix time `now` before it computes from the supply
 * (`Index::accrue_fee`): the supply synced down to the share mint's `mintSupply` (shares
 * burned outside the program), then the management fee accrued. In-kind quotes on it divide
 * by the supply the program will. */
export function asOf(index: LoadedIndex, mintSupply: bigint, now: bigint): LoadedIndex {
  const a = index.account;
  if (mintSupply > a.shareSupply) throw new ShareSupplyMismatchError(mintSupply, a.shareSupply);
  const fee = a.lastFeeAccrualAt === 0n ? 0n : managementFeeShares(mintSupply, a.params.managementFeeBps, now - a.lastFeeAccrualAt);
  return { ...index, account: { ...a, shareSupply: mintSupply + fee, lastFeeAccrualAt: now } };
}

/** An in-kind mint's bounds: the most of each row it may take. */
export function maxAmountsIn(deposits: readonly bigint[], slippageBps: number): bigint[] {
  return deposits.map((d) => plusSlippage(d, slippageBps));
}

/** An in-kind redeem's bounds: the least of each row it must pay. */
export function minAmountsOut(payouts: readonly bigint[], slippageBps: number): bigint[] {
  return payouts.map((p) => lessSlippage(p, slippageBps));
}
