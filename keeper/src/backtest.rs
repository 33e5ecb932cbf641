//! `aidx backtest`: the quarterly buffer rebalance against a full rebalance, on simulated prices.
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
//! xoshiro256** seeded by splitmix64 and Box-Muller normals, drawn in a fixed order (the
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
//! * **buffer**: a constituent whose weight lies outside `target * (1 ± band)` (band relative,
//!   default 20%; a zero target has an empty band) is traded to exactly its target. The net
//!   cash of those trades is absorbed by the in-band constituents *on the side that moves them
//!   toward their own target*: cash freed buys the in-band names below target, pro rata to their
//!   shortfall; cash needed sells the in-band names above target, pro rata to their excess.
//!   Because weights and targets both sum to 1, that shortfall (excess) is always at least the
//!   cash, so nobody is traded past its target and the weights still sum to 1. These in-band
//!   trades are real trades: they count in turnover and cost. With no constituent out of band
//!   there is no trade at all.
//! * **full**: every constituent is set to its target.
//!
//! From the same holdings and targets the buffer never trades more than the full rule (the
//! out-of-band names make the same trades, the in-band ones at most their full gap). Over a
//! path it usually trades less, but not always: it carries in-band drift into the next review,
//! so on a short horizon a path can make it trade as much or more.
//!
//! Trades smaller than 1e-12 of NAV are float noise and are not made. Costs are
//! `cost_bps` per unit of value traded (buys and sells alike), paid pro rata from the holdings
//! after the trades, which leaves the weights as the rule set them.
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

use crate::table::{render, Align};
use crate::universe::{self, Token};
use aidx::math::methodology::{compute_targets, MethodologyParams};
use aidx::math::{USD_SCALE, WEIGHT_SCALE};
use aidx::state::{IndexParams, SubSector};
use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

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
            methodology: crate::targets::methodology_params(&params),
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

/// xoshiro256** seeded by splitmix64, with Box-Muller normals: small, fast, deterministic.
#[derive(Clone, Debug, PartialEq)]
pub struct Rng {
    s: [u64; 4],
    spare: Option<f64>,
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        let mut splitmix = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Rng {
            s: [splitmix(), splitmix(), splitmix(), splitmix()],
            spare: None,
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        let out = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        out
    }

    /// Uniform in [0, 1), 53 bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal (Box-Muller; the second value of each pair is kept for the next call).
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let u1 = 1.0 - self.uniform(); // (0, 1]: ln is finite
        let u2 = self.uniform();
        let r = (-2.0 * u1.ln()).sqrt();
        let theta = 2.0 * std::f64::consts::PI * u2;
        self.spare = Some(r * theta.sin());
        r * theta.cos()
    }
}

/// Simulated prices.
#[derive(Clone, Debug, PartialEq)]
pub struct Paths {
    /// Annualised volatility of each token, as drawn.
    pub vols: Vec<f64>,
    /// `prices[day][token]`, USD per whole token, days `0..=days`.
    pub prices: Vec<Vec<f64>>,
}

fn sector_index(s: SubSector) -> usize {
    SubSector::ALL.iter().position(|x| *x == s).unwrap_or(0)
}

/// Correlated daily prices for `tokens`, starting at their universe prices (model above).
pub fn simulate(tokens: &[Token], cfg: &Config) -> Result<Paths> {
    cfg.validate()?;
    let days = cfg.days()?;
    let mut rng = Rng::new(cfg.seed);
    let vols: Vec<f64> = tokens
        .iter()
        .map(|_| cfg.vol_min + (cfg.vol_max - cfg.vol_min) * rng.uniform())
        .collect();
    let sectors: Vec<usize> = tokens.iter().map(|t| sector_index(t.sector)).collect();
    let dt = 1.0 / DAYS_PER_YEAR as f64;
    let a = cfg.rho_market.sqrt();
    let b = (cfg.rho_sector - cfg.rho_market).sqrt();
    let c = (1.0 - cfg.rho_sector).sqrt();
    let mut prices = Vec::with_capacity(days as usize + 1);
    prices.push(
        tokens
            .iter()
            .map(|t| t.price as f64 / USD_SCALE as f64)
            .collect::<Vec<f64>>(),
    );
    let mut factor = [0.0f64; SubSector::ALL.len()];
    for day in 0..days as usize {
        let m = rng.normal();
        for f in factor.iter_mut() {
            *f = rng.normal();
        }
        let next: Vec<f64> = prices[day]
            .iter()
            .zip(&vols)
            .zip(&sectors)
            .map(|((p, v), s)| {
                let z = a * m + b * factor[*s] + c * rng.normal();
                p * (cfg.drift * dt + v * dt.sqrt() * z).exp()
            })
            .collect();
        prices.push(next);
    }
    Ok(Paths { vols, prices })
}

/// A simulated USD price as the methodology's `USD_SCALE` integer (checked: finite,
/// non-negative, in range).
pub fn to_usd_scale(price: f64) -> Result<u128> {
    let scaled = (price * USD_SCALE as f64).round();
    if !scaled.is_finite() || scaled < 0.0 || scaled >= 2f64.powi(120) {
        bail!("simulated price {price} cannot be expressed in USD_SCALE");
    }
    Ok(scaled as u128)
}

/// Targets (fractions summing to 1) by the shared methodology at `prices`.
pub fn targets_at(
    tokens: &[Token],
    prices: &[f64],
    params: &MethodologyParams,
) -> Result<Vec<u64>> {
    let facts = tokens
        .iter()
        .zip(prices)
        .map(|(t, p)| {
            let priced = Token {
                price: to_usd_scale(*p)?,
                ..t.clone()
            };
            Ok(priced.facts())
        })
        .collect::<Result<Vec<_>>>()?;
    let rows = compute_targets(&facts, params).map_err(|e| anyhow!("methodology: {e}"))?;
    Ok(rows.iter().map(|r| r.target).collect())
}

