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

/// Shares to mint to the fee recipient for `elapsed` seconds at `rate_bps` a year on `supply`.
pub fn management_fee_shares(supply: u64, rate_bps: u16, elapsed: i64) -> Result<u64, MathError> {
    if supply == 0 || rate_bps == 0 || elapsed <= 0 {
        return Ok(0);
    }
    // x = rate * elapsed / (BPS * YEAR); F = S * x / (1 - x) = S * re / (BPS * YEAR - re)
    let re = (rate_bps as u128)
        .checked_mul(elapsed as u128)
        .ok_or(MathError::Overflow)?;
    let denominator = (BPS_SCALE as u128 * SECONDS_PER_YEAR as u128)
        .checked_sub(re)
        .filter(|d| *d > 0)
        .ok_or(MathError::Overflow)?;
    let f = mul_div(supply as u128, re, denominator, Rounding::Up)?;
    u64::try_from(f).map_err(|_| MathError::Overflow)
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
    fn absurd_elapsed_is_an_error_not_a_panic() {
        assert_eq!(
            management_fee_shares(1, 500, i64::MAX),
            Err(MathError::Overflow)
        );
    }
}
