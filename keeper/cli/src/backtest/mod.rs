//! `aidx backtest`: the program's buffer rebalance against a full rebalance, on simulated prices.
//!
//! # Price model
//! Crypto trades every day, so a year is [`DAYS_PER_YEAR`] = 365 calendar days and every day
//! has a price. Each token `i` (sector `s(i)`, one of the eight [`SubSector`]s, host chains
//! being one of them) has the daily log return
//!
//! ```text
//! r[i,t] = mu * dt + sigma_i * sqrt(dt) * z[i,t],          dt = 1/365
//! z[i,t] = sqrt(rho_m) * M[t] + sqrt(rho_s - rho_m) * S[s(i),t] + sqrt(1 - rho_s) * e[i,t]
//! ```
//!
//! with `M` (market factor), `S` (one factor per sector) and `e` (idiosyncratic) independent
//! standard normals. `z` has unit variance, so two tokens' daily log returns correlate `rho_s`
//! within a sector and `rho_m` across sectors, whatever their volatilities. Defaults:
//! `rho_m = 0.65`, `rho_s = 0.80` (the design notes' 0.65-0.80), annualised volatility
//! `sigma_i` drawn once per token uniformly in 70%-110%, log drift `mu = 0` (the median price
//! path is flat; the mean price grows by `sigma^2 / 2` a year). Random numbers come from
//! xoshiro256** (`rand_xoshiro`, seeded through SplitMix64) with `rand_distr`'s standard
//! uniform and ziggurat normal, drawn in a fixed order (the
//! volatilities, then day by day: market, the eight sector factors in [`SubSector::ALL`]
//! order, one idiosyncratic draw per token in universe order), so a seed gives one path on
//! every machine. The run reports the realised average within-sector and cross-sector
//! correlation of daily log returns, so the model is checked, not assumed. Circulating supply,
//! volume and depth stay as in the universe; only prices move.
//!
//! # Strategies
//! Day 0 builds both portfolios at the methodology's targets with the same starting NAV (not
//! counted as turnover or cost). Every [`REVIEW_EVERY_DAYS`] = 91 calendar days after that, at
//! the day's close, the targets are recomputed by the shared fixed-point methodology
//! ([`compute_targets`] on [`Token::facts`], the simulated price converted to `USD_SCALE`) and:
//! * **buffer**: what the program does, run through its own code ([`program`]: the index in
//!   memory, `aidx_client::sim`): the tokens with a Pyth feed listed at their day-0 targets in
//!   whole raw units, each day's prices published through the oracle gate, the reviews
//!   recomputed on-chain style, and the keeper's own planner swapping through the program's
//!   `rebalance_swap` checks and pricing under the default policy (the band, default ±20% of
//!   target; trades in the rebalance window, a day after each review; out-of-band legs stopped
//!   just inside their band's edge, in-band legs at their target), when the auction's reward
//!   covers its `cost_bps`. What it costs the vault is what the program's accounting says: the
//!   reward paid, less the oracle confidence the vault keeps on both legs (published at 0.1%).
//!   A test replays such a path through the program on the embedded chain and finds the same
//!   trades. `backtest --policies` runs the other policies the program can be set to.
//! * **full**: every constituent is set to its target, paying `cost_bps` per unit of value
//!   traded (buys and sells alike), pro rata from the holdings after the trades.
//!
//! Trades smaller than 1e-12 of NAV are float noise and are not made.
//!
//! # Figures
//! * turnover: one-way, `sum |trade| / 2 / NAV` per review, summed and divided by the years;
//! * cost a year: `sum cost / NAV` per review, summed and divided by the years;
//! * the benchmark: the unconstrained index of the tokens eligible on day 0, weighted by
//!   circulating market cap (no cap, no haircut). With supply constant, continuous
//!   rebalancing to market-cap weights is buy and hold, with no turnover and no cost;
//! * annualised return: `(NAV_end / NAV_0)^(1 / years) - 1`; volatility: the standard deviation
//!   of daily log returns times `sqrt(365)`;
//! * tracking difference: annualised return minus the benchmark's; tracking error: the standard
//!   deviation of the daily log-return difference times `sqrt(365)`.

