//! Net asset value, weights, and the cap and band rule checked on every balance change.
//!
//! Values are USD in [`USD_SCALE`]; weights are [`WEIGHT_SCALE`]. Which side of the confidence
//! interval a price is taken at is the caller's choice, always against the person acting:
//! a deposit is valued at `price - conf` and the NAV it buys into at `price + conf`; a
//! withdrawal is priced at `price + conf` against a NAV at `price - conf`.

use super::{mul_div, MathError, Rounding, WEIGHT_SCALE};

/// Which point of a price's confidence interval to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PriceSide {
    Low,
    Mid,
    High,
}

/// One constituent as NAV sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Holding {
    /// Raw units.
    pub balance: u64,
    pub decimals: u8,
    /// precision: USD_SCALE. Price of one whole token.
    pub price: u64,
    /// precision: USD_SCALE.
    pub conf: u64,
}

impl Holding {
    /// precision: USD_SCALE. The price at `side` (the low side never goes below zero).
    pub fn price_at(&self, side: PriceSide) -> Result<u128, MathError> {
        let (p, c) = (self.price as u128, self.conf as u128);
        match side {
            PriceSide::Low => Ok(p.saturating_sub(c)),
            PriceSide::Mid => Ok(p),
            PriceSide::High => p.checked_add(c).ok_or(MathError::Overflow),
        }
    }

    /// Raw units per whole token, `10^decimals` (an error past u128, never a panic).
    fn unit(&self) -> Result<u128, MathError> {
        10u128
            .checked_pow(u32::from(self.decimals))
            .ok_or(MathError::Overflow)
    }

    /// precision: USD_SCALE. Value of `amount` raw units at `side`.
    pub fn value_of(
        &self,
        amount: u64,
        side: PriceSide,
        rounding: Rounding,
    ) -> Result<u128, MathError> {
        mul_div(amount as u128, self.price_at(side)?, self.unit()?, rounding)
    }

    /// precision: USD_SCALE. Value of the balance at `side`.
    pub fn value(&self, side: PriceSide, rounding: Rounding) -> Result<u128, MathError> {
        self.value_of(self.balance, side, rounding)
    }

    /// Raw units worth `value` at `side`.
    pub fn amount_for(
        &self,
        value: u128,
        side: PriceSide,
        rounding: Rounding,
    ) -> Result<u64, MathError> {
        let a = mul_div(value, self.unit()?, self.price_at(side)?, rounding)?;
        u64::try_from(a).map_err(|_| MathError::Overflow)
    }
}

/// precision: USD_SCALE. Total value at `side`.
pub fn nav(holdings: &[Holding], side: PriceSide, rounding: Rounding) -> Result<u128, MathError> {
    holdings.iter().try_fold(0u128, |acc, h| {
        acc.checked_add(h.value(side, rounding)?)
            .ok_or(MathError::Overflow)
    })
}

/// precision: WEIGHT_SCALE. Weights at mid prices, rounded down (all zero for an empty basket).
pub fn weights(holdings: &[Holding]) -> Result<Vec<u64>, MathError> {
    let values = holdings
        .iter()
        .map(|h| h.value(PriceSide::Mid, Rounding::Down))
        .collect::<Result<Vec<_>, _>>()?;
    let total = values
        .iter()
        .try_fold(0u128, |a, v| a.checked_add(*v).ok_or(MathError::Overflow))?;
    if total == 0 {
        return Ok(vec![0; holdings.len()]);
    }
    values
        .iter()
        .map(|v| {
            let w = mul_div(*v, WEIGHT_SCALE as u128, total, Rounding::Down)?;
            u64::try_from(w).map_err(|_| MathError::Overflow)
        })
        .collect()
}

/// precision: WEIGHT_SCALE. How far `weight` lies outside the band around `target`, where the
/// band is `target * (1 ± band)` (`band` relative, WEIGHT_SCALE). 0 inside the band.
pub fn band_excess(weight: u64, target: u64, band: u64) -> Result<u64, MathError> {
    let half = u64::try_from(mul_div(
        target as u128,
        band as u128,
        WEIGHT_SCALE as u128,
        Rounding::Down,
    )?)
    .map_err(|_| MathError::Overflow)?;
    let lo = target.saturating_sub(half);
    let hi = target.checked_add(half).ok_or(MathError::Overflow)?;
    Ok(if weight > hi {
        weight - hi
    } else {
        lo.saturating_sub(weight)
    })
}

