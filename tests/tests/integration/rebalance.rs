//! Rebalancing: `poke_rebalance` and `rebalance_swap` on indexes mixing SPL Token and
//! Token-2022 (decimals 6, 9, 8, 0).
//!
//! Every expected figure comes from [`Model`], a plain-u128 restatement of the documented swap
//! formulas (incoming leg at `price - conf`, reward on top, outgoing leg at `price + conf`, all
//! rounding down; the clip keeps both legs on their side of target; the reward rises linearly
//! from 0 to the maximum over the auction) fed with the balances, prices and confidences read
//! back from the index account. Every event is compared whole, every balance it claims is
//! checked on chain, and the two safety properties — a swap never overshoots a target, and the
//! vault never loses more at mid than the stated reward — are checked from the index account
//! and the stored prices after every swap, independently of the event and of the clip's own
//! arithmetic.
//!
//! The auction clock: `refresh_prices` on a seeded index records the start of an imbalance
//! (`ImbalanceStarted`) when it first sees a constituent out of band at the new prices, and
//! clears it (`ImbalanceCleared`) when every constituent is back in band; so the clock usually
//! starts at the refresh that first sees the imbalance (the one in a swap's or a poke's own
//! transaction if no refresh came before). A poke or a swap records or clears what no refresh
//! has seen (an index priced before it was seeded, balances moved by a single-asset mint). Every
//! refresh is checked whole: its events and the stored state are predicted from the posted
//! price accounts and the model.
//!
//! Run time: the random scenarios are the slow part (about 0.3 s each). Each of the two random
//! tests runs [`DEFAULT_SCENARIOS`] scenarios by default; set `AIDX_REBALANCE_SCENARIOS` to run
//! more, e.g.
//! `AIDX_REBALANCE_SCENARIOS=100 cargo test -p aidx-tests --test rebalance -- --nocapture`.
//! The seeds are `1..=n` and `1_001..=1_000 + n`: the default run is a prefix of any larger one.

use aidx::errors::AidxError;
use aidx::events::{ImbalanceCleared, ImbalanceStarted, PricesRefreshed, RebalanceSwapped};
use aidx::instructions::RebalanceSwapArgs;
use aidx::math::{USD_SCALE, WEIGHT_SCALE};
use aidx::state::{Index, IndexParams, CLIP_EDGE, CLIP_TARGET};
use aidx_client::{
    self as client, vault_address, AidxEvent, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID,
};
use anchor_lang::error::ErrorCode as AnchorError;
use anchor_lang::solana_program::system_instruction;
use anchor_lang::AnchorDeserialize;
use anchor_spl::token_2022::spl_token_2022;
use pyth_solana_receiver_sdk::price_update::PriceUpdateV2;
use solana_sdk::{instruction::Instruction, pubkey::Pubkey, signature::Keypair, signer::Signer};

use aidx_tests::*;

/// Constituents of the default index: enough for a 15% cap to hold (1 / 0.15 < 8).
const N: usize = 8;
const MAX_AGE: i64 = IndexParams::default_max_age();
/// The default trade max age: prices a swap or a single-asset operation is valued at.
const TRADE_AGE: i64 = aidx::state::DEFAULT_TRADE_MAX_AGE_SECS as i64;
const ONE_USD: u128 = USD_SCALE;
const W: u128 = WEIGHT_SCALE as u128;
/// Position of the swap in a `[refresh_prices, rebalance_swap]` transaction (the runtime
/// prepends a compute-budget instruction at 0).
const REFRESH_IX: u8 = 1;
const SWAP_IX: u8 = 2;
/// Position of an instruction sent alone.
const ALONE_IX: u8 = 1;

/// $1 for every row of an `n`-row index, except the rows listed.
fn prices_n(n: usize, moved: &[(usize, u128)]) -> Vec<u128> {
    (0..n)
        .map(|i| {
            moved
                .iter()
                .find(|(r, _)| *r == i)
                .map_or(ONE_USD, |(_, p)| *p)
        })
        .collect()
}

/// The realistic move of the brief: row 0 up 30%, row 1 down 30%, the rest at $1.
fn plus_minus_30() -> Vec<u128> {
    prices_n(N, &[(0, 13 * ONE_USD / 10), (1, 7 * ONE_USD / 10)])
}

fn code(e: AidxError) -> u32 {
    e.into()
}

// ---------------------------------------------------------------------------------------------
// The independent model.

/// The basket as the documented formulas see it, read from the stored index.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Model {
    bal: Vec<u128>,
    dec: Vec<u32>,
    price: Vec<u128>,
    conf: Vec<u128>,
    targets: Vec<u64>,
    cap: u64,
    band: u64,
    max_reward_bps: u128,
    duration: i64,
    started_at: i64,
    /// Shares exist: only then does `refresh_prices` look at the imbalance.
    seeded: bool,
}

/// A priced swap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Quote {
    amount_in: u64,
    amount_out: u64,
    value_in: u128,
    value_out: u128,
}

/// A test of whether a priced swap fits (see [`Model::fits`]).
type Fits = fn(&Model, usize, usize, &Quote) -> bool;

/// One swap request.
#[derive(Clone, Copy, Debug)]
struct Req {
    i: usize,
    o: usize,
    amount: u64,
    min_out: u64,
}

fn req(i: usize, o: usize, amount: u64) -> Req {
    Req {
        i,
        o,
        amount,
        min_out: 0,
    }
}

impl Model {
    fn of(index: &Index) -> Self {
        let cs = index.constituents();
        Model {
            bal: cs.iter().map(|c| c.balance as u128).collect(),
            dec: cs.iter().map(|c| c.decimals as u32).collect(),
            price: cs.iter().map(|c| c.price as u128).collect(),
            conf: cs.iter().map(|c| c.conf as u128).collect(),
            targets: cs.iter().map(|c| c.target_weight).collect(),
            cap: index.params.max_weight,
            band: index.params.band,
            max_reward_bps: index.params.auction_max_reward_bps as u128,
            duration: index.params.auction_duration_secs as i64,
            started_at: index.imbalance_started_at,
            seeded: index.share_supply > 0,
        }
    }

    /// The basket at the prices a refresh stores from `posted`.
    fn repriced(&self, posted: &[Posted]) -> Model {
        let mut m = self.clone();
        m.price = posted.iter().map(|p| p.price).collect();
        m.conf = posted.iter().map(|p| p.conf).collect();
        m
    }

    /// What recording the imbalance at `now` does (a refresh on a seeded index, a poke, and a
    /// swap on the weights it leaves): with some row out of band and no start recorded, it
    /// records `now` (`ImbalanceStarted` with these weights and targets); with every row in
    /// band and a start recorded, it clears it (`ImbalanceCleared`); otherwise nothing. The
    /// event, if any, and the recorded start after it.
    fn imbalance(&self, index: Pubkey, now: i64) -> (Option<AidxEvent>, i64) {
        let any_out = self.any_out();
        if any_out && self.started_at == 0 {
            let e = ImbalanceStarted {
                index,
                at: now,
                weights: self.weights(),
                targets: self.targets.clone(),
            };
            (Some(AidxEvent::ImbalanceStarted(e)), now)
        } else if !any_out && self.started_at != 0 {
            let e = ImbalanceCleared {
                index,
                at: now,
                started_at: self.started_at,
                weights: self.weights(),
            };
            (Some(AidxEvent::ImbalanceCleared(e)), 0)
        } else {
            (None, self.started_at)
        }
    }

    fn n(&self) -> usize {
        self.bal.len()
    }

    fn scale(&self, i: usize) -> u128 {
        10u128.pow(self.dec[i])
    }

    fn low(&self, i: usize) -> u128 {
        self.price[i].saturating_sub(self.conf[i])
    }

    fn high(&self, i: usize) -> u128 {
        self.price[i] + self.conf[i]
    }

    /// Holding `i` at mid, rounded down (the program's value of a holding).
    fn mid_value(&self, i: usize) -> u128 {
        self.bal[i] * self.price[i] / self.scale(i)
    }

    fn nav_mid(&self) -> u128 {
        (0..self.n()).map(|i| self.mid_value(i)).sum()
    }

    /// Mid-price weights, rounded down.
    fn weights(&self) -> Vec<u64> {
        let total = self.nav_mid();
        (0..self.n())
            .map(|i| (self.mid_value(i) * W).checked_div(total).unwrap_or(0) as u64)
            .collect()
    }

    /// The band of row `i`: `target * (1 ± band)`, the half-width rounded down.
    fn band_of(&self, i: usize) -> (u64, u64) {
        let t = self.targets[i];
        let half = (t as u128 * self.band as u128 / W) as u64;
        (t.saturating_sub(half), t + half)
    }

    fn out_of_band(&self) -> Vec<bool> {
        let w = self.weights();
        (0..self.n())
            .map(|i| {
                let (lo, hi) = self.band_of(i);
                w[i] < lo || w[i] > hi
            })
            .collect()
    }

    fn any_out(&self) -> bool {
        self.out_of_band().into_iter().any(|o| o)
    }

    /// The auction start a swap at `now` uses: the recorded one, or `now` if none.
    fn start(&self, now: i64) -> i64 {
        if self.started_at == 0 {
            now
        } else {
            self.started_at
        }
    }

    /// The largest reward, WEIGHT_SCALE: `max_reward_bps * 1e9 / 1e4`.
    fn max_reward(&self) -> u64 {
        (self.max_reward_bps * W / 10_000) as u64
    }

    /// Reward `elapsed` seconds into the auction: 0 at (or before) the start, then
    /// `max * elapsed / duration` rounded down, then `max` from the auction's end on.
    fn reward(&self, elapsed: i64) -> u64 {
        let max = self.max_reward() as u128;
        if elapsed <= 0 {
            0
        } else if elapsed >= self.duration {
            max as u64
        } else {
            (max * elapsed as u128 / self.duration as u128) as u64
        }
    }

    /// `amount_in` of row `i` at `price - conf` (down); the reward on top (down); paid in row
    /// `o` at `price + conf` (down). `None` when a figure does not fit (the program's
    /// `MathError::Overflow`, which the clip treats as "does not fit").
    fn quote(&self, i: usize, o: usize, amount_in: u64, reward: u64) -> Option<Quote> {
        let value_in = (amount_in as u128).checked_mul(self.low(i))? / self.scale(i);
        let value_out = value_in.checked_mul(W + reward as u128)? / W;
        let amount_out = value_out.checked_mul(self.scale(o))? / self.high(o);
        Some(Quote {
            amount_in,
            amount_out: u64::try_from(amount_out).ok()?,
            value_in,
            value_out,
        })
    }

    /// The clip's test, as documented on `SwapLegs::fits`: the vault can pay, and with every
    /// holding valued as NAV values it (at mid, rounded down, balance by balance) after the
    /// swap, the incoming leg is at or below its target and the outgoing leg at or above its
    /// target, of the NAV after the swap; cross-multiplied, exact. An incoming balance past
    /// `u64::MAX` does not fit (the program's overflow).
    fn fits(&self, i: usize, o: usize, q: &Quote) -> bool {
        if q.amount_out as u128 > self.bal[o]
            || self.bal[i] + q.amount_in as u128 > u64::MAX as u128
        {
            return false;
        }
        let mut after = self.clone();
        after.bal[i] += q.amount_in as u128;
        after.bal[o] -= q.amount_out as u128;
        let (v_in, v_out, nav) = (after.mid_value(i), after.mid_value(o), after.nav_mid());
        Self::legs_fit(v_in, v_out, nav, self.targets[i], self.targets[o])
    }

    /// The clip's test as it was before the fix, for the regression test: the incoming leg
    /// valued as its value plus the incoming amount (each rounded down), the outgoing leg as
    /// its value less the outgoing amount rounded up, and the NAV moved by the same two
    /// amounts. Off from [`Model::fits`] by a fraction of a unit when balances are fractional.
    fn fits_summing_floors(&self, i: usize, o: usize, q: &Quote) -> bool {
        if q.amount_out as u128 > self.bal[o] {
            return false;
        }
        let in_mid = q.amount_in as u128 * self.price[i] / self.scale(i);
        let out_mid = (q.amount_out as u128 * self.price[o]).div_ceil(self.scale(o));
        let v_in = self.mid_value(i) + in_mid;
        let v_out = self.mid_value(o).saturating_sub(out_mid);
        let nav = (self.nav_mid() + in_mid).saturating_sub(out_mid);
        Self::legs_fit(v_in, v_out, nav, self.targets[i], self.targets[o])
    }

    /// `v_in / nav <= t_in` and `v_out / nav >= t_out` (WEIGHT_SCALE targets), cross-multiplied;
    /// a product past u128 does not fit.
    fn legs_fit(v_in: u128, v_out: u128, nav: u128, t_in: u64, t_out: u64) -> bool {
        let ok_in = match (v_in.checked_mul(W), nav.checked_mul(t_in as u128)) {
            (Some(a), Some(b)) => a <= b,
            _ => return false,
        };
        let ok_out = match (v_out.checked_mul(W), nav.checked_mul(t_out as u128)) {
            (Some(a), Some(b)) => a >= b,
            _ => return false,
        };
        ok_in && ok_out
    }

    fn fitting(&self, i: usize, o: usize, amount: u64, reward: u64, fits: Fits) -> Option<Quote> {
        self.quote(i, o, amount, reward)
            .filter(|q| fits(self, i, o, q))
    }