pub(crate) mod chart;
mod model;
pub mod policies;
pub mod program;
mod report;
mod stats;
mod strategies;
#[cfg(test)]
mod tests;

pub use chart::{chart_svg, write_chart};
pub use model::{simulate, to_usd_scale, Paths, Rng};
pub use report::{
    print, BenchmarkFigures, Correlations, NavPaths, Report, ReviewFigures, StrategyFigures,
    TokenRun,
};
pub use stats::realised_correlations;
pub use strategies::{full_rebalance, targets_at};

use aidx::math::methodology::MethodologyParams;
use aidx::math::{USD_SCALE, WEIGHT_SCALE};
use aidx::state::IndexParams;
use aidx_client::universe::Token;
use anyhow::{anyhow, bail, Context, Result};
use stats::{annual_return, annual_vol, log_returns, std_dev};
use strategies::Book;

/// Calendar days in a simulated year (crypto trades every day).
pub const DAYS_PER_YEAR: u32 = 365;
/// Days between two reviews (a quarter).
pub const REVIEW_EVERY_DAYS: u32 = 91;
/// Longest horizon accepted, years.
pub const MAX_YEARS: u32 = 50;
/// Highest trading cost accepted, basis points per unit traded.
pub const MAX_COST_BPS: f64 = 1_000.0;
/// Trades below this share of NAV are float noise, not trades.
const NOISE: f64 = 1e-12;

/// Series names, as in the chart's legend and the report.
pub const SERIES_BUFFER: &str = "buffer";
pub const SERIES_FULL: &str = "full";
pub const SERIES_BENCHMARK: &str = "uncapped";

/// Everything a run depends on.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Whole years of [`DAYS_PER_YEAR`] days.
    pub years: u32,
    pub seed: u64,
    /// Cost per unit of value traded, basis points.
    pub cost_bps: f64,
    /// Relative band around target (0.2 = ±20% of target).
    pub band: f64,
    /// Days between reviews.
    pub review_every_days: u32,
    /// Annualised volatility range; each token's is drawn uniformly in it.
    pub vol_min: f64,
    pub vol_max: f64,
    /// Correlation of two tokens in different sectors.
    pub rho_market: f64,
    /// Correlation of two tokens in the same sector.
    pub rho_sector: f64,
    /// Annual log drift of every token.
    pub drift: f64,
    /// Starting NAV of every portfolio, USD.
    pub initial_nav: f64,
    pub methodology: MethodologyParams,
}

impl Default for Config {
    fn default() -> Self {
        let params = IndexParams::default();
        Config {
            years: 5,
            seed: 42,
            cost_bps: 30.0,
            band: params.band as f64 / WEIGHT_SCALE as f64,
            review_every_days: REVIEW_EVERY_DAYS,
            vol_min: 0.70,
            vol_max: 1.10,
            rho_market: 0.65,
            rho_sector: 0.80,
            drift: 0.0,
            initial_nav: 1_000_000.0,
            methodology: params.methodology(),
        }
    }
}

impl Config {
    /// Every setting within its bounds, each failure with a message naming it.
    pub fn validate(&self) -> Result<()> {
        if !(1..=MAX_YEARS).contains(&self.years) {
            bail!(
                "--years must be between 1 and {MAX_YEARS}, got {}",
                self.years
            );
        }
        if !self.cost_bps.is_finite() || !(0.0..=MAX_COST_BPS).contains(&self.cost_bps) {
            bail!(
                "--cost-bps must be between 0 and {MAX_COST_BPS} basis points, got {}",
                self.cost_bps
            );
        }
        if !self.band.is_finite() || !(0.0..1.0).contains(&self.band) {
            bail!(
                "the band must be at least 0% and below 100% of target, got {}%",
                self.band * 100.0
            );
        }
        if self.review_every_days == 0 {
            bail!("the review period must be at least one day");
        }
        let unit = |x: f64| x.is_finite() && (0.0..=1.0).contains(&x);
        if !unit(self.rho_market) || !unit(self.rho_sector) || self.rho_market > self.rho_sector {
            bail!(
                "correlations must satisfy 0 <= market ({}) <= sector ({}) <= 1",
                self.rho_market,
                self.rho_sector
            );
        }
        if !self.vol_min.is_finite()
            || !self.vol_max.is_finite()
            || self.vol_min < 0.0
            || self.vol_min > self.vol_max
            || self.vol_max > 5.0
        {
            bail!(
                "volatility range must satisfy 0 <= min ({}) <= max ({}) <= 500%",
                self.vol_min,
                self.vol_max
            );
        }
        if !self.drift.is_finite() || self.drift.abs() > 5.0 {
            bail!("drift must be within ±500% a year, got {}", self.drift);
        }
        if !self.initial_nav.is_finite() || self.initial_nav <= 0.0 {
            bail!(
                "the starting NAV must be positive, got {}",
                self.initial_nav
            );
        }
        Ok(())
    }

