//! The two rebalancing rules, and one portfolio through a run.

use super::model::to_usd_scale;
use super::NOISE;
use aidx::math::methodology::{compute_targets, MethodologyParams};
use aidx_client::universe::Token;
use anyhow::{anyhow, Result};

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

/// Where an out-of-band constituent is traded back to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Clip {
    /// Its target.
    Target,
    /// The band's inner edge (target × (1 ± band)): the nearest point of the no-trade region.
    Edge,
}

/// The buffer rule (see the module docs): new holdings, in USD, from `values` (USD) and
/// `targets` (fractions summing to 1), with a relative `band`.
pub fn buffer_rebalance(values: &[f64], targets: &[f64], band: f64) -> Vec<f64> {
    rebalance(
        values,
        targets,
        band,
        &out_of_band(values, targets, band),
        Clip::Target,
    )
}

/// New holdings (USD) when the constituents marked `out` are traded to their goal (their
/// target, or their band's inner edge): the net cash of those trades is absorbed by the other
/// constituents on the side that moves them toward their own targets, pro rata to their gaps
/// (never past a target). What they cannot take (clipping at the edges can free or need more
/// cash than they have room for) moves the marked constituents on from their edge toward their
/// target, pro rata: all the gaps to target sum to zero, so together they always can. Nothing
/// marked, or no value: no trade.
pub fn rebalance(values: &[f64], targets: &[f64], band: f64, out: &[bool], clip: Clip) -> Vec<f64> {
    let nav: f64 = values.iter().sum();
    if nav <= 0.0 || !nav.is_finite() || !out.iter().any(|o| *o) {
        return values.to_vec();
    }
    let goal = |v: f64, t: f64| match clip {
        Clip::Target => t * nav,
        Clip::Edge if v / nav > t * (1.0 + band) => t * (1.0 + band) * nav,
        Clip::Edge => t * (1.0 - band) * nav,
    };
    // Net proceeds of the marked trades: positive when they free cash.
    let cash: f64 = (0..values.len())
        .filter(|i| out[*i])
        .map(|i| values[i] - goal(values[i], targets[i]))
        .sum();
    // Gaps to target that move the right way for the cash: shortfalls when buying, excesses
    // when selling.
    let gap = |i: usize| targets[i] * nav - values[i];
    let usable = |g: f64| if cash > 0.0 { g > 0.0 } else { g < 0.0 };
    let room: f64 = (0..values.len())
        .filter(|i| !out[*i])
        .map(gap)
        .filter(|g| usable(*g))
        .map(f64::abs)
        .sum();
    let share = if room > 0.0 {
        (cash.abs() / room).min(1.0)
    } else {
        0.0
    };
    let left = (cash.abs() - room).max(0.0);
    let edge_gap = |i: usize| targets[i] * nav - goal(values[i], targets[i]);
    let edge_room: f64 = (0..values.len())
        .filter(|i| out[*i])
        .map(edge_gap)
        .filter(|g| usable(*g))
        .map(f64::abs)
        .sum();
    let edge_share = if edge_room > 0.0 {
        (left / edge_room).min(1.0)
    } else {
        0.0
    };
    (0..values.len())
        .map(|i| {
            if out[i] {
                let g = goal(values[i], targets[i]);
                if usable(edge_gap(i)) {
                    g + edge_share * edge_gap(i)
                } else {
                    g
                }
            } else if share >= 1.0 && usable(gap(i)) {
                targets[i] * nav
            } else if usable(gap(i)) {
                values[i] + share * gap(i)
            } else {
                values[i]
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
pub(super) struct Book {
    pub(super) values: Vec<f64>,
    pub(super) traded: f64,
    pub(super) turnover: f64,
    pub(super) cost_share: f64,
    pub(super) cost_usd: f64,
    pub(super) trades: usize,
}

/// What one review did to one portfolio.
pub(super) struct Step {
    pub(super) turnover: f64,
    pub(super) traded_names: usize,
}

impl Book {
    pub(super) fn new(values: Vec<f64>) -> Self {
        Book {
            values,
            traded: 0.0,
            turnover: 0.0,
            cost_share: 0.0,
            cost_usd: 0.0,
            trades: 0,
        }
    }

    pub(super) fn nav(&self) -> f64 {
        self.values.iter().sum()
    }

    pub(super) fn grow(&mut self, before: &[f64], after: &[f64]) {
        for ((v, p0), p1) in self.values.iter_mut().zip(before).zip(after) {
            if *p0 > 0.0 {
                *v *= p1 / p0;
            }
        }
    }

    /// Moves to `new` (noise trades dropped), pays `cost_rate` per unit traded pro rata.
    pub(super) fn trade(&mut self, mut new: Vec<f64>, cost_rate: f64) -> Step {
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
