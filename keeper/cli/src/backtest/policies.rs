//! Rebalance policies compared over many simulated paths, each through the program's own code
//! ([`super::program`]): when trades may happen (in the day after each review, the program's
//! default window; any day a constituent is out of band, what the program allowed before; in a
//! window of 3 or 14 days plus, outside it, a constituent out of band above the cap) and where
//! an out-of-band constituent is clipped (at its target, or just inside its band's inner edge,
//! the no-trade-region boundary the literature on proportional costs finds optimal, never
//! above the cap). The reference is a full rebalance at each review on the backtest's book,
//! paying `cost_bps` per unit traded. Targets are recomputed at each review by the shared
//! methodology; every path and every policy sees the same prices. Figures per path, then
//! their distributions.

use super::model::simulate;
use super::program;
use super::stats::{annual_return, log_returns, std_dev};
use super::strategies::{targets_at, Book};
use super::{benchmark_cap, fractions, Config, DAYS_PER_YEAR};
use aidx::math::WEIGHT_SCALE;
use aidx::state::{IndexParams, CLIP_EDGE, CLIP_TARGET};
use aidx_client::universe::Token;
use anyhow::{bail, Context, Result};
use serde::Serialize;

/// When trades may happen and where they stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Rule {
    /// Every constituent to target at each review (the reference; not a program policy).
    FullAtReview,
    /// What the program does with these parameters, simulated through its own code.
    Program {
        /// Rebalance window after new targets, days (0: any time).
        window_days: u32,
        /// Outside the window, a constituent out of band above the cap may still be sold.
        breach_at_cap: bool,
        /// `CLIP_TARGET` or `CLIP_EDGE`.
        clip: u8,
    },
}

/// A policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// Its name in the table.
    pub name: &'static str,
    /// What it does.
    pub rule: Rule,
}

const fn program(name: &'static str, window_days: u32, breach_at_cap: bool, clip: u8) -> Policy {
    Policy {
        name,
        rule: Rule::Program {
            window_days,
            breach_at_cap,
            clip,
        },
    }
}

/// The policies compared. "review" is the day after each review (the program's default
/// window); "continuous" any day (window 0: what the program allowed before).
pub const POLICIES: [Policy; 9] = [
    Policy {
        name: "full at review",
        rule: Rule::FullAtReview,
    },
    program("review, to target", 1, false, CLIP_TARGET),
    program("review, to edge", 1, false, CLIP_EDGE),
    program("continuous, to target", 0, false, CLIP_TARGET),
    program("continuous, to edge", 0, false, CLIP_EDGE),
    program("window 3 d + cap, to target", 3, true, CLIP_TARGET),
    program("window 3 d + cap, to edge", 3, true, CLIP_EDGE),
    program("window 14 d + cap, to target", 14, true, CLIP_TARGET),
    program("window 14 d + cap, to edge", 14, true, CLIP_EDGE),
];

impl Policy {
    /// The index parameters that run this policy under `cfg` (its band and cap), when the
    /// program can run it (`Ok(None)`: the reference).
    pub fn params(&self, cfg: &Config) -> Result<Option<IndexParams>> {
        let Rule::Program {
            window_days,
            breach_at_cap,
            clip,
        } = self.rule
        else {
            return Ok(None);
        };
        let base = program::params_of(cfg)?;
        let p = IndexParams {
            rebalance_window_secs: window_days * 86_400,
            breach_weight_bps: if breach_at_cap {
                (base.max_weight / (WEIGHT_SCALE / 10_000)) as u16
            } else {
                0
            },
            clip,
            ..base
        };
        p.validate()
            .map_err(|e| anyhow::anyhow!("{}: {e}", self.name))?;
        Ok(Some(p))
    }
}

