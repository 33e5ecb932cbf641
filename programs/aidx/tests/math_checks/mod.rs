//! Exact properties of the share, NAV, auction and fee math (`aidx::math`), checked against
//! big-integer reference arithmetic (no floats): every rounded result is compared with the exact
//! rational it approximates, so the rounding *direction* (always toward the vault) is checked,
//! not just "close enough".
//!
//! One definition of each property, two ways of generating inputs: the proptest suite
//! (`tests/math_props.rs`, runs in CI) and the cargo-fuzz targets (`fuzz/fuzz_targets/*.rs`;
//! `fuzz/src/lib.rs` includes this file by path). Every check takes plain integers, never
//! panics on any input it accepts, and returns `Err(description)` when a property fails.
//!
//! Precondition shared by every check taking a [`Holding`]: `decimals <= MAX_POW10_DECIMALS`
//! (38). The math computes `10u128.pow(decimals)`, which panics above that (the program refuses
//! mints with more than `MAX_DECIMALS` = 18, so this is unreachable on chain; see the ignored
//! test `holding_with_39_decimals_is_an_error_not_a_panic` in `math_props.rs`).

use aidx::math::auction::{reward, SwapLegs, SwapQuote};
use aidx::math::fees::{fee_on, management_fee_shares, MAX_ACCRUAL_YEARS, SECONDS_PER_YEAR};
use aidx::math::nav::{band_excess, check_weight_change, nav, weights, Holding, PriceSide};
use aidx::math::shares::{mint_deposit, redeem_payout, seed_deposit, DEAD_SHARES};
use aidx::math::{MathError, Rounding, BPS_SCALE, ONE_SHARE, WEIGHT_SCALE};
use num_bigint::BigUint;

/// The result of one property check: `Err` describes the violation.
pub type Check = Result<(), String>;

/// The most decimals a [`Holding`] can have before `10u128.pow(decimals)` overflows.
pub const MAX_POW10_DECIMALS: u8 = 38;

macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!($($fmt)+));
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Reference arithmetic
// ---------------------------------------------------------------------------------------------

/// An exact non-negative integer.
pub fn big(x: u128) -> BigUint {
    BigUint::from(x)
}

fn u64_max() -> BigUint {
    big(u64::MAX as u128)
}

fn u128_max() -> BigUint {
    big(u128::MAX)
}

/// `a * b / d` exactly, rounded as asked (`d > 0`).
pub fn exact_mul_div(a: &BigUint, b: &BigUint, d: &BigUint, rounding: Rounding) -> BigUint {
    let p = a * b;
    match rounding {
        Rounding::Down => p / d,
        Rounding::Up => (p + d - 1u32) / d,
    }
}

/// `q` is `a * b / d` rounded as asked, stated as the two inequalities that define it:
/// `Down`: `q * d <= a * b < (q + 1) * d` (never above the exact value, and the largest such);
/// `Up`: `(q - 1) * d < a * b <= q * d` (never below the exact value, and the smallest such).
pub fn is_rounded(q: &BigUint, a: &BigUint, b: &BigUint, d: &BigUint, rounding: Rounding) -> Check {
    let p = a * b;
    let qd = q * d;
    match rounding {
        Rounding::Down => {
            ensure!(qd <= p, "{q} rounds up: {q} * {d} > {a} * {b}");
            ensure!(
                p < qd + d,
                "{q} is more than one unit below {a} * {b} / {d}"
            );
        }
        Rounding::Up => {
            ensure!(qd >= p, "{q} rounds down: {q} * {d} < {a} * {b}");
            ensure!(
                *q == BigUint::ZERO || qd - d < p,
                "{q} is more than one unit above {a} * {b} / {d}"
            );
        }
    }
    Ok(())
}

fn pow10(decimals: u8) -> BigUint {
    BigUint::from(10u32).pow(decimals as u32)
}

fn holding_ok(h: &Holding) -> Check {
    ensure!(
        h.decimals <= MAX_POW10_DECIMALS,
        "precondition: {} decimals > {MAX_POW10_DECIMALS}",
        h.decimals
    );
    Ok(())
}

/// The price of `h` at `side`, exactly (the low side stops at zero).
pub fn exact_price(h: &Holding, side: PriceSide) -> BigUint {
    let (p, c) = (h.price as u128, h.conf as u128);
    big(match side {
        PriceSide::Low => p.saturating_sub(c),
        PriceSide::Mid => p,
        PriceSide::High => p + c,
    })
}

// ---------------------------------------------------------------------------------------------
// Shares
// ---------------------------------------------------------------------------------------------

