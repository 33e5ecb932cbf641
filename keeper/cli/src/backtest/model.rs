//! The price model: correlated daily log returns from a market factor, one factor per
//! sector and an idiosyncratic draw (see the module docs of `backtest`).

use super::{Config, DAYS_PER_YEAR};
use aidx::math::USD_SCALE;
use aidx::state::SubSector;
use aidx_client::universe::Token;
use anyhow::{bail, Result};
use rand_distr::{Distribution, StandardNormal, StandardUniform};
use rand_xoshiro::rand_core::{Rng as _, SeedableRng};
use rand_xoshiro::Xoshiro256StarStar;

/// The simulation's random numbers: xoshiro256** (`rand_xoshiro`) seeded from the run's seed
/// through SplitMix64, uniforms of 53 bits and standard normals (`rand_distr`, ziggurat).
#[derive(Clone, Debug, PartialEq)]
pub struct Rng(Xoshiro256StarStar);

impl Rng {
    /// The generator of `seed`: the same draws on every machine.
    pub fn new(seed: u64) -> Self {
        Rng(Xoshiro256StarStar::seed_from_u64(seed))
    }

    /// The next 64 raw bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in [0, 1), 53 bits.
    pub fn uniform(&mut self) -> f64 {
        StandardUniform.sample(&mut self.0)
    }

    /// Standard normal.
    pub fn normal(&mut self) -> f64 {
        StandardNormal.sample(&mut self.0)
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
