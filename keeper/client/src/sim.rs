//! The index in memory, moved by the program's own code, and a price path driven through it or
//! through a chain alike.
//!
//! [`Sim`] holds an [`Index`] and runs the program's shared functions on it: the oracle gate
//! (`gate_update`), the auction clock (`imbalance_change`), the review (`store_inputs`,
//! `review_targets`), the swap (`price_swap`, `apply_swap`): the checks, the rebalance window,
//! the clip, the reward and what the vault pays. Its keeper is the keeper's own: it plans with
//! [`crate::rebalance::plan`] and runs the rounds of [`crate::rebalance::rebalance`]. What it
//! leaves out is what moves tokens (the vaults follow the accounting exactly on a chain) and
//! the events.
//!
//! [`drive`] runs a price path day by day through any [`Venue`]: the simulation, or a chain
//! ([`ChainVenue`]), so that a test can replay a backtest path through the program and compare
//! every trade.

use crate::book::Book;
use crate::dev::DevChain;
use crate::pyth::{price_update, PythPrice};
use crate::rebalance::{plan, rebalance};
use crate::{instructions as ix, price_feed_accounts};
use aidx::events::{MethodologyInputRow, RebalanceSwapped};
use aidx::instructions::{
    apply_swap, imbalance_change, price_swap, review_targets, store_inputs, RebalanceSwapArgs,
    SetMethodologyInputsArgs, SwapEffects, SwapPricing,
};
use aidx::math::nav::{nav, PriceSide};
use aidx::math::Rounding;
use aidx::oracle::{gate_update, OracleLimits};
use aidx::state::Index;
use anyhow::{anyhow, bail, Result};
use pyth_solana_receiver_sdk::price_update::VerificationLevel;
use solana_sdk::{clock::Clock, signature::Keypair, signer::Signer};

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// One rebalance swap, as the program made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trade {
    /// Unix time of the swap.
    pub at: i64,
    /// Row paid in.
    pub row_in: u8,
    /// Row paid out.
    pub row_out: u8,
    /// Raw units in.
    pub amount_in: u64,
    /// Raw units out.
    pub amount_out: u64,
    /// precision: USD_SCALE. The incoming amount at `price - conf`.
    pub value_in: u128,
    /// precision: USD_SCALE. What was paid out, at `price + conf`: `value_in` plus the reward.
    pub value_out: u128,
    /// precision: WEIGHT_SCALE. The auction reward.
    pub reward: u64,
    /// precision: USD_SCALE. NAV at mid before.
    pub nav_before: u128,
    /// precision: USD_SCALE. NAV at mid after.
    pub nav_after: u128,
    /// precision: WEIGHT_SCALE. Weights after.
    pub weights_after: Vec<u64>,
}

impl Trade {
    /// The trade a `RebalanceSwapped` event records, made at `at`.
    pub fn of_event(e: &RebalanceSwapped, at: i64) -> Trade {
        Trade {
            at,
            row_in: e.row_in,
            row_out: e.row_out,
            amount_in: e.amount_in,
            amount_out: e.amount_out,
            value_in: e.value_in,
            value_out: e.value_out,
            reward: e.reward,
            nav_before: e.nav_before,
            nav_after: e.nav_after,
            weights_after: e.weights_after.clone(),
        }
    }

    fn of_swap(p: &SwapPricing, e: &SwapEffects, at: i64) -> Trade {
        Trade {
            at,
            row_in: p.row_in as u8,
            row_out: p.row_out as u8,
            amount_in: p.quote.amount_in,
            amount_out: p.quote.amount_out,
            value_in: p.quote.value_in,
            value_out: p.quote.value_out,
            reward: p.reward,
            nav_before: p.nav_before,
            nav_after: e.nav_after,
            weights_after: e.weights_after.clone(),
        }
    }
}

/// Where a path is driven: the simulation or a chain.
#[allow(async_fn_in_trait)]
pub trait Venue {
    /// The index as it stands.
    async fn index(&mut self) -> Result<Index>;
    /// Publishes `prices` (table order) and refreshes them into the index at `now`; the
    /// auction clock follows, as a refresh does.
    async fn publish(&mut self, prices: &[PythPrice], now: i64) -> Result<()>;
    /// The methodology authority posts `rows` observed at `now`, the targets are recomputed,
    /// and a poke records any imbalance (prices published at `now` first).
    async fn review(&mut self, rows: &[MethodologyInputRow], now: i64) -> Result<()>;
    /// The keeper's rebalance at `now` (prices published at `now` first): the swaps made, and
    /// how many planned swaps the program refused (the keeper leaves them out and goes on).
    async fn rebalance(&mut self, now: i64) -> Result<(Vec<Trade>, usize)>;
}