/// Which rule a balance change broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightViolation {
    /// Constituent `i` ends above the cap by more than before.
    AboveCap(usize),
    /// Constituent `i` ends further outside its band than before.
    FurtherOutOfBand(usize),
}

/// The rule on every balance change: no constituent may end further above the cap, or further
/// outside its band, than it was before. A move toward target never makes either worse, so it
/// is always allowed; a move that keeps a weight inside the cap and band is allowed too.
pub fn check_weight_change(
    before: &[u64],
    after: &[u64],
    targets: &[u64],
    cap: u64,
    band: u64,
) -> Result<Result<(), WeightViolation>, MathError> {
    for i in 0..after.len() {
        let (b, a, t) = (before[i], after[i], targets[i]);
        if a.saturating_sub(cap) > b.saturating_sub(cap) {
            return Ok(Err(WeightViolation::AboveCap(i)));
        }
        if band_excess(a, t, band)? > band_excess(b, t, band)? {
            return Ok(Err(WeightViolation::FurtherOutOfBand(i)));
        }
    }
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::USD_SCALE;

    fn h(balance: u64, decimals: u8, price: u64, conf: u64) -> Holding {
        Holding {
            balance,
            decimals,
            price,
            conf,
        }
    }

    #[test]
    fn values_and_sides() {
        let x = h(2_500_000, 6, 4 * USD_SCALE as u64, USD_SCALE as u64 / 100); // 2.5 tokens at $4 ± 0.01
        assert_eq!(
            x.value(PriceSide::Mid, Rounding::Down).unwrap(),
            10 * USD_SCALE
        );
        assert_eq!(
            x.value(PriceSide::Low, Rounding::Down).unwrap(),
            9_975 * USD_SCALE / 1000
        );
        assert_eq!(
            x.value(PriceSide::High, Rounding::Down).unwrap(),
            10_025 * USD_SCALE / 1000
        );
        assert_eq!(
            x.amount_for(4 * USD_SCALE, PriceSide::Mid, Rounding::Down)
                .unwrap(),
            1_000_000
        );
        let e = h(0, 9, 1, 5);
        assert_eq!(e.price_at(PriceSide::Low).unwrap(), 0);
    }

    #[test]
    fn weights_sum_at_most_one() {
        let w = weights(&[h(1, 0, 1, 0), h(1, 0, 2, 0), h(0, 0, 9, 0)]).unwrap();
        assert_eq!(w, vec![333_333_333, 666_666_666, 0]);
        assert_eq!(weights(&[h(0, 0, 1, 0)]).unwrap(), vec![0]);
    }

    #[test]
    fn band_is_relative() {
        let t = 100_000_000; // 10%, band 20% -> 8%..12%
        let band = 200_000_000;
        assert_eq!(band_excess(120_000_000, t, band).unwrap(), 0);
        assert_eq!(band_excess(80_000_000, t, band).unwrap(), 0);
        assert_eq!(band_excess(130_000_000, t, band).unwrap(), 10_000_000);
        assert_eq!(band_excess(70_000_000, t, band).unwrap(), 10_000_000);
        assert_eq!(band_excess(5, 0, band).unwrap(), 5);
    }

    #[test]
    fn weight_rule() {
        let cap = 150_000_000;
        let band = 200_000_000;
        let t = [100_000_000, 100_000_000];
        // both inside cap and band: fine
        assert_eq!(
            check_weight_change(&[100_000_000; 2], &[110_000_000, 90_000_000], &t, cap, band)
                .unwrap(),
            Ok(())
        );
        // pushing past the cap
        assert_eq!(
            check_weight_change(
                &[140_000_000, 0],
                &[160_000_000, 0],
                &[150_000_000, 0],
                cap,
                band
            )
            .unwrap(),
            Err(WeightViolation::AboveCap(0))
        );
        // above the cap but moving down is fine
        assert_eq!(
            check_weight_change(
                &[200_000_000, 0],
                &[180_000_000, 0],
                &[150_000_000, 0],
                cap,
                band
            )
            .unwrap(),
            Ok(())
        );
        // further out of band on the low side
        assert_eq!(
            check_weight_change(&[70_000_000, 0], &[60_000_000, 0], &t, cap, band).unwrap(),
            Err(WeightViolation::FurtherOutOfBand(0))
        );
    }
}
