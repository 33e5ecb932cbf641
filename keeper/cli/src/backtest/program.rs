//! A backtest path through the program's own code: the index in memory
//! ([`aidx_client::sim::Sim`]) moved by the program's shared functions, day by day, by the
//! keeper's own planner. What the program allows is what is simulated: the rebalance window
//! and breach weight, the clip (target or band edge), the oracle's confidence on each leg, the
//! auction's reward when the keeper acts, the cap of the incoming leg; and what each swap
//! costs the vault is what the program's accounting says (NAV at mid before and after).
//!
//! The keeper acts when the reward covers its costs: `cost_bps` into the auction's rising
//! reward (the whole auction if the maximum does not cover them), the prices published again
//! then. Each day's prices are published at midnight with a confidence of
//! [`CONF_BPS`]; reviews post the universe's methodology inputs and recompute the targets.

use super::model::{simulate, to_usd_scale};
use super::strategies::targets_at;
use super::{Config, DAYS_PER_YEAR};
use aidx::events::MethodologyInputRow;
use aidx::math::membership::MemberState;
use aidx::math::{mul_div, Rounding, WEIGHT_SCALE};
use aidx::state::{
    Bucket, Constituent, ConstituentStatus, Index, IndexParams, SubSector, PLAIN_LEG_ACCOUNTS,
};
use aidx_client::book::Book;
use aidx_client::sim::{drive, PathRun, Schedule, Sim};
use aidx_client::targets::{input_row, ranks};
use aidx_client::universe::Token;
use anyhow::{anyhow, bail, Context, Result};
use solana_sdk::hash::hashv;
use solana_sdk::pubkey::Pubkey;
use std::future::Future;

/// precision: BPS. The confidence every simulated price is published with (0.1%, as the demo).
pub const CONF_BPS: u64 = 10;

/// Unix time of day 0 of a simulated path.
pub const START: i64 = 1_767_225_600; // 2026-01-01

/// Raw-unit decimals of every simulated token.
const DECIMALS: u8 = 6;

/// Shares of a simulated index at the start: one per $100 of NAV.
const SHARE_PRICE_USD: f64 = 100.0;

/// The schedule of a path of `cfg`: its days, its reviews, when the keeper acts under `params`.
pub fn schedule(cfg: &Config, params: &IndexParams) -> Result<Schedule> {
    let max = u64::from(params.auction_max_reward_bps);
    let cost = cfg.cost_bps.max(0.0).round() as u64;
    let duration = i64::from(params.auction_duration_secs);
    let keeper_delay_secs = if max == 0 || cost >= max {
        duration
    } else {
        duration * cost as i64 / max as i64
    };
    Ok(Schedule {
        start: START,
        days: cfg.days()? as usize,
        review_every_days: cfg.review_every_days,
        keeper_delay_secs,
        conf_bps: CONF_BPS,
    })
}

/// Every day's prices in USD_SCALE, table order.
pub fn usd_path(prices: &[Vec<f64>]) -> Result<Vec<Vec<u128>>> {
    prices
        .iter()
        .map(|day| day.iter().map(|p| to_usd_scale(*p)).collect())
        .collect()
}

/// The tokens a chain could hold: those with a Pyth feed (the others cannot be priced
/// on-chain). At most a full table.
pub fn listable(tokens: &[Token]) -> Result<Vec<Token>> {
    let listed: Vec<Token> = tokens
        .iter()
        .filter(|t| t.feed_id.is_some())
        .cloned()
        .collect();
    if listed.len() > aidx::state::MAX_CONSTITUENTS {
        bail!(
            "{} tokens with a feed: more than a table holds ({})",
            listed.len(),
            aidx::state::MAX_CONSTITUENTS
        );
    }
    Ok(listed)
}

fn key_of(label: &str, symbol: &str) -> [u8; 32] {
    hashv(&[label.as_bytes(), symbol.as_bytes()]).to_bytes()
}