/// An index in memory (see the module's documentation).
pub struct Sim {
    /// The index.
    pub index: Box<Index>,
    /// Symbols for the keeper's plan.
    pub book: Book,
    /// Rounds after the first the keeper may run, as `aidx rebalance --retries`.
    pub retries: usize,
    slot: u64,
}

impl Sim {
    /// A simulation of `index` (a chain's, say).
    pub fn of(index: Index, book: Book, retries: usize) -> Sim {
        Sim {
            index: Box::new(index),
            book,
            retries,
            slot: 1,
        }
    }

    fn clock(&self, now: i64) -> Clock {
        Clock {
            slot: self.slot,
            unix_timestamp: now,
            ..Clock::default()
        }
    }

    /// A poke at `now`: records or clears the auction clock, as `poke_rebalance` does.
    fn poke(&mut self, now: i64) -> Result<()> {
        let clock = self.clock(now);
        if self.index.is_seeded() && self.index.require_fresh_prices(&clock, &[]).is_ok() {
            let w = self.index.band_weights().map_err(|e| anyhow!("{e}"))?;
            imbalance_change(&mut self.index, &w, now).map_err(|e| anyhow!("{e}"))?;
        }
        Ok(())
    }
}

impl Venue for Sim {
    async fn index(&mut self) -> Result<Index> {
        Ok(*self.index)
    }

    async fn publish(&mut self, prices: &[PythPrice], now: i64) -> Result<()> {
        if prices.len() != self.index.constituents().len() {
            bail!(
                "{} prices for {} rows",
                prices.len(),
                self.index.num_constituents
            );
        }
        self.slot += 1;
        let limits = OracleLimits {
            max_age_secs: self.index.params.oracle_max_age_secs,
            max_conf_bps: self.index.params.oracle_max_conf_bps,
        };
        let slot = self.slot;
        for (c, p) in self.index.constituents_mut().iter_mut().zip(prices) {
            let update = price_update(c.feed_id, *p, VerificationLevel::Full);
            let g = gate_update(&update, &c.feed_id, limits, c.publish_time, now)
                .map_err(|e| anyhow!("price refused: {e}"))?;
            c.store_price(&g, slot).map_err(|e| anyhow!("{e}"))?;
        }
        self.poke(now)
    }

    async fn review(&mut self, rows: &[MethodologyInputRow], now: i64) -> Result<()> {
        let args = SetMethodologyInputsArgs {
            observed_at: now,
            rows: rows.to_vec(),
        };
        store_inputs(&mut self.index, &args, now).map_err(|e| anyhow!("inputs: {e}"))?;
        let clock = self.clock(now);
        review_targets(&mut self.index, &clock).map_err(|e| anyhow!("review: {e}"))?;
        self.poke(now)
    }

    async fn rebalance(&mut self, now: i64) -> Result<(Vec<Trade>, usize)> {
        let clock = self.clock(now);
        let mut trades = vec![];
        let mut refused = 0;
        let mut rounds_left = self.retries + 1;
        loop {
            self.poke(now)?;
            let p = plan(&self.index, &self.book, now)?;
            if p.swaps.is_empty() {
                return Ok((trades, refused));
            }
            let before = trades.len();
            for s in &p.swaps {
                let args = RebalanceSwapArgs {
                    amount_in: s.amount_in,
                    min_amount_out: 0,
                };
                // A swap the program refuses is left out, as the keeper leaves out one whose
                // simulation fails.
                let Ok(priced) = price_swap(&self.index, s.row_in, s.row_out, &args, &clock) else {
                    refused += 1;
                    continue;
                };
                let e = apply_swap(&mut self.index, &priced, now).map_err(|e| anyhow!("{e}"))?;
                trades.push(Trade::of_swap(&priced, &e, now));
            }
            rounds_left -= 1;
            if rounds_left == 0 || trades.len() == before {
                return Ok((trades, refused));
            }
        }
    }
}

/// A development chain with an index on it: the methodology authority and a keeper holding
/// enough of every constituent.
pub struct ChainVenue<C> {
    /// The chain.
    pub chain: C,
    /// The index's book (symbols, lookup tables).
    pub book: Book,
    /// Posts methodology inputs.
    pub methodology_authority: Keypair,
    /// Rebalances.
    pub keeper: Keypair,
    /// Rounds after the first, as `aidx rebalance --retries`.
    pub retries: usize,
}

impl<C: DevChain> ChainVenue<C> {
    async fn at(&mut self, now: i64) -> Result<()> {
        self.chain.next_slot().await?;
        self.chain.set_unix_timestamp(now).await
    }
}

impl<C: DevChain> Venue for ChainVenue<C> {
    async fn index(&mut self) -> Result<Index> {
        let key = self.book.index_key()?;
        self.chain.load_index(&key).await
    }