    /// The largest amount of at most `requested` that fits (`requested` itself if it fits,
    /// otherwise a bisection on `[0, requested)`).
    fn clip(&self, i: usize, o: usize, requested: u64, reward: u64) -> Quote {
        self.clip_by(i, o, requested, reward, Model::fits)
    }

    /// [`Model::clip`] with another test of what fits.
    fn clip_by(&self, i: usize, o: usize, requested: u64, reward: u64, fits: Fits) -> Quote {
        if let Some(q) = self.fitting(i, o, requested, reward, fits) {
            return q;
        }
        let (mut lo, mut hi) = (0u64, requested);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.fitting(i, o, mid, reward, fits).is_some() {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        self.quote(i, o, lo, reward)
            .expect("a fitting amount prices")
    }

    /// The basket after a swap at `now` that started its auction at `started`.
    fn after(&self, r: &Req, q: &Quote, started: i64) -> Model {
        let mut m = self.clone();
        m.bal[r.i] += q.amount_in as u128;
        m.bal[r.o] -= q.amount_out as u128;
        m.started_at = if m.any_out() { started } else { 0 };
        m
    }

    /// What the program answers to `r` at `now`: the first failing check in the documented
    /// order (band, direction, clip to nothing, slippage, cap), or the quote.
    fn swap(&self, r: &Req, now: i64) -> Result<Quote, AidxError> {
        assert_ne!(r.i, r.o);
        let w = self.weights();
        let out = self.out_of_band();
        if !out[r.i] && !out[r.o] {
            return Err(AidxError::InsideBand);
        }
        if !(w[r.i] < self.targets[r.i] && w[r.o] > self.targets[r.o]) {
            return Err(AidxError::LegNotTowardTarget);
        }
        let reward = self.reward(now - self.start(now));
        let q = self.clip(r.i, r.o, r.amount, reward);
        if q.amount_in == 0 || q.amount_out == 0 {
            return Err(AidxError::NothingToTrade);
        }
        if q.amount_out < r.min_out {
            return Err(AidxError::MinAmountOutNotMet);
        }
        let wa = self.after(r, &q, now).weights();
        if !(wa[r.i] <= self.cap || wa[r.i] <= w[r.i]) {
            return Err(AidxError::WeightAboveCap);
        }
        Ok(q)
    }
}

/// `a * b` as a 256-bit `(high, low)` pair: tuples compare like the numbers.
fn mul_wide(a: u128, b: u128) -> (u128, u128) {
    const M: u128 = u64::MAX as u128;
    let (a1, a0, b1, b0) = (a >> 64, a & M, b >> 64, b & M);
    let (p00, p01, p10, p11) = (a0 * b0, a0 * b1, a1 * b0, a1 * b1);
    let mid = (p00 >> 64) + (p01 & M) + (p10 & M);
    (
        (p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64)),
        (p00 & M) | (mid << 64),
    )
}

/// Never overshoots: after the swap, from the index account and the stored prices, the
/// incoming leg's value over NAV is at or below its target and the outgoing leg's at or above
/// its target, cross-multiplied exactly (values at mid, each holding rounded down as the
/// program values holdings); and the stored (rounded-down) weights say the same.
#[track_caller]
fn assert_never_overshoots(after: &Model, i: usize, o: usize) {
    assert_eq!(past_target(after, i, o), (false, false));
    let nav = after.nav_mid();
    let (vi, vo) = (after.mid_value(i), after.mid_value(o));
    let (ti, to) = (after.targets[i] as u128, after.targets[o] as u128);
    assert!(
        vi * W <= nav * ti,
        "in-leg {i} overshot: {vi} / {nav} > {ti} / 1e9"
    );
    assert!(
        vo * W >= nav * to,
        "out-leg {o} overshot: {vo} / {nav} < {to} / 1e9"
    );
    let w = after.weights();
    assert!(w[i] <= after.targets[i] && w[o] >= after.targets[o]);
}

/// Whether, exactly as [`assert_never_overshoots`] checks it, the in-leg `i` ended above its
/// target and the out-leg `o` below its target.
fn past_target(after: &Model, i: usize, o: usize) -> (bool, bool) {
    let nav = after.nav_mid();
    let (vi, vo) = (after.mid_value(i), after.mid_value(o));
    let (ti, to) = (after.targets[i] as u128, after.targets[o] as u128);
    (vi * W > nav * ti, vo * W < nav * to)
}

/// What a swap moved at mid: `(in_mid, out_mid)` as exact rationals `num / den`.
struct MidLegs {
    /// `amount_in * price_in` and `10^dec_in`.
    a: u128,
    sa: u128,
    /// `amount_out * price_out` and `10^dec_out`.
    b: u128,
    sb: u128,
}

impl MidLegs {
    fn of(before: &Model, e: &RebalanceSwapped) -> Self {
        let (i, o) = (e.row_in as usize, e.row_out as usize);
        MidLegs {
            a: e.amount_in as u128 * before.price[i],
            sa: before.scale(i),
            b: e.amount_out as u128 * before.price[o],
            sb: before.scale(o),
        }
    }

    /// The incoming amount at mid, rounded down.
    fn in_floor(&self) -> u128 {
        self.a / self.sa
    }

    fn out_floor(&self) -> u128 {
        self.b / self.sb
    }
}

/// The vault never loses more at mid than the stated reward on what came in, checked from
/// amounts and stored mid prices only:
/// * exactly, as rationals: `out_mid <= in_mid * (1e9 + reward) / 1e9`, no rounding slack;
/// * with each leg valued in whole USD_SCALE units rounded down: `floor(out_mid) -
///   floor(in_mid) - 1 < reward * (floor(in_mid) + 1) / 1e9` — at most one unit (1e-12 USD)
///   beyond the reward;
/// * the NAV at mid (each holding rounded down) falls by less than `reward * (floor(in_mid) +
///   1) / 1e9 + 2` units: one unit of rounding per leg.
#[track_caller]
fn assert_vault_loses_at_most_the_reward(before: &Model, after: &Model, e: &RebalanceSwapped) {
    let m = MidLegs::of(before, e);
    let r = e.reward as u128;
    assert!(
        mul_wide(m.b, m.sa * W) <= mul_wide(m.a, m.sb * (W + r)),
        "vault lost more than the reward at mid: {e:?}"
    );
    let (fi, fo) = (m.in_floor() as i128, m.out_floor() as i128);
    assert!((fo - fi - 1) * W as i128 <= r as i128 * (fi + 1));
    let loss = before.nav_mid() as i128 - after.nav_mid() as i128;
    assert!(
        (loss - 2) * (W as i128) < r as i128 * (fi + 1),
        "NAV loss {loss}"
    );
}

// ---------------------------------------------------------------------------------------------
// Fixtures and checked operations.

struct Setup {
    t: TestContext,
    fx: IndexFixture,
    caller: Holder,
}

/// An `n`-constituent index (targets 1/n) seeded in kind with exactly 1_000 whole tokens of
/// each constituent, and a caller holding plenty of every constituent.
async fn seeded(n: usize, edit: impl FnOnce(&mut IndexParams)) -> Setup {
    seeded_with_units(n, &(0..n).map(units).collect::<Vec<_>>(), edit).await
}

/// Like [`seeded`] with `units[i]` raw units of row `i` per share: the seed holds exactly 100
/// times that.
async fn seeded_with_units(n: usize, units: &[u64], edit: impl FnOnce(&mut IndexParams)) -> Setup {
    seeded_full(n, units, edit, None).await
}

/// Like [`seeded`], the prices `usd` (confidence `conf_bps`) posted and refreshed before the
/// seed: that refresh finds no shares and records nothing, so whatever imbalance the seed
/// makes at those prices is left for a poke, a swap or the next refresh to record.
async fn seeded_after_pricing(n: usize, usd: &[u128], conf_bps: u64) -> Setup {
    let units: Vec<u64> = (0..n).map(units).collect();
    seeded_full(n, &units, |_| {}, Some((usd, conf_bps))).await
}

async fn seeded_full(
    n: usize,
    units: &[u64],
    edit: impl FnOnce(&mut IndexParams),
    priced_first: Option<(&[u128], u64)>,
) -> Setup {
    let mut t = TestContext::new().await;
    let mut args = t.default_args();
    // These tests check the swap's pricing and its clip at the target, at any time: the
    // continuous, target-clipping policy. The default policy (a window after new targets, the
    // edge clip) has its own tests (`policy_*`).
    args.params.rebalance_window_secs = 0;
    args.params.clip = CLIP_TARGET;
    edit(&mut args.params);
    let fx = t.create_index_with(args, n, |i| units[i]).await;
    if let Some((usd, conf_bps)) = priced_first {
        assert_eq!(set_prices_checked(&mut t, &fx, usd, conf_bps).await, vec![]);
    }
    t.seed(&fx).await;
    let caller = t.holder(&fx, rich).await;
    Setup { t, fx, caller }
}

async fn seeded8() -> Setup {
    seeded(N, |_| {}).await
}

fn price_keys(fx: &IndexFixture) -> Vec<Pubkey> {
    (0..fx.constituents.len())
        .map(|i| price_key(fx, i))
        .collect()
}

fn refresh_ix(fx: &IndexFixture) -> Instruction {
    client::refresh_prices(&fx.key, &price_keys(fx))
}

/// Writes the price accounts for `usd` (USD_SCALE per whole token, confidence `conf_bps` of
/// it) published at the current clock time, without refreshing.
async fn post(t: &mut TestContext, fx: &IndexFixture, usd: &[u128], conf_bps: u64) {
    let now = t.now().await;
    let prices: Vec<PythPrice> = usd
        .iter()
        .map(|u| PythPrice::from_usd_scaled(*u, conf_bps, now))
        .collect();
    t.post_prices(fx, &prices).await;
}

fn swap_ix(fx: &IndexFixture, index: &Index, caller: &Pubkey, r: &Req) -> Instruction {
    client::rebalance_swap(
        &fx.key,
        index,
        caller,
        r.i,
        r.o,
        RebalanceSwapArgs {
            amount_in: r.amount,
            min_amount_out: r.min_out,
        },
    )
}

/// One price account as the next refresh stores it.
#[derive(Clone, Copy, Debug)]
struct Posted {
    /// USD_SCALE per whole token: the mantissa and the confidence times `10^(12 + exponent)`.
    price: u128,
    conf: u128,
    publish_time: i64,
}

/// The price accounts of every row, read back and decoded (the Pyth receiver's layout).
async fn posted(t: &mut TestContext, fx: &IndexFixture) -> Vec<Posted> {
    let mut out = vec![];
    for key in price_keys(fx) {
        let data = t.chain.account_data(&key).await.unwrap();
        let u = PriceUpdateV2::deserialize(&mut &data[8..]).unwrap();
        let m = u.price_message;
        // every test feed has exponent -8: a mantissa of 1e-8 USD is 1e4 USD_SCALE units
        assert_eq!(m.exponent, -8);
        out.push(Posted {
            price: m.price as u128 * 10_000,
            conf: m.conf as u128 * 10_000,
            publish_time: m.publish_time,
        });
    }
    out
}

/// What a `refresh_prices` sent now does: its events (`PricesRefreshed` with the posted prices
/// and publish times, then, on a seeded index, the imbalance recorded or cleared at the new
/// prices) and the index's model after it.
async fn expect_refresh(t: &mut TestContext, fx: &IndexFixture) -> (Vec<AidxEvent>, Model) {
    let p = posted(t, fx).await;
    let mut m = Model::of(&t.index(fx).await).repriced(&p);
    let clock = t.chain.clock().await.unwrap();
    let mut want = vec![AidxEvent::PricesRefreshed(PricesRefreshed {
        index: fx.key,
        slot: clock.slot,
        unix_timestamp: clock.unix_timestamp,
        prices: p.iter().map(|p| p.price as u64).collect(),
        confs: p.iter().map(|p| p.conf as u64).collect(),
        publish_times: p.iter().map(|p| p.publish_time).collect(),
        refreshed: (1u32 << p.len()) - 1,
    })];
    if m.seeded {
        let (e, started) = m.imbalance(fx.key, clock.unix_timestamp);
        want.extend(e);
        m.started_at = started;
    }
    (want, m)
}

/// `refresh_prices` alone: asserts its events whole and the index after it; returns the
/// imbalance events (everything after `PricesRefreshed`).
async fn refresh_checked(t: &mut TestContext, fx: &IndexFixture) -> Vec<AidxEvent> {
    let (want, after) = expect_refresh(t, fx).await;
    let ev = events(t.refresh_prices(fx).await);
    assert_eq!(ev, want);
    assert_eq!(Model::of(&t.index(fx).await), after);
    ev[1..].to_vec()
}

/// Posts `usd` (confidence `conf_bps`) and refreshes, checked; returns the imbalance events.
async fn set_prices_checked(
    t: &mut TestContext,
    fx: &IndexFixture,
    usd: &[u128],
    conf_bps: u64,
) -> Vec<AidxEvent> {
    post(t, fx, usd, conf_bps).await;
    refresh_checked(t, fx).await
}

/// Sends `[refresh_prices, ixs...]` signed by `signers`.
async fn send_refreshed(
    t: &mut TestContext,
    fx: &IndexFixture,
    ix: Instruction,
    signers: &[&Keypair],
) -> TxResult {
    t.chain.send(&[refresh_ix(fx), ix], signers).await.unwrap()
}

/// How a swap or a poke is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Via {
    /// `refresh_prices` alone first (checked), then `[refresh_prices, ix]`.
    Refreshed,
    /// `[refresh_prices, ix]` only: the refresh in the instruction's own transaction is the
    /// first to store the posted prices, and to record or clear the imbalance at them.
    RefreshInTx,
    /// The instruction alone, on the stored prices.
    Alone,
}

