//! Statistics of the simulated paths: returns, volatility, correlation.

use super::report::Correlations;
use super::{model::Paths, Config, DAYS_PER_YEAR};
use aidx_client::universe::Token;

pub(super) fn log_returns(xs: &[f64]) -> Vec<f64> {
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

pub(super) fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        0.0
    } else {
        xs.iter().sum::<f64>() / xs.len() as f64
    }
}

/// Sample standard deviation (n - 1).
pub(super) fn std_dev(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return 0.0;
    }
    let m = mean(xs);
    (xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (xs.len() - 1) as f64).sqrt()
}

pub(super) fn correlation(x: &[f64], y: &[f64]) -> Option<f64> {
    let (mx, my) = (mean(x), mean(y));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

pub(super) fn annual_return(nav: &[f64], years: f64) -> f64 {
    match (nav.first(), nav.last()) {
        (Some(a), Some(b)) if *a > 0.0 && years > 0.0 => (b / a).powf(1.0 / years) - 1.0,
        _ => 0.0,
    }
}

pub(super) fn annual_vol(nav: &[f64]) -> f64 {
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
