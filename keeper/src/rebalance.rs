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

use crate::chain::Chain;
use crate::client::{self, AidxEvent};
use crate::state::Book;
use crate::table::{pct, render, ui_amount, Align};
use aidx::events::RebalanceSwapped;
use aidx::instructions::RebalanceSwapArgs;
use aidx::math::auction::{reward, SwapLegs};
use aidx::math::nav::{band_excess, nav, weights, Holding, PriceSide};
use aidx::math::{mul_div, Rounding, WEIGHT_SCALE};
use aidx::state::Index;
use anyhow::{anyhow, Result};
use serde::Serialize;
use solana_sdk::{signature::Keypair, signer::Signer};
use std::io::Write;

/// The most swaps one plan proposes.
pub const MAX_SWAPS: usize = 48;

#[derive(Clone, Debug, Serialize)]
pub struct Deviation {
    pub row: usize,
    pub symbol: String,
    /// precision: WEIGHT_SCALE.
    pub weight: u64,
    pub target: u64,
    pub band_low: u64,
    pub band_high: u64,
    pub out_of_band: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct PlannedSwap {
    pub row_in: usize,
    pub row_out: usize,
    pub symbol_in: String,
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

#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    pub deviations: Vec<Deviation>,
    pub swaps: Vec<PlannedSwap>,
    /// precision: WEIGHT_SCALE.
    pub reward_now: u64,
    pub auction_elapsed: i64,
}

fn symbol(book: &Book, row: usize) -> String {
    book.symbols
        .get(row)
        .cloned()
        .unwrap_or_else(|| format!("#{row}"))
}

/// Plans the swaps that bring every constituent back inside its band, from the index's stored
/// prices (refresh them first) at unix time `now`. Pure: the same inputs give the same plan.
pub fn plan(index: &Index, book: &Book, now: i64) -> Result<Plan> {
    let h: Vec<Holding> = index.holdings();
    let w = weights(&h)?;
    let band = index.params.band;
    let targets = index.targets();
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
                symbol: symbol(book, i),
                weight: w[i],
                target: targets[i],
                band_low: targets[i].saturating_sub(half),
                band_high: targets[i] + half,
                out_of_band: band_excess(w[i], targets[i], band)? > 0,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let elapsed = if index.imbalance_started_at == 0 {
        0
    } else {
        now - index.imbalance_started_at
    };
    let r = reward(
        elapsed,
        index.params.auction_duration_secs,
        index.params.auction_max_reward_bps,
    )?;

    // Deviation from target in USD at mid (positive: overweight), simulated swap by swap.
    let total = nav(&h, PriceSide::Mid, Rounding::Down)?;
    let mut value: Vec<i128> = h
        .iter()
        .map(|x| Ok(x.value(PriceSide::Mid, Rounding::Down)? as i128))
        .collect::<Result<_>>()?;
    let dev = |value: &[i128], i: usize| -> Result<i128> {
        Ok(value[i]
            - mul_div(
                total,
                targets[i] as u128,
                WEIGHT_SCALE as u128,
                Rounding::Down,
            )? as i128)
    };
    let out_of_band = |value: &[i128], i: usize| -> Result<bool> {
        let wi = mul_div(
            value[i].max(0) as u128,
            WEIGHT_SCALE as u128,
            total.max(1),
            Rounding::Down,
        )?;
        Ok(band_excess(u64::try_from(wi)?, targets[i], band)? > 0)
    };
    let mut swaps = vec![];
    while swaps.len() < MAX_SWAPS {
        // The out-of-band constituent with the largest deviation...
        let mut worst: Option<(usize, i128)> = None;
        for i in 0..h.len() {
            if out_of_band(&value, i)? {
                let d = dev(&value, i)?;
                if worst.is_none_or(|(_, wd)| d.abs() > wd.abs()) {
                    worst = Some((i, d));
                }
            }
        }
        let Some((i, d)) = worst else { break };
        // ...paired with the largest opposite deviation.
        let mut partner: Option<(usize, i128)> = None;
        for j in 0..h.len() {
            let dj = dev(&value, j)?;
            if j != i
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
        let amount_in = h[row_in].amount_for(x as u128, PriceSide::Mid, Rounding::Down)?;
        if amount_in == 0 {
            break;
        }
        let legs = SwapLegs {
            inp: h[row_in],
            out: h[row_out],
            target_in: targets[row_in],
            target_out: targets[row_out],
            nav_mid: total,
            reward: r,
        };
        let q = legs.price(amount_in)?;
        value[row_in] += x;
        value[row_out] -= x;
        swaps.push(PlannedSwap {
            row_in,
            row_out,
            symbol_in: symbol(book, row_in),
            symbol_out: symbol(book, row_out),
            amount_in,
            expected_out: q.amount_out,
            value_usd: x as u128,
            reward: r,
        });
    }
    Ok(Plan {
        deviations,
        swaps,
        reward_now: r,
        auction_elapsed: elapsed,
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
    let feeds = client::price_feed_accounts(&index);
    let sim = chain
        .simulate_ixs(&[client::refresh_prices(&index_key, &feeds)], &[])
        .await?
        .map_err(|f| anyhow!("refreshing prices failed: {f}\n{}", f.logs.join("\n")))?;
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

pub fn print_plan(p: &Plan, index: &Index, out: &mut impl Write) -> Result<()> {
    let out_rows: Vec<Vec<String>> = p
        .deviations
        .iter()
        .filter(|d| d.out_of_band)
        .map(|d| {
            vec![
                d.symbol.clone(),
                pct(d.weight as u128),
                pct(d.target as u128),
                format!("{}-{}", pct(d.band_low as u128), pct(d.band_high as u128)),
                if d.weight > d.target { "over" } else { "under" }.into(),
            ]
        })
        .collect();
    if out_rows.is_empty() {
        writeln!(out, "every constituent is inside its band: nothing to do")?;
        return Ok(());
    }
    writeln!(out, "out of band:")?;
    write!(
        out,
        "{}",
        render(
            &[
                ("token", Align::Left),
                ("weight", Align::Right),
                ("target", Align::Right),
                ("band", Align::Right),
                ("", Align::Left)
            ],
            &out_rows
        )
    )?;
    writeln!(
        out,
        "auction: {} s since the imbalance was recorded, reward now {}",
        p.auction_elapsed,
        pct(p.reward_now as u128)
    )?;
    let rows: Vec<Vec<String>> = p
        .swaps
        .iter()
        .map(|s| {
            let (ci, co) = (
                &index.constituents()[s.row_in],
                &index.constituents()[s.row_out],
            );
            vec![
                format!("{} -> {}", s.symbol_in, s.symbol_out),
                ui_amount(s.amount_in as u128, ci.decimals, 4),
                ui_amount(s.expected_out as u128, co.decimals, 4),
                format!("${}", ui_amount(s.value_usd, 12, 2)),
                format!("${}", ui_amount(reward_usd(s.value_usd, s.reward), 12, 4)),
            ]
        })
        .collect();
    writeln!(out, "swaps (caller pays in -> receives out):")?;
    write!(
        out,
        "{}",
        render(
            &[
                ("swap", Align::Left),
                ("pay in", Align::Right),
                ("receive", Align::Right),
                ("value", Align::Right),
                ("reward now", Align::Right)
            ],
            &rows
        )
    )?;
    Ok(())
}

/// precision: USD_SCALE. The reward on `value` at `reward` (WEIGHT_SCALE).
pub fn reward_usd(value: u128, reward: u64) -> u128 {
    mul_div(value, reward as u128, WEIGHT_SCALE as u128, Rounding::Down).unwrap_or(0)
}

/// What a rebalance run did.
#[derive(Debug, Default, Serialize)]
pub struct RebalanceReport {
    pub swaps_done: usize,
    pub swaps_failed: usize,
    /// precision: USD_SCALE. Reward paid, at the prices used.
    pub reward_paid_usd: u128,
    pub events: Vec<String>,
    #[serde(skip)]
    pub swapped: Vec<RebalanceSwapped>,
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
    out: &mut impl Write,
) -> Result<RebalanceReport> {
    let index_key = book.index_key()?;
    let mut report = RebalanceReport::default();
    let mut attempts_left = retries + 1;
    loop {
        let index = chain.load_index(&index_key).await?;
        let feeds = client::price_feed_accounts(&index);
        let refresh = client::refresh_prices(&index_key, &feeds);
        if !dry_run {
            chain
                .send_ixs(&[refresh.clone(), client::poke_rebalance(&index_key)], &[])
                .await?
                .map_err(|f| anyhow!("refresh failed: {f}\n{}", f.logs.join("\n")))?;
        }
        let index = chain.load_index(&index_key).await?;
        let now = chain.get_clock().await?.unix_timestamp;
        let p = plan(&index, book, now)?;
        if p.swaps.is_empty() {
            return Ok(report);
        }
        let done_before = report.swaps_done;
        for s in &p.swaps {
            let args = |min_amount_out| RebalanceSwapArgs {
                amount_in: s.amount_in,
                min_amount_out,
            };
            let build = |min| {
                client::rebalance_swap(
                    &index_key,
                    &index,
                    &keeper.pubkey(),
                    s.row_in,
                    s.row_out,
                    args(min),
                )
            };
            let sim = chain
                .simulate_ixs(&[refresh.clone(), build(0)], &[keeper])
                .await?;
            let quoted = match sim {
                Ok(o) => o.events.into_iter().find_map(|e| match e {
                    AidxEvent::RebalanceSwapped(r) => Some(r),
                    _ => None,
                }),
                Err(f) => {
                    writeln!(
                        out,
                        "  {} -> {}: simulation failed: {}",
                        s.symbol_in, s.symbol_out, f
                    )?;
                    None
                }
            };
            let Some(q) = quoted else {
                report.swaps_failed += 1;
                continue;
            };
            if dry_run {
                writeln!(
                    out,
                    "  would swap {} {} for {} {} (reward {})",
                    q.amount_in,
                    s.symbol_in,
                    q.amount_out,
                    s.symbol_out,
                    pct(q.reward as u128)
                )?;
                continue;
            }
            let min = crate::holder::less_slippage(q.amount_out, max_slippage_bps)?;
            match chain
                .send_ixs(&[refresh.clone(), build(min)], &[keeper])
                .await?
            {
                Ok(o) => {
                    for e in o.events {
                        match e {
                            AidxEvent::RebalanceSwapped(r) => {
                                report.swaps_done += 1;
                                report.reward_paid_usd += r.value_out.saturating_sub(r.value_in);
                                report.events.push(format!(
                                    "swapped {} {} in for {} {} out, reward {}",
                                    r.amount_in,
                                    s.symbol_in,
                                    r.amount_out,
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
                    writeln!(out, "  {} -> {}: failed: {}", s.symbol_in, s.symbol_out, f)?;
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

/// precision: USD_SCALE, as dollars.
pub fn usd(v: u128) -> String {
    format!("${}", ui_amount(v, 12, 4))
}