/// Which holdings (USD) lie outside `target * (1 ± band)` as weights of their sum.
pub fn out_of_band(values: &[f64], targets: &[f64], band: f64) -> Vec<bool> {
    let nav: f64 = values.iter().sum();
    values
        .iter()
        .zip(targets)
        .map(|(v, t)| {
            let w = if nav > 0.0 { v / nav } else { 0.0 };
            w < t * (1.0 - band) || w > t * (1.0 + band)
        })
        .collect()
}

/// The buffer rule (see the module docs): new holdings, in USD, from `values` (USD) and
/// `targets` (fractions summing to 1), with a relative `band`.
pub fn buffer_rebalance(values: &[f64], targets: &[f64], band: f64) -> Vec<f64> {
    let nav: f64 = values.iter().sum();
    if nav <= 0.0 || !nav.is_finite() {
        return values.to_vec();
    }
    let out = out_of_band(values, targets, band);
    if !out.iter().any(|o| *o) {
        return values.to_vec();
    }
    // Net proceeds of the out-of-band trades: positive when they free cash.
    let cash: f64 = values
        .iter()
        .zip(targets)
        .zip(&out)
        .filter(|(_, o)| **o)
        .map(|((v, t), _)| v - t * nav)
        .sum();
    // In-band gaps to target that move the right way for the cash: shortfalls when buying,
    // excesses when selling.
    let gap = |v: f64, t: f64| t * nav - v;
    let usable = |g: f64| if cash > 0.0 { g > 0.0 } else { g < 0.0 };
    let room: f64 = values
        .iter()
        .zip(targets)
        .zip(&out)
        .filter(|(_, o)| !**o)
        .map(|((v, t), _)| gap(*v, *t))
        .filter(|g| usable(*g))
        .map(f64::abs)
        .sum();
    let share = if room > 0.0 {
        (cash.abs() / room).min(1.0)
    } else {
        0.0
    };
    values
        .iter()
        .zip(targets)
        .zip(&out)
        .map(|((v, t), o)| {
            let g = gap(*v, *t);
            if *o || (share >= 1.0 && usable(g)) {
                t * nav
            } else if usable(g) {
                v + share * g
            } else {
                *v
            }
        })
        .collect()
}

/// The full rule: every constituent at its target.
pub fn full_rebalance(values: &[f64], targets: &[f64]) -> Vec<f64> {
    let nav: f64 = values.iter().sum();
    targets.iter().map(|t| t * nav).collect()
}

/// One portfolio through the run.
struct Book {
    values: Vec<f64>,
    traded: f64,
    turnover: f64,
    cost_share: f64,
    cost_usd: f64,
    trades: usize,
}

/// What one review did to one portfolio.
struct Step {
    turnover: f64,
    traded_names: usize,
}

impl Book {
    fn new(values: Vec<f64>) -> Self {
        Book {
            values,
            traded: 0.0,
            turnover: 0.0,
            cost_share: 0.0,
            cost_usd: 0.0,
            trades: 0,
        }
    }

    fn nav(&self) -> f64 {
        self.values.iter().sum()
    }

    fn grow(&mut self, before: &[f64], after: &[f64]) {
        for ((v, p0), p1) in self.values.iter_mut().zip(before).zip(after) {
            if *p0 > 0.0 {
                *v *= p1 / p0;
            }
        }
    }

    /// Moves to `new` (noise trades dropped), pays `cost_rate` per unit traded pro rata.
    fn trade(&mut self, mut new: Vec<f64>, cost_rate: f64) -> Step {
        let nav = self.nav();
        let mut traded = 0.0;
        let mut names = 0;
        for (n, v) in new.iter_mut().zip(&self.values) {
            let d = (*n - v).abs();
            if d <= NOISE * nav {
                *n = *v;
            } else {
                traded += d;
                names += 1;
            }
        }
        let cost = traded * cost_rate;
        let after: f64 = new.iter().sum();
        if after > 0.0 && cost > 0.0 {
            let keep = (after - cost).max(0.0) / after;
            new.iter_mut().for_each(|v| *v *= keep);
        }
        self.values = new;
        let turnover = if nav > 0.0 { traded / 2.0 / nav } else { 0.0 };
        self.traded += traded;
        self.turnover += turnover;
        self.cost_share += if nav > 0.0 { cost / nav } else { 0.0 };
        self.cost_usd += cost;
        self.trades += names;
        Step {
            turnover,
            traded_names: names,
        }
    }
}

/// One strategy's figures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StrategyFigures {
    pub name: String,
    /// Annualised (geometric) return.
    pub annual_return: f64,
    /// Annualised volatility of daily log returns.
    pub annual_vol: f64,
    /// One-way turnover a year, fraction of NAV.
    pub turnover_per_year: f64,
    /// Trading cost a year, fraction of NAV.
    pub cost_per_year: f64,
    /// Trading cost over the run, USD.
    pub total_cost_usd: f64,
    /// Constituent trades over the run.
    pub trades: usize,
    /// Annualised return minus the benchmark's.
    pub tracking_difference: f64,
    /// Annualised standard deviation of the daily log-return difference to the benchmark.
    pub tracking_error: f64,
    pub final_nav: f64,
}

/// The benchmark's figures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BenchmarkFigures {
    pub name: String,
    pub annual_return: f64,
    pub annual_vol: f64,
    pub final_nav: f64,
}

/// Realised correlations of daily log returns, averaged over token pairs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Correlations {
    pub model_within_sector: f64,
    pub model_cross_sector: f64,
    /// `None` when there is no pair (or no variance).
    pub within_sector: Option<f64>,
    pub within_pairs: usize,
    pub cross_sector: Option<f64>,
    pub cross_pairs: usize,
}

/// One token in the run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TokenRun {
    pub symbol: String,
    pub sector: String,
    /// Annualised volatility, as drawn and as realised.
    pub vol: f64,
    pub realised_vol: f64,
    pub start_price: f64,
    pub end_price: f64,
    /// precision: WEIGHT_SCALE. Target on day 0 and at the last review.
    pub first_target: u64,
    pub last_target: u64,
}

/// One review.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReviewFigures {
    pub day: u32,
    /// Constituents of the buffer portfolio outside their band before the review's trades.
    pub buffer_out_of_band: usize,
    /// One-way turnover of this review, fraction of NAV.
    pub buffer_turnover: f64,
    pub buffer_traded: usize,
    pub full_turnover: f64,
    pub full_traded: usize,
}