    /// Simulated days (checked).
    pub fn days(&self) -> Result<u32> {
        self.years
            .checked_mul(DAYS_PER_YEAR)
            .ok_or_else(|| anyhow!("{} years overflow the day count", self.years))
    }
}

/// The benchmark's market cap at `prices`: the circulating market caps of the tokens `in_bench`
/// (the ones eligible on day 0), summed.
fn benchmark_cap(tokens: &[Token], in_bench: &[bool], prices: &[f64]) -> f64 {
    tokens
        .iter()
        .zip(prices)
        .zip(in_bench)
        .filter(|(_, e)| **e)
        .map(|((t, p), _)| p * t.circulating_supply as f64)
        .sum()
}

fn fractions(targets: &[u64]) -> Vec<f64> {
    targets
        .iter()
        .map(|t| *t as f64 / WEIGHT_SCALE as f64)
        .collect()
}

/// What a strategy traded over a path.
struct Traded {
    turnover_per_year: f64,
    cost_per_year: f64,
    total_cost_usd: f64,
    trades: usize,
}

/// Runs the backtest on simulated prices for `tokens`.
pub fn run(tokens: &[Token], cfg: &Config) -> Result<Report> {
    cfg.validate()?;
    if tokens.is_empty() {
        bail!("the universe has no token");
    }
    let days = cfg.days()?;
    let params = program::params_of(cfg)?;
    let paths = simulate(tokens, cfg)?;
    let cost_rate = cfg.cost_bps / 10_000.0;

    let first = targets_at(tokens, &paths.prices[0], &cfg.methodology).context("day 0")?;
    let start: Vec<f64> = fractions(&first)
        .iter()
        .map(|t| t * cfg.initial_nav)
        .collect();
    let mut full = Book::new(start);
    // The buffer: what the program does, through its own code (the default policy).
    let run = program::run_path(tokens, &paths.prices, cfg, params)?;
    let usd = |x: u128| x as f64 / USD_SCALE as f64;
    let day_of = |at: i64| ((at - program::START) / 86_400) as u32;

    // Benchmark: buy and hold of circulating market caps of the day-0 eligible set.
    let in_benchmark: Vec<bool> = first.iter().map(|t| *t > 0).collect();
    let market_cap = |prices: &[f64]| benchmark_cap(tokens, &in_benchmark, prices);
    let cap0 = market_cap(&paths.prices[0]);
    if cap0 <= 0.0 || !cap0.is_finite() {
        bail!("the eligible tokens have no market cap on day 0");
    }

    let mut nav = NavPaths {
        buffer: run.navs.iter().map(|n| usd(*n)).collect(),
        full: vec![cfg.initial_nav],
        benchmark: vec![cfg.initial_nav],
    };
    let mut review_log = Vec::new();
    let mut last = first.clone();
    for day in 1..=days {
        let d = day as usize;
        let (before, after) = (&paths.prices[d - 1], &paths.prices[d]);
        full.grow(before, after);
        if day % cfg.review_every_days == 0 {
            let targets = targets_at(tokens, after, &cfg.methodology)
                .with_context(|| format!("review on day {day}"))?;
            let t = fractions(&targets);
            let f = full.trade(full_rebalance(&full.values, &t), cost_rate);
            // The program's trades in the window this review opened.
            let window = day..day + (params.rebalance_window_secs / 86_400).max(1);
            let trades: Vec<_> = run
                .trades
                .iter()
                .filter(|x| window.contains(&day_of(x.at)))
                .collect();
            let mut rows: Vec<u8> = trades.iter().flat_map(|x| [x.row_in, x.row_out]).collect();
            rows.sort_unstable();
            rows.dedup();
            review_log.push(ReviewFigures {
                day,
                buffer_out_of_band: run
                    .reviews
                    .iter()
                    .find(|(d, _)| *d as u32 == day)
                    .map_or(0, |(_, n)| *n),
                buffer_turnover: trades
                    .iter()
                    .map(|x| usd(x.value_in + x.value_out) / 2.0 / usd(x.nav_before).max(1e-12))
                    .sum::<f64>()
                    + 0.0,
                buffer_traded: rows.len(),
                full_turnover: f.turnover,
                full_traded: f.traded_names,
            });
            last = targets;
        }
        nav.full.push(full.nav());
        nav.benchmark
            .push(cfg.initial_nav * market_cap(after) / cap0);
    }

    let years = days as f64 / DAYS_PER_YEAR as f64;
    let bench_ret = annual_return(&nav.benchmark, years);
    let bench_lr = log_returns(&nav.benchmark);
    let program_costs = program::costs(&run, days);
    let buffer = Traded {
        turnover_per_year: program_costs.turnover,
        cost_per_year: program_costs.cost,
        total_cost_usd: run
            .trades
            .iter()
            .map(|x| usd(x.nav_before) - usd(x.nav_after))
            .sum(),
        trades: run.trades.len(),
    };
    let full_traded = Traded {
        turnover_per_year: full.turnover / years,
        cost_per_year: full.cost_share / years,
        total_cost_usd: full.cost_usd,
        trades: full.trades,
    };
    let figures = |name: &str, book: &Traded, path: &[f64]| {
        let diff: Vec<f64> = log_returns(path)
            .iter()
            .zip(&bench_lr)
            .map(|(a, b)| a - b)
            .collect();
        let ret = annual_return(path, years);
        StrategyFigures {
            name: name.to_string(),
            annual_return: ret,
            annual_vol: annual_vol(path),
            turnover_per_year: book.turnover_per_year,
            cost_per_year: book.cost_per_year,
            total_cost_usd: book.total_cost_usd,
            trades: book.trades,
            tracking_difference: ret - bench_ret,
            tracking_error: std_dev(&diff) * (DAYS_PER_YEAR as f64).sqrt(),
            final_nav: path.last().copied().unwrap_or(0.0),
        }
    };
    let token_runs = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let series: Vec<f64> = paths.prices.iter().map(|p| p[i]).collect();
            TokenRun {
                symbol: t.symbol.clone(),
                sector: t.sector.name().to_string(),
                vol: paths.vols[i],
                realised_vol: annual_vol(&series),
                start_price: series[0],
                end_price: series.last().copied().unwrap_or(0.0),
                first_target: first[i],
                last_target: last[i],
            }
        })
        .collect();
    Ok(Report {
        seed: cfg.seed,
        years: cfg.years,
        days,
        review_every_days: cfg.review_every_days,
        reviews: review_log.len(),
        cost_bps: cfg.cost_bps,
        band: cfg.band,
        vol_min: cfg.vol_min,
        vol_max: cfg.vol_max,
        drift: cfg.drift,
        initial_nav: cfg.initial_nav,
        tokens_in_universe: tokens.len(),
        eligible: in_benchmark.iter().filter(|e| **e).count(),
        correlations: realised_correlations(tokens, &paths, cfg),
        buffer: figures(SERIES_BUFFER, &buffer, &nav.buffer),
        full: figures(SERIES_FULL, &full_traded, &nav.full),
        benchmark: BenchmarkFigures {
            name: SERIES_BENCHMARK.to_string(),
            annual_return: bench_ret,
            annual_vol: annual_vol(&nav.benchmark),
            final_nav: nav.benchmark.last().copied().unwrap_or(0.0),
        },
        buffer_vs_full_tracking_error: std_dev(
            &log_returns(&nav.buffer)
                .iter()
                .zip(log_returns(&nav.full))
                .map(|(a, b)| a - b)
                .collect::<Vec<_>>(),
        ) * (DAYS_PER_YEAR as f64).sqrt(),
        tokens: token_runs,
        review_log,
        nav,
    })
}
