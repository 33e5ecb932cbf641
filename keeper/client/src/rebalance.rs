//! `aidx plan` and `aidx rebalance`: which constituents are out of band, the swaps that bring
//! them back (biggest deviation first, each paired with the largest opposite deviation), the
//! reward each earns now, and their execution (simulated first, then sent, bounded retries).
//!
//! A keeper holding no inventory can still act: `rebalance_swap` only needs the incoming
//! tokens for the length of one transaction, so a keeper can put a flash borrow of the
//! underweight token before it and, after it, sell the overweight token it received through a
//! DEX route and repay the loan, all in one atomic transaction. The oracle spread and the
//! auction reward (which grows until the trade pays) must cover the route's cost; if they do
//! not, the transaction fails and nothing moves.

use crate::book::Book;
use crate::chain::Chain;
use crate::events::AidxEvent;
use crate::format::{pct, ui_amount_exact};
use crate::holder::less_slippage;
use crate::{address, instructions as ix, lookup};
use aidx::events::RebalanceSwapped;
use aidx::instructions::RebalanceSwapArgs;
use aidx::math::auction::{reward, SwapLegs};
use aidx::math::nav::{band_excess, nav, weights, Holding, PriceSide};
use aidx::math::{mul_div, Rounding, WEIGHT_SCALE};
use aidx::state::Index;
use anyhow::{anyhow, Result};
use serde::Serialize;
use solana_sdk::{signature::Keypair, signer::Signer};

/// The most swaps one plan proposes.
pub const MAX_SWAPS: usize = 48;

/// A constituent's weight against its target and band.
#[derive(Clone, Debug, Serialize)]
pub struct Deviation {
    /// Table row.
    pub row: usize,
    /// Symbol from the book.
    pub symbol: String,
    /// precision: WEIGHT_SCALE. Weight at mid.
    pub weight: u64,
    /// precision: WEIGHT_SCALE.
    pub target: u64,
    /// precision: WEIGHT_SCALE. `target * (1 - band)`.
    pub band_low: u64,
    /// precision: WEIGHT_SCALE. `target * (1 + band)`.
    pub band_high: u64,
    /// Whether the weight is outside the band (never for a quarantined row).
    pub out_of_band: bool,
    /// Whether it may be traded now: out of band inside the rebalance window, or above the
    /// breach weight outside it.
    pub tradeable: bool,
    /// precision: WEIGHT_SCALE. Where a swap stops it: its target, or just inside its band's
    /// edge when the index clips at the edge and it is out of band.
    pub clip_at: u64,
    /// Whether the row is quarantined: no swap pays it in or takes it out.
    pub quarantined: bool,
}

/// One swap of a plan: the caller pays in the underweight row and receives the overweight one.
#[derive(Clone, Debug, Serialize)]
pub struct PlannedSwap {
    /// The underweight row the caller pays in.
    pub row_in: usize,
    /// The overweight row the caller receives.
    pub row_out: usize,
    /// Symbol of `row_in`.
    pub symbol_in: String,
    /// Symbol of `row_out`.
    pub symbol_out: String,
    /// Raw units of the underweight constituent to pay in.
    pub amount_in: u64,
    /// Raw units of the overweight constituent expected out, at the current reward.
    pub expected_out: u64,
    /// precision: USD_SCALE. Traded value at mid.
    pub value_usd: u128,
    /// precision: WEIGHT_SCALE. Reward now.
    pub reward: u64,
}

/// The swaps that bring every constituent back inside its band.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    /// Every constituent against its band, table order.
    pub deviations: Vec<Deviation>,
    /// The swaps, largest deviation first.
    pub swaps: Vec<PlannedSwap>,
    /// precision: WEIGHT_SCALE. The auction reward now.
    pub reward_now: u64,
    /// Seconds since the imbalance was recorded (0: none recorded).
    pub auction_elapsed: i64,
    /// Whether the rebalance window is open (every out-of-band row may trade).
    pub window_open: bool,
    /// Unix time the window closes (0: the index trades any time).
    pub window_ends_at: i64,
}