/// Daily NAV of each series, days `0..=days`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct NavPaths {
    pub buffer: Vec<f64>,
    pub full: Vec<f64>,
    pub benchmark: Vec<f64>,
}

/// Everything a run produced.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub seed: u64,
    pub years: u32,
    pub days: u32,
    pub review_every_days: u32,
    /// Reviews after the day-0 build.
    pub reviews: usize,
    pub cost_bps: f64,
    pub band: f64,
    pub vol_min: f64,
    pub vol_max: f64,
    pub drift: f64,
    pub initial_nav: f64,
    pub tokens_in_universe: usize,
    /// Tokens with a positive target on day 0.
    pub eligible: usize,
    pub correlations: Correlations,
    pub buffer: StrategyFigures,
    pub full: StrategyFigures,
    pub benchmark: BenchmarkFigures,
    /// Annualised sd of the daily log-return difference between buffer and full.
    pub buffer_vs_full_tracking_error: f64,
    pub tokens: Vec<TokenRun>,
    pub review_log: Vec<ReviewFigures>,
    #[serde(skip)]
    pub nav: NavPaths,
}

fn log_returns(xs: &[f64]) -> Vec<f64> {
    xs.windows(2)
        .map(|w| {
            if w[0] > 0.0 && w[1] > 0.0 {
                (w[1] / w[0]).ln()
            } else {
                0.0
            }
        })
        .collect()
}

fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        0.0
    } else {
        xs.iter().sum::<f64>() / xs.len() as f64
    }
}

/// Sample standard deviation (n - 1).
fn std_dev(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return 0.0;
    }
    let m = mean(xs);
    (xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (xs.len() - 1) as f64).sqrt()
}