impl Via {
    /// Position of the swap or the poke in its transaction.
    fn ix(self) -> u8 {
        match self {
            Via::Alone => ALONE_IX,
            _ => SWAP_IX,
        }
    }
}

/// Sends `ix` as `via` says (the standalone refresh of [`Via::Refreshed`] already done).
async fn send_via(
    t: &mut TestContext,
    fx: &IndexFixture,
    ix: Instruction,
    signers: &[&Keypair],
    via: Via,
) -> TxResult {
    match via {
        Via::Alone => t.chain.send(&[ix], signers).await.unwrap(),
        _ => send_refreshed(t, fx, ix, signers).await,
    }
}

/// For `via`: the standalone refresh of [`Via::Refreshed`] (checked), then the events the
/// refresh in the instruction's transaction will emit and the model the instruction will see.
async fn prepare(t: &mut TestContext, fx: &IndexFixture, via: Via) -> (Vec<AidxEvent>, Model) {
    if via == Via::Refreshed {
        refresh_checked(t, fx).await;
    }
    match via {
        Via::Alone => (vec![], Model::of(&t.index(fx).await)),
        _ => expect_refresh(t, fx).await,
    }
}

/// `[refresh_prices, rebalance_swap]` for `r`, through the caller's associated accounts.
async fn send_swap(t: &mut TestContext, fx: &IndexFixture, caller: &Holder, r: &Req) -> TxResult {
    let index = t.index(fx).await;
    let ix = swap_ix(fx, &index, &caller.key(), r);
    send_refreshed(t, fx, ix, &[&caller.keypair]).await
}

/// Everything a swap could move: the index's model, the vaults and the caller's accounts.
async fn snapshot(t: &mut TestContext, fx: &IndexFixture, caller: &Holder) -> (Model, Vec<u64>) {
    let m = Model::of(&t.index(fx).await);
    let mut v = t.vault_balances(fx).await;
    v.extend(t.holder_balances(caller).await);
    (m, v)
}

/// A successful swap, its model before and the index read back after.
struct Swapped {
    ev: RebalanceSwapped,
    /// Every event of the swap's transaction, as asserted.
    tx_events: Vec<AidxEvent>,
    before: Model,
    after: Model,
}

/// [`swap_checked_via`] with [`Via::Refreshed`].
async fn swap_checked(t: &mut TestContext, fx: &IndexFixture, caller: &Holder, r: Req) -> Swapped {
    swap_checked_via(t, fx, caller, r, Via::Refreshed).await
}

/// Sends a swap for a request the model says succeeds, as `via` says: asserts every event
/// whole (the refresh's, the imbalance recorded by the swap if nothing had recorded it, the
/// swap, the imbalance cleared by it), every balance, the stored state, and both safety
/// properties.
async fn swap_checked_via(
    t: &mut TestContext,
    fx: &IndexFixture,
    caller: &Holder,
    r: Req,
    via: Via,
) -> Swapped {
    let (mut want, m) = prepare(t, fx, via).await;
    let index = t.index(fx).await;
    let now = t.now().await;
    let q = match m.swap(&r, now) {
        Ok(q) => q,
        Err(e) => panic!("model refuses {r:?}: {e:?}"),
    };
    let started = m.start(now);
    let reward = m.reward(now - started);
    let after = m.after(&r, &q, started);
    if m.started_at == 0 {
        want.push(AidxEvent::ImbalanceStarted(ImbalanceStarted {
            index: fx.key,
            at: now,
            weights: m.weights(),
            targets: m.targets.clone(),
        }));
    }
    if !after.any_out() {
        want.push(AidxEvent::ImbalanceCleared(ImbalanceCleared {
            index: fx.key,
            at: now,
            started_at: started,
            weights: after.weights(),
        }));
    }
    let expected = RebalanceSwapped {
        index: fx.key,
        caller: caller.key(),
        row_in: r.i as u8,
        row_out: r.o as u8,
        amount_in: q.amount_in,
        amount_out: q.amount_out,
        amount_requested: r.amount,
        price_in: m.price[r.i] as u64,
        conf_in: m.conf[r.i] as u64,
        price_out: m.price[r.o] as u64,
        conf_out: m.conf[r.o] as u64,
        value_in: q.value_in,
        value_out: q.value_out,
        reward,
        auction_elapsed: now - started,
        weights_before: m.weights(),
        weights_after: after.weights(),
        targets: m.targets.clone(),
        nav_before: m.nav_mid(),
        nav_after: after.nav_mid(),
    };
    want.push(AidxEvent::RebalanceSwapped(expected.clone()));

    let (vault_in, vault_out) = (
        vault_address(&fx.key, &fx.constituents[r.i].mint),
        vault_address(&fx.key, &fx.constituents[r.o].mint),
    );
    let (ci, co, vi, vo) = (
        t.balance(&caller.token_accounts[r.i]).await,
        t.balance(&caller.token_accounts[r.o]).await,
        t.balance(&vault_in).await,
        t.balance(&vault_out).await,
    );
    let ix = swap_ix(fx, &index, &caller.key(), &r);
    let ev = events(send_via(t, fx, ix, &[&caller.keypair], via).await);
    assert_eq!(ev, want, "{r:?} {via:?}");
    assert_eq!(
        t.balance(&caller.token_accounts[r.i]).await,
        ci - q.amount_in
    );
    assert_eq!(
        t.balance(&caller.token_accounts[r.o]).await,
        co + q.amount_out
    );
    assert_eq!(t.balance(&vault_in).await, vi + q.amount_in);
    assert_eq!(t.balance(&vault_out).await, vo - q.amount_out);
    let got = Model::of(&t.index(fx).await);
    assert_eq!(got, after);

    assert!(expected.amount_in as u128 <= r.amount as u128);
    assert_never_overshoots(&got, r.i, r.o);
    assert_vault_loses_at_most_the_reward(&m, &got, &expected);
    Swapped {
        ev: expected,
        tx_events: ev,
        before: m,
        after: got,
    }
}

/// [`swap_refused_via`] with [`Via::Refreshed`].
async fn swap_refused(
    t: &mut TestContext,
    fx: &IndexFixture,
    caller: &Holder,
    r: Req,
    expected: AidxError,
) {
    swap_refused_via(t, fx, caller, r, expected, Via::Refreshed).await
}

/// Sends a swap, as `via` says, for a request the model refuses with `expected`: asserts that
/// exact error from the swap instruction and that nothing moved (the refresh in the same
/// transaction, and what it recorded, undone with it).
async fn swap_refused_via(
    t: &mut TestContext,
    fx: &IndexFixture,
    caller: &Holder,
    r: Req,
    expected: AidxError,
    via: Via,
) {
    let (_, m) = prepare(t, fx, via).await;
    let before = snapshot(t, fx, caller).await;
    let now = t.now().await;
    assert_eq!(
        m.swap(&r, now).map_err(code),
        Err(code(expected)),
        "model on {r:?}"
    );
    let index = t.index(fx).await;
    let ix = swap_ix(fx, &index, &caller.key(), &r);
    let res = send_via(t, fx, ix, &[&caller.keypair], via).await;
    assert_failed_at(&res, via.ix(), code(expected));
    assert_eq!(snapshot(t, fx, caller).await, before);
}

/// [`poke_checked_via`] with [`Via::Refreshed`]: with the standalone refresh before it, the
/// poke finds the imbalance already recorded or cleared, so this is `[]` unless balances moved
/// since (asserted whole all the same).
async fn poke_checked(t: &mut TestContext, fx: &IndexFixture) -> Vec<AidxEvent> {
    poke_checked_via(t, fx, Via::Refreshed).await
}

/// Sends `poke_rebalance` as `via` says; asserts the events whole (the refresh's, then what
/// the poke records or clears) and the recorded start. Returns the imbalance events (all but
/// `PricesRefreshed`).
async fn poke_checked_via(t: &mut TestContext, fx: &IndexFixture, via: Via) -> Vec<AidxEvent> {
    let (mut want, m) = prepare(t, fx, via).await;
    let (e, started_after) = m.imbalance(fx.key, t.now().await);
    want.extend(e);
    let ev = events(send_via(t, fx, client::poke_rebalance(&fx.key), &[], via).await);
    assert_eq!(ev, want, "{via:?}");
    let mut after = m.clone();
    after.started_at = started_after;
    assert_eq!(Model::of(&t.index(fx).await), after);
    ev.into_iter()
        .filter(|e| !matches!(e, AidxEvent::PricesRefreshed(_)))
        .collect()
}

/// A token account of `mint` owned by `owner` at a fresh address (not the associated one).
async fn extra_token_account(
    t: &mut TestContext,
    owner: &Pubkey,
    mint: &Pubkey,
    program: &Pubkey,
) -> Pubkey {
    let account = Keypair::new();
    let space = 165u64;
    let rent = t
        .chain
        .ctx
        .banks_client
        .get_rent()
        .await
        .unwrap()
        .minimum_balance(space as usize);
    let payer = t.payer();
    let ixs = [
        system_instruction::create_account(&payer, &account.pubkey(), rent, space, program),
        spl_token_2022::instruction::initialize_account3(program, &account.pubkey(), mint, owner)
            .unwrap(),
    ];
    t.chain.send_ok(&ixs, &[&account]).await.unwrap();
    account.pubkey()
}

// ---------------------------------------------------------------------------------------------
// 1. Inside the band nothing trades.

#[tokio::test]
async fn no_trade_inside_the_band() {
    let Setup { mut t, fx, caller } = seeded8().await;
    set_prices_checked(&mut t, &fx, &[ONE_USD; N], 20).await;
    let m = Model::of(&t.index(&fx).await);
    assert_eq!(m.weights(), vec![125_000_000; N]);
    assert_eq!(m.band_of(0), (100_000_000, 150_000_000));
    // Every weight on target: any pair, any amount.
    for (i, o, amount) in [(1, 0, u64::MAX), (0, 1, whole(0, 10)), (3, 6, 1)] {
        swap_refused(
            &mut t,
            &fx,
            &caller,
            req(i, o, amount),
            AidxError::InsideBand,
        )
        .await;
    }

    // Row 0 rallies 10%: 1_100 / 8_100 = 13.58%, the others 12.35%: still all in band, so even
    // a swap in the right direction (pay the lighter row 1, take the heavier row 0) is refused.
    set_prices_checked(&mut t, &fx, &prices_n(N, &[(0, 11 * ONE_USD / 10)]), 20).await;
    let m = Model::of(&t.index(&fx).await);
    assert_eq!(m.weights()[0], 135_802_469);
    assert!(!m.any_out());
    swap_refused(
        &mut t,
        &fx,
        &caller,
        req(1, 0, u64::MAX),
        AidxError::InsideBand,
    )
    .await;

    // The band is inclusive. The highest Pyth price (exponent -8) of row 0 that keeps its
    // weight at the band's top, 15%, is still no trade; one price step more is.
    let weight_at = |mantissa: u64| {
        let mut m = m.clone();
        m.price[0] = mantissa as u128 * 10_000;
        m.weights()[0]
    };
    let (mut lo, mut hi) = (100_000_000u64, 200_000_000u64);
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if weight_at(mid) <= 150_000_000 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    // $1.23529412: 1_235.29412 / 8_235.29412 = 15.0000000%; one step more is 15.0000001%.
    assert_eq!(lo, 123_529_412);
    assert_eq!((weight_at(lo), weight_at(hi)), (150_000_000, 150_000_001));
    set_prices_checked(&mut t, &fx, &prices_n(N, &[(0, lo as u128 * 10_000)]), 0).await;
    swap_refused(
        &mut t,
        &fx,
        &caller,
        req(1, 0, u64::MAX),
        AidxError::InsideBand,
    )
    .await;
    set_prices_checked(&mut t, &fx, &prices_n(N, &[(0, hi as u128 * 10_000)]), 0).await;
    let s = swap_checked(&mut t, &fx, &caller, req(1, 0, u64::MAX)).await;
    assert_eq!(s.ev.weights_before[0], 150_000_001);
    assert!(s.ev.amount_in > 0);
}

// ---------------------------------------------------------------------------------------------
// 2. Both legs must move toward target.