    async fn publish(&mut self, prices: &[PythPrice], now: i64) -> Result<()> {
        self.at(now).await?;
        let key = self.book.index_key()?;
        let feeds = self.chain.post_index_prices(&key, prices).await?;
        self.chain
            .send_ixs_ok(&[ix::refresh_prices(&key, &feeds)], &[])
            .await?;
        Ok(())
    }

    async fn review(&mut self, rows: &[MethodologyInputRow], now: i64) -> Result<()> {
        let key = self.book.index_key()?;
        let authority = self.methodology_authority.pubkey();
        for post in ix::set_methodology_inputs_batched(&key, &authority, now, rows) {
            self.chain
                .send_ixs_ok(&[post], &[&self.methodology_authority])
                .await?;
        }
        let index = self.chain.load_index(&key).await?;
        let feeds = price_feed_accounts(&index);
        self.chain
            .send_ixs_ok(
                &[
                    ix::refresh_prices(&key, &feeds),
                    ix::recompute_targets(&key),
                    ix::poke_rebalance(&key),
                ],
                &[],
            )
            .await?;
        Ok(())
    }

    async fn rebalance(&mut self, now: i64) -> Result<(Vec<Trade>, usize)> {
        let report = rebalance(
            &mut self.chain,
            &self.book,
            &self.keeper,
            0,
            self.retries,
            false,
        )
        .await?;
        let trades = report
            .swapped
            .iter()
            .map(|e| Trade::of_event(e, now))
            .collect();
        Ok((trades, report.swaps_failed))
    }
}

/// When things happen on a driven path.
#[derive(Clone, Copy, Debug)]
pub struct Schedule {
    /// Unix time of day 0.
    pub start: i64,
    /// Days driven (days 1..=days).
    pub days: usize,
    /// A review every this many days.
    pub review_every_days: u32,
    /// Seconds from the auction's start until the keeper acts: when the reward covers its
    /// costs (the auction's length times its cost over the maximum reward).
    pub keeper_delay_secs: i64,
    /// precision: BPS. Confidence published with every price.
    pub conf_bps: u64,
}

/// What a driven path did.
#[derive(Clone, Debug, Default)]
pub struct PathRun {
    /// Every swap, in order.
    pub trades: Vec<Trade>,
    /// precision: USD_SCALE. NAV at mid at the end of each day (day 0 first).
    pub navs: Vec<u128>,
    /// Each review: its day and how many rows were out of band after it, before any trade.
    pub reviews: Vec<(usize, usize)>,
    /// Planned swaps the program refused (left out by the keeper).
    pub refused: usize,
}

/// precision: USD_SCALE. NAV at mid of every row at its stored price.
pub fn nav_mid(index: &Index) -> Result<u128> {
    Ok(nav(&index.holdings(), PriceSide::Mid, Rounding::Down)?)
}

/// Drives `usd` (day × row, USD_SCALE; day 0 is the start) through `venue`: day 0's prices are
/// published at the start, then each day's at midnight; on review days the methodology inputs `rows` are posted and the
/// targets recomputed; when an auction is running the keeper acts `keeper_delay_secs` into it
/// (prices published again then), if that is before the next day.
pub async fn drive<V: Venue>(
    venue: &mut V,
    usd: &[Vec<u128>],
    rows: &[MethodologyInputRow],
    s: &Schedule,
    mut progress: impl FnMut(usize),
) -> Result<PathRun> {
    let mut run = PathRun::default();
    let prices_at = |d: usize, at: i64| -> Vec<PythPrice> {
        usd[d]
            .iter()
            .map(|p| PythPrice::from_usd_scaled(*p, s.conf_bps, at))
            .collect()
    };
    if usd.is_empty() {
        bail!("a path needs day 0's prices");
    }
    venue.publish(&prices_at(0, s.start), s.start).await?;
    run.navs.push(nav_mid(&venue.index().await?)?);
    for d in 1..=s.days.min(usd.len().saturating_sub(1)) {
        let t = s.start + d as i64 * DAY;
        venue.publish(&prices_at(d, t), t).await?;
        if s.review_every_days > 0 && d % s.review_every_days as usize == 0 {
            venue.review(rows, t).await?;
            let index = venue.index().await?;
            let w = index.band_weights().map_err(|e| anyhow!("{e}"))?;
            let out = index.out_of_band(&w).map_err(|e| anyhow!("{e}"))?;
            run.reviews.push((d, out.iter().filter(|o| **o).count()));
        }
        let started = venue.index().await?.imbalance_started_at;
        if started != 0 {
            let tk = (started + s.keeper_delay_secs).max(t);
            if tk < t + DAY {
                if tk > t {
                    venue.publish(&prices_at(d, tk), tk).await?;
                }
                let (trades, refused) = venue.rebalance(tk).await?;
                run.trades.extend(trades);
                run.refused += refused;
            }
        }
        run.navs.push(nav_mid(&venue.index().await?)?);
        progress(d);
    }
    Ok(run)
}