fn correlation(x: &[f64], y: &[f64]) -> Option<f64> {
    let (mx, my) = (mean(x), mean(y));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

fn annual_return(nav: &[f64], years: f64) -> f64 {
    match (nav.first(), nav.last()) {
        (Some(a), Some(b)) if *a > 0.0 && years > 0.0 => (b / a).powf(1.0 / years) - 1.0,
        _ => 0.0,
    }
}

fn annual_vol(nav: &[f64]) -> f64 {
    std_dev(&log_returns(nav)) * (DAYS_PER_YEAR as f64).sqrt()
}

/// Average realised correlation of daily log returns within and across sectors.
pub fn realised_correlations(tokens: &[Token], paths: &Paths, cfg: &Config) -> Correlations {
    let returns: Vec<Vec<f64>> = (0..tokens.len())
        .map(|i| log_returns(&paths.prices.iter().map(|p| p[i]).collect::<Vec<_>>()))
        .collect();
    let (mut within, mut cross) = (Vec::new(), Vec::new());
    for i in 0..tokens.len() {
        for j in i + 1..tokens.len() {
            if let Some(c) = correlation(&returns[i], &returns[j]) {
                if tokens[i].sector == tokens[j].sector {
                    within.push(c);
                } else {
                    cross.push(c);
                }
            }
        }
    }
    Correlations {
        model_within_sector: cfg.rho_sector,
        model_cross_sector: cfg.rho_market,
        within_sector: (!within.is_empty()).then(|| mean(&within)),
        within_pairs: within.len(),
        cross_sector: (!cross.is_empty()).then(|| mean(&cross)),
        cross_pairs: cross.len(),
    }
}

fn fractions(targets: &[u64]) -> Vec<f64> {
    targets
        .iter()
        .map(|t| *t as f64 / WEIGHT_SCALE as f64)
        .collect()
}

/// Runs the backtest on simulated prices for `tokens`.
pub fn run(tokens: &[Token], cfg: &Config) -> Result<Report> {
    cfg.validate()?;
    if tokens.is_empty() {
        bail!("the universe has no token");
    }
    let days = cfg.days()?;
    let paths = simulate(tokens, cfg)?;
    let cost_rate = cfg.cost_bps / 10_000.0;

    let first = targets_at(tokens, &paths.prices[0], &cfg.methodology).context("day 0")?;
    let start: Vec<f64> = fractions(&first)
        .iter()
        .map(|t| t * cfg.initial_nav)
        .collect();
    let mut buffer = Book::new(start.clone());
    let mut full = Book::new(start);

    // Benchmark: buy and hold of circulating market caps of the day-0 eligible set.
    let in_benchmark: Vec<bool> = first.iter().map(|t| *t > 0).collect();
    let market_cap = |prices: &[f64]| -> f64 {
        tokens
            .iter()
            .zip(prices)
            .zip(&in_benchmark)
            .filter(|(_, e)| **e)
            .map(|((t, p), _)| p * t.circulating_supply as f64)
            .sum()
    };
    let cap0 = market_cap(&paths.prices[0]);
    if cap0 <= 0.0 || !cap0.is_finite() {
        bail!("the eligible tokens have no market cap on day 0");
    }

    let mut nav = NavPaths {
        buffer: vec![cfg.initial_nav],
        full: vec![cfg.initial_nav],
        benchmark: vec![cfg.initial_nav],
    };
    let mut review_log = Vec::new();
    let mut last = first.clone();
    for day in 1..=days {
        let d = day as usize;
        let (before, after) = (&paths.prices[d - 1], &paths.prices[d]);
        buffer.grow(before, after);
        full.grow(before, after);
        if day % cfg.review_every_days == 0 {
            let targets = targets_at(tokens, after, &cfg.methodology)
                .with_context(|| format!("review on day {day}"))?;
            let t = fractions(&targets);
            let buffer_out_of_band = out_of_band(&buffer.values, &t, cfg.band)
                .iter()
                .filter(|o| **o)
                .count();
            let b = buffer.trade(buffer_rebalance(&buffer.values, &t, cfg.band), cost_rate);
            let f = full.trade(full_rebalance(&full.values, &t), cost_rate);
            review_log.push(ReviewFigures {
                day,
                buffer_out_of_band,
                buffer_turnover: b.turnover,
                buffer_traded: b.traded_names,
                full_turnover: f.turnover,
                full_traded: f.traded_names,
            });
            last = targets;
        }
        nav.buffer.push(buffer.nav());
        nav.full.push(full.nav());
        nav.benchmark
            .push(cfg.initial_nav * market_cap(after) / cap0);
    }

    let years = days as f64 / DAYS_PER_YEAR as f64;
    let bench_ret = annual_return(&nav.benchmark, years);
    let bench_lr = log_returns(&nav.benchmark);
    let figures = |name: &str, book: &Book, path: &[f64]| {
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
            turnover_per_year: book.turnover / years,
            cost_per_year: book.cost_share / years,
            total_cost_usd: book.cost_usd,
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
        full: figures(SERIES_FULL, &full, &nav.full),
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

/// A fraction as a percentage, `digits` decimals.
fn pct_f(x: f64, digits: usize) -> String {
    format!("{:.*}%", digits, x * 100.0)
}

/// A signed fraction as a percentage.
fn pct_signed(x: f64, digits: usize) -> String {
    format!("{:+.*}%", digits, x * 100.0)
}

/// Whole USD with thousands separators.
fn usd(x: f64) -> String {
    let neg = x < 0.0;
    let digits = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    format!("{}${out}", if neg { "-" } else { "" })
}

fn corr(c: Option<f64>) -> String {
    c.map_or_else(|| "n/a".to_string(), |x| format!("{x:.3}"))
}

/// The report for humans.
pub fn print(r: &Report, out: &mut impl Write) -> Result<()> {
    writeln!(
        out,
        "aidx backtest: {} tokens ({} eligible on day 0), {} years of {DAYS_PER_YEAR} days, seed {}",
        r.tokens_in_universe, r.eligible, r.years, r.seed
    )?;
    writeln!(
        out,
        "model: daily log returns from a market factor plus a sector factor; correlation {:.2} \
         across sectors, {:.2} within; volatility {:.0}%-{:.0}% a year per token (uniform); \
         log drift {:.0}% a year",
        r.correlations.model_cross_sector,
        r.correlations.model_within_sector,
        r.vol_min * 100.0,
        r.vol_max * 100.0,
        r.drift * 100.0
    )?;
    let realised: Vec<f64> = r.tokens.iter().map(|t| t.realised_vol).collect();
    writeln!(
        out,
        "realised: correlation within sectors {} ({} pairs), across sectors {} ({} pairs); \
         token volatility {:.0}%-{:.0}%, mean {:.0}%",
        corr(r.correlations.within_sector),
        r.correlations.within_pairs,
        corr(r.correlations.cross_sector),
        r.correlations.cross_pairs,
        realised.iter().copied().fold(f64::INFINITY, f64::min) * 100.0,
        realised.iter().copied().fold(0.0, f64::max) * 100.0,
        mean(&realised) * 100.0
    )?;
    writeln!(
        out,
        "rebalance: every {} days ({} reviews after the day-0 build); buffer band ±{:.0}% of \
         target; cost {} bps per unit traded; start NAV {}\n",
        r.review_every_days,
        r.reviews,
        r.band * 100.0,
        r.cost_bps,
        usd(r.initial_nav)
    )?;
    let row = |s: &StrategyFigures| {
        vec![
            s.name.clone(),
            pct_f(s.annual_return, 2),
            pct_f(s.annual_vol, 1),
            pct_f(s.turnover_per_year, 1),
            s.trades.to_string(),
            pct_f(s.cost_per_year, 3),
            usd(s.total_cost_usd),
            pct_signed(s.tracking_difference, 2),
            pct_f(s.tracking_error, 2),
            usd(s.final_nav),
        ]
    };
    let b = &r.benchmark;
    let rows = vec![
        row(&r.buffer),
        row(&r.full),
        vec![
            b.name.clone(),
            pct_f(b.annual_return, 2),
            pct_f(b.annual_vol, 1),
            pct_f(0.0, 1),
            "0".into(),
            pct_f(0.0, 3),
            usd(0.0),
            "-".into(),
            "-".into(),
            usd(b.final_nav),
        ],
    ];
    write!(
        out,
        "{}",
        render(
            &[
                ("strategy", Align::Left),
                ("return/yr", Align::Right),
                ("vol/yr", Align::Right),
                ("turnover/yr", Align::Right),
                ("trades", Align::Right),
                ("cost/yr", Align::Right),
                ("cost total", Align::Right),
                ("TD vs uncapped", Align::Right),
                ("TE vs uncapped", Align::Right),
                ("end NAV", Align::Right),
            ],
            &rows
        )
    )?;
    writeln!(
        out,
        "turnover one-way (sum |trade| / 2 / NAV); cost and turnover a year; TD: return/yr minus \
         the uncapped benchmark's; TE: annualised sd of the daily log-return difference"
    )?;
    let buffer_saving = r.full.cost_per_year - r.buffer.cost_per_year;
    writeln!(
        out,
        "buffer vs full: turnover {} of full's, cost saved {} of NAV a year, return {} a year, \
         tracking error between them {}\n",
        if r.full.turnover_per_year > 0.0 {
            pct_f(r.buffer.turnover_per_year / r.full.turnover_per_year, 0)
        } else {
            "n/a".into()
        },
        pct_f(buffer_saving, 3),
        pct_signed(r.buffer.annual_return - r.full.annual_return, 2),
        pct_f(r.buffer_vs_full_tracking_error, 2)
    )?;
    let rows: Vec<Vec<String>> = r
        .review_log
        .iter()
        .map(|v| {
            vec![
                v.day.to_string(),
                format!("{:.1}", v.day as f64 / DAYS_PER_YEAR as f64),
                v.buffer_out_of_band.to_string(),
                pct_f(v.buffer_turnover, 2),
                v.buffer_traded.to_string(),
                pct_f(v.full_turnover, 2),
                v.full_traded.to_string(),
            ]
        })
        .collect();
    writeln!(
        out,
        "per review (out of band: buffer constituents outside their band before trading; \
         names traded include the in-band names absorbing the cash)"
    )?;
    write!(
        out,
        "{}",
        render(
            &[
                ("day", Align::Right),
                ("year", Align::Right),
                ("out of band", Align::Right),
                ("buffer turnover", Align::Right),
                ("names traded", Align::Right),
                ("full turnover", Align::Right),
                ("names traded", Align::Right),
            ],
            &rows
        )
    )?;
    Ok(())
}

/// Evenly spaced round tick values covering `[lo, hi]` (about `n` of them).
fn nice_ticks(lo: f64, hi: f64, n: usize) -> (Vec<f64>, f64) {
    let (lo, hi) = if (hi - lo).abs() < 1e-9 {
        (lo - 1.0, hi + 1.0)
    } else {
        (lo, hi)
    };
    let raw = (hi - lo) / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let start = (lo / step).floor() * step;
    let end = (hi / step).ceil() * step;
    let count = ((end - start) / step).round() as usize;
    ((0..=count).map(|k| start + k as f64 * step).collect(), step)
}

fn tick_label(v: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10()).ceil() as usize
    };
    let s = format!("{v:.decimals$}");
    if s.trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        format!("{:.decimals$}", 0.0)
    } else {
        s
    }
}

