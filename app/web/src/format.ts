// Numbers as people read them, from the program's fixed-point integers (exact: bigint digits,
// never floats).
import { ONE_SHARE, SHARE_DECIMALS, USD_SCALE, WEIGHT_SCALE } from "@aidx/client";

/** `v / 10^decimals` with `places` digits, rounded down, thousands grouped. */
export function decimal(v: bigint, decimals: number, places: number): string {
  const neg = v < 0n;
  const a = neg ? -v : v;
  const unit = 10n ** BigInt(decimals);
  const whole = a / unit;
  let frac = ((a % unit) * 10n ** BigInt(places)) / unit;
  const grouped = whole.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const f = places > 0 ? "." + frac.toString().padStart(places, "0") : "";
  frac = 0n;
  return (neg ? "-" : "") + grouped + f;
}

const USD_DECIMALS = USD_SCALE.toString().length - 1;
const WEIGHT_DECIMALS = WEIGHT_SCALE.toString().length - 1;

/** Dollars (USD_SCALE) with `places` cents digits. */
export const usd = (v: bigint, places = 2) => "$" + decimal(v, USD_DECIMALS, places);
/** A weight (WEIGHT_SCALE) as a percentage. */
export const pct = (v: bigint, places = 2) => decimal(v * 100n, WEIGHT_DECIMALS, places) + "%";
/** Raw share units as shares. */
export const shares = (v: bigint, places = 4) => decimal(v, SHARE_DECIMALS, places);
/** One share's worth. */
export const ONE = ONE_SHARE;

/** A unix time as a UTC date and time. */
export function when(unix: bigint | number): string {
  const n = Number(unix);
  if (n <= 0) return "never";
  return new Date(n * 1000).toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

/** An age in seconds as people say it. */
export function age(secs: number): string {
  if (secs < 120) return `${secs} s`;
  if (secs < 7200) return `${Math.round(secs / 60)} min`;
  if (secs < 172800) return `${Math.round(secs / 3600)} h`;
  return `${Math.round(secs / 86400)} d`;
}

/** Escapes text for HTML. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}
