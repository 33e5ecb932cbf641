//! Fees. Every fee rounds up (toward the fee recipient, never the holder).
//!
//! The management fee streams by minting shares: over `elapsed` seconds at an annual `rate`,
//! `x = rate * elapsed / year` of the index is due, so `F = S * x / (1 - x)` shares are minted
//! (then `F / (S + F) = x` exactly, before rounding up). Each accrual dilutes the supply as it
//! is, so accruals compound: one accrual after a year takes exactly `rate`; accruing every
//! second would take `1 - e^-rate` (about 4.88% for a 5% rate).

use super::{mul_div, mul_div_u64, MathError, Rounding, BPS_SCALE};

/// Seconds in the fee year (365 days).
pub const SECONDS_PER_YEAR: u64 = 365 * 86_400;

/// Idle years beyond which no more management fee is charged in one accrual: keeps an accrual
/// bounded however long an index sat untouched.
pub const MAX_ACCRUAL_YEARS: u64 = 100;

/// Shares to mint to the fee recipient for `elapsed` seconds at `rate_bps` a year on `supply`.
///
/// A gap longer than a year is charged year by year, each year on the supply after the previous
/// one's fee (so a long idle gap costs what yearly accruals would have, and `x` never reaches
/// 1: accrual, and with it every holder operation, can never fail for lack of activity).
pub fn management_fee_shares(supply: u64, rate_bps: u16, elapsed: i64) -> Result<u64, MathError> {
    if supply == 0 || rate_bps == 0 || elapsed <= 0 {
        return Ok(0);
    }
    let mut left = elapsed as u128;
    let mut supply = supply as u128;
    let mut total = 0u128;
    let mut years = 0u64;
    while left > 0 && years < MAX_ACCRUAL_YEARS {
        let dt = left.min(SECONDS_PER_YEAR as u128);
        // x = rate * dt / (BPS * YEAR); F = S * x / (1 - x) = S * re / (BPS * YEAR - re)
        let re = (rate_bps as u128)
            .checked_mul(dt)
            .ok_or(MathError::Overflow)?;
        let denominator = (BPS_SCALE as u128 * SECONDS_PER_YEAR as u128)
            .checked_sub(re)
            .filter(|d| *d > 0)
            .ok_or(MathError::Overflow)?;
        let f = mul_div(supply, re, denominator, Rounding::Up)?;
        supply = supply.checked_add(f).ok_or(MathError::Overflow)?;
        total = total.checked_add(f).ok_or(MathError::Overflow)?;
        left -= dt;
        years += 1;
    }
    u64::try_from(total).map_err(|_| MathError::Overflow)
}

/// A fee of `bps` on `shares`, rounded up.
pub fn fee_on(shares: u64, bps: u16) -> Result<u64, MathError> {
    mul_div_u64(shares, bps as u64, BPS_SCALE, Rounding::Up)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_year_at_once_takes_exactly_the_rate() {
        let s = 1_000_000_000_000u64;
        let f = management_fee_shares(s, 200, SECONDS_PER_YEAR as i64).unwrap();
        // F / (S + F) = 2% -> F = S * 0.02 / 0.98
        assert_eq!(f, (s as u128 * 2).div_ceil(98) as u64);
        let share = f as f64 / (s + f) as f64;
        assert!((share - 0.02).abs() < 1e-12);
    }

    #[test]
    fn fees_round_up_and_are_never_zero_when_due() {
        assert_eq!(management_fee_shares(1, 1, 1).unwrap(), 1);
        assert_eq!(management_fee_shares(0, 500, 100).unwrap(), 0);
        assert_eq!(management_fee_shares(100, 0, 100).unwrap(), 0);
        assert_eq!(management_fee_shares(100, 500, 0).unwrap(), 0);
        assert_eq!(fee_on(1, 1).unwrap(), 1);
        assert_eq!(fee_on(10_000, 1).unwrap(), 1);
        assert_eq!(fee_on(10_001, 1).unwrap(), 2);
        assert_eq!(fee_on(0, 100).unwrap(), 0);
    }

    #[test]
    fn long_gaps_compound_yearly_and_never_fail() {
        let s = 1_000_000_000u64;
        let year = SECONDS_PER_YEAR as i64;
        let one = management_fee_shares(s, 200, year).unwrap();
        let two = management_fee_shares(s, 200, 2 * year).unwrap();
        let second = management_fee_shares(s + one, 200, year).unwrap();
        assert_eq!(two, one + second);
        // Twenty idle years at the 5% maximum: holders keep 0.95^20 of the index.
        let f = management_fee_shares(s, 500, 20 * year).unwrap();
        let kept = s as f64 / (s + f) as f64;
        assert!((kept - 0.95f64.powi(20)).abs() < 1e-6, "{kept}");
        // Absurd gaps are bounded (at most MAX_ACCRUAL_YEARS are charged), not errors.
        assert_eq!(
            management_fee_shares(1, 500, i64::MAX).unwrap(),
            management_fee_shares(1, 500, MAX_ACCRUAL_YEARS as i64 * year).unwrap()
        );
    }
}