/// Round ticks for a log axis over `[lo, hi]` (both positive): 1-2-5 per decade, coarser or
/// finer so that there are a handful.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let sets: [&[f64]; 4] = [
        &[1.0],
        &[1.0, 2.0, 5.0],
        &[1.0, 1.5, 2.0, 3.0, 5.0, 7.0],
        &[
            1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0,
        ],
    ];
    let (k0, k1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let mut best = Vec::new();
    for set in sets {
        best = (k0..=k1)
            .flat_map(|k| set.iter().map(move |m| m * 10f64.powi(k)))
            .filter(|t| *t >= lo && *t <= hi)
            .collect();
        if best.len() >= 4 {
            break;
        }
    }
    best
}

/// A tick value: no decimals from 10 up, else up to two, trailing zeros dropped.
fn log_label(v: f64) -> String {
    if v >= 10.0 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// One line of a chart panel: values by day, colour, dash pattern, width.
type Line<'a> = (&'a [f64], &'a str, &'a str, f64);

/// Axis scale of a chart panel.
#[derive(Clone, Copy, PartialEq)]
enum Scale {
    Linear,
    Log,
}

/// The NAV paths of buffer, full and the uncapped benchmark (rebased to 100, log scale); below
/// them buffer and full relative to the benchmark, and buffer relative to full; as a
/// hand-written SVG.
pub fn chart_svg(r: &Report) -> String {
    const W: f64 = 1000.0;
    const H: f64 = 900.0;
    const LEFT: f64 = 90.0;
    const RIGHT: f64 = 30.0;
    const BLUE: &str = "#1f5fbf";
    const RED: &str = "#d0402b";
    const GREY: &str = "#444444";
    let days = r.days.max(1) as f64;
    let x = |d: usize| LEFT + (W - LEFT - RIGHT) * d as f64 / days;
    let stride = (r.days as usize / 1500).max(1);

    let rebase = |s: &[f64]| -> Vec<f64> {
        let base = s.first().copied().filter(|b| *b > 0.0).unwrap_or(1.0);
        s.iter().map(|v| (100.0 * v / base).max(1e-9)).collect()
    };
    let (buf, full, bench) = (
        rebase(&r.nav.buffer),
        rebase(&r.nav.full),
        rebase(&r.nav.benchmark),
    );
    let relative = |s: &[f64], to: &[f64]| -> Vec<f64> {
        s.iter()
            .zip(to)
            .map(|(a, b)| if *b > 0.0 { 100.0 * (a / b - 1.0) } else { 0.0 })
            .collect()
    };
    let (rel_buf, rel_full, buf_vs_full) = (
        relative(&buf, &bench),
        relative(&full, &bench),
        relative(&buf, &full),
    );

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="14">"##
    );
    let _ = writeln!(svg, r##"<rect width="{W}" height="{H}" fill="#ffffff"/>"##);
    let _ = writeln!(
        svg,
        r##"<text x="{}" y="30" text-anchor="middle" font-size="19" font-weight="bold">aidx backtest: quarterly buffer vs full rebalance vs uncapped market cap</text>"##,
        W / 2.0
    );
    let _ = writeln!(
        svg,
        r##"<text x="{}" y="52" text-anchor="middle" fill="#555555">simulated prices, seed {}, {} years, reviews every {} days, band ±{:.0}%, cost {} bps per unit traded</text>"##,
        W / 2.0,
        r.seed,
        r.years,
        r.review_every_days,
        r.band * 100.0,
        r.cost_bps
    );

    // Legend, under the title, one row, each entry sized by its text.
    let legend = [
        (
            BLUE,
            "",
            format!(
                "{SERIES_BUFFER} ±{:.0}% band ({}/yr)",
                r.band * 100.0,
                pct_f(r.buffer.annual_return, 1)
            ),
        ),
        (
            RED,
            "",
            format!(
                "{SERIES_FULL} rebalance ({}/yr)",
                pct_f(r.full.annual_return, 1)
            ),
        ),
        (
            GREY,
            "6 4",
            format!(
                "{SERIES_BENCHMARK} benchmark ({}/yr)",
                pct_f(r.benchmark.annual_return, 1)
            ),
        ),
    ];
    let mut lx = LEFT;
    for (color, dash, label) in &legend {
        let _ = writeln!(
            svg,
            r##"<line x1="{lx:.1}" y1="80" x2="{:.1}" y2="80" stroke="{color}" stroke-width="3" stroke-dasharray="{dash}"/><text x="{:.1}" y="85">{}</text>"##,
            lx + 28.0,
            lx + 34.0,
            esc(label)
        );
        lx += 34.0 + 7.6 * label.chars().count() as f64 + 36.0;
    }

    let panel = |svg: &mut String,
                 (y0, y1): (f64, f64),
                 title: &str,
                 ylabel: &str,
                 scale: Scale,
                 series: &[Line],
                 x_labels: bool| {
        let values = || series.iter().flat_map(|s| s.0.iter()).copied();
        let lo = values().fold(f64::INFINITY, f64::min);
        let hi = values().fold(f64::NEG_INFINITY, f64::max);
        let (lo, hi) = if lo.is_finite() && hi.is_finite() {
            (lo, hi)
        } else {
            (0.0, 1.0)
        };
        // Axis range and ticks (value, label); `f` maps a value onto the axis.
        let (a0, a1, ticks): (f64, f64, Vec<(f64, String)>) = match scale {
            Scale::Log => {
                let (lo, hi) = (lo.max(1e-9) / 1.08, hi.max(1e-9) * 1.08);
                let ticks = log_ticks(lo, hi)
                    .into_iter()
                    .map(|t| (t, log_label(t)))
                    .collect();
                (lo, hi, ticks)
            }
            Scale::Linear => {
                let (ticks, step) = nice_ticks(lo, hi, 5);
                let (a0, a1) = (
                    ticks.first().copied().unwrap_or(lo),
                    ticks.last().copied().unwrap_or(hi),
                );
                let ticks = ticks
                    .into_iter()
                    .map(|t| (t, tick_label(t, step)))
                    .collect();
                (a0, a1, ticks)
            }
        };
        let f = |v: f64| match scale {
            Scale::Log => v.max(1e-9).ln(),
            Scale::Linear => v,
        };
        let span = if f(a1) > f(a0) { f(a1) - f(a0) } else { 1.0 };
        let y = |v: f64| y1 - (y1 - y0) * (f(v) - f(a0)) / span;
        let _ = writeln!(
            svg,
            r##"<text x="{LEFT}" y="{}" font-weight="bold">{}</text>"##,
            y0 - 8.0,
            esc(title)
        );
        for (t, label) in &ticks {
            let _ = writeln!(
                svg,
                r##"<line x1="{LEFT}" y1="{:.1}" x2="{}" y2="{:.1}" stroke="{}"/><text x="{}" y="{:.1}" text-anchor="end">{label}</text>"##,
                y(*t),
                W - RIGHT,
                y(*t),
                if scale == Scale::Linear && *t == 0.0 {
                    "#888888"
                } else {
                    "#e2e2e2"
                },
                LEFT - 8.0,
                y(*t) + 5.0,
            );
        }
        let year_step = (r.years / 10).max(1);
        for k in (0..=r.years).step_by(year_step as usize) {
            let d = k.saturating_mul(DAYS_PER_YEAR) as usize;
            let _ = writeln!(
                svg,
                r##"<line x1="{:.1}" y1="{y0}" x2="{:.1}" y2="{y1}" stroke="#e2e2e2"/>"##,
                x(d),
                x(d)
            );
            if x_labels {
                let _ = writeln!(
                    svg,
                    r##"<text x="{:.1}" y="{}" text-anchor="middle">{k}</text>"##,
                    x(d),
                    y1 + 20.0
                );
            }
        }
        let _ = writeln!(
            svg,
            r##"<text transform="translate(28 {:.1}) rotate(-90)" text-anchor="middle">{}</text>"##,
            (y0 + y1) / 2.0,
            esc(ylabel)
        );
        for (s, color, dash, width) in series {
            let points: Vec<String> = s
                .iter()
                .enumerate()
                .filter(|(d, _)| d % stride == 0 || *d + 1 == s.len())
                .map(|(d, v)| format!("{:.1},{:.1}", x(d), y(*v)))
                .collect();
            let _ = writeln!(
                svg,
                r##"<polyline fill="none" stroke="{color}" stroke-width="{width}" stroke-dasharray="{dash}" stroke-linejoin="round" points="{}"/>"##,
                points.join(" ")
            );
        }
        let _ = writeln!(
            svg,
            r##"<rect x="{LEFT}" y="{y0}" width="{}" height="{}" fill="none" stroke="#333333"/>"##,
            W - LEFT - RIGHT,
            y1 - y0
        );
    };
    panel(
        &mut svg,
        (125.0, 445.0),
        "NAV of each portfolio, rebased to 100 (log scale)",
        "NAV",
        Scale::Log,
        &[
            (&bench, GREY, "6 4", 2.0),
            (&full, RED, "", 1.6),
            (&buf, BLUE, "", 1.6),
        ],
        false,
    );
    panel(
        &mut svg,
        (495.0, 655.0),
        "buffer and full relative to the uncapped benchmark",
        "% vs uncapped",
        Scale::Linear,
        &[(&rel_full, RED, "", 1.6), (&rel_buf, BLUE, "", 1.6)],
        false,
    );
    panel(
        &mut svg,
        (705.0, 835.0),
        "buffer relative to full",
        "% vs full",
        Scale::Linear,
        &[(&buf_vs_full, BLUE, "", 1.6)],
        true,
    );
    let _ = writeln!(
        svg,
        r##"<text x="{}" y="{}" text-anchor="middle">years</text>"##,
        (LEFT + W - RIGHT) / 2.0,
        835.0 + 44.0
    );
    svg.push_str("</svg>\n");
    svg
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Writes [`chart_svg`] to `path`.
pub fn write_chart(r: &Report, path: &Path) -> Result<()> {
    std::fs::write(path, chart_svg(r)).with_context(|| format!("writing {}", path.display()))
}

/// `aidx backtest` options.
#[derive(clap::Args, Clone, Debug)]
pub struct BacktestArgs {
    /// Universe CSV (defaults to the bundled sample universe).
    #[arg(long, env = "AIDX_UNIVERSE")]
    pub universe: Option<PathBuf>,
    /// Years simulated (whole years of 365 days, 1-50).
    #[arg(long, default_value_t = 5, env = "AIDX_YEARS")]
    pub years: u32,
    /// Seed of the simulated prices.
    #[arg(long, default_value_t = 42, env = "AIDX_SEED")]
    pub seed: u64,
    /// Trading cost per unit of value traded, basis points (0-1000).
    #[arg(
        long,
        default_value_t = 30.0,
        allow_negative_numbers = true,
        env = "AIDX_COST_BPS"
    )]
    pub cost_bps: f64,
    /// Buffer band, percent of target (relative), below 100.
    #[arg(
        long,
        default_value_t = 20.0,
        allow_negative_numbers = true,
        env = "AIDX_BAND_PCT"
    )]
    pub band_pct: f64,
    /// SVG chart of the NAV paths.
    #[arg(long, default_value = "backtest.svg", env = "AIDX_CHART")]
    pub chart: PathBuf,
    /// Print JSON instead of tables.
    #[arg(long, env = "AIDX_JSON")]
    pub json: bool,
}

