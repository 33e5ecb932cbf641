//! Share math for in-kind mint and redeem.
//!
//! The basket is described by internal balances `B_i` and the share supply `S`. A holder minting
//! `s` shares deposits `ceil(s * B_i / S)` of every constituent; a holder redeeming `s` shares
//! receives `floor(s * B_i / S)`. Both roundings favour the vault, so a round trip never returns
//! more than was put in and value per share never decreases through holder operations.
//!
//! The first mint seeds the basket from a stated composition (`units_per_share`, raw units of a
//! constituent per [`ONE_SHARE`]): the first minter deposits
//! `ceil((s + DEAD_SHARES) * units_per_share / ONE_SHARE)` and receives `s`; [`DEAD_SHARES`] are
//! minted to an account the index owns and can never be redeemed, so the supply never returns
//! to zero and the stated composition cannot be re-chosen by a later first depositor.

use super::{mul_div_u64, MathError, Rounding, ONE_SHARE};

/// Raw shares minted to the index's own dead-share account at the first mint.
pub const DEAD_SHARES: u64 = 1_000;
/// The smallest first mint, in raw shares (one whole share).
pub const MIN_FIRST_MINT: u64 = ONE_SHARE;

/// Units of one constituent the first minter deposits for `shares` (dead shares included).
pub fn seed_deposit(shares_with_dead: u64, units_per_share: u64) -> Result<u64, MathError> {
    mul_div_u64(shares_with_dead, units_per_share, ONE_SHARE, Rounding::Up)
}

/// Units of one constituent a holder deposits to mint `shares` into a basket holding
/// `balance` of it against `supply` shares. Rounds up (toward the vault).
pub fn mint_deposit(shares: u64, balance: u64, supply: u64) -> Result<u64, MathError> {
    mul_div_u64(shares, balance, supply, Rounding::Up)
}

/// Units of one constituent paid out for redeeming `shares` from a basket holding `balance`
/// of it against `supply` shares. Rounds down (toward the vault).
pub fn redeem_payout(shares: u64, balance: u64, supply: u64) -> Result<u64, MathError> {
    if shares > supply {
        return Err(MathError::Overflow);
    }
    mul_div_u64(shares, balance, supply, Rounding::Down)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn seed_rounds_up() {
        assert_eq!(seed_deposit(ONE_SHARE + DEAD_SHARES, 3), Ok(4));
        assert_eq!(seed_deposit(ONE_SHARE, 3), Ok(3));
        assert_eq!(seed_deposit(1, 1), Ok(1));
    }

    #[test]
    fn tiny_mints_are_never_free() {
        // Any nonzero share amount against a nonzero balance costs at least one unit.
        assert_eq!(mint_deposit(1, 1, u64::MAX), Ok(1));
        assert_eq!(redeem_payout(1, 1, u64::MAX), Ok(0));
    }

    #[test]
    fn redeem_more_than_supply_is_an_error() {
        assert_eq!(redeem_payout(11, 5, 10), Err(MathError::Overflow));
    }

    proptest! {
        /// Minting `s` then redeeming `s` never returns more than was deposited, and the
        /// balance per share of the remaining holders never decreases.
        #[test]
        fn round_trip_favours_the_vault(
            balance in 1u64..=u64::MAX / 4,
            supply in 1u64..=1u64 << 62,
            shares in 1u64..=1u64 << 62,
        ) {
            let Ok(dep) = mint_deposit(shares, balance, supply) else { return Ok(()) };
            let Some(b1) = balance.checked_add(dep) else { return Ok(()) };
            let Some(s1) = supply.checked_add(shares) else { return Ok(()) };
            let out = redeem_payout(shares, b1, s1).unwrap();
            prop_assert!(out <= dep);
            let b2 = b1 - out;
            // b2 / supply >= balance / supply, i.e. b2 >= balance
            prop_assert!(b2 >= balance);
            // value per share after the mint is at least what it was before
            prop_assert!((b1 as u128) * (supply as u128) >= (balance as u128) * (s1 as u128));
        }

        /// Successive redeems never lower the balance per share of those who stay.
        #[test]
        fn redeems_never_dilute_remaining_holders(
            balance in 0u64..=u64::MAX / 2,
            supply in 2u64..=1u64 << 62,
            a in 1u64..=1u64 << 61,
            b in 1u64..=1u64 << 61,
        ) {
            prop_assume!(a.checked_add(b).is_some_and(|t| t <= supply));
            let whole = redeem_payout(a + b, balance, supply).unwrap();
            let first = redeem_payout(a, balance, supply).unwrap();
            let second = redeem_payout(b, balance - first, supply - a).unwrap();
            prop_assert!(first <= whole);
            let left = (balance - first - second) as u128;
            let stay = (supply - a - b) as u128;
            prop_assert!(left * supply as u128 >= balance as u128 * stay);
        }
    }
}