#[tokio::test]
async fn legs_must_move_toward_target() {
    let Setup { mut t, fx, caller } = seeded8().await;
    // Row 0 +30%: 1_300 / 8_000 = 16.25% (above its band); row 1 -30%: 8.75% (below); the
    // others exactly on target.
    set_prices_checked(&mut t, &fx, &plus_minus_30(), 20).await;
    let m = Model::of(&t.index(&fx).await);
    let w = m.weights();
    assert_eq!(&w[..3], &[162_500_000, 87_500_000, 125_000_000]);
    assert_eq!(m.out_of_band()[..3], [true, true, false]);

    // Paying the overweight row 0 and taking the underweight row 1: both legs the wrong way.
    let big = whole(0, 10);
    swap_refused(
        &mut t,
        &fx,
        &caller,
        req(0, 1, big),
        AidxError::LegNotTowardTarget,
    )
    .await;
    // One leg right, the other wrong or merely on target.
    swap_refused(
        &mut t,
        &fx,
        &caller,
        req(0, 2, big),
        AidxError::LegNotTowardTarget,
    )
    .await;
    swap_refused(
        &mut t,
        &fx,
        &caller,
        req(2, 0, whole(2, 10)),
        AidxError::LegNotTowardTarget,
    )
    .await;
    swap_refused(
        &mut t,
        &fx,
        &caller,
        req(1, 2, whole(1, 10)),
        AidxError::LegNotTowardTarget,
    )
    .await;
    // Both legs in band: the band check comes first.
    swap_refused(
        &mut t,
        &fx,
        &caller,
        req(2, 3, whole(2, 10)),
        AidxError::InsideBand,
    )
    .await;

    // The same mint on both legs, through the caller's associated account for both: the vault
    // and the caller's account are then the same writable account twice, which Anchor refuses
    // before the handler runs.
    let index = t.index(&fx).await;
    let (before, balances) = snapshot(&mut t, &fx, &caller).await;
    let mut ix = swap_ix(&fx, &index, &caller.key(), &req(1, 0, whole(1, 10)));
    // accounts: caller, index, mint_in, vault_in, caller_in, mint_out, vault_out, caller_out,
    // token_program_in, token_program_out
    for (to, from) in [(5, 2), (6, 3), (7, 4), (9, 8)] {
        ix.accounts[to] = ix.accounts[from].clone();
    }
    let r = send_refreshed(&mut t, &fx, ix.clone(), &[&caller.keypair]).await;
    assert_failed_at(&r, SWAP_IX, AnchorError::ConstraintDuplicateMutableAccount);
    // With distinct writable accounts (the out-leg vault left as row 0's, a second account of
    // row 1 owned by the caller), the handler sees the same constituent twice.
    let second = extra_token_account(
        &mut t,
        &caller.key(),
        &fx.constituents[1].mint,
        &TOKEN_2022_PROGRAM_ID,
    )
    .await;
    ix.accounts[6].pubkey = index.constituents()[0].vault;
    ix.accounts[7].pubkey = second;
    let r = send_refreshed(&mut t, &fx, ix, &[&caller.keypair]).await;
    assert_failed_at(&r, SWAP_IX, code(AidxError::SameConstituent));
    assert_eq!(snapshot(&mut t, &fx, &caller).await, (before, balances));

    // The right way round goes through.
    let s = swap_checked(&mut t, &fx, &caller, req(1, 0, whole(1, 10))).await;
    assert_eq!((s.ev.row_in, s.ev.row_out), (1, 0));
}

// ---------------------------------------------------------------------------------------------
// 3. The clip: never past a target.

#[tokio::test]
async fn a_large_request_is_clipped_at_the_target() {
    let Setup { mut t, fx, caller } = seeded8().await;
    // No confidence, auction start (reward 0): in and out are worth the same at mid and both
    // legs need about $300. The out-leg amount rounds down, so the vault keeps that dust, its
    // NAV rises by it, and the in-leg's target (12.5% of that NAV) binds first.
    set_prices_checked(&mut t, &fx, &plus_minus_30(), 0).await;
    let s = swap_checked(&mut t, &fx, &caller, req(1, 0, u64::MAX)).await;
    let e = &s.ev;
    assert_eq!(e.reward, 0);
    // 428.571428775 tokens of row 1 (9 dp) at $0.70 = $300.0000001425; paid with
    // 230.769230 tokens of row 0 (6 dp) at $1.30 = $299.999999 (rounded down from .878 units).
    assert_eq!(e.amount_in, 428_571_428_775);
    assert_eq!(e.value_in, 300_000_000_142_500);
    assert_eq!(e.value_out, e.value_in);
    assert_eq!(e.amount_out, 230_769_230);
    assert_eq!(e.nav_after - e.nav_before, 1_142_500);
    assert!(e.amount_requested > e.amount_in);
    assert_eq!(e.weights_after[0], 125_000_000);
    assert_eq!(e.weights_after[1], 124_999_999);
    // One more unit would cross row 1's target (checked with the program's own rounding).
    let r = e.reward;
    let q1 = s.before.quote(1, 0, e.amount_in + 1, r).unwrap();
    assert!(!s.before.fits(1, 0, &q1));

    // Confidence and a reward: in and out now differ at mid; a huge request is still clipped
    // so neither leg crosses its target, whichever binds first.
    for (conf_bps, wait) in [(50u64, 3_600i64), (200, 30_000)] {
        let Setup { mut t, fx, caller } = seeded8().await;
        // the refresh that sees the move starts the auction
        let now = t.now().await;
        assert_eq!(
            set_prices_checked(&mut t, &fx, &plus_minus_30(), conf_bps).await,
            vec![started_at_plus_minus_30(&fx, now)]
        );
        t.warp_to_time(now + wait).await;
        post(&mut t, &fx, &plus_minus_30(), conf_bps).await;
        let s = swap_checked(&mut t, &fx, &caller, req(1, 0, u64::MAX)).await;
        let e = &s.ev;
        assert!(e.reward > 0);
        assert!(e.amount_requested > e.amount_in);
        // the binding leg is within one weight unit of its target, the other on its side
        let (wi, wo) = (e.weights_after[1], e.weights_after[0]);
        assert!(wi <= 125_000_000 && wo >= 125_000_000);
        assert!(125_000_000 - wi <= 1 || wo - 125_000_000 <= 1, "{e:?}");
        println!(
            "conf {conf_bps} bps, reward {}: in {} out {} weights after {wi} / {wo}",
            e.reward, e.amount_in, e.amount_out
        );
        // Clipped once, every row is back in band: the imbalance is cleared and the same
        // request has nothing left to do.
        assert!(!s.after.any_out());
        assert_eq!(s.after.started_at, 0);
        swap_refused(
            &mut t,
            &fx,
            &caller,
            req(1, 0, u64::MAX),
            AidxError::InsideBand,
        )
        .await;
    }
}

/// A regression test: two baskets with fractional balances (found by a search over the model)
/// where the clip, when it summed floors (the in-leg after the swap as `floor(balance * p) +
/// floor(amount_in * p)`, the out-leg as `floor(balance * p) - ceil(amount_out * p)`) instead of
/// valuing the post-swap balances as the program values holdings (`floor((balance ± amount) *
/// p)`), let the swap end a fraction of a 1e-12 USD unit past the target: in the first the
/// in-leg's value ended above `target * NAV`, in the second the out-leg's value below it, by
/// 0.125 unit each (the rounded-down weights read the in-leg's target exactly in the first, one
/// unit under the out-leg's in the second). The documented claim is "never crosses its target,
/// exactly"; `swap_checked` asserts it from the index account.
#[tokio::test]
async fn the_clip_never_overshoots_even_by_a_rounding_unit() {
    // (units per share, Pyth mantissas at exponent -8, confidence bps, in row, out row; then
    // what the clip summing floors did: which leg it pushed past its target (in-leg above,
    // out-leg below) and the rounded-down weights of the two legs it left)
    type Case = (
        [u64; N],
        [u64; N],
        u64,
        usize,
        usize,
        (bool, bool),
        (u64, u64),
    );
    let cases: [Case; 2] = [
        (
            [
                13_811_944,
                7_215_936_331,
                1_453_569_937,
                11,
                11_170_968,
                6_588_492_414,
                605_901_236,
                11,
            ],
            [
                146_475_831,
                104_743_516,
                118_382_066,
                127_154_433,
                119_136_934,
                175_788_361,
                51_375_876,
                73_933_437,
            ],
            0,
            5,
            2,
            (true, false),
            (125_000_000, 177_664_249),
        ),
        (
            [
                7_730_524,
                11_907_584_768,
                938_530_667,
                15,
                13_293_408,
                10_039_137_682,
                698_087_609,
                11,
            ],
            [
                153_534_137,
                127_405_906,
                154_787_451,
                53_533_238,
                158_491_403,
                40_655_282,
                141_519_290,
                169_502_007,
            ],
            20,
            5,
            2,
            (false, true),
            (55_242_630, 124_999_999),
        ),
    ];
    for (units, mantissas, conf_bps, i, o, old_past, old_weights) in cases {
        let Setup { mut t, fx, caller } = seeded_with_units(N, &units, |_| {}).await;
        let usd: Vec<u128> = mantissas.iter().map(|m| *m as u128 * 10_000).collect();
        set_prices_checked(&mut t, &fx, &usd, conf_bps).await;
        // swap_checked replays the program exactly, then asserts the post-swap state from the
        // index account: never past either target.
        let r = req(i, o, u64::MAX);
        let s = swap_checked(&mut t, &fx, &caller, r).await;
        assert!(s.ev.amount_in < s.ev.amount_requested, "clipped");
        // The cases still are what they were found as: the clip summing floors lets one more
        // unit through, which ends past a target.
        let old = s
            .before
            .clip_by(i, o, r.amount, s.ev.reward, Model::fits_summing_floors);
        assert_eq!(old.amount_in, s.ev.amount_in + 1, "{old:?}");
        let past = s.before.after(&r, &old, s.before.started_at);
        assert_eq!(past_target(&past, i, o), old_past);
        let w = past.weights();
        assert_eq!((w[i], w[o]), old_weights);
        // by exactly 0.125 of a 1e-12 USD unit (times 1e9, cross-multiplied)
        let nav = past.nav_mid();
        let excess = if old_past.0 {
            past.mid_value(i) * W - nav * past.targets[i] as u128
        } else {
            nav * past.targets[o] as u128 - past.mid_value(o) * W
        };
        assert_eq!(excess, W / 8);
    }
}

/// A seeded pseudo-random generator (SplitMix64): the same scenarios on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[self.below(v.len() as u64) as usize]
    }
}

/// What the random scenarios saw.
#[derive(Default, Debug)]
struct Stats {
    swaps: u32,
    clipped: u32,
    refused: std::collections::BTreeMap<String, u32>,
    /// USD_SCALE: what the callers were paid on top of the incoming value (value_out -
    /// value_in), and what the vault lost at mid (out_mid - in_mid, negative = gained).
    reward_paid: u128,
    vault_loss_mid: i128,
    /// USD_SCALE: the stated reward on the incoming value at mid, `floor(reward *
    /// floor(in_mid) / 1e9)`, summed.
    reward_on_in_mid: u128,
    /// The largest `floor(out_mid) - floor(in_mid) - floor(reward * floor(in_mid) / 1e9)` of a
    /// swap, in USD_SCALE units. The exact bound `out_mid <= in_mid * (1 + reward)` leaves at
    /// most 1 for the two floors, and 1 more only when the reward's own fraction rounds up.
    worst_excess_units: i128,
    /// Swaps after which a bystander (neither leg) sat further outside its band than before:
    /// the swap moves the NAV (reward, confidence spread), hence every other weight, and
    /// `rebalance_swap` checks only its two legs. Observed, not asserted.
    bystanders_pushed_out: u32,
    /// The largest such increase, WEIGHT_SCALE.
    bystander_worst_push: u64,
    /// Auction clocks started and cleared, by event and transaction.
    clocks: std::collections::BTreeMap<String, u32>,
}

impl Stats {
    fn clock(&mut self, e: &AidxEvent, place: &str) {
        let what = match e {
            AidxEvent::ImbalanceStarted(_) => "started",
            AidxEvent::ImbalanceCleared(_) => "cleared",
            _ => return,
        };
        *self.clocks.entry(format!("{what} {place}")).or_default() += 1;
    }
}

/// How far row `k` of `m` lies outside its band (0 inside).
fn band_excess(m: &Model, k: usize) -> u64 {
    let (lo, hi) = m.band_of(k);
    let w = m.weights()[k];
    w.saturating_sub(hi) + lo.saturating_sub(w)
}

/// Random prices of an `n`-row index: a few rows moved far (x0.4 .. x1.9), the rest jittered
/// by up to 3%; Pyth mantissas with exponent -8, so every decimal digit matters.
fn random_prices(rng: &mut Rng, n: usize) -> Vec<u128> {
    let far = rng.range(1, 3) as usize;
    let mut p: Vec<u128> = (0..n)
        .map(|_| rng.range(97_000_000, 103_000_000) as u128)
        .collect();
    for _ in 0..far {
        let row = rng.below(n as u64) as usize;
        p[row] = rng.range(40_000_000, 190_000_000) as u128;
    }
    p.iter().map(|m| m * 10_000).collect()
}

/// Prices at which every row of `m` sits within about 6% of its target weight, inside its
/// band: the price that puts the row exactly on target at the current NAV, moved by up to 3%
/// (exponent -8 mantissas).
fn calm_prices(rng: &mut Rng, m: &Model) -> Vec<u128> {
    let nav = m.nav_mid();
    (0..m.n())
        .map(|k| {
            let on_target = m.targets[k] as u128 * nav / W * m.scale(k) / m.bal[k];
            let mantissa = on_target / 10_000 * rng.range(97, 103) as u128 / 100;
            mantissa.max(1) * 10_000
        })
        .collect()
}

/// A request amount for row `i`: mostly a log-uniform number of tokens, sometimes everything,
/// sometimes a few raw units.
fn random_amount(rng: &mut Rng, i: usize) -> u64 {
    match rng.below(10) {
        0 | 1 => u64::MAX,
        2 => rng.below(3),
        _ => {
            rng.range(1, 999)
                * 10u64.pow(rng.range(0, u32::from(mixed_decimals(i)) as u64 + 3) as u32)
        }
    }
}

/// A pair: mostly underweight in / overweight out, sometimes anything.
fn random_pair(rng: &mut Rng, m: &Model) -> (usize, usize) {
    let w = m.weights();
    let n = m.n();
    let under: Vec<usize> = (0..n).filter(|k| w[*k] < m.targets[*k]).collect();
    let over: Vec<usize> = (0..n).filter(|k| w[*k] > m.targets[*k]).collect();
    if rng.chance(80) && !under.is_empty() && !over.is_empty() {
        return (rng.pick(&under), rng.pick(&over));
    }
    let i = rng.below(n as u64) as usize;
    let o = (i + 1 + rng.below(n as u64 - 1) as usize) % n;
    (i, o)
}