/// `seed_deposit(n, u)` is `ceil(n * u / ONE_SHARE)` exactly, and an error only when that does
/// not fit a u64.
pub fn check_seed_deposit(shares_with_dead: u64, units_per_share: u64) -> Check {
    let (n, u, one) = (
        big(shares_with_dead as u128),
        big(units_per_share as u128),
        big(ONE_SHARE as u128),
    );
    match seed_deposit(shares_with_dead, units_per_share) {
        Ok(d) => is_rounded(&big(d as u128), &n, &u, &one, Rounding::Up)
            .map_err(|e| format!("seed_deposit({shares_with_dead}, {units_per_share}): {e}")),
        Err(MathError::Overflow) => {
            ensure!(
                exact_mul_div(&n, &u, &one, Rounding::Up) > u64_max(),
                "seed_deposit({shares_with_dead}, {units_per_share}): Overflow on a fitting result"
            );
            Ok(())
        }
        Err(e) => Err(format!(
            "seed_deposit({shares_with_dead}, {units_per_share}): unexpected {e:?}"
        )),
    }
}

/// `mint_deposit(s, b, S)` is `ceil(s * b / S)`: at least the exact pro-rata value (the vault
/// never takes in less than the shares are worth), at most one unit more; DivisionByZero for an
/// empty supply, Overflow only when the deposit does not fit a u64.
pub fn check_mint_deposit(shares: u64, balance: u64, supply: u64) -> Check {
    let ctx = || format!("mint_deposit({shares}, {balance}, {supply})");
    let (s, b, n) = (
        big(shares as u128),
        big(balance as u128),
        big(supply as u128),
    );
    match mint_deposit(shares, balance, supply) {
        Ok(d) => {
            ensure!(supply > 0, "{}: Ok({d}) on an empty supply", ctx());
            is_rounded(&big(d as u128), &s, &b, &n, Rounding::Up)
                .map_err(|e| format!("{}: {e}", ctx()))?;
            ensure!(
                shares == 0 || balance == 0 || d >= 1,
                "{}: a nonzero mint is free",
                ctx()
            );
            Ok(())
        }
        Err(MathError::DivisionByZero) => {
            ensure!(supply == 0, "{}: DivisionByZero", ctx());
            Ok(())
        }
        Err(MathError::Overflow) => {
            ensure!(
                supply > 0 && exact_mul_div(&s, &b, &n, Rounding::Up) > u64_max(),
                "{}: Overflow on a deposit that fits",
                ctx()
            );
            Ok(())
        }
    }
}

/// `redeem_payout(s, b, S)` is `floor(s * b / S)`: never above the exact pro-rata value, at most
/// one unit below it, never above the balance; an error only for `s > S` (Overflow) or an empty
/// supply (DivisionByZero), never otherwise.
pub fn check_redeem_payout(shares: u64, balance: u64, supply: u64) -> Check {
    let ctx = || format!("redeem_payout({shares}, {balance}, {supply})");
    match redeem_payout(shares, balance, supply) {
        Ok(p) => {
            ensure!(shares <= supply && supply > 0, "{}: Ok({p})", ctx());
            is_rounded(
                &big(p as u128),
                &big(shares as u128),
                &big(balance as u128),
                &big(supply as u128),
                Rounding::Down,
            )
            .map_err(|e| format!("{}: {e}", ctx()))?;
            ensure!(p <= balance, "{}: pays {p}, more than the balance", ctx());
            Ok(())
        }
        Err(MathError::Overflow) => {
            ensure!(shares > supply, "{}: Overflow with shares <= supply", ctx());
            Ok(())
        }
        Err(MathError::DivisionByZero) => {
            ensure!(supply == 0 && shares == 0, "{}: DivisionByZero", ctx());
            Ok(())
        }
    }
}

/// Minting `s` shares then redeeming them at once never returns more than was deposited, and
/// neither step lowers the balance per share of the other holders.
pub fn check_mint_then_redeem(shares: u64, balance: u64, supply: u64) -> Check {
    let Ok(d) = mint_deposit(shares, balance, supply) else {
        return Ok(());
    };
    let (Some(b1), Some(s1)) = (balance.checked_add(d), supply.checked_add(shares)) else {
        return Ok(());
    };
    let ctx =
        || format!("mint {shares} into ({balance}, {supply}) for {d}, redeem at ({b1}, {s1})");
    let out = redeem_payout(shares, b1, s1).map_err(|e| format!("{}: {e:?}", ctx()))?;
    ensure!(
        out <= d,
        "{}: gets {out} back, more than the deposit",
        ctx()
    );
    // b1 / s1 >= balance / supply, and (b1 - out) / supply >= balance / supply.
    ensure!(
        big(b1 as u128) * big(supply as u128) >= big(balance as u128) * big(s1 as u128),
        "{}: the mint dilutes the holders",
        ctx()
    );
    ensure!(b1 - out >= balance, "{}: the round trip dilutes", ctx());
    Ok(())
}