/// Plans the swaps that bring every tradeable constituent back inside its band (to its clip
/// point: target or band edge, as the index clips), from the index's stored prices (refresh
/// them first) at unix time `now`. Pure: the same inputs give the same plan. Outside the
/// rebalance window it plans nothing unless a row is above the breach weight.
pub fn plan(index: &Index, book: &Book, now: i64) -> Result<Plan> {
    // Weighed as the program weighs a trade: a quarantined row left out (balance 0), the
    // others' targets scaled up to keep their sum.
    let h: Vec<Holding> = index.band_holdings();
    let w = weights(&h)?;
    let band = index.params.band;
    let targets = index.band_targets().map_err(|e| anyhow!("{e}"))?;
    let quarantined: Vec<bool> = index
        .constituents()
        .iter()
        .map(|c| c.is_quarantined())
        .collect();
    let deviations = (0..h.len())
        .map(|i| {
            let half = u64::try_from(mul_div(
                targets[i] as u128,
                band as u128,
                WEIGHT_SCALE as u128,
                Rounding::Down,
            )?)?;
            Ok(Deviation {
                row: i,
                symbol: book.symbol(i),
                weight: w[i],
                target: targets[i],
                band_low: targets[i].saturating_sub(half),
                band_high: targets[i] + half,
                out_of_band: !quarantined[i] && band_excess(w[i], targets[i], band)? > 0,
                tradeable: !quarantined[i]
                    && index.may_trade(&index.constituents()[i], w[i], targets[i], now)?,
                clip_at: index.clip_limit(w[i], targets[i])?,
                quarantined: quarantined[i],
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let elapsed_since = |start: i64| if start == 0 { 0 } else { now - start };
    let reward_since = |start: i64| {
        reward(
            elapsed_since(start),
            index.params.auction_duration_secs,
            index.params.auction_max_reward_bps,
        )
    };
    let elapsed = elapsed_since(index.imbalance_started_at);
    let r = reward_since(index.imbalance_started_at)?;
    let is_exit = |row: usize| Index::is_exit(&index.constituents()[row]);

    // Deviation from the clip point in USD at mid (positive: overweight), simulated swap by
    // swap: an out-of-band row's is its target or band edge, an in-band row's its target (or,
    // bought at the cap, just under it). A row on the wrong side of its target to trade that
    // way (between its clip point and its target) has none: the program only sells a row above
    // its target and buys one below.
    let goals: Vec<u64> = deviations.iter().map(|d| d.clip_at).collect();
    let total = nav(&h, PriceSide::Mid, Rounding::Down)?;
    let mut value: Vec<i128> = h
        .iter()
        .map(|x| Ok(x.value(PriceSide::Mid, Rounding::Down)? as i128))
        .collect::<Result<_>>()?;
    let dev = |value: &[i128], i: usize| -> Result<i128> {
        let at = |w: u64| -> Result<i128> {
            Ok(mul_div(total, w as u128, WEIGHT_SCALE as u128, Rounding::Down)? as i128)
        };
        let d = value[i] - at(goals[i])?;
        let t = at(targets[i])?;
        Ok(if (d > 0 && value[i] <= t) || (d < 0 && value[i] >= t) {
            0
        } else {
            d
        })
    };
    let tradeable = |value: &[i128], i: usize| -> Result<bool> {
        let wi = mul_div(
            value[i].max(0) as u128,
            WEIGHT_SCALE as u128,
            total.max(1),
            Rounding::Down,
        )?;
        Ok(index.may_trade(
            &index.constituents()[i],
            u64::try_from(wi)?,
            targets[i],
            now,
        )?)
    };
    let mut swaps = vec![];
    while swaps.len() < MAX_SWAPS {
        // The tradeable constituent with the largest deviation...
        let mut worst: Option<(usize, i128)> = None;
        for (i, q) in quarantined.iter().enumerate() {
            if !q && tradeable(&value, i)? {
                let d = dev(&value, i)?;
                if worst.is_none_or(|(_, wd)| d.abs() > wd.abs()) {
                    worst = Some((i, d));
                }
            }
        }
        let Some((i, d)) = worst else { break };
        // ...paired with the largest opposite deviation.
        let mut partner: Option<(usize, i128)> = None;
        for (j, q) in quarantined.iter().enumerate() {
            let dj = dev(&value, j)?;
            if j != i
                && !q
                && dj.signum() == -d.signum()
                && partner.is_none_or(|(_, pd)| dj.abs() > pd.abs())
            {
                partner = Some((j, dj));
            }
        }
        let Some((j, dj)) = partner else { break };
        let x = d.abs().min(dj.abs());
        if x <= 0 {
            break;
        }
        let (row_in, row_out) = if d > 0 { (j, i) } else { (i, j) };
        let mut amount_in = h[row_in].amount_for(x as u128, PriceSide::Mid, Rounding::Down)?;
        let legs = SwapLegs {
            inp: h[row_in],
            out: h[row_out],
            limit_in: goals[row_in],
            limit_out: goals[row_out],
            nav_mid: total,
            // Priced on the clock the program prices it on.
            reward: reward_since(index.auction_start(row_out, now).1)?,
        };
        // An exit is sold out: ask for twice its value at mid (it is paid out at price + conf);
        // the program takes the least amount that buys it whole.
        let out_dev = if d > 0 { d } else { dj };
        if is_exit(row_out) && x == out_dev.abs() {
            amount_in = amount_in.saturating_mul(2).max(1);
        }
        if amount_in == 0 {
            break;
        }
        let q = legs.price(amount_in)?;
        value[row_in] += x;
        value[row_out] -= x;
        swaps.push(PlannedSwap {
            row_in,
            row_out,
            symbol_in: book.symbol(row_in),
            symbol_out: book.symbol(row_out),
            amount_in,
            expected_out: q.amount_out,
            value_usd: x as u128,
            reward: legs.reward,
        });
    }
    let window = i64::from(index.params.rebalance_window_secs);
    Ok(Plan {
        deviations,
        swaps,
        reward_now: r,
        auction_elapsed: elapsed,
        window_open: index.window_open(now),
        window_ends_at: if window == 0 {
            0
        } else {
            index.window_opened_at.saturating_add(window)
        },
    })
}

/// The plan at prices refreshed in a simulation (nothing is sent).
pub async fn plan_now<C: Chain>(chain: &mut C, book: &Book) -> Result<Plan> {
    plan_at(chain, book, false).await
}

/// The plan at prices refreshed in a simulation, or (`stored`) at the prices the index already
/// stores, with no simulation (works against any RPC node).
pub async fn plan_at<C: Chain>(chain: &mut C, book: &Book, stored: bool) -> Result<Plan> {
    let index_key = book.index_key()?;
    let mut index = chain.load_index(&index_key).await?;
    if stored {
        let now = chain.get_clock().await?.unix_timestamp;
        return plan(&index, book, now);
    }
    let feeds = address::refresh_feed_accounts(&index);
    let sim = chain
        .simulate_ixs(&[ix::refresh_prices(&index_key, &feeds)], &[])
        .await?
        .map_err(|f| anyhow!("refreshing prices failed: {f}"))?;
    for e in sim.events {
        if let AidxEvent::PricesRefreshed(p) = e {
            for (row, c) in index.constituents_mut().iter_mut().enumerate() {
                c.price = p.prices[row];
                c.conf = p.confs[row];
            }
        }
    }
    let now = chain.get_clock().await?.unix_timestamp;
    plan(&index, book, now)
}

/// precision: USD_SCALE. The reward on `value` at `reward` (WEIGHT_SCALE).
pub fn reward_usd(value: u128, reward: u64) -> u128 {
    mul_div(value, reward as u128, WEIGHT_SCALE as u128, Rounding::Down).unwrap_or(0)
}

/// What a rebalance run did.
#[derive(Debug, Default, Serialize)]
pub struct RebalanceReport {
    /// Swaps sent and confirmed.
    pub swaps_done: usize,
    /// Swaps whose simulation or transaction failed.
    pub swaps_failed: usize,
    /// precision: USD_SCALE. Reward paid, at the prices used.
    pub reward_paid_usd: u128,
    /// One line per swap done, and when every constituent came back in band.
    pub events: Vec<String>,
    /// One line per swap that failed or (dry run) would have been made.
    pub notes: Vec<String>,
    /// The swaps' events.
    #[serde(skip)]
    pub swapped: Vec<RebalanceSwapped>,
    /// Symbols of the quarantined rows, left out of every plan.
    pub quarantined: Vec<String>,
}

/// Refreshes prices, records the imbalance, plans and executes: each swap is simulated, its
/// simulated output less `max_slippage_bps` becomes the bound, then it is sent. After a round
/// the plan is made again from the new state, at most `retries` more rounds, stopping when
/// nothing is out of band or a round did nothing. With `dry_run`, nothing is sent.
pub async fn rebalance<C: Chain>(
    chain: &mut C,
    book: &Book,
    keeper: &Keypair,
    max_slippage_bps: u16,
    retries: usize,
    dry_run: bool,
) -> Result<RebalanceReport> {
    let index_key = book.index_key()?;
    let mut report = RebalanceReport::default();
    let mut attempts_left = retries + 1;
    // A swap refreshes every price first: a wide basket needs the index's lookup table.
    let shapes = lookup::shapes(chain, book, None).await?;
    loop {
        let index = chain.load_index(&index_key).await?;
        let feeds = address::refresh_feed_accounts(&index);
        let refresh = ix::refresh_prices(&index_key, &feeds);
        let (index, p) = if dry_run {
            // A dry run records nothing: it plans at prices refreshed in a simulation.
            let p = plan_at(chain, book, false).await?;
            (index, p)
        } else {
            chain
                .send_in(
                    &[refresh.clone(), ix::poke_rebalance(&index_key)],
                    &[],
                    &shapes,
                )
                .await?
                .0
                .map_err(|f| anyhow!("refreshing prices failed: {f}"))?;
            let index = chain.load_index(&index_key).await?;
            let now = chain.get_clock().await?.unix_timestamp;
            let p = plan(&index, book, now)?;
            (index, p)
        };
        report.quarantined = p
            .deviations
            .iter()
            .filter(|d| d.quarantined)
            .map(|d| d.symbol.clone())
            .collect();
        if p.swaps.is_empty() {
            return Ok(report);
        }
        let done_before = report.swaps_done;
        for s in &p.swaps {
            let decimals = |row: usize| index.constituents().get(row).map_or(0, |c| c.decimals);
            let (dec_in, dec_out) = (decimals(s.row_in), decimals(s.row_out));
            let args = |min_amount_out| RebalanceSwapArgs {
                amount_in: s.amount_in,
                min_amount_out,
            };
            let build = |min| {
                ix::rebalance_swap(
                    &index_key,
                    &index,
                    &keeper.pubkey(),
                    s.row_in,
                    s.row_out,
                    args(min),
                )
            };
            let sim = chain
                .simulate_in(&[refresh.clone(), build(0)], &[keeper], &shapes)
                .await?
                .0;
            let quoted = match sim {
                Ok(o) => o.events.into_iter().find_map(|e| match e {
                    AidxEvent::RebalanceSwapped(r) => Some(r),
                    _ => None,
                }),
                Err(f) => {
                    report.notes.push(format!(
                        "{} -> {}: simulation failed: {f}",
                        s.symbol_in, s.symbol_out
                    ));
                    None
                }
            };
            let Some(q) = quoted else {
                report.swaps_failed += 1;
                continue;
            };
            if dry_run {
                report.notes.push(format!(
                    "would swap {} {} for {} {} (reward {})",
                    ui_amount_exact(q.amount_in as u128, dec_in),
                    s.symbol_in,
                    ui_amount_exact(q.amount_out as u128, dec_out),
                    s.symbol_out,
                    pct(q.reward as u128)
                ));
                continue;
            }
            let min = less_slippage(q.amount_out, max_slippage_bps)?;
            match chain
                .send_in(&[refresh.clone(), build(min)], &[keeper], &shapes)
                .await?
                .0
            {
                Ok(o) => {
                    for e in o.events {
                        match e {
                            AidxEvent::RebalanceSwapped(r) => {
                                report.swaps_done += 1;
                                report.reward_paid_usd += r.value_out.saturating_sub(r.value_in);
                                report.events.push(format!(
                                    "swapped {} {} in for {} {} out, reward {}",
                                    ui_amount_exact(r.amount_in as u128, dec_in),
                                    s.symbol_in,
                                    ui_amount_exact(r.amount_out as u128, dec_out),
                                    s.symbol_out,
                                    pct(r.reward as u128)
                                ));
                                report.swapped.push(r);
                            }
                            AidxEvent::ImbalanceCleared(_) => {
                                report.events.push("every constituent back in band".into())
                            }
                            _ => {}
                        }
                    }
                }
                Err(f) => {
                    report
                        .notes
                        .push(format!("{} -> {}: failed: {f}", s.symbol_in, s.symbol_out));
                    report.swaps_failed += 1;
                }
            }
        }
        // Re-plan from the new state until nothing is out of band, a round makes no
        // progress, or the rounds run out.
        attempts_left -= 1;
        if dry_run || attempts_left == 0 || report.swaps_done == done_before {
            return Ok(report);
        }
    }
}