/// Half the time a refresh alone (checked, its clock events counted) before a poke or a swap;
/// otherwise the refresh in the poke's or the swap's transaction is the first to store the
/// posted prices.
async fn maybe_refresh_alone(
    t: &mut TestContext,
    fx: &IndexFixture,
    rng: &mut Rng,
    stats: &mut Stats,
) {
    if rng.chance(50) {
        for e in refresh_checked(t, fx).await {
            stats.clock(&e, "by a refresh alone");
        }
    }
}

/// One random scenario: an index of 3 or 7 to 9 constituents with uneven, fractional seed
/// balances and random auction parameters, a random price move, then a dozen random requests
/// (with pokes, price moves and time passing in between), each sent with or without a refresh
/// of its own before its transaction, predicted by the model and checked exactly: success
/// (whole events, balances, never overshooting, vault loss within the reward) or the exact
/// refusal.
async fn random_scenario(seed: u64, stats: &mut Stats) {
    let mut rng = Rng(seed);
    // 3 rows: stated targets (33%) above the cap; 7 to 9: targets 1/n under it.
    let n = rng.pick(&[3usize, 7, 8, 8, 9]);
    let max_reward_bps = rng.range(0, 200) as u16;
    let duration = rng.range(600, 86_400) as u32;
    // 5 to 15 tokens a share, with a random fraction: uneven, fractional seed balances.
    let seed_units: Vec<u64> = (0..n)
        .map(|i| whole(i, rng.range(5, 15)) + rng.below(10u64.pow(u32::from(mixed_decimals(i)))))
        .collect();
    let Setup { mut t, fx, caller } = seeded_with_units(n, &seed_units, |p| {
        p.auction_max_reward_bps = max_reward_bps;
        p.auction_duration_secs = duration;
    })
    .await;
    let conf_bps = rng.pick(&[0, 1, 10, 37, 100, 200]);
    let mut usd = random_prices(&mut rng, n);
    // Posted, and half the time refreshed: otherwise the first refresh to see these prices is
    // the one in the transaction of a poke or a swap.
    post(&mut t, &fx, &usd, conf_bps).await;
    for _ in 0..12 {
        if rng.chance(50) {
            let now = t.now().await;
            t.warp_to_time(now + rng.range(1, duration as u64 + 600) as i64)
                .await;
            if rng.chance(35) {
                // a new move, or prices at which every row is back in band
                usd = if rng.chance(50) {
                    random_prices(&mut rng, n)
                } else {
                    calm_prices(&mut rng, &Model::of(&t.index(&fx).await))
                };
            }
            post(&mut t, &fx, &usd, conf_bps).await;
        }
        if rng.chance(25) {
            maybe_refresh_alone(&mut t, &fx, &mut rng, stats).await;
            for e in poke_checked_via(&mut t, &fx, Via::RefreshInTx).await {
                stats.clock(&e, "in a poke's transaction");
            }
        }
        maybe_refresh_alone(&mut t, &fx, &mut rng, stats).await;
        // the model the swap will see: after the refresh in its own transaction
        let via = Via::RefreshInTx;
        let (_, m) = expect_refresh(&mut t, &fx).await;
        let (i, o) = random_pair(&mut rng, &m);
        let mut r = req(i, o, random_amount(&mut rng, i));
        let now = t.now().await;
        if let (Ok(q), true) = (m.swap(&r, now), rng.chance(20)) {
            // exactly the quote, or one unit more than it
            r.min_out = q.amount_out + rng.below(2);
        }
        match m.swap(&r, now) {
            Ok(_) => {
                let s = swap_checked_via(&mut t, &fx, &caller, r, via).await;
                for e in &s.tx_events {
                    stats.clock(e, "in a swap's transaction");
                }
                let e = &s.ev;
                stats.swaps += 1;
                if e.amount_in < e.amount_requested {
                    stats.clipped += 1;
                }
                stats.reward_paid += e.value_out - e.value_in;
                let mid = MidLegs::of(&s.before, e);
                let loss = mid.out_floor() as i128 - mid.in_floor() as i128;
                stats.vault_loss_mid += loss;
                let allowed = (e.reward as u128 * mid.in_floor() / W) as i128;
                stats.reward_on_in_mid += allowed as u128;
                let push = (0..n)
                    .filter(|k| *k != i && *k != o)
                    .map(|k| band_excess(&s.after, k).saturating_sub(band_excess(&s.before, k)))
                    .max()
                    .unwrap_or(0);
                if push > 0 {
                    stats.bystanders_pushed_out += 1;
                    stats.bystander_worst_push = stats.bystander_worst_push.max(push);
                }
                stats.worst_excess_units = stats.worst_excess_units.max(loss - allowed);
            }
            Err(e) => {
                *stats.refused.entry(format!("{e:?}")).or_default() += 1;
                swap_refused_via(&mut t, &fx, &caller, r, e, via).await;
            }
        }
    }
}

/// Random scenarios each random test runs unless `AIDX_REBALANCE_SCENARIOS` says otherwise.
const DEFAULT_SCENARIOS: u64 = 8;

/// How many random scenarios each random test runs: `AIDX_REBALANCE_SCENARIOS`, at least
/// [`DEFAULT_SCENARIOS`] (the coverage the tests assert is that of the default seeds, which
/// every larger run includes), or the default.
fn scenarios() -> u64 {
    let n = match std::env::var("AIDX_REBALANCE_SCENARIOS") {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("AIDX_REBALANCE_SCENARIOS={v:?}: not a number")),
        Err(_) => DEFAULT_SCENARIOS,
    };
    assert!(
        n >= DEFAULT_SCENARIOS,
        "AIDX_REBALANCE_SCENARIOS={n}: at least {DEFAULT_SCENARIOS}"
    );
    n
}