/// One policy on one path.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct PathFigures {
    /// One-way turnover a year.
    pub turnover: f64,
    /// Cost a year, share of NAV: through the program, NAV at mid lost to the swaps (the
    /// rewards, net of the oracle spread the vault keeps); for the reference, `cost_bps`.
    pub cost: f64,
    /// Auction rewards paid a year, share of NAV (the reference: its `cost_bps`).
    pub rewards: f64,
    /// Annualised return less the uncapped index's.
    pub td_uncapped: f64,
    /// Tracking error against the uncapped index, annualised.
    pub te_uncapped: f64,
    /// Annualised return less the full rebalance's.
    pub td_full: f64,
    /// Tracking error against the full rebalance, annualised.
    pub te_full: f64,
}

/// The 10th, 50th and 90th percentiles.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Spread {
    /// 10th percentile.
    pub p10: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
}

fn spread(mut v: Vec<f64>) -> Spread {
    v.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| {
        if v.is_empty() {
            return 0.0;
        }
        let i = ((v.len() - 1) as f64 * q).round() as usize;
        v[i]
    };
    Spread {
        p10: at(0.1),
        p50: at(0.5),
        p90: at(0.9),
    }
}

/// A policy over every path.
#[derive(Clone, Debug, Serialize)]
pub struct PolicyFigures {
    /// The policy.
    pub policy: Policy,
    /// Turnover a year.
    pub turnover: Spread,
    /// Cost a year.
    pub cost: Spread,
    /// Rewards a year.
    pub rewards: Spread,
    /// Tracking difference against the uncapped index.
    pub td_uncapped: Spread,
    /// Tracking error against the uncapped index.
    pub te_uncapped: Spread,
    /// Tracking difference against the full rebalance.
    pub td_full: Spread,
    /// Tracking error against the full rebalance.
    pub te_full: Spread,
    /// Median of the path-by-path ratio of turnover to the full rebalance's.
    pub turnover_vs_full: f64,
}

/// The study: every policy over `seeds` paths.
#[derive(Clone, Debug, Serialize)]
pub struct Study {
    /// Paths simulated (seeds `first_seed..first_seed + seeds`).
    pub seeds: u64,
    /// The first seed.
    pub first_seed: u64,
    /// Years a path.
    pub years: u32,
    /// Cost per unit traded, bps.
    pub cost_bps: f64,
    /// Relative band.
    pub band: f64,
    /// Every policy.
    pub policies: Vec<PolicyFigures>,
}

/// Every policy on one simulated path (seed `cfg.seed`), in [`POLICIES`] order: the full
/// rebalance on the backtest's book, every other policy through the program's own code.
pub fn one_path(tokens: &[Token], cfg: &Config) -> Result<Vec<PathFigures>> {
    let days = cfg.days()?;
    let paths = simulate(tokens, cfg)?;
    let cost_rate = cfg.cost_bps / 10_000.0;
    let first = targets_at(tokens, &paths.prices[0], &cfg.methodology).context("day 0")?;
    let in_bench: Vec<bool> = first.iter().map(|t| *t > 0).collect();
    let cap_of = |prices: &[f64]| benchmark_cap(tokens, &in_bench, prices);
    let cap0 = cap_of(&paths.prices[0]);
    if cap0 <= 0.0 || !cap0.is_finite() {
        bail!("the eligible tokens have no market cap on day 0");
    }
    // The reference: every constituent to target at each review, on the backtest's book.
    let mut targets = fractions(&first);
    let mut full = Book::new(targets.iter().map(|t| t * cfg.initial_nav).collect());
    let mut full_navs = vec![cfg.initial_nav];
    let mut bench = vec![cfg.initial_nav];
    for day in 1..=days {
        let d = day as usize;
        let (before, after) = (&paths.prices[d - 1], &paths.prices[d]);
        full.grow(before, after);
        if day % cfg.review_every_days == 0 {
            targets = fractions(
                &targets_at(tokens, after, &cfg.methodology)
                    .with_context(|| format!("review on day {day}"))?,
            );
            let new = targets.iter().map(|t| t * full.nav()).collect();
            full.trade(new, cost_rate);
        }
        full_navs.push(full.nav());
        bench.push(cfg.initial_nav * cap_of(after) / cap0);
    }
    let years = days as f64 / DAYS_PER_YEAR as f64;
    let root = (DAYS_PER_YEAR as f64).sqrt();
    let te = |a: &[f64], b: &[f64]| {
        let d: Vec<f64> = log_returns(a)
            .iter()
            .zip(log_returns(b))
            .map(|(x, y)| x - y)
            .collect();
        std_dev(&d) * root
    };
    let bench_ret = annual_return(&bench, years);
    let full_ret = annual_return(&full_navs, years);
    let figures = |navs: &[f64], turnover: f64, cost: f64, rewards: f64| {
        let ret = annual_return(navs, years);
        PathFigures {
            turnover,
            cost,
            rewards,
            td_uncapped: ret - bench_ret,
            te_uncapped: te(navs, &bench),
            td_full: ret - full_ret,
            te_full: te(navs, &full_navs),
        }
    };
    POLICIES
        .iter()
        .map(|p| match p.params(cfg)? {
            None => Ok(figures(
                &full_navs,
                full.turnover / years,
                full.cost_share / years,
                full.cost_share / years,
            )),
            Some(params) => {
                let run = program::run_path(tokens, &paths.prices, cfg, params).context(p.name)?;
                let navs: Vec<f64> = run.navs.iter().map(|n| *n as f64).collect();
                let c = program::costs(&run, days);
                Ok(figures(&navs, c.turnover, c.cost, c.rewards))
            }
        })
        .collect()
}

