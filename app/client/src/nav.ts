// NAV, value per share and weights from the index account's stored prices: the program's own
// math (programs/aidx/src/math/nav.rs, report_nav), so the numbers equal a `NavReported` event
// emitted on the same state.
import type { LoadedIndex, Row } from "./accounts";
import { ONE_SHARE, WEIGHT_SCALE } from "./constants";
import { mulDiv } from "./math";

/** Which side of a price's confidence interval. */
export type PriceSide = "low" | "mid" | "high";

function priceAt(c: Row, side: PriceSide): bigint {
  if (side === "low") return c.price > c.conf ? c.price - c.conf : 0n;
  if (side === "high") return c.price + c.conf;
  return c.price;
}

/** precision: USD_SCALE. Value of a row's balance at `side` (rounded up only for `high`). */
export function rowValue(c: Row, side: PriceSide): bigint {
  return mulDiv(c.balance, priceAt(c, side), 10n ** BigInt(c.decimals), side === "high");
}

/** NAV at mid, low and high prices, value per share and each row's weight. */
export type Nav = {
  navMid: bigint;
  navLow: bigint;
  navHigh: bigint;
  shareSupply: bigint;
  /** precision: USD_SCALE, of one whole share at mid prices. */
  valuePerShare: bigint;
  /** precision: WEIGHT_SCALE, table order. */
  weights: bigint[];
  /** precision: USD_SCALE, table order, at mid prices. */
  values: bigint[];
};

/** NAV and weights at the stored prices (whatever their age: check `publishTime`). */
export function navOf(index: LoadedIndex): Nav {
  const { rows, account } = index;
  const sum = (side: PriceSide) => rows.reduce((acc, c) => acc + rowValue(c, side), 0n);
  const values = rows.map((c) => rowValue(c, "mid"));
  const navMid = values.reduce((a, v) => a + v, 0n);
  return {
    navMid,
    navLow: sum("low"),
    navHigh: sum("high"),
    shareSupply: account.shareSupply,
    valuePerShare: account.shareSupply === 0n ? 0n : mulDiv(navMid, ONE_SHARE, account.shareSupply, false),
    weights: values.map((v) => (navMid === 0n ? 0n : mulDiv(v, WEIGHT_SCALE, navMid, false))),
    values,
  };
}

/** A row's band around its target, `target * (1 ± band)`, WEIGHT_SCALE. */
export function band(target: bigint, bandWidth: bigint): { low: bigint; high: bigint } {
  const half = mulDiv(target, bandWidth, WEIGHT_SCALE, false);
  return { low: target > half ? target - half : 0n, high: target + half };
}