/// The `aidx backtest` command.
pub fn cli(args: &BacktestArgs, out: &mut impl Write) -> Result<()> {
    let started = Instant::now();
    let csv = match &args.universe {
        Some(p) => {
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?
        }
        None => universe::SAMPLE_UNIVERSE.to_string(),
    };
    let tokens = universe::parse(&csv)?;
    if !args.band_pct.is_finite() || !(0.0..100.0).contains(&args.band_pct) {
        bail!(
            "--band-pct must be at least 0 and below 100, got {}",
            args.band_pct
        );
    }
    let cfg = Config {
        years: args.years,
        seed: args.seed,
        cost_bps: args.cost_bps,
        band: args.band_pct / 100.0,
        ..Config::default()
    };
    let report = run(&tokens, &cfg)?;
    write_chart(&report, &args.chart)?;
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        print(&report, out)?;
        writeln!(
            out,
            "\nchart: {} (ran in {} ms)",
            args.chart.display(),
            started.elapsed().as_millis()
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Token> {
        universe::parse(universe::SAMPLE_UNIVERSE).unwrap()
    }

    #[test]
    fn prng_is_deterministic_for_a_seed() {
        let draw = |seed| {
            let mut r = Rng::new(seed);
            (0..100).map(|_| r.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(draw(42), draw(42));
        assert_ne!(draw(42), draw(43));
        let mut r = Rng::new(7);
        let z: Vec<f64> = (0..20_000).map(|_| r.normal()).collect();
        assert!(mean(&z).abs() < 0.03, "{}", mean(&z));
        assert!((std_dev(&z) - 1.0).abs() < 0.03, "{}", std_dev(&z));
        let mut r = Rng::new(7);
        assert!((0..10_000)
            .map(|_| r.uniform())
            .all(|u| (0.0..1.0).contains(&u)));
    }

    /// Random weights and targets; the buffer rule moves every weight toward its target and
    /// never past it, puts out-of-band names exactly at target, trades no in-band name when
    /// none is out of band, and keeps the NAV.
    #[test]
    fn buffer_rule_never_trades_past_target() {
        let mut rng = Rng::new(1);
        for case in 0..2_000 {
            let n = 2 + (rng.next_u64() % 18) as usize;
            let raw_t: Vec<f64> = (0..n)
                .map(|_| {
                    if rng.uniform() < 0.1 {
                        0.0
                    } else {
                        rng.uniform()
                    }
                })
                .collect();
            let raw_w: Vec<f64> = raw_t
                .iter()
                .map(|t| {
                    if rng.uniform() < 0.05 {
                        0.0
                    } else {
                        (t * (0.6 + 0.8 * rng.uniform())).max(if rng.uniform() < 0.1 {
                            rng.uniform()
                        } else {
                            0.0
                        })
                    }
                })
                .collect();
            let (st, sw): (f64, f64) = (raw_t.iter().sum(), raw_w.iter().sum());
            if st == 0.0 || sw == 0.0 {
                continue;
            }
            let targets: Vec<f64> = raw_t.iter().map(|t| t / st).collect();
            let nav = 1_000.0;
            let values: Vec<f64> = raw_w.iter().map(|w| w / sw * nav).collect();
            let band = 0.2;
            let new = buffer_rebalance(&values, &targets, band);
            let total: f64 = new.iter().sum();
            assert!((total - nav).abs() < 1e-9, "case {case}: {total}");
            let any_out = values.iter().zip(&targets).any(|(v, t)| {
                let w = v / nav;
                w < t * (1.0 - band) || w > t * (1.0 + band)
            });
            for i in 0..n {
                let (v, t, x) = (values[i], targets[i] * nav, new[i]);
                let tol = 1e-9;
                assert!(
                    (v.min(t) - tol..=v.max(t) + tol).contains(&x),
                    "case {case} name {i}: {v} -> {x}, target {t}"
                );
                let w = v / nav;
                let out = w < targets[i] * (1.0 - band) || w > targets[i] * (1.0 + band);
                if out {
                    assert!(
                        (x - t).abs() < tol,
                        "case {case}: out of band not at target"
                    );
                }
                if !any_out {
                    assert_eq!(x, v, "case {case}: traded with nothing out of band");
                }
            }
        }
    }

    #[test]
    fn buffer_rule_example() {
        let close = |a: Vec<f64>, b: &[f64]| {
            assert!(
                a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9),
                "{a:?} vs {b:?}"
            );
        };
        let t = [0.2, 0.3, 0.3, 0.2];
        // A at 26% is above its band (16%-24%): sold to 20%. The 6 freed buy the in-band names
        // under target (B and C, 4 short each) pro rata, 3 each; D, over target, is untouched.
        close(
            buffer_rebalance(&[26.0, 26.0, 26.0, 22.0], &t, 0.2),
            &[20.0, 29.0, 29.0, 22.0],
        );
        // A at 14% is below its band: bought to 20%, paid by the in-band names over target
        // (B and D, 4 over each), 3 each; C, under target, is untouched.
        close(
            buffer_rebalance(&[14.0, 34.0, 28.0, 24.0], &t, 0.2),
            &[20.0, 31.0, 28.0, 21.0],
        );
        // The in-band shortfall equals the cash: all of them end at target.
        close(
            buffer_rebalance(&[26.0, 27.0, 27.0, 20.0], &t, 0.2),
            &[20.0, 30.0, 30.0, 20.0],
        );
        // Nobody out of band: no trade.
        let v = [22.0, 32.0, 28.0, 18.0];
        assert_eq!(buffer_rebalance(&v, &t, 0.2), v.to_vec());
        // A zero target has an empty band: the holding is sold.
        close(
            buffer_rebalance(&[1.0, 33.0, 33.0, 33.0], &[0.0, 0.34, 0.33, 0.33], 0.2),
            &[0.0, 34.0, 33.0, 33.0],
        );
    }

    fn short(years: u32, seed: u64) -> Config {
        Config {
            years,
            seed,
            ..Config::default()
        }
    }

    /// From the same holdings and targets the buffer never trades more than the full rule:
    /// out-of-band names make the same trade, in-band names at most their full gap.
    #[test]
    fn buffer_trades_no_more_than_full_from_the_same_state() {
        let mut rng = Rng::new(5);
        for case in 0..2_000 {
            let n = 2 + (rng.next_u64() % 18) as usize;
            let raw_t: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
            let st: f64 = raw_t.iter().sum();
            let targets: Vec<f64> = raw_t.iter().map(|t| t / st).collect();
            let values: Vec<f64> = targets
                .iter()
                .map(|t| 1_000.0 * t * (0.5 + rng.uniform()))
                .collect();
            let traded = |new: Vec<f64>| -> f64 {
                new.iter().zip(&values).map(|(a, b)| (a - b).abs()).sum()
            };
            let b = traded(buffer_rebalance(&values, &targets, 0.2));
            let f = traded(full_rebalance(&values, &targets));
            assert!(b <= f + 1e-9, "case {case}: buffer {b} > full {f}");
        }
    }

    /// On whole paths the buffer turns over less than the full rebalance. This is not a
    /// theorem: the buffer carries in-band drift into the next review, so on a short horizon
    /// a path can make it trade more (1-year seeds 2, 7 and 87 of 1..=100 do); over the default
    /// 5 years it traded less on each of seeds 1..=100.
    #[test]
    fn full_turns_over_more_than_buffer_on_the_path() {
        let tokens = sample();
        for seed in [1, 2, 7, 42] {
            let r = run(&tokens, &short(5, seed)).unwrap();
            assert!(r.full.turnover_per_year > r.buffer.turnover_per_year);
            assert!(r.full.cost_per_year > r.buffer.cost_per_year);
            assert!(r.buffer.turnover_per_year > 0.0);
            // Cost is the rate on both sides of the one-way turnover.
            let rate = r.cost_bps / 10_000.0;
            for s in [&r.buffer, &r.full] {
                assert!((s.cost_per_year - 2.0 * rate * s.turnover_per_year).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn a_zero_band_is_the_full_rebalance() {
        let r = run(
            &sample(),
            &Config {
                band: 0.0,
                ..short(2, 42)
            },
        )
        .unwrap();
        assert_eq!(r.nav.buffer, r.nav.full);
        assert_eq!(r.buffer.turnover_per_year, r.full.turnover_per_year);
    }

    #[test]
    fn no_turnover_after_the_first_review_without_volatility() {
        let cfg = Config {
            vol_min: 0.0,
            vol_max: 0.0,
            ..short(2, 42)
        };
        let r = run(&sample(), &cfg).unwrap();
        assert_eq!(r.reviews, 8);
        for s in [&r.buffer, &r.full] {
            assert_eq!(s.turnover_per_year, 0.0);
            assert_eq!(s.trades, 0);
            assert_eq!(s.total_cost_usd, 0.0);
        }
        assert_eq!(r.correlations.within_sector, None);
        assert!((r.buffer.final_nav - cfg.initial_nav).abs() < 1e-6);
    }

    #[test]
    fn same_seed_same_results() {
        let tokens = sample();
        let a = run(&tokens, &short(1, 9)).unwrap();
        let b = run(&tokens, &short(1, 9)).unwrap();
        assert_eq!(a, b);
        assert_eq!(chart_svg(&a), chart_svg(&b));
        let c = run(&tokens, &short(1, 10)).unwrap();
        assert_ne!(a.nav, c.nav);
    }

    #[test]
    fn realised_correlations_match_the_model() {
        let tokens = sample();
        let cfg = Config::default();
        let paths = simulate(&tokens, &cfg).unwrap();
        let c = realised_correlations(&tokens, &paths, &cfg);
        let (w, x) = (c.within_sector.unwrap(), c.cross_sector.unwrap());
        assert!((w - 0.80).abs() < 0.04, "within {w}");
        assert!((x - 0.65).abs() < 0.04, "cross {x}");
        assert_eq!(c.within_pairs + c.cross_pairs, 20 * 19 / 2);
        for (v, t) in paths.vols.iter().zip(&tokens) {
            assert!((0.70..=1.10).contains(v), "{}: {v}", t.symbol);
        }
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        let tokens = sample();
        let err = |cfg: Config| run(&tokens, &cfg).unwrap_err().to_string();
        assert!(err(short(0, 1)).contains("--years"));
        assert!(err(short(51, 1)).contains("--years"));
        for bps in [-1.0, f64::NAN, f64::INFINITY, 1_001.0] {
            assert!(err(Config {
                cost_bps: bps,
                ..short(1, 1)
            })
            .contains("--cost-bps"));
        }
        assert!(run(&[], &short(1, 1)).is_err());
        assert!(to_usd_scale(f64::NAN).is_err());
        assert!(to_usd_scale(-1.0).is_err());
        assert!(to_usd_scale(1e40).is_err());
        assert_eq!(to_usd_scale(1.5).unwrap(), 1_500_000_000_000);
    }

    #[test]
    fn chart_is_svg_with_three_series() {
        let r = run(&sample(), &short(1, 3)).unwrap();
        let svg = chart_svg(&r);
        assert!(svg.starts_with("<svg"));
        assert!(svg.trim_end().ends_with("</svg>"));
        for name in [SERIES_BUFFER, SERIES_FULL, SERIES_BENCHMARK] {
            assert!(svg.contains(name));
        }
        assert_eq!(svg.matches("<polyline").count(), 6);
        assert!(!svg.contains("NaN"));
    }

    #[test]
    fn ticks_are_round() {
        let (t, s) = nice_ticks(83.2, 171.9, 6);
        assert_eq!(s, 20.0);
        assert_eq!(t.first().copied(), Some(80.0));
        assert_eq!(t.last().copied(), Some(180.0));
        assert_eq!(tick_label(-0.0, 0.5), "0.0");
        assert_eq!(tick_label(2.5, 0.5), "2.5");
    }
}