#[tokio::test]
async fn random_swaps_never_overshoot() {
    let mut stats = Stats::default();
    for seed in 1..=scenarios() {
        random_scenario(seed, &mut stats).await;
    }
    println!("{stats:#?}");
    // The scenarios exercise what they claim to: many swaps, many of them clipped at a target,
    // the refusals along the way, and auction clocks started and cleared by a refresh alone
    // and started by the refresh in a swap's own transaction. (The counts are those of the
    // default seeds, about three swaps and one and a half clips a scenario; a larger run only
    // adds to them.)
    assert!(stats.swaps >= 24, "{stats:?}");
    assert!(stats.clipped >= 12, "{stats:?}");
    for e in [
        "InsideBand",
        "LegNotTowardTarget",
        "NothingToTrade",
        "MinAmountOutNotMet",
        "WeightAboveCap",
    ] {
        assert!(stats.refused.get(e).copied().unwrap_or(0) > 0, "{e}");
    }
    for c in [
        "started by a refresh alone",
        "cleared by a refresh alone",
        "started in a swap's transaction",
    ] {
        assert!(
            stats.clocks.get(c).copied().unwrap_or(0) > 0,
            "{c}: {stats:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 4. The reward.

#[tokio::test]
async fn reward_rises_linearly_from_zero_and_is_capped() {
    let Setup { mut t, fx, caller } = seeded8().await;
    const CONF: u64 = 20;
    // The refresh that first sees the move records the start; a swap in the same second earns
    // nothing, and a poke has nothing left to record.
    let t0 = t.now().await;
    let ev = set_prices_checked(&mut t, &fx, &plus_minus_30(), CONF).await;
    assert!(matches!(&ev[..], [AidxEvent::ImbalanceStarted(s)] if s.at == t0));
    assert_eq!(poke_checked(&mut t, &fx).await, vec![]);
    let params = t.index(&fx).await.params;
    let (max_bps, duration) = (
        params.auction_max_reward_bps as u128,
        params.auction_duration_secs as i64,
    );
    assert_eq!((max_bps, duration), (50, 21_600));
    let max = (max_bps * 1_000_000_000 / 10_000) as u64;
    assert_eq!(max, 5_000_000);

    let mut last = 0u64;
    // Small swaps (10 tokens of row 1, $7 each) keep the imbalance open throughout.
    // 5e6 * elapsed / 21_600 rounded down: 1 s -> 231.5, 600 s -> 138_888.9,
    // 21_599 s -> 4_999_768.5; capped from 21_600 s on.
    for (elapsed, literal) in [
        (0i64, 0u64),
        (1, 231),
        (600, 138_888),
        (3_600, 833_333),
        (10_800, 2_500_000),
        (21_599, 4_999_768),
        (21_600, 5_000_000),
        (21_601, 5_000_000),
        (100_000, 5_000_000),
    ] {
        if elapsed > 0 {
            t.warp_to_time(t0 + elapsed).await;
            post(&mut t, &fx, &plus_minus_30(), CONF).await;
        }
        let s = swap_checked(&mut t, &fx, &caller, req(1, 0, whole(1, 10))).await;
        let e = &s.ev;
        assert_eq!(e.auction_elapsed, elapsed);
        let want = if elapsed >= duration {
            max
        } else {
            (max as u128 * elapsed as u128 / duration as u128) as u64
        };
        assert_eq!((e.reward, want), (literal, literal), "elapsed {elapsed}");
        assert!(e.reward >= last && e.reward <= max);
        last = e.reward;
        // The pricing, restated from the event's own fields.
        let (si, so) = (
            10u128.pow(u32::from(mixed_decimals(1))),
            10u128.pow(u32::from(mixed_decimals(0))),
        );
        assert_eq!(
            e.value_in,
            e.amount_in as u128 * (e.price_in - e.conf_in) as u128 / si
        );
        assert_eq!(
            e.value_out,
            e.value_in * (1_000_000_000 + e.reward as u128) / 1_000_000_000
        );
        assert_eq!(
            e.amount_out as u128,
            e.value_out * so / (e.price_out + e.conf_out) as u128
        );
        assert_eq!(e.amount_in, e.amount_requested, "not clipped");
        // $0.70 - 0.14%: 10 tokens are worth $6.986 on the conservative side
        assert_eq!(e.value_in, 6_986_000_000_000);
        assert_eq!(t.index(&fx).await.imbalance_started_at, t0);
        println!(
            "elapsed {elapsed:>6}: reward {:>9} in {} out {} value_in {} value_out {}",
            e.reward, e.amount_in, e.amount_out, e.value_in, e.value_out
        );
    }
    assert_eq!(last, max);

    // With no refresh before it, the refresh in the swap's own transaction records the start:
    // ImbalanceStarted between PricesRefreshed and the swap, reward 0; later swaps count from
    // it. Odd parameters so that every division rounds: at most 1.37%, over 7_777 s.
    let Setup { mut t, fx, caller } = seeded(N, |p| {
        p.auction_max_reward_bps = 137;
        p.auction_duration_secs = 7_777;
    })
    .await;
    assert_eq!(
        set_prices_checked(&mut t, &fx, &[ONE_USD; N], CONF).await,
        vec![]
    );
    let t0 = t.now().await + 100;
    t.warp_to_time(t0).await;
    post(&mut t, &fx, &plus_minus_30(), CONF).await;
    assert_eq!(t.index(&fx).await.imbalance_started_at, 0);
    let s = swap_checked_via(
        &mut t,
        &fx,
        &caller,
        req(1, 0, whole(1, 10)),
        Via::RefreshInTx,
    )
    .await;
    assert!(matches!(
        &s.tx_events[..],
        [
            AidxEvent::PricesRefreshed(_),
            AidxEvent::ImbalanceStarted(started),
            AidxEvent::RebalanceSwapped(_),
        ] if started.at == t0
    ));
    assert_eq!((s.ev.reward, s.ev.auction_elapsed), (0, 0));
    assert_eq!(s.after.started_at, t0);
    for (elapsed, want) in [
        (1_234i64, 2_173_820u64),
        (7_776, 13_698_238),
        (7_777, 13_700_000),
    ] {
        // 13_700_000 * 1_234 / 7_777 = 2_173_820.2; * 7_776 / 7_777 = 13_698_238.4
        t.warp_to_time(t0 + elapsed).await;
        post(&mut t, &fx, &plus_minus_30(), CONF).await;
        let s = swap_checked(&mut t, &fx, &caller, req(1, 0, whole(1, 3) + 7)).await;
        assert_eq!((s.ev.reward, s.ev.auction_elapsed), (want, elapsed));
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Stale, wrong-feed or wide prices stop the swap.

#[tokio::test]
async fn bad_prices_stop_the_swap() {
    let Setup { mut t, fx, caller } = seeded8().await;
    let usd = plus_minus_30();
    set_prices_checked(&mut t, &fx, &usd, 20).await;
    let t0 = t.now().await;
    let small = req(1, 0, whole(1, 5));
    let index = t.index(&fx).await;
    let alone = |index: &Index| swap_ix(&fx, index, &caller.key(), &small);

    // In a later slot at exactly the trade max age the stored prices still price a swap: a
    // swap alone (no refresh) goes through.
    t.warp_to_time(t0 + TRADE_AGE).await;
    let ev = events(t.send(alone(&index), &[&caller.keypair]).await);
    assert!(matches!(ev.last(), Some(AidxEvent::RebalanceSwapped(_))));
    // One second more: fresh (under the oracle max age) but too old to trade at.
    t.warp_to_time(t0 + TRADE_AGE + 1).await;
    let (before, balances) = snapshot(&mut t, &fx, &caller).await;
    let index = t.index(&fx).await;
    let r = t.send(alone(&index), &[&caller.keypair]).await;
    assert_failed_at(&r, ALONE_IX, code(AidxError::PriceTooOldToTrade));
    // At the oracle max age, the same; one second more: stale.
    t.warp_to_time(t0 + MAX_AGE).await;
    let r = t.send(alone(&index), &[&caller.keypair]).await;
    assert_failed_at(&r, ALONE_IX, code(AidxError::PriceTooOldToTrade));
    t.warp_to_time(t0 + MAX_AGE + 1).await;
    let r = t.send(alone(&index), &[&caller.keypair]).await;
    assert_failed_at(&r, ALONE_IX, code(AidxError::StalePrice));
    // Far later, the same.
    t.warp_to_time(t0 + 86_400).await;
    let r = t.send(alone(&index), &[&caller.keypair]).await;
    assert_failed_at(&r, ALONE_IX, code(AidxError::StalePrice));
    // The refresh in the same transaction cannot help with the old price accounts either: they
    // are refused by the oracle gate first.
    let r = send_refreshed(&mut t, &fx, alone(&index), &[&caller.keypair]).await;
    assert_failed_at(&r, REFRESH_IX, code(AidxError::OracleStale));
    assert_eq!(
        snapshot(&mut t, &fx, &caller).await,
        (before.clone(), balances.clone())
    );

    // Fresh accounts, but row 3's account carries row 4's feed: it is a second update of row 4,
    // the refresh refuses it and the whole transaction, swap included, is undone.
    post(&mut t, &fx, &usd, 20).await;
    let now = t.now().await;
    let feed4 = index.constituents()[4].feed_id;
    t.chain.post_price(
        &price_key(&fx, 3),
        feed4,
        PythPrice::from_usd_scaled(ONE_USD, 20, now),
    );
    let r = send_refreshed(&mut t, &fx, alone(&index), &[&caller.keypair]).await;
    assert_failed_at(&r, REFRESH_IX, code(AidxError::PriceAccountDuplicate));
    assert_eq!(
        snapshot(&mut t, &fx, &caller).await,
        (before.clone(), balances.clone())
    );

    // Confidence one step over the 2% bound on row 1 (the swap's own leg) and then on row 5
    // (a bystander): refused.
    for row in [1usize, 5] {
        let (before, balances) = snapshot(&mut t, &fx, &caller).await;
        post(&mut t, &fx, &usd, 20).await;
        let mut p = PythPrice::from_usd_scaled(usd[row], 20, now);
        p.conf = p.price as u64 * 200 / 10_000 + 1;
        t.chain
            .post_price(&price_key(&fx, row), index.constituents()[row].feed_id, p);
        let r = send_refreshed(&mut t, &fx, alone(&index), &[&caller.keypair]).await;
        assert_failed_at(&r, REFRESH_IX, code(AidxError::OracleConfidenceTooWide));
        assert_eq!(
            snapshot(&mut t, &fx, &caller).await,
            (before.clone(), balances.clone())
        );
        // Exactly at the bound the same transaction goes through.
        p.conf -= 1;
        t.chain
            .post_price(&price_key(&fx, row), index.constituents()[row].feed_id, p);
        let ev = events(send_refreshed(&mut t, &fx, alone(&index), &[&caller.keypair]).await);
        let Some(AidxEvent::RebalanceSwapped(e)) = ev.last() else {
            panic!("{ev:?}")
        };
        if row == 1 {
            assert_eq!(e.conf_in, p.conf * 10_000);
        }
    }

    // Fresh prices in the same transaction as the swap: accepted (checked exactly).
    post(&mut t, &fx, &usd, 20).await;
    swap_checked(&mut t, &fx, &caller, small).await;
}

// ---------------------------------------------------------------------------------------------
// 6. Never past the cap.

#[tokio::test]
async fn a_swap_never_pushes_the_incoming_leg_past_the_cap() {
    // Three constituents with stated targets of 33.3% each, above the 15% cap.
    let Setup { mut t, fx, caller } = seeded(3, |_| {}).await;
    const CONF: u64 = 10;
    let index = t.index(&fx).await;
    assert_eq!(index.params.max_weight, 150_000_000);
    assert!(index
        .constituents()
        .iter()
        .all(|c| c.target_weight == 333_333_333));
    // Row 0 falls to $0.20: 200 / 2_200 = 9.09%, under its band (26.7%..40%); rows 1 and 2
    // are at 45.45%, over it. Its target is 33.3%, so the clip would let it grow that far; the
    // cap stops it at 15%.
    let usd = prices_n(3, &[(0, ONE_USD / 5)]);
    set_prices_checked(&mut t, &fx, &usd, CONF).await;
    let m = Model::of(&t.index(&fx).await);
    assert_eq!(m.weights(), vec![90_909_090, 454_545_454, 454_545_454]);

    // The largest request whose in-leg ends at or below 15% (the model's bisection; the clip
    // does not bind so far from the 33% target).
    let now = t.now().await;
    let ok = |a: u64| m.swap(&req(0, 1, a), now).is_ok();
    let (mut lo, mut hi) = (1u64, whole(0, 10_000));
    assert!(ok(lo) && !ok(hi));
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if ok(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    // About 650 tokens at $0.20 ($130) bring row 0 to 15% of a $2_200 NAV.
    assert_eq!(lo, 650_194_874);
    swap_refused(
        &mut t,
        &fx,
        &caller,
        req(0, 1, lo + 1),
        AidxError::WeightAboveCap,
    )
    .await;
    swap_refused(
        &mut t,
        &fx,
        &caller,
        req(0, 2, u64::MAX),
        AidxError::WeightAboveCap,
    )
    .await;
    let s = swap_checked(&mut t, &fx, &caller, req(0, 1, lo)).await;
    assert_eq!(s.ev.amount_in, lo);
    assert!(s.ev.weights_after[0] <= 150_000_000);
    assert!(s.ev.weights_after[0] > 149_999_000);
    // At the cap: nothing more fits, even one token.
    swap_refused(
        &mut t,
        &fx,
        &caller,
        req(0, 2, whole(0, 1)),
        AidxError::WeightAboveCap,
    )
    .await;

    // Already above the cap but under its band: row 0 at $0.50 is 500 / 2_500 = 20%.
    let Setup { mut t, fx, caller } = seeded(3, |_| {}).await;
    set_prices_checked(&mut t, &fx, &prices_n(3, &[(0, ONE_USD / 2)]), CONF).await;
    let m = Model::of(&t.index(&fx).await);
    assert_eq!(m.weights()[0], 200_000_000);
    assert!(m.out_of_band()[0]);
    for amount in [whole(0, 1), whole(0, 100), u64::MAX] {
        swap_refused(
            &mut t,
            &fx,
            &caller,
            req(0, 1, amount),
            AidxError::WeightAboveCap,
        )
        .await;
    }
}

// ---------------------------------------------------------------------------------------------
// 7. The vault never loses more than the reward at mid.

#[tokio::test]
async fn the_vault_loses_at_most_the_reward_at_mid() {
    // The same random scenarios as above with other seeds; `swap_checked` asserts the bound on
    // every swap (exactly as rationals, and within one 1e-12 USD unit per leg with rounded
    // values); here the totals.
    let mut stats = Stats::default();
    for seed in 1_001..=1_000 + scenarios() {
        random_scenario(seed, &mut stats).await;
    }
    println!("{stats:#?}");
    assert!(stats.swaps >= 24, "{stats:?}");
    assert!(stats.worst_excess_units <= 2, "{stats:?}");
    assert!(stats.reward_paid > 0);
    // In total: at most the stated reward plus two units a swap.
    assert!(
        stats.vault_loss_mid <= stats.reward_on_in_mid as i128 + 2 * stats.swaps as i128,
        "{stats:?}"
    );
    println!(
        "reward paid ${:.6}, vault loss at mid ${:.6}",
        stats.reward_paid as f64 / 1e12,
        stats.vault_loss_mid as f64 / 1e12
    );
}

// ---------------------------------------------------------------------------------------------
// 8. The imbalance lifecycle.

/// The imbalance events at the `plus_minus_30` move of a freshly seeded 8-row index.
fn started_at_plus_minus_30(fx: &IndexFixture, at: i64) -> AidxEvent {
    let mut w = vec![125_000_000u64; N];
    w[0] = 162_500_000;
    w[1] = 87_500_000;
    AidxEvent::ImbalanceStarted(ImbalanceStarted {
        index: fx.key,
        at,
        weights: w,
        targets: vec![125_000_000; N],
    })
}

#[tokio::test]
async fn imbalance_lifecycle() {
    let Setup { mut t, fx, caller } = seeded8().await;
    // Never priced: poke needs fresh prices.
    let r = t.send(client::poke_rebalance(&fx.key), &[]).await;
    assert_failed_at(&r, ALONE_IX, code(AidxError::StalePrice));

    // Everything in band: nothing recorded, nothing emitted, by the refresh or a poke.
    assert_eq!(
        set_prices_checked(&mut t, &fx, &[ONE_USD; N], 20).await,
        vec![]
    );
    assert_eq!(poke_checked(&mut t, &fx).await, vec![]);
    assert_eq!(poke_checked_via(&mut t, &fx, Via::Alone).await, vec![]);
    assert_eq!(t.index(&fx).await.imbalance_started_at, 0);

    // Prices age out: poke refused alone. With a refresh in its transaction it goes through,
    // and that refresh, the first to see the move, records the start with the weights and
    // targets it saw (the poke itself then has nothing left to record).
    let t0 = t.now().await;
    t.warp_to_time(t0 + MAX_AGE + 1).await;
    let r = t.send(client::poke_rebalance(&fx.key), &[]).await;
    assert_failed_at(&r, ALONE_IX, code(AidxError::StalePrice));
    post(&mut t, &fx, &plus_minus_30(), 20).await;
    let t1 = t.now().await;
    assert_eq!(
        poke_checked_via(&mut t, &fx, Via::RefreshInTx).await,
        vec![started_at_plus_minus_30(&fx, t1)]
    );
    assert_eq!(t.index(&fx).await.imbalance_started_at, t1);
    // Refreshing and poking again later changes nothing.
    t.warp_to_time(t1 + 100).await;
    post(&mut t, &fx, &plus_minus_30(), 20).await;
    assert_eq!(refresh_checked(&mut t, &fx).await, vec![]);
    assert_eq!(poke_checked_via(&mut t, &fx, Via::Alone).await, vec![]);
    assert_eq!(
        poke_checked_via(&mut t, &fx, Via::RefreshInTx).await,
        vec![]
    );
    assert_eq!(t.index(&fx).await.imbalance_started_at, t1);

    // A partial swap: still out of band, the start stays.
    let s = swap_checked(&mut t, &fx, &caller, req(1, 0, whole(1, 100))).await;
    assert_eq!(s.ev.auction_elapsed, 100);
    assert!(s.after.any_out());
    assert_eq!(s.after.started_at, t1);
    // A swap that brings every row back in band clears it (ImbalanceCleared, start reset).
    let s = swap_checked(&mut t, &fx, &caller, req(1, 0, u64::MAX)).await;
    assert!(!s.after.any_out());
    assert!(matches!(
        &s.tx_events[..],
        [
            AidxEvent::PricesRefreshed(_),
            AidxEvent::ImbalanceCleared(c),
            AidxEvent::RebalanceSwapped(_),
        ] if c.started_at == t1 && c.at == t1 + 100
    ));
    assert_eq!(s.after.started_at, 0);
    assert_eq!(t.index(&fx).await.imbalance_started_at, 0);
    assert_eq!(poke_checked(&mut t, &fx).await, vec![]);

    // A price move out and back in: the refreshes record and then clear it, no poke needed.
    let t2 = t.now().await + 10;
    t.warp_to_time(t2).await;
    // (the prices the basket was just rebalanced at, with row 5 doubling)
    let mut moved = plus_minus_30();
    moved[5] = 2 * ONE_USD;
    let ev = set_prices_checked(&mut t, &fx, &moved, 20).await;
    assert!(matches!(&ev[..], [AidxEvent::ImbalanceStarted(s)] if s.at == t2));
    t.warp_to_time(t2 + 50).await;
    let ev = set_prices_checked(&mut t, &fx, &plus_minus_30(), 20).await;
    assert!(
        matches!(&ev[..], [AidxEvent::ImbalanceCleared(c)] if c.started_at == t2 && c.at == t2 + 50)
    );
    assert_eq!(t.index(&fx).await.imbalance_started_at, 0);

    // The same, each time first seen by the refresh in a poke's transaction: recorded and
    // cleared there.
    let t3 = t2 + 100;
    t.warp_to_time(t3).await;
    post(&mut t, &fx, &moved, 20).await;
    let ev = poke_checked_via(&mut t, &fx, Via::RefreshInTx).await;
    assert!(matches!(&ev[..], [AidxEvent::ImbalanceStarted(s)] if s.at == t3));
    t.warp_to_time(t3 + 50).await;
    post(&mut t, &fx, &plus_minus_30(), 20).await;
    let ev = poke_checked_via(&mut t, &fx, Via::RefreshInTx).await;
    assert!(
        matches!(&ev[..], [AidxEvent::ImbalanceCleared(c)] if c.started_at == t3 && c.at == t3 + 50)
    );
    assert_eq!(t.index(&fx).await.imbalance_started_at, 0);
}

/// An imbalance that ends without a swap or a poke: the refresh that sees every row back in
/// band clears the auction clock, so the next imbalance starts a fresh auction (reward 0)
/// instead of inheriting the old start (and the full reward with it).
#[tokio::test]
async fn a_refresh_in_band_clears_the_auction_clock() {
    let Setup { mut t, fx, caller } = seeded8().await;
    let t0 = t.now().await;
    assert_eq!(
        set_prices_checked(&mut t, &fx, &plus_minus_30(), 20).await,
        vec![started_at_plus_minus_30(&fx, t0)]
    );
    // Back in band ten minutes later, nobody pokes or swaps: the refresh clears the clock.
    t.warp_to_time(t0 + 600).await;
    assert_eq!(
        set_prices_checked(&mut t, &fx, &[ONE_USD; N], 20).await,
        vec![AidxEvent::ImbalanceCleared(ImbalanceCleared {
            index: fx.key,
            at: t0 + 600,
            started_at: t0,
            weights: vec![125_000_000; N],
        })]
    );
    assert_eq!(t.index(&fx).await.imbalance_started_at, 0);
    // Out of band again a day later: the refresh in the first swap's transaction starts a new
    // auction, and the swap earns 0, not the maximum the old clock would have grown to.
    let t1 = t0 + 86_400;
    t.warp_to_time(t1).await;
    post(&mut t, &fx, &plus_minus_30(), 20).await;
    let r = req(1, 0, whole(1, 10));
    let s = swap_checked_via(&mut t, &fx, &caller, r, Via::RefreshInTx).await;
    assert!(matches!(
        &s.tx_events[..],
        [
            AidxEvent::PricesRefreshed(_),
            started,
            AidxEvent::RebalanceSwapped(_),
        ] if *started == started_at_plus_minus_30(&fx, t1)
    ));
    assert_eq!((s.ev.auction_elapsed, s.ev.reward), (0, 0));
    assert_eq!(s.after.started_at, t1);
    // The reward grows from there: 600 s into the 6-hour auction, 5e6 * 600 / 21_600.
    t.warp_to_time(t1 + 600).await;
    post(&mut t, &fx, &plus_minus_30(), 20).await;
    let s = swap_checked(&mut t, &fx, &caller, r).await;
    assert_eq!((s.ev.auction_elapsed, s.ev.reward), (600, 138_888));
}

/// Balances can move without a refresh: a single-asset mint that brings the index back in
/// band leaves the clock running (mints do not look at the imbalance) until a poke, here
/// alone on the still fresh prices, or the next refresh clears it.
#[tokio::test]
async fn a_poke_clears_what_a_mint_brought_back_in_band() {
    let Setup { mut t, fx, caller } = seeded8().await;
    // Row 1 at $0.70: 700 / 7_700 = 9.09%, under its band (10% .. 15%); the others 12.99%.
    let t0 = t.now().await;
    let ev = set_prices_checked(&mut t, &fx, &prices_n(N, &[(1, 7 * ONE_USD / 10)]), 20).await;
    let mut w = vec![129_870_129u64; N];
    w[1] = 90_909_090;
    assert_eq!(
        ev,
        vec![AidxEvent::ImbalanceStarted(ImbalanceStarted {
            index: fx.key,
            at: t0,
            weights: w,
            targets: vec![125_000_000; N],
        })]
    );
    // 200 tokens of row 1 ($140 at mid): 840 / 7_840 = 10.71%, the others 12.76%: all in band.
    // (Within the trade max age of the prices stored at t0.)
    t.warp_to_time(t0 + TRADE_AGE).await;
    let ev = events(t.mint_single(&fx, &caller, 1, whole(1, 200), 0).await);
    assert!(matches!(&ev[..], [AidxEvent::MintedSingle(_)]), "{ev:?}");
    let m = Model::of(&t.index(&fx).await);
    let mut w = vec![127_551_020u64; N];
    w[1] = 107_142_857;
    assert_eq!(m.weights(), w);
    assert!(!m.any_out());
    assert_eq!(m.started_at, t0);
    // The poke, alone: the prices stored at t0 are still fresh 30 s later.
    t.warp_to_time(t0 + 30).await;
    assert_eq!(
        poke_checked_via(&mut t, &fx, Via::Alone).await,
        vec![AidxEvent::ImbalanceCleared(ImbalanceCleared {
            index: fx.key,
            at: t0 + 30,
            started_at: t0,
            weights: w,
        })]
    );
    assert_eq!(t.index(&fx).await.imbalance_started_at, 0);
}

/// What no refresh has seen, a poke or a swap records: an index priced before it was seeded
/// (that refresh found no shares and recorded nothing) is out of band from its seed on.
#[tokio::test]
async fn a_poke_or_a_swap_records_an_imbalance_no_refresh_has_seen() {
    // A poke alone records it.
    let Setup { mut t, fx, .. } = seeded_after_pricing(N, &plus_minus_30(), 20).await;
    let m = Model::of(&t.index(&fx).await);
    assert!(m.any_out());
    assert_eq!(m.started_at, 0);
    let t0 = t.now().await;
    assert_eq!(
        poke_checked_via(&mut t, &fx, Via::Alone).await,
        vec![started_at_plus_minus_30(&fx, t0)]
    );
    assert_eq!(t.index(&fx).await.imbalance_started_at, t0);

    // A swap alone records it itself, before the swap, which earns 0; later swaps count from it.
    let Setup { mut t, fx, caller } = seeded_after_pricing(N, &plus_minus_30(), 20).await;
    let t0 = t.now().await;
    let r = req(1, 0, whole(1, 10));
    let s = swap_checked_via(&mut t, &fx, &caller, r, Via::Alone).await;
    assert!(matches!(
        &s.tx_events[..],
        [started, AidxEvent::RebalanceSwapped(_)] if *started == started_at_plus_minus_30(&fx, t0)
    ));
    assert_eq!((s.ev.reward, s.ev.auction_elapsed), (0, 0));
    assert_eq!(s.after.started_at, t0);
    t.warp_to_time(t0 + 600).await;
    post(&mut t, &fx, &plus_minus_30(), 20).await;
    let s = swap_checked(&mut t, &fx, &caller, r).await;
    assert_eq!((s.ev.auction_elapsed, s.ev.reward), (600, 138_888));
}

// ---------------------------------------------------------------------------------------------
// 9. Substituted accounts.

#[tokio::test]
async fn substituted_accounts() {
    let Setup { mut t, fx, caller } = seeded8().await;
    set_prices_checked(&mut t, &fx, &plus_minus_30(), 20).await;
    let other = t.holder(&fx, rich).await;
    let index = t.index(&fx).await;
    // The legitimate swap: pay row 1 (Token-2022, 9 dp), receive row 0 (SPL Token, 6 dp).
    let good = req(1, 0, whole(1, 10));
    let base = swap_ix(&fx, &index, &caller.key(), &good);
    // accounts: 0 caller, 1 index, 2 mint_in, 3 vault_in, 4 caller_in, 5 mint_out, 6 vault_out,
    // 7 caller_out, 8 token_program_in, 9 token_program_out
    let with = |edits: &[(usize, Pubkey)]| {
        let mut ix = base.clone();
        for (k, key) in edits {
            ix.accounts[*k].pubkey = *key;
        }
        ix
    };
    let cs = index.constituents();
    let vault = |row: usize| cs[row].vault;

    // A stranger mint under Token-2022 with the caller's account of it.
    let stranger = t.create_mint(TOKEN_2022_PROGRAM_ID, 9, &[]).await;
    let stranger_ata = t
        .chain
        .create_ata(&caller.key(), &stranger, &TOKEN_2022_PROGRAM_ID)
        .await
        .unwrap();
    t.chain
        .mint_to(
            &stranger,
            &stranger_ata,
            &TOKEN_2022_PROGRAM_ID,
            whole(1, 1_000),
        )
        .await
        .unwrap();
    let stranger_spl = t.create_mint(TOKEN_PROGRAM_ID, 6, &[]).await;
    let stranger_spl_ata = t
        .chain
        .create_ata(&caller.key(), &stranger_spl, &TOKEN_PROGRAM_ID)
        .await
        .unwrap();

    let cases: Vec<(&str, Instruction, u32)> = vec![
        (
            "vault_in of another constituent",
            with(&[(3, vault(3))]),
            code(AidxError::VaultMismatch),
        ),
        (
            "vault_out of another constituent",
            with(&[(6, vault(2))]),
            code(AidxError::VaultMismatch),
        ),
        (
            "another holder's account of the in-leg mint as vault_in",
            with(&[(3, other.token_accounts[1])]),
            code(AidxError::VaultMismatch),
        ),
        (
            "another holder's account of the out-leg mint as vault_out",
            with(&[(6, other.token_accounts[0])]),
            code(AidxError::VaultMismatch),
        ),
        (
            "mint_in not a constituent",
            with(&[(2, stranger), (4, stranger_ata)]),
            code(AidxError::UnknownConstituent),
        ),
        (
            "mint_out not a constituent",
            with(&[(5, stranger_spl), (7, stranger_spl_ata)]),
            code(AidxError::UnknownConstituent),
        ),
        (
            "caller_in of another mint",
            with(&[(4, caller.token_accounts[3])]),
            code(AidxError::TokenAccountMintMismatch),
        ),
        (
            "caller_out of another mint",
            with(&[(7, caller.token_accounts[2])]),
            code(AidxError::TokenAccountMintMismatch),
        ),
        (
            "caller_in owned by someone else",
            with(&[(4, other.token_accounts[1])]),
            code(AidxError::TokenAccountOwnerMismatch),
        ),
        (
            "caller_out owned by someone else",
            with(&[(7, other.token_accounts[0])]),
            code(AidxError::TokenAccountOwnerMismatch),
        ),
        (
            "Token-2022 in-leg with the SPL Token program",
            with(&[(8, TOKEN_PROGRAM_ID)]),
            AnchorError::ConstraintMintTokenProgram.into(),
        ),
        (
            "SPL Token out-leg with the Token-2022 program",
            with(&[(9, TOKEN_2022_PROGRAM_ID)]),
            AnchorError::ConstraintMintTokenProgram.into(),
        ),
        (
            "a token program that is not one",
            with(&[(8, client::PROGRAM_ID)]),
            AnchorError::InvalidProgramId.into(),
        ),
    ];
    let (before, balances) = snapshot(&mut t, &fx, &caller).await;
    for (what, ix, want) in cases {
        let r = send_refreshed(&mut t, &fx, ix, &[&caller.keypair]).await;
        if failed_at(&r) != Some((SWAP_IX, want)) {
            panic!(
                "{what}: expected {want}, got {:?}",
                r.map(|o| o.events).map_err(|f| (f.error, f.logs))
            );
        }
    }
    assert_eq!(
        snapshot(&mut t, &fx, &caller).await,
        (before.clone(), balances.clone())
    );

    // The caller does not sign (the payer sends the transaction).
    let mut ix = base.clone();
    ix.accounts[0].is_signer = false;
    let r = send_refreshed(&mut t, &fx, ix, &[]).await;
    assert_failed_at(&r, SWAP_IX, AnchorError::AccountNotSigner);

    // min_amount_out: one above the quote is refused, exactly the quote goes through.
    let now = t.now().await;
    let q = before.swap(&good, now).unwrap();
    let mut tight = good;
    tight.min_out = q.amount_out + 1;
    swap_refused(&mut t, &fx, &caller, tight, AidxError::MinAmountOutNotMet).await;
    tight.min_out = q.amount_out;
    let s = swap_checked(&mut t, &fx, &caller, tight).await;
    assert_eq!(s.ev.amount_out, q.amount_out);

    // An index with no shares yet cannot be rebalanced.
    let fx2 = t.create_index(N, units).await;
    let holder2 = t.holder(&fx2, rich).await;
    set_prices_checked(&mut t, &fx2, &plus_minus_30(), 20).await;
    let r = send_swap(&mut t, &fx2, &holder2, &good).await;
    assert_failed_at(&r, SWAP_IX, code(AidxError::NotSeeded));
    let r = send_refreshed(&mut t, &fx2, client::poke_rebalance(&fx2.key), &[]).await;
    assert_failed_at(&r, SWAP_IX, code(AidxError::NotSeeded));
}

// ---------------------------------------------------------------------------------------------
// A realistic scenario, measured.

/// Eight constituents at $1 (NAV $8_000); row 0 moves +30% and row 1 -30%. A caller checks
/// every 10 minutes and swaps (requesting everything; the clip sizes the trade) as soon as the
/// swap is worth at least what it costs at mid; repeated until every row is back in band.
#[tokio::test]
async fn realistic_plus_and_minus_30_percent() {
    // As measured: (confidence, swaps, seconds waited, reward paid = value_out - value_in,
    // caller's gain at mid = out_mid - in_mid), USD_SCALE. With a 50 bps confidence the swap
    // never pays at mid (spread ~100 bps > 50 bps maximum reward): the caller swaps at the
    // auction's end anyway, at a loss.
    let measured: [(u64, u32, i64, u128, i128); 3] = [
        (0, 1, 600, 41_661_337_082, 41_660_037_400),
        (10, 1, 9_000, 624_330_558_658, 24_348_800_300),
        (50, 1, 21_600, 1_493_433_395_998, -1_500_939_386_200),
    ];
    for (conf_bps, want_swaps, want_wait, want_reward, want_transfer) in measured {
        let Setup { mut t, fx, caller } = seeded8().await;
        // the refresh that sees the move starts the auction
        let t0 = t.now().await;
        assert_eq!(
            set_prices_checked(&mut t, &fx, &plus_minus_30(), conf_bps).await,
            vec![started_at_plus_minus_30(&fx, t0)]
        );
        let nav0 = Model::of(&t.index(&fx).await).nav_mid();
        let (mut swaps, mut reward, mut transfer, mut waited) = (0u32, 0u128, 0i128, 0i64);
        let mut clock = t0;
        loop {
            refresh_checked(&mut t, &fx).await;
            let m = Model::of(&t.index(&fx).await);
            if !m.any_out() {
                break;
            }
            // the best pair: most underweight in, most overweight out
            let w = m.weights();
            let gap = |k: usize| w[k] as i128 - m.targets[k] as i128;
            let i = (0..N).min_by_key(|k| gap(*k)).unwrap();
            let o = (0..N).max_by_key(|k| gap(*k)).unwrap();
            let r = req(i, o, u64::MAX);
            let q = m.swap(&r, clock).unwrap();
            let in_mid = q.amount_in as u128 * m.price[i] / m.scale(i);
            let out_mid = q.amount_out as u128 * m.price[o] / m.scale(o);
            if out_mid >= in_mid || clock - t0 >= m.duration {
                let s = swap_checked(&mut t, &fx, &caller, r).await;
                swaps += 1;
                reward += s.ev.value_out - s.ev.value_in;
                transfer += out_mid as i128 - in_mid as i128;
                waited = clock - t0;
                continue;
            }
            clock += 600;
            t.warp_to_time(clock).await;
            post(&mut t, &fx, &plus_minus_30(), conf_bps).await;
        }
        println!(
            "conf {conf_bps} bps: {swaps} swap(s) after {waited} s; reward paid ${:.6} = {:.4} bps \
             of NAV; caller's gain at mid ${:.6} = {:.4} bps of NAV",
            reward as f64 / 1e12,
            reward as f64 * 1e4 / nav0 as f64,
            transfer as f64 / 1e12,
            transfer as f64 * 1e4 / nav0 as f64
        );
        assert_eq!((swaps, waited), (want_swaps, want_wait));
        assert_eq!(nav0, 8_000 * ONE_USD);
        assert_eq!(
            (swaps, waited, reward, transfer),
            (want_swaps, want_wait, want_reward, want_transfer)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The default policy: a rebalance window after new targets, the edge clip, a breach weight.

/// The default policy's parameters (what `IndexParams::default()` holds), on top of the
/// continuous, target-clipping ones `seeded` starts from.
fn default_policy(p: &mut IndexParams) {
    let d = IndexParams::default();
    p.rebalance_window_secs = d.rebalance_window_secs;
    p.clip = d.clip;
    p.breach_weight_bps = d.breach_weight_bps;
}

/// The `ImbalanceStarted` events among `ev`.
fn starts(ev: &[AidxEvent]) -> usize {
    ev.iter()
        .filter(|e| matches!(e, AidxEvent::ImbalanceStarted(_)))
        .count()
}

/// The swapped event of a successful swap.
fn swapped(r: TxResult) -> RebalanceSwapped {
    events(r)
        .into_iter()
        .find_map(|e| match e {
            AidxEvent::RebalanceSwapped(s) => Some(s),
            _ => None,
        })
        .expect("a RebalanceSwapped event")
}

/// Sets `params` as the admin (new parameters open the window).
async fn set_params_as_admin(t: &mut TestContext, fx: &IndexFixture, params: IndexParams) {
    let index = t.index(fx).await;
    let ix = client::set_params(&fx.key, &index, &fx.admin.pubkey(), params);
    events(t.send(ix, &[&fx.admin]).await);
}

/// Inside the window (it opens with new targets: here the index's creation) a move out of band
/// starts the auction and trades; a day later the same move starts nothing and any swap is
/// refused with `OutsideRebalanceWindow`; new parameters open the window again.
#[tokio::test]
async fn policy_trades_only_inside_the_window() {
    assert_eq!(IndexParams::default().rebalance_window_secs, 86_400);
    let Setup { mut t, fx, caller } = seeded(N, default_policy).await;
    let opened = t.index(&fx).await.window_opened_at;
    assert!(opened > 0);

    // A day and a second after the window opened: closed.
    t.warp_to_time(opened + 86_400).await;
    post(&mut t, &fx, &plus_minus_30(), 0).await;
    let ev = events(t.refresh_prices(&fx).await);
    assert_eq!(starts(&ev), 0, "no auction outside the window: {ev:?}");
    let index = t.index(&fx).await;
    assert_eq!(index.imbalance_started_at, 0);
    assert!(index.out_of_band(&index.band_weights().unwrap()).unwrap()[0]);
    assert_aidx_error(
        &send_swap(&mut t, &fx, &caller, &req(1, 0, u64::MAX)).await,
        AidxError::OutsideRebalanceWindow,
    );
    let ev = events(t.send(client::poke_rebalance(&fx.key), &[]).await);
    assert_eq!(starts(&ev), 0, "a poke starts nothing either: {ev:?}");
    assert_eq!(t.index(&fx).await.imbalance_started_at, 0);

    // New parameters (the same) open it: the refresh starts the auction, the swap goes through.
    let params = t.index(&fx).await.params;
    set_params_as_admin(&mut t, &fx, params).await;
    let now = t.now().await;
    assert_eq!(t.index(&fx).await.window_opened_at, now);
    post(&mut t, &fx, &plus_minus_30(), 0).await;
    let ev = events(t.refresh_prices(&fx).await);
    assert_eq!(starts(&ev), 1, "{ev:?}");
    let s = swapped(send_swap(&mut t, &fx, &caller, &req(1, 0, u64::MAX)).await);
    assert!(s.amount_in > 0 && s.amount_out > 0);
}

/// Outside the window a row out of band above the breach weight may still be sold (and starts
/// the auction); a row out of band below it may not be traded.
#[tokio::test]
async fn policy_a_breach_above_the_weight_trades_outside_the_window() {
    // 8 rows at 12.5%, cap 15%: band 10%-15%; breach weight 15%.
    let Setup { mut t, fx, caller } = seeded(N, |p| {
        default_policy(p);
        p.breach_weight_bps = 1_500;
    })
    .await;
    let opened = t.index(&fx).await.window_opened_at;
    t.warp_to_time(opened + 86_400).await;
    // Row 1 down 30% alone: out of band below, no breach: nothing starts, nothing trades.
    post(&mut t, &fx, &prices_n(N, &[(1, 7 * ONE_USD / 10)]), 0).await;
    let ev = events(t.refresh_prices(&fx).await);
    assert_eq!(starts(&ev), 0, "{ev:?}");
    assert_aidx_error(
        &send_swap(&mut t, &fx, &caller, &req(1, 0, u64::MAX)).await,
        AidxError::OutsideRebalanceWindow,
    );
    // Row 0 up 30% too: 16.2%, out of band above the breach weight: the auction starts.
    post(&mut t, &fx, &plus_minus_30(), 0).await;
    let ev = events(t.refresh_prices(&fx).await);
    assert_eq!(starts(&ev), 1, "{ev:?}");
    // Selling row 0 for row 1 goes through: row 0 is clipped just inside its band (the cap).
    let s = swapped(send_swap(&mut t, &fx, &caller, &req(1, 0, u64::MAX)).await);
    let index = t.index(&fx).await;
    let limit = 150_000_000 - 150_000_000 * 200_000_000 / 1_000_000_000 / 100;
    assert!(s.weights_after[0] <= 150_000_000, "{s:?}");
    assert!(
        s.weights_after[0] >= limit - 10,
        "{} vs {limit}",
        s.weights_after[0]
    );
    // Row 1 took what row 0 gave, up to just inside its own edge: both in band, the auction
    // over.
    let out = index.out_of_band(&index.band_weights().unwrap()).unwrap();
    assert!(out.iter().all(|o| !o), "{out:?}");
    assert!(s.weights_after[1] >= 100_000_000, "{s:?}");
    assert_eq!(
        index.imbalance_started_at, 0,
        "the auction ends with the breach"
    );
    // Row 1 down again, alone: out of band below, no breach: refused again.
    post(
        &mut t,
        &fx,
        &prices_n(N, &[(0, 11 * ONE_USD / 10), (1, 5 * ONE_USD / 10)]),
        0,
    )
    .await;
    let ev = events(t.refresh_prices(&fx).await);
    assert_eq!(starts(&ev), 0, "{ev:?}");
    assert_aidx_error(
        &send_swap(&mut t, &fx, &caller, &req(1, 2, u64::MAX)).await,
        AidxError::OutsideRebalanceWindow,
    );
}

/// Clipping at the edge: a request as large as can be stops each out-of-band leg just inside
/// its band's edge (by a hundredth of the half band), never at its target; the targets clip
/// stops both at target.
#[tokio::test]
async fn policy_the_edge_clip_stops_just_inside_the_band() {
    for clip in [CLIP_EDGE, CLIP_TARGET] {
        let Setup { mut t, fx, caller } = seeded(N, |p| {
            default_policy(p);
            p.clip = clip;
        })
        .await;
        post(&mut t, &fx, &plus_minus_30(), 0).await;
        events(t.refresh_prices(&fx).await);
        let before = t.index(&fx).await.band_weights().unwrap();
        let s = swapped(send_swap(&mut t, &fx, &caller, &req(1, 0, u64::MAX)).await);
        // target 12.5%, band 20%: half band 2.5%, inset 0.025%.
        let (target, half) = (125_000_000u64, 25_000_000u64);
        let (w0, w1) = (s.weights_after[0], s.weights_after[1]);
        println!(
            "clip {clip}: row 0 {} -> {w0}, row 1 {} -> {w1}",
            before[0], before[1]
        );
        if clip == CLIP_EDGE {
            let hi = target + half - half / 100;
            let lo = target - half + half / 100;
            // One leg lands on its clip point (within a rounding unit of weight), the other
            // short of it; both are back in band and on their side of the target.
            assert!(w0 >= hi - 2 || w1 <= lo + 2, "{w0} {w1}");
            assert!((target..=target + half).contains(&w0), "{w0}");
            assert!((target - half..=target).contains(&w1), "{w1}");
            let index = t.index(&fx).await;
            let out = index.out_of_band(&s.weights_after).unwrap();
            assert!(!out[0] || !out[1], "{out:?}");
        } else {
            assert!(
                w0 >= target - 2 && w0 <= target + 2 || w1 >= target - 2,
                "{w0} {w1}"
            );
            assert!(w0 >= target && w1 <= target, "{w0} {w1}");
        }
    }
}

/// An exit left unsold holds the index's auction clock past the window, but a breach that
/// appears later is priced on a clock of its own, starting at 0; the exit is then sold out
/// whole, whatever its weight rounds to, and removed.
#[tokio::test]
async fn policy_a_breach_has_its_own_clock_and_an_exit_is_sold_out() {
    let Setup { mut t, fx, caller } = seeded(N, |p| {
        default_policy(p);
        p.breach_weight_bps = 1_500;
    })
    .await;
    // Row 7 winds down (the window opens): the refresh starts the index's clock.
    let mint7 = fx.constituents[7].mint;
    let ix = client::wind_down_constituent(&fx.key, &fx.admin.pubkey(), mint7);
    events(t.send(ix, &[&fx.admin]).await);
    post(&mut t, &fx, &prices_n(N, &[]), 0).await;
    let ev = events(t.refresh_prices(&fx).await);
    assert_eq!(starts(&ev), 1, "{ev:?}");
    let main = t.index(&fx).await.imbalance_started_at;
    // Two days on, the window closed: the exit still holds the clock.
    t.warp_to_time(main + 2 * 86_400).await;
    post(&mut t, &fx, &prices_n(N, &[]), 0).await;
    events(t.refresh_prices(&fx).await);
    assert_eq!(t.index(&fx).await.imbalance_started_at, main);
    // Row 0 up 60% (18.6% against a 14.3% target, band to 17.1%): out of band above the
    // breach weight. Its clock starts now.
    post(&mut t, &fx, &prices_n(N, &[(0, 16 * ONE_USD / 10)]), 0).await;
    let ev = events(t.refresh_prices(&fx).await);
    let now = t.now().await;
    assert!(
        ev.iter().any(|e| matches!(e, AidxEvent::BreachClock(b)
            if b.started_at == now && !b.cleared)),
        "{ev:?}"
    );
    // Selling it pays no reward yet (its clock is at 0), though the index's has run two days.
    let s = swapped(send_swap(&mut t, &fx, &caller, &req(1, 0, u64::MAX)).await);
    assert_eq!((s.reward, s.auction_elapsed), (0, 0), "{s:?}");
    assert!(t.index(&fx).await.imbalance_started_at == main);
    // The exit is sold out by requests that buy at least its balance, then removed.
    for i in 1..7 {
        let balance = t.index(&fx).await.constituents()[7].balance;
        if balance == 0 {
            break;
        }
        let r = send_swap(&mut t, &fx, &caller, &req(i, 7, u64::MAX)).await;
        if r.is_ok() {
            events(r);
        }
    }
    assert_eq!(t.index(&fx).await.constituents()[7].balance, 0);
    t.chain
        .create_ata(
            &fx.admin.pubkey(),
            &mint7,
            &fx.constituents[7].token_program,
        )
        .await
        .unwrap();
    let index = t.index(&fx).await;
    let ix = client::remove_constituent(&fx.key, &index, &fx.admin.pubkey(), 7);
    let ev = events(t.send(ix, &[&fx.admin]).await);
    assert!(
        matches!(&ev[..], [AidxEvent::ConstituentRemoved(_)]),
        "{ev:?}"
    );
}