/// A seeded index in memory holding `tokens` at their day-0 targets (`prices0`, USD) with
/// `nav` USD, under `params`; its methodology inputs (one row a token, as `aidx targets`
/// posts them) for the reviews.
pub fn seeded_sim(
    tokens: &[Token],
    prices0: &[f64],
    cfg: &Config,
    params: IndexParams,
) -> Result<(Sim, Vec<MethodologyInputRow>)> {
    let targets = targets_at(tokens, prices0, &params.methodology()).context("day 0")?;
    let mut index: Index = bytemuck::Zeroable::zeroed();
    index.admin = Pubkey::new_from_array(key_of("admin", ""));
    index.methodology_authority = index.admin;
    index.guardian = index.admin;
    index.fee_recipient = index.admin;
    index.share_mint = Pubkey::new_from_array(key_of("share mint", ""));
    index.params = params;
    index.opened = 1;
    index.created_at = START;
    index.last_review_at = START;
    index.last_fee_accrual_at = START;
    index.window_opened_at = START;
    let shares = (cfg.initial_nav / SHARE_PRICE_USD * 1e9).round();
    if !(shares.is_finite() && shares >= 1e9 && shares < u64::MAX as f64) {
        bail!("a starting NAV of {} USD is out of range", cfg.initial_nav);
    }
    index.share_supply = shares as u64;
    // Every row a member from the start, ranked as at the universe's prices. The ranks stay as
    // posted at day 0: with no more tokens than the count less its buffer they decide nothing
    // (every liquid member stays), and liquidity does not move in the price model.
    let members = vec![
        MemberState {
            member: true,
            reviews_under_entry: 0
        };
        tokens.len()
    ];
    let ranks = ranks(
        tokens,
        &params.methodology(),
        &params.membership(),
        &members,
    )?;
    let mut rows = vec![];
    for (k, (t, p)) in tokens.iter().zip(prices0).enumerate() {
        let mint = Pubkey::new_from_array(key_of("mint", &t.symbol));
        let value = mul_div(
            to_usd_scale(cfg.initial_nav)?,
            targets[k] as u128,
            WEIGHT_SCALE as u128,
            Rounding::Down,
        )?;
        let balance = mul_div(
            value,
            10u128.pow(DECIMALS as u32),
            to_usd_scale(*p)?.max(1),
            Rounding::Down,
        )?;
        index.constituents[k] = Constituent {
            mint,
            vault: Pubkey::new_from_array(key_of("vault", &t.symbol)),
            token_program: aidx_client::TOKEN_PROGRAM_ID,
            feed_id: t
                .feed_id
                .ok_or_else(|| anyhow!("{} has no feed", t.symbol))?,
            balance: u64::try_from(balance).map_err(|_| anyhow!("{}: balance", t.symbol))?,
            target_weight: targets[k],
            decimals: DECIMALS,
            sub_sector: t.sector as u8,
            bucket: if t.sector == SubSector::Host {
                Bucket::Host as u8
            } else {
                Bucket::PurePlay as u8
            },
            status: ConstituentStatus::Active as u8,
            leg_accounts: PLAIN_LEG_ACCOUNTS,
            member: 1,
            ..bytemuck::Zeroable::zeroed()
        };
        rows.push(input_row(t, mint, ranks[k]));
    }
    index.num_constituents = tokens.len() as u8;
    let book = Book {
        symbols: tokens.iter().map(|t| t.symbol.clone()).collect(),
        ..Book::default()
    };
    Ok((Sim::of(index, book, 2), rows))
}

/// The index's parameters for `cfg`: its band and methodology, the default rebalance policy and
/// membership. The program's bounds apply (a band of 5% to 50%, say).
pub fn params_of(cfg: &Config) -> Result<IndexParams> {
    let p = IndexParams {
        band: (cfg.band * WEIGHT_SCALE as f64).round() as u64,
        max_weight: cfg.methodology.max_weight,
        unlock_haircut: cfg.methodology.unlock_haircut,
        pure_play_share: cfg.methodology.pure_play_share,
        ..IndexParams::default()
    };
    p.validate()
        .map_err(|e| anyhow!("the program cannot run these settings: {e}"))?;
    Ok(p)
}

/// One path through the program under `params`: `prices[day][k]` of every universe token;
/// the tokens with a feed are listed (the others cannot be priced on-chain and are never
/// eligible), each at its day-0 target. Every trade and each day's NAV.
pub fn run_path(
    universe: &[Token],
    prices: &[Vec<f64>],
    cfg: &Config,
    params: IndexParams,
) -> Result<PathRun> {
    let keep: Vec<usize> = (0..universe.len())
        .filter(|k| universe[*k].feed_id.is_some())
        .collect();
    let tokens = listable(universe)?;
    let prices: Vec<Vec<f64>> = prices
        .iter()
        .map(|day| keep.iter().map(|k| day[*k]).collect())
        .collect();
    let (mut sim, rows) = seeded_sim(&tokens, &prices[0], cfg, params)?;
    let usd = usd_path(&prices)?;
    let s = schedule(cfg, &params)?;
    // The simulation never waits: one poll runs the whole path.
    let mut run = std::pin::pin!(drive(&mut sim, &usd, &rows, &s, |_| {}));
    match run
        .as_mut()
        .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
    {
        std::task::Poll::Ready(r) => r,
        std::task::Poll::Pending => bail!("the simulation waited"),
    }
}

/// What a run's swaps moved and cost, each a year and a share of NAV.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Costs {
    /// One-way turnover: value traded (the mean of what came in and went out) over NAV.
    pub turnover: f64,
    /// NAV at mid lost to the swaps: the rewards, net of the oracle spread the vault keeps.
    pub cost: f64,
    /// Auction rewards paid: `value_out - value_in` of each swap.
    pub rewards: f64,
}

/// The [`Costs`] of a run of `days` days.
pub fn costs(run: &PathRun, days: u32) -> Costs {
    let years = days as f64 / DAYS_PER_YEAR as f64;
    let mut c = Costs::default();
    for t in &run.trades {
        let nav = t.nav_before as f64;
        if nav > 0.0 {
            c.turnover += (t.value_in as f64 + t.value_out as f64) / 2.0 / nav;
            c.cost += (t.nav_before as f64 - t.nav_after as f64) / nav;
            c.rewards += t.value_out.saturating_sub(t.value_in) as f64 / nav;
        }
    }
    Costs {
        turnover: c.turnover / years,
        cost: c.cost / years,
        rewards: c.rewards / years,
    }
}

/// The price paths of `cfg` for `tokens`.
pub fn prices_of(tokens: &[Token], cfg: &Config) -> Result<Vec<Vec<f64>>> {
    Ok(simulate(tokens, cfg)?.prices)
}
