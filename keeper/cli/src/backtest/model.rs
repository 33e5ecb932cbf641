//! The price model: correlated daily log returns from a market factor, one factor per
//! sector and an idiosyncratic draw (see the module docs of `backtest`).

use super::{Config, DAYS_PER_YEAR};
use aidx::math::USD_SCALE;
use aidx::state::SubSector;
use aidx_client::universe::Token;
use anyhow::{bail, Result};

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
