//! The full rebalance rule, the methodology's targets at a day's prices, and one portfolio through a run.

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