/// Every policy over `seeds` paths from `cfg.seed` on; `progress(done, total)` after each.
pub fn study(
    tokens: &[Token],
    cfg: &Config,
    seeds: u64,
    mut progress: impl FnMut(u64, u64),
) -> Result<Study> {
    cfg.validate()?;
    if seeds == 0 {
        bail!("--seeds must be at least 1");
    }
    let mut per: Vec<Vec<PathFigures>> = vec![vec![]; POLICIES.len()];
    for k in 0..seeds {
        let c = Config {
            seed: cfg.seed.wrapping_add(k),
            ..cfg.clone()
        };
        let figures = one_path(tokens, &c).with_context(|| format!("seed {}", c.seed))?;
        for (i, f) in figures.into_iter().enumerate() {
            per[i].push(f);
        }
        progress(k + 1, seeds);
    }
    let full_turnover: Vec<f64> = per[0].iter().map(|f| f.turnover).collect();
    let policies = POLICIES
        .iter()
        .zip(&per)
        .map(|(p, runs)| {
            let pick = |f: fn(&PathFigures) -> f64| spread(runs.iter().map(f).collect());
            PolicyFigures {
                policy: *p,
                turnover: pick(|f| f.turnover),
                cost: pick(|f| f.cost),
                rewards: pick(|f| f.rewards),
                td_uncapped: pick(|f| f.td_uncapped),
                te_uncapped: pick(|f| f.te_uncapped),
                td_full: pick(|f| f.td_full),
                te_full: pick(|f| f.te_full),
                turnover_vs_full: spread(
                    runs.iter()
                        .zip(&full_turnover)
                        .filter(|(_, f)| **f > 0.0)
                        .map(|(r, f)| r.turnover / f)
                        .collect(),
                )
                .p50,
            }
        })
        .collect();
    Ok(Study {
        seeds,
        first_seed: cfg.seed,
        years: cfg.years,
        cost_bps: cfg.cost_bps,
        band: cfg.band,
        policies,
    })
}