/// Redeeming `s` shares then minting them back costs at least what was paid out, and the redeem
/// never lowers the balance per share of those who stay.
pub fn check_redeem_then_mint(shares: u64, balance: u64, supply: u64) -> Check {
    if shares >= supply {
        return Ok(());
    }
    let ctx = || format!("redeem {shares} from ({balance}, {supply})");
    let p = redeem_payout(shares, balance, supply).map_err(|e| format!("{}: {e:?}", ctx()))?;
    let (b1, s1) = (balance - p, supply - shares);
    // b1 / s1 >= balance / supply
    ensure!(
        big(b1 as u128) * big(supply as u128) >= big(balance as u128) * big(s1 as u128),
        "{}: paying {p} dilutes those who stay",
        ctx()
    );
    if let Ok(d) = mint_deposit(shares, b1, s1) {
        ensure!(d >= p, "{}: paid {p}, buys back for {d}", ctx());
    }
    Ok(())
}

/// Splitting a mint in two never costs less than minting at once, and splitting a redeem in
/// two never pays more than redeeming at once.
pub fn check_split(a: u64, b: u64, balance: u64, supply: u64) -> Check {
    let ctx = || format!("split {a} + {b} at ({balance}, {supply})");
    if let (Ok(d1), Some(ab)) = (mint_deposit(a, balance, supply), a.checked_add(b)) {
        if let (Some(b1), Some(s1)) = (balance.checked_add(d1), supply.checked_add(a)) {
            if let (Ok(d2), Ok(whole)) =
                (mint_deposit(b, b1, s1), mint_deposit(ab, balance, supply))
            {
                ensure!(
                    d1 as u128 + d2 as u128 >= whole as u128,
                    "{}: minting in two costs {d1} + {d2} < {whole}",
                    ctx()
                );
            }
        }
    }
    if a < supply && a.checked_add(b).is_some_and(|ab| ab <= supply) {
        let p1 = redeem_payout(a, balance, supply).map_err(|e| format!("{}: {e:?}", ctx()))?;
        let p2 =
            redeem_payout(b, balance - p1, supply - a).map_err(|e| format!("{}: {e:?}", ctx()))?;
        let whole =
            redeem_payout(a + b, balance, supply).map_err(|e| format!("{}: {e:?}", ctx()))?;
        ensure!(
            p1 as u128 + p2 as u128 <= whole as u128,
            "{}: redeeming in two pays {p1} + {p2} > {whole}",
            ctx()
        );
    }
    Ok(())
}

