// The program's integer math (programs/aidx/src/math), on bigint: every rounding as the
// program rounds, toward the vault.
import { BPS_SCALE, MAX_SLIPPAGE_BPS, ONE_SHARE } from "./constants";

const U64_MAX = (1n << 64n) - 1n;

/** A value that does not fit the program's integers. */
export class MathOverflowError extends Error {
  constructor(what: string) {
    super(`${what} does not fit a u64`);
    this.name = "MathOverflowError";
  }
}

function u64(v: bigint, what: string): bigint {
  if (v < 0n || v > U64_MAX) throw new MathOverflowError(what);
  return v;
}

/** `a * b / d`, rounded up or down. */
export function mulDiv(a: bigint, b: bigint, d: bigint, up: boolean): bigint {
  if (d === 0n) throw new MathOverflowError("a division by zero");
  const p = a * b;
  return up ? (p + d - 1n) / d : p / d;
}

/** Units of a row the first mint of `sharesWithDead` deposits (`seed_deposit`, rounded up). */
export function seedDeposit(sharesWithDead: bigint, unitsPerShare: bigint): bigint {
  return u64(mulDiv(sharesWithDead, unitsPerShare, ONE_SHARE, true), "a seed deposit");
}

/** Units of a row minting `shares` deposits against `balance` and `supply` (rounded up). */
export function mintDeposit(shares: bigint, balance: bigint, supply: bigint): bigint {
  return u64(mulDiv(shares, balance, supply, true), "a deposit");
}

/** Units of a row redeeming `shares` pays against `balance` and `supply` (rounded down). */
export function redeemPayout(shares: bigint, balance: bigint, supply: bigint): bigint {
  if (shares > supply) throw new MathOverflowError("a redemption larger than the supply");
  return u64(mulDiv(shares, balance, supply, false), "a payout");
}

function checkBps(bps: number): bigint {
  if (!Number.isInteger(bps) || bps < 0 || bps > MAX_SLIPPAGE_BPS) {
    throw new RangeError(`slippage ${bps} bps: at most ${MAX_SLIPPAGE_BPS}`);
  }
  return BigInt(bps);
}

/** `amount` plus `bps`, rounded up: the most a holder pays. */
export function plusSlippage(amount: bigint, bps: number): bigint {
  return u64(mulDiv(amount, BPS_SCALE + checkBps(bps), BPS_SCALE, true), "a slippage bound");
}

/** `amount` less `bps`, rounded down: the least a holder accepts. */
export function lessSlippage(amount: bigint, bps: number): bigint {
  return mulDiv(amount, BPS_SCALE - checkBps(bps), BPS_SCALE, false);
}

/** Seconds in the year the management fee is quoted over. */
export const SECONDS_PER_YEAR = 365n * 86_400n;
/** Years of an idle gap the management fee charges at most. */
export const MAX_ACCRUAL_YEARS = 100n;

/** A mint or redeem fee of `bps` on `shares`, in shares, rounded up (`fee_on`). */
export function feeOn(shares: bigint, bps: number): bigint {
  return u64(mulDiv(shares, BigInt(bps), BPS_SCALE, true), "a fee");
}

/** Shares the management fee mints for `elapsed` seconds at `rateBps` a year on `supply`
 * (`management_fee_shares`): year by year, each on the supply after the previous one's fee,
 * `S * re / (BPS * YEAR - re)` rounded up. */
export function managementFeeShares(supply: bigint, rateBps: number, elapsed: bigint): bigint {
  if (supply === 0n || rateBps === 0 || elapsed <= 0n) return 0n;
  let left = elapsed;
  let s = supply;
  let total = 0n;
  for (let years = 0n; left > 0n && years < MAX_ACCRUAL_YEARS; years++) {
    const dt = left < SECONDS_PER_YEAR ? left : SECONDS_PER_YEAR;
    const re = BigInt(rateBps) * dt;
    const f = mulDiv(s, re, BPS_SCALE * SECONDS_PER_YEAR - re, true);
    s += f;
    total += f;
    left -= dt;
  }
  return u64(total, "the management fee");
}
