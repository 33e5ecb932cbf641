//! What a run produced, and the report for humans.

use super::stats::mean;
use super::DAYS_PER_YEAR;
use crate::output::{render, Align};
use anyhow::Result;
use serde::Serialize;
use std::io::Write;

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

/// A fraction as a percentage, `digits` decimals.
pub(super) fn pct_f(x: f64, digits: usize) -> String {
    format!("{:.*}%", digits, x * 100.0)
}

/// A signed fraction as a percentage.
fn pct_signed(x: f64, digits: usize) -> String {
    format!("{:+.*}%", digits, x * 100.0)
}

/// Whole USD with thousands separators.
fn whole_usd(x: f64) -> String {
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
        "rebalance: every {} days ({} reviews after the day-0 build); start NAV {}\n\
         buffer: the program's own code and default policy (band ±{:.0}% of target; trades in the \
         day after each review, out-of-band legs stopped just inside the band's edge; the keeper \
         swaps when the auction's reward covers its {} bps of costs; the vault pays the reward, \
         keeps the oracle spread)\nfull: every constituent to target at each review, {} bps per \
         unit traded\n",
        r.review_every_days,
        r.reviews,
        whole_usd(r.initial_nav),
        r.band * 100.0,
        r.cost_bps,
        r.cost_bps,
    )?;
    let row = |s: &StrategyFigures| {
        vec![
            s.name.clone(),
            pct_f(s.annual_return, 2),
            pct_f(s.annual_vol, 1),
            pct_f(s.turnover_per_year, 1),
            s.trades.to_string(),
            pct_f(s.cost_per_year, 3),
            whole_usd(s.total_cost_usd),
            pct_signed(s.tracking_difference, 2),
            pct_f(s.tracking_error, 2),
            whole_usd(s.final_nav),
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
            whole_usd(0.0),
            "-".into(),
            "-".into(),
            whole_usd(b.final_nav),
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
        "per review (out of band: buffer constituents outside their band after the review, before \
         trading; buffer names traded: the constituents its swaps paid in or out in the window)"
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