/// The first mint: the seeder deposits `ceil((s + DEAD_SHARES) * u / ONE_SHARE)` for `s` shares;
/// redeeming them straight back returns at most the deposit (the dead shares keep their part).
pub fn check_seed_then_redeem(shares: u64, units_per_share: u64) -> Check {
    let Some(n) = shares.checked_add(DEAD_SHARES) else {
        return Ok(());
    };
    let Ok(d) = seed_deposit(n, units_per_share) else {
        return Ok(());
    };
    let ctx = || format!("seed {shares} at {units_per_share} per share for {d}");
    let out = redeem_payout(shares, d, n).map_err(|e| format!("{}: {e:?}", ctx()))?;
    ensure!(out <= d, "{}: redeems for {out}", ctx());
    ensure!(
        big(out as u128) * big(n as u128) <= big(shares as u128) * big(d as u128),
        "{}: redeems for {out}, above pro rata",
        ctx()
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// NAV
// ---------------------------------------------------------------------------------------------

/// `value_of` and `amount_for` are the exact conversions rounded as asked; converting a value
/// to an amount and back (rounding down both ways) never gains; errors only for a zero price
/// (amount_for) or a result out of range.
pub fn check_holding(h: &Holding, amount: u64, value: u128, side: PriceSide) -> Check {
    holding_ok(h)?;
    let ctx = || format!("{h:?} at {side:?}");
    let (price, scale) = (exact_price(h, side), pow10(h.decimals));
    for rounding in [Rounding::Down, Rounding::Up] {
        match h.value_of(amount, side, rounding) {
            Ok(v) => is_rounded(&big(v), &big(amount as u128), &price, &scale, rounding)
                .map_err(|e| format!("{}: value_of({amount}, {rounding:?}): {e}", ctx()))?,
            Err(e) => {
                ensure!(
                    e == MathError::Overflow && big(amount as u128) * &price > u128_max(),
                    "{}: value_of({amount}, {rounding:?}): {e:?}",
                    ctx()
                );
            }
        }
        match h.amount_for(value, side, rounding) {
            Ok(a) => is_rounded(&big(a as u128), &big(value), &scale, &price, rounding)
                .map_err(|e| format!("{}: amount_for({value}, {rounding:?}): {e}", ctx()))?,
            Err(MathError::DivisionByZero) => {
                ensure!(
                    price == BigUint::ZERO,
                    "{}: amount_for({value}): DivisionByZero",
                    ctx()
                );
            }
            Err(MathError::Overflow) => {
                ensure!(
                    price > BigUint::ZERO
                        && (big(value) * &scale > u128_max()
                            || exact_mul_div(&big(value), &scale, &price, rounding) > u64_max()),
                    "{}: amount_for({value}, {rounding:?}): Overflow on a result that fits",
                    ctx()
                );
            }
        }
    }
    if let Ok(v) = h.value_of(amount, side, Rounding::Down) {
        if let Ok(back) = h.amount_for(v, side, Rounding::Down) {
            ensure!(
                back <= amount,
                "{}: {amount} is worth {v}, which buys {back}",
                ctx()
            );
        }
    }
    if let Ok(a) = h.amount_for(value, side, Rounding::Down) {
        if let Ok(back) = h.value_of(a, side, Rounding::Up) {
            ensure!(
                back <= value,
                "{}: {value} buys {a}, which is worth {back}",
                ctx()
            );
        }
    }
    // The sides are ordered: low <= mid <= high.
    let at = |s| h.value_of(amount, s, Rounding::Down);
    if let (Ok(l), Ok(m), Ok(hi)) = (at(PriceSide::Low), at(PriceSide::Mid), at(PriceSide::High)) {
        ensure!(l <= m && m <= hi, "{}: sides out of order", ctx());
    }
    Ok(())
}

/// `nav` is the exact sum of the rounded values; `weights` are `floor(v_i * 1e9 / total)`, sum
/// to at most 1e9 and lose under one unit per holding (all zero for an empty basket).
pub fn check_nav_and_weights(holdings: &[Holding], side: PriceSide) -> Check {
    for h in holdings {
        holding_ok(h)?;
    }
    for rounding in [Rounding::Down, Rounding::Up] {
        let values: Vec<u128> = match holdings
            .iter()
            .map(|h| h.value(side, rounding))
            .collect::<Result<_, _>>()
        {
            Ok(v) => v,
            Err(_) => {
                ensure!(
                    nav(holdings, side, rounding).is_err(),
                    "nav of {holdings:?}: Ok when a value fails"
                );
                continue;
            }
        };
        let sum: BigUint = values.iter().map(|v| big(*v)).sum();
        match nav(holdings, side, rounding) {
            Ok(n) => ensure!(big(n) == sum, "nav of {holdings:?}: {n} != {sum}"),
            Err(e) => ensure!(
                e == MathError::Overflow && sum > u128_max(),
                "nav of {holdings:?}: {e:?}"
            ),
        }
    }
    let w = match weights(holdings) {
        Ok(w) => w,
        Err(e) => {
            ensure!(
                e == MathError::Overflow,
                "weights of {holdings:?}: unexpected {e:?}"
            );
            return Ok(());
        }
    };
    ensure!(w.len() == holdings.len(), "weights: wrong length");
    let values: Vec<u128> = holdings
        .iter()
        .map(|h| h.value(PriceSide::Mid, Rounding::Down))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("weights Ok but a value fails: {e:?}"))?;
    let total: BigUint = values.iter().map(|v| big(*v)).sum();
    let scale = big(WEIGHT_SCALE as u128);
    if total == BigUint::ZERO {
        ensure!(
            w.iter().all(|x| *x == 0),
            "weights of an empty basket: {w:?}"
        );
        return Ok(());
    }
    for (wi, v) in w.iter().zip(&values) {
        is_rounded(&big(*wi as u128), &big(*v), &scale, &total, Rounding::Down)
            .map_err(|e| format!("weights of {holdings:?}: {e}"))?;
    }
    let sum: u128 = w.iter().map(|x| *x as u128).sum();
    ensure!(
        sum <= WEIGHT_SCALE as u128 && sum + holdings.len() as u128 > WEIGHT_SCALE as u128,
        "weights of {holdings:?} sum to {sum}"
    );
    Ok(())
}

/// `band_excess` is the distance from `weight` to the band `target * (1 +- band)` (half-width
/// rounded down), 0 inside it; an error only when the band's top does not fit a u64.
pub fn check_band_excess(weight: u64, target: u64, band: u64) -> Check {
    let ctx = || format!("band_excess({weight}, {target}, {band})");
    let half = exact_mul_div(
        &big(target as u128),
        &big(band as u128),
        &big(WEIGHT_SCALE as u128),
        Rounding::Down,
    );
    let t = big(target as u128);
    let hi = &t + &half;
    let lo = if half > t { BigUint::ZERO } else { &t - &half };
    let w = big(weight as u128);
    let want = if w > hi {
        &w - &hi
    } else if w < lo {
        &lo - &w
    } else {
        BigUint::ZERO
    };
    match band_excess(weight, target, band) {
        Ok(x) => ensure!(big(x as u128) == want, "{}: {x}, want {want}", ctx()),
        Err(e) => ensure!(
            e == MathError::Overflow && hi > u64_max(),
            "{}: {e:?} though the band fits",
            ctx()
        ),
    }
    Ok(())
}

/// The weight rule never rejects a change that only moves weights toward their targets (targets
/// at most the cap), nor one that ends every weight inside the cap and its band.
pub fn check_weight_rule(
    before: &[u64],
    after: &[u64],
    targets: &[u64],
    cap: u64,
    band: u64,
) -> Check {
    let n = before.len().min(after.len()).min(targets.len());
    let (before, after, targets) = (&before[..n], &after[..n], &targets[..n]);
    let Ok(verdict) = check_weight_change(before, after, targets, cap, band) else {
        return Ok(()); // a band that does not fit a u64
    };
    let toward = (0..n).all(|i| {
        let (b, a, t) = (before[i], after[i], targets[i]);
        t <= cap && a >= b.min(t) && a <= b.max(t)
    });
    let inside = (0..n)
        .all(|i| after[i] <= cap && band_excess(after[i], targets[i], band).is_ok_and(|x| x == 0));
    ensure!(
        !(toward || inside) || verdict.is_ok(),
        "check_weight_change({before:?}, {after:?}, {targets:?}, {cap}, {band}): {verdict:?}"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Auction
// ---------------------------------------------------------------------------------------------

/// The reward never fails: 0 at or before the start, `floor(max * elapsed / duration)` during
/// the auction (rounded down), exactly the maximum from `duration` on; never above the maximum.
pub fn check_reward(elapsed: i64, duration: u32, max_reward_bps: u16) -> Check {
    let ctx = || format!("reward({elapsed}, {duration}, {max_reward_bps})");
    let r = reward(elapsed, duration, max_reward_bps).map_err(|e| format!("{}: {e:?}", ctx()))?;
    // WEIGHT_SCALE / BPS_SCALE = 1e5 exactly.
    let max = max_reward_bps as u64 * (WEIGHT_SCALE / BPS_SCALE);
    ensure!(r <= max, "{}: {r} above the maximum {max}", ctx());
    if elapsed <= 0 {
        ensure!(r == 0, "{}: {r} before the start", ctx());
    } else if duration == 0 || elapsed as u64 >= duration as u64 {
        ensure!(r == max, "{}: {r} after the end, want {max}", ctx());
    } else {
        is_rounded(
            &big(r as u128),
            &big(max as u128),
            &big(elapsed as u128),
            &big(duration as u128),
            Rounding::Down,
        )
        .map_err(|e| format!("{}: {e}", ctx()))?;
    }
    Ok(())
}

/// The reward is non-decreasing in elapsed time and in the maximum, non-increasing in the
/// auction length.
pub fn check_reward_monotone(e: [i64; 2], d: [u32; 2], m: [u16; 2]) -> Check {
    let (e0, e1) = (e[0].min(e[1]), e[0].max(e[1]));
    let (d0, d1) = (d[0].min(d[1]), d[0].max(d[1]));
    let (m0, m1) = (m[0].min(m[1]), m[0].max(m[1]));
    let r = |e, d, m| reward(e, d, m).map_err(|x| format!("reward({e}, {d}, {m}): {x:?}"));
    ensure!(
        r(e0, d0, m0)? <= r(e1, d0, m0)?,
        "reward decreases in time: {e0} -> {e1} ({d0}, {m0})"
    );
    ensure!(
        r(e0, d0, m0)? <= r(e0, d0, m1)?,
        "reward decreases in the maximum: {m0} -> {m1} ({e0}, {d0})"
    );
    ensure!(
        r(e0, d0, m0)? >= r(e0, d1, m0)?,
        "reward increases with the length: {d0} -> {d1} ({e0}, {m0})"
    );
    Ok(())
}

/// `SwapLegs::price`: the incoming leg at `price - conf`, the reward on top, the outgoing leg at
/// `price + conf`, each step the exact value rounded down (so the vault never pays out more
/// than `amount_in` is worth plus the reward); DivisionByZero only for a zero outgoing high
/// price, Overflow only when an intermediate does not fit.
pub fn check_price(legs: &SwapLegs, amount_in: u64) -> Check {
    holding_ok(&legs.inp)?;
    holding_ok(&legs.out)?;
    let ctx = || format!("price({amount_in}) of {legs:?}");
    let low_in = exact_price(&legs.inp, PriceSide::Low);
    let high_out = exact_price(&legs.out, PriceSide::High);
    let w = big(WEIGHT_SCALE as u128);
    let w_r = big(WEIGHT_SCALE as u128 + legs.reward as u128);
    let (scale_in, scale_out) = (pow10(legs.inp.decimals), pow10(legs.out.decimals));
    // value_in never overflows: amount * price < 2^128.
    let value_in = exact_mul_div(&big(amount_in as u128), &low_in, &scale_in, Rounding::Down);
    let value_out = exact_mul_div(&value_in, &w_r, &w, Rounding::Down);
    match legs.price(amount_in) {
        Ok(q) => {
            ensure!(q.amount_in == amount_in, "{}: amount_in changed", ctx());
            ensure!(
                big(q.value_in) == value_in,
                "{}: value_in {} != {value_in}",
                ctx(),
                q.value_in
            );
            ensure!(
                big(q.value_out) == value_out,
                "{}: value_out {} != {value_out}",
                ctx(),
                q.value_out
            );
            is_rounded(
                &big(q.amount_out as u128),
                &value_out,
                &scale_out,
                &high_out,
                Rounding::Down,
            )
            .map_err(|e| format!("{}: amount_out: {e}", ctx()))?;
            ensure!(
                q.value_out >= q.value_in,
                "{}: the reward is negative",
                ctx()
            );
        }
        Err(MathError::DivisionByZero) => {
            ensure!(high_out == BigUint::ZERO, "{}: DivisionByZero", ctx());
        }
        Err(MathError::Overflow) => {
            let too_big = &value_in * &w_r > u128_max()
                || &value_out * &scale_out > u128_max()
                || (high_out > BigUint::ZERO
                    && exact_mul_div(&value_out, &scale_out, &high_out, Rounding::Down)
                        > u64_max());
            ensure!(too_big, "{}: Overflow on a swap that fits", ctx());
        }
    }
    Ok(())
}

/// `SwapLegs::fits`, against its definition evaluated exactly: the vault can pay, and with every
/// holding valued at mid rounded down, `in' / nav' <= limit_in` and `out' / nav' >= limit_out`
/// where `nav' = nav_mid - in - out + in' + out'`. Overflow only when an intermediate does not
/// fit (u64 balances, u128 values and products).
pub fn check_fits(legs: &SwapLegs, q: &SwapQuote) -> Check {
    holding_ok(&legs.inp)?;
    holding_ok(&legs.out)?;
    let ctx = || format!("fits({q:?}) of {legs:?}");
    let got = legs.fits(q);
    if q.amount_out > legs.out.balance {
        ensure!(
            got == Ok(false),
            "{}: {got:?} though the vault cannot pay",
            ctx()
        );
        return Ok(());
    }
    let value = |h: &Holding, balance: u128| {
        exact_mul_div(
            &big(balance),
            &exact_price(h, PriceSide::Mid),
            &pow10(h.decimals),
            Rounding::Down,
        )
    };
    let bal_in = legs.inp.balance as u128 + q.amount_in as u128;
    let (v_in0, v_out0) = (
        value(&legs.inp, legs.inp.balance as u128),
        value(&legs.out, legs.out.balance as u128),
    );
    let v_in = value(&legs.inp, bal_in);
    let v_out = value(&legs.out, (legs.out.balance - q.amount_out) as u128);
    let nav_mid = big(legs.nav_mid);
    let base = &v_in0 + &v_out0;
    // The code subtracts first: a nav_mid below the two values is an error, as is any
    // intermediate past u128 (or the incoming balance past u64).
    let representable = bal_in <= u64::MAX as u128 && nav_mid >= base && {
        let nav = &nav_mid - &base + &v_in + &v_out;
        nav <= u128_max()
            && &v_in * big(WEIGHT_SCALE as u128) <= u128_max()
            && &v_out * big(WEIGHT_SCALE as u128) <= u128_max()
            && &nav * big(legs.limit_in as u128) <= u128_max()
            && &nav * big(legs.limit_out as u128) <= u128_max()
    };
    if !representable {
        ensure!(
            got == Err(MathError::Overflow),
            "{}: {got:?} on an unrepresentable swap",
            ctx()
        );
        return Ok(());
    }
    let nav = &nav_mid - &base + &v_in + &v_out;
    let w = big(WEIGHT_SCALE as u128);
    let want = &v_in * &w <= &nav * big(legs.limit_in as u128)
        && &v_out * &w >= &nav * big(legs.limit_out as u128);
    ensure!(got == Ok(want), "{}: {got:?}, want Ok({want})", ctx());
    Ok(())
}

/// `SwapLegs::clip`: never more than requested; the quote is the priced amount; a nonzero clip
/// fits (neither leg crosses its target, the vault can pay); a zero clip means nothing fits
/// (when the empty swap fits, the clip fits too); one more unit does not fit (the search is
/// tight); an error only for a zero outgoing high price. With targets at most 100% fitting is
/// monotone in the amount, so `probe` (any amount at most the clip) fits too, or is too large
/// to evaluate (Overflow).
pub fn check_clip(legs: &SwapLegs, requested: u64, probe: u64) -> Check {
    holding_ok(&legs.inp)?;
    holding_ok(&legs.out)?;
    let ctx = || format!("clip({requested}) of {legs:?}");
    let fitting = |a: u64| match legs.price(a) {
        Ok(q) => legs.fits(&q) == Ok(true),
        Err(_) => false,
    };
    let q = match legs.clip(requested) {
        Ok(q) => q,
        Err(e) => {
            ensure!(
                e == MathError::DivisionByZero
                    && exact_price(&legs.out, PriceSide::High) == BigUint::ZERO,
                "{}: {e:?}",
                ctx()
            );
            return Ok(());
        }
    };
    ensure!(
        q.amount_in <= requested,
        "{}: {q:?} above the request",
        ctx()
    );
    ensure!(
        legs.price(q.amount_in) == Ok(q),
        "{}: {q:?} is not the priced amount",
        ctx()
    );
    let fits = legs.fits(&q) == Ok(true);
    ensure!(fits || q.amount_in == 0, "{}: {q:?} does not fit", ctx());
    ensure!(
        fits || !fitting(0),
        "{}: the empty swap fits but the clip {q:?} does not",
        ctx()
    );
    ensure!(
        q.amount_in == requested || !fitting(q.amount_in + 1),
        "{}: {q:?} but {} fits",
        ctx(),
        q.amount_in + 1
    );
    if legs.limit_in <= WEIGHT_SCALE && legs.limit_out <= WEIGHT_SCALE && fits {
        // A smaller amount never definitely fails to fit; `fits` may still answer Overflow
        // where the larger one does not (`nav' * target` past u128, NAV above ~$3.4e17: a
        // generous reward shrinks nav' as the amount grows), which the clip treats as not
        // fitting: it stops short there, never past the target.
        let p = (probe as u128 % (q.amount_in as u128 + 1)) as u64;
        let small = legs.price(p).map(|qp| legs.fits(&qp));
        ensure!(
            matches!(small, Ok(Ok(true)) | Ok(Err(MathError::Overflow))),
            "{}: {q:?} fits but the smaller {p} does not: {small:?}",
            ctx()
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Fees
// ---------------------------------------------------------------------------------------------

/// `fee_on(s, bps)` is `ceil(s * bps / 10_000)`: never below the exact fee, at least 1 when
/// `s * bps > 0`, at most `s` for `bps <= 100%`; Overflow only when it does not fit a u64.
pub fn check_fee_on(shares: u64, bps: u16) -> Check {
    let ctx = || format!("fee_on({shares}, {bps})");
    let (s, r, scale) = (
        big(shares as u128),
        big(bps as u128),
        big(BPS_SCALE as u128),
    );
    match fee_on(shares, bps) {
        Ok(f) => {
            is_rounded(&big(f as u128), &s, &r, &scale, Rounding::Up)
                .map_err(|e| format!("{}: {e}", ctx()))?;
            ensure!(
                shares == 0 || bps == 0 || f >= 1,
                "{}: a fee due is 0",
                ctx()
            );
            ensure!(
                bps as u64 > BPS_SCALE || f <= shares,
                "{}: {f} above the shares",
                ctx()
            );
        }
        Err(e) => ensure!(
            e == MathError::Overflow && exact_mul_div(&s, &r, &scale, Rounding::Up) > u64_max(),
            "{}: {e:?}",
            ctx()
        ),
    }
    Ok(())
}

/// The management fee, evaluated exactly: year by year (at most `MAX_ACCRUAL_YEARS`), `F =
/// ceil(S * re / (BPS * YEAR - re))` with `re = rate * dt`, on the supply after the previous
/// years' fees. `None` when a year's `re` reaches `BPS * YEAR` (a rate of 100% or more).
pub fn exact_management_fee(supply: u64, rate_bps: u16, elapsed: i64) -> Option<BigUint> {
    if supply == 0 || rate_bps == 0 || elapsed <= 0 {
        return Some(BigUint::ZERO);
    }
    let year = SECONDS_PER_YEAR as u128;
    let d = big(BPS_SCALE as u128 * year);
    let mut left = elapsed as u128;
    let mut s = big(supply as u128);
    let mut total = BigUint::ZERO;
    for _ in 0..MAX_ACCRUAL_YEARS {
        if left == 0 {
            break;
        }
        let dt = left.min(year);
        let re = big(rate_bps as u128 * dt);
        if re >= d {
            return None;
        }
        let f = exact_mul_div(&s, &re, &(&d - &re), Rounding::Up);
        s += &f;
        total += f;
        left -= dt;
    }
    Some(total)
}

/// `management_fee_shares` equals its exact evaluation (an error only when that is undefined or
/// past a u64); 0 when nothing is due, at least 1 when something is; within one year the fee
/// takes at least the pro-rata `x = rate * elapsed / year` of the index (`F / (S + F) >= x`),
/// and one share fewer would take less (rounded up, tightly); a gap longer than a year is the
/// first year's fee plus the rest's on the supply after it; past `MAX_ACCRUAL_YEARS` nothing
/// more accrues.
pub fn check_management_fee(supply: u64, rate_bps: u16, elapsed: i64) -> Check {
    let ctx = || format!("management_fee_shares({supply}, {rate_bps}, {elapsed})");
    let got = management_fee_shares(supply, rate_bps, elapsed);
    let want = exact_management_fee(supply, rate_bps, elapsed);
    let f = match (&got, want) {
        (Ok(f), Some(w)) => {
            ensure!(big(*f as u128) == w, "{}: {f}, exact {w}", ctx());
            *f
        }
        (Err(MathError::Overflow), None) => return Ok(()),
        (Err(MathError::Overflow), Some(w)) => {
            ensure!(w > u64_max(), "{}: Overflow, exact {w} fits", ctx());
            return Ok(());
        }
        (got, want) => return Err(format!("{}: {got:?}, exact {want:?}", ctx())),
    };
    let due = supply > 0 && rate_bps > 0 && elapsed > 0;
    ensure!(due || f == 0, "{}: {f} though nothing is due", ctx());
    ensure!(!due || f >= 1, "{}: 0 though a fee is due", ctx());
    let year = SECONDS_PER_YEAR as i64;
    if due && elapsed <= year {
        // F / (S + F) >= re / D  <=>  F * D >= (S + F) * re; tight: (F - 1) * D < (S + F - 1) * re.
        let d = big(BPS_SCALE as u128 * SECONDS_PER_YEAR as u128);
        let re = big(rate_bps as u128 * elapsed as u128);
        let (fb, sb) = (big(f as u128), big(supply as u128));
        ensure!(
            &fb * &d >= (&sb + &fb) * &re,
            "{}: {f} takes less than the rate",
            ctx()
        );
        ensure!(
            (&fb - 1u32) * &d < (&sb + &fb - 1u32) * &re,
            "{}: {f} is more than one share above the rate",
            ctx()
        );
    }
    if due && elapsed > year {
        let cap = MAX_ACCRUAL_YEARS as i64 * year;
        if elapsed > cap {
            ensure!(
                management_fee_shares(supply, rate_bps, cap) == Ok(f),
                "{}: accrues past {MAX_ACCRUAL_YEARS} years",
                ctx()
            );
        } else {
            let first = management_fee_shares(supply, rate_bps, year)
                .map_err(|e| format!("{}: first year {e:?}", ctx()))?;
            // (A supply past u64 after the first year cannot be passed back in.)
            if let Some(s1) = supply.checked_add(first) {
                let rest = management_fee_shares(s1, rate_bps, elapsed - year);
                ensure!(
                    matches!(rest, Ok(r) if r as u128 + first as u128 == f as u128),
                    "{}: {f} != first year {first} + rest {rest:?}",
                    ctx()
                );
            }
        }
    }
    Ok(())
}

/// The management fee is non-decreasing in elapsed time, rate and supply (and when the larger
/// input is computable, so is the smaller).
pub fn check_management_fee_monotone(s: [u64; 2], r: [u16; 2], e: [i64; 2]) -> Check {
    let (s0, s1) = (s[0].min(s[1]), s[0].max(s[1]));
    let (r0, r1) = (r[0].min(r[1]), r[0].max(r[1]));
    let (e0, e1) = (e[0].min(e[1]), e[0].max(e[1]));
    let fee = |s, r, e| management_fee_shares(s, r, e);
    for (lo, hi, what) in [
        ((s0, r0, e0), (s0, r0, e1), "elapsed"),
        ((s0, r0, e0), (s0, r1, e0), "rate"),
        ((s0, r0, e0), (s1, r0, e0), "supply"),
    ] {
        if let Ok(b) = fee(hi.0, hi.1, hi.2) {
            let a = fee(lo.0, lo.1, lo.2);
            ensure!(
                matches!(a, Ok(a) if a <= b),
                "management fee decreases in {what}: {lo:?} -> {a:?}, {hi:?} -> {b}"
            );
        }
    }
    Ok(())
}