/// The study as a table: each figure as median [10th, 90th percentile], in percent a year.
pub fn print(s: &Study, out: &mut impl std::io::Write) -> Result<()> {
    writeln!(
        out,
        "{} paths (seeds {}..{}), {} years each, band ±{:.0}% of target, {} bps a unit traded",
        s.seeds,
        s.first_seed,
        s.first_seed + s.seeds - 1,
        s.years,
        s.band * 100.0,
        s.cost_bps
    )?;
    writeln!(out, "median [10th, 90th percentile], % a year; 'vs full': against the full rebalance at each review\n")?;
    let f = |x: Spread| {
        format!(
            "{:.2} [{:.2}, {:.2}]",
            x.p50 * 100.0,
            x.p10 * 100.0,
            x.p90 * 100.0
        )
    };
    let rows: Vec<Vec<String>> = s
        .policies
        .iter()
        .map(|p| {
            vec![
                p.policy.name.to_string(),
                f(p.turnover),
                format!("{:.0}%", p.turnover_vs_full * 100.0),
                f(p.cost),
                f(p.rewards),
                f(p.td_uncapped),
                f(p.te_uncapped),
                f(p.td_full),
                f(p.te_full),
            ]
        })
        .collect();
    use crate::output::{render, Align};
    write!(
        out,
        "{}",
        render(
            &[
                ("policy", Align::Left),
                ("turnover", Align::Right),
                ("of full", Align::Right),
                ("cost", Align::Right),
                ("rewards", Align::Right),
                ("TD vs uncapped", Align::Right),
                ("TE vs uncapped", Align::Right),
                ("TD vs full", Align::Right),
                ("TE vs full", Align::Right),
            ],
            &rows
        )
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_on_one_path_rank_as_their_rules_say() {
        let tokens = aidx_client::universe::parse(aidx_client::universe::SAMPLE_UNIVERSE).unwrap();
        let cfg = Config {
            years: 2,
            ..Config::default()
        };
        let f = one_path(&tokens, &cfg).unwrap();
        let by = |name: &str| f[POLICIES.iter().position(|p| p.name == name).unwrap()];
        // The reference tracks itself exactly.
        assert_eq!(
            (by("full at review").td_full, by("full at review").te_full),
            (0.0, 0.0)
        );
        // Trading any day trades more than trading after reviews only; clipping at the edge
        // less than at the target when trading any day. (After reviews only, one path can go
        // either way: the medians over 200 paths are in BENCHMARKS.md.)
        assert!(by("continuous, to target").turnover > by("review, to target").turnover);
        assert!(by("continuous, to edge").turnover > by("review, to edge").turnover);
        assert!(by("continuous, to edge").turnover < by("continuous, to target").turnover);
        // The reference pays the rate on what it trades (twice the one-way turnover); through
        // the program the vault loses at most the largest reward (0.5%) on what it trades, and
        // every program policy traded.
        let full = by("full at review");
        assert!((full.cost - 2.0 * full.turnover * 30.0 / 10_000.0).abs() < 1e-9);
        for p in &f[1..] {
            assert!(p.turnover > 0.0, "{p:?}");
            assert!(p.cost <= p.turnover * 0.005 + 1e-12, "{p:?}");
            assert!(
                p.rewards > 0.0 && p.rewards <= p.turnover * 0.005 + 1e-12,
                "{p:?}"
            );
        }
    }

    #[test]
    fn a_study_reports_distributions_over_its_paths() {
        let tokens = aidx_client::universe::parse(aidx_client::universe::SAMPLE_UNIVERSE).unwrap();
        let cfg = Config {
            years: 1,
            ..Config::default()
        };
        let mut seen = vec![];
        let s = study(&tokens, &cfg, 5, |done, total| seen.push((done, total))).unwrap();
        assert_eq!(seen, (1..=5).map(|d| (d, 5)).collect::<Vec<_>>());
        assert_eq!(s.policies.len(), POLICIES.len());
        for p in &s.policies {
            assert!(p.turnover.p10 <= p.turnover.p50 && p.turnover.p50 <= p.turnover.p90);
        }
        assert_eq!(s.policies[0].turnover_vs_full, 1.0);
        assert!(study(&tokens, &cfg, 0, |_, _| {}).is_err());
    }
}
