//! Pure, deterministic integer math shared by the program and the keeper.
//!
//! One numeric convention for the whole project:
//! * token amounts are raw `u64` units of their mint;
//! * share amounts are raw `u64` units of the share mint ([`SHARE_DECIMALS`] decimals);
//! * weights and other ratios are `u64` integers scaled by [`WEIGHT_SCALE`] (1e9 = 100%);
//! * basis-point parameters are `u16` scaled by [`BPS_SCALE`] (10_000 = 100%);
//! * intermediate products are `u128`, and every operation is checked.
//!
//! Rounding is never implicit: every division takes a [`Rounding`] argument, and callers choose
//! the direction that favours the vault (shares minted and assets paid out round down, assets
//! taken in and fees round up). No floating point is used anywhere in this module.

pub mod auction;
pub mod fees;
pub mod membership;
pub mod methodology;
pub mod nav;
pub mod shares;

use core::fmt;

/// Decimals of the index share mint.
pub const SHARE_DECIMALS: u8 = 9;
/// One whole share in raw share units (10^SHARE_DECIMALS).
pub const ONE_SHARE: u64 = 1_000_000_000;
/// precision: 1e9. A weight or ratio of 1.0 (100%).
pub const WEIGHT_SCALE: u64 = 1_000_000_000;
/// precision: 1e4. 100% in basis points.
pub const BPS_SCALE: u64 = 10_000;
/// precision: 1e12. USD amounts and USD prices of one whole token (10^decimals raw units).
pub const USD_SCALE: u128 = 1_000_000_000_000;

/// Which way a division rounds. Always chosen to favour the vault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rounding {
    /// Toward zero: shares minted, assets paid out.
    Down,
    /// Away from zero: assets taken in, fees charged.
    Up,
}

/// A failure of the pure math: mapped to a named program error at the boundary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MathError {
    Overflow,
    DivisionByZero,
}

impl fmt::Display for MathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MathError::Overflow => write!(f, "arithmetic overflow"),
            MathError::DivisionByZero => write!(f, "division by zero"),
        }
    }
}

impl std::error::Error for MathError {}

/// `a * b / d` in u128 with explicit rounding, checked at every step.
pub fn mul_div(a: u128, b: u128, d: u128, rounding: Rounding) -> Result<u128, MathError> {
    if d == 0 {
        return Err(MathError::DivisionByZero);
    }
    let p = a.checked_mul(b).ok_or(MathError::Overflow)?;
    let q = p / d;
    match rounding {
        Rounding::Down => Ok(q),
        Rounding::Up => {
            if p % d == 0 {
                Ok(q)
            } else {
                q.checked_add(1).ok_or(MathError::Overflow)
            }
        }
    }
}

/// [`mul_div`] on `u64` operands whose result must fit a `u64`.
pub fn mul_div_u64(a: u64, b: u64, d: u64, rounding: Rounding) -> Result<u64, MathError> {
    let r = mul_div(a as u128, b as u128, d as u128, rounding)?;
    u64::try_from(r).map_err(|_| MathError::Overflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mul_div_rounds_as_asked() {
        assert_eq!(mul_div(7, 3, 2, Rounding::Down), Ok(10));
        assert_eq!(mul_div(7, 3, 2, Rounding::Up), Ok(11));
        assert_eq!(mul_div(8, 3, 2, Rounding::Up), Ok(12));
        assert_eq!(mul_div(0, 3, 2, Rounding::Up), Ok(0));
        assert_eq!(
            mul_div(1, 1, 0, Rounding::Down),
            Err(MathError::DivisionByZero)
        );
        assert_eq!(
            mul_div(u128::MAX, 2, 1, Rounding::Down),
            Err(MathError::Overflow)
        );
        assert_eq!(
            mul_div_u64(u64::MAX, 2, 1, Rounding::Down),
            Err(MathError::Overflow)
        );
        assert_eq!(
            mul_div_u64(u64::MAX, u64::MAX, u64::MAX, Rounding::Up),
            Ok(u64::MAX)
        );
    }
}
