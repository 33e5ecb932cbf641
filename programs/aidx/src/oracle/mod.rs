//! The oracle gate: the one place every price enters the program.
//!
//! A Pyth `PriceUpdateV2` account is accepted only if, in this order:
//! 1. it is owned by the Pyth receiver program ([`AidxError::OracleWrongOwner`]);
//! 2. it deserializes as `PriceUpdateV2` ([`AidxError::OracleWrongAccountType`]);
//! 3. its feed id is the constituent's ([`AidxError::OracleWrongFeed`]);
//! 4. it was fully verified ([`AidxError::OracleNotFullyVerified`]);
//! 5. its publish time is within the index's max age ([`AidxError::OracleStale`]);
//! 6. its publish time is not older than the last price used for the constituent
//!    ([`AidxError::OracleOlderThanLast`]);
//! 7. its price is positive ([`AidxError::OracleNonPositivePrice`]);
//! 8. confidence / price is within the index's bound ([`AidxError::OracleConfidenceTooWide`]).
//!
//! Prices are normalised from Pyth's `(price, exponent)` into [`USD_SCALE`] per whole token;
//! exponents outside [`MIN_EXPONENT`, `MAX_EXPONENT`] are refused ([`AidxError::OracleBadExponent`]).
//! The price rounds down and the confidence up (both against the holder), and a price below
//! [`MIN_PRICE`] is refused ([`AidxError::OraclePricePrecisionLost`]): one unit of rounding
//! would move it by more than 1 bp (a mantissa of 1,999,999 at exponent -18 would otherwise be
//! stored as 1, half its value).

use crate::errors::AidxError;
use crate::math::{BPS_SCALE, USD_SCALE};
use anchor_lang::prelude::*;
use anchor_lang::Discriminator;
use pyth_solana_receiver_sdk::price_update::{PriceUpdateV2, VerificationLevel};

/// Exponent bounds accepted from Pyth (prices are `price * 10^exponent`).
pub const MIN_EXPONENT: i32 = -18;
pub const MAX_EXPONENT: i32 = 6;
/// log10 of [`USD_SCALE`].
const USD_DECIMALS: i32 = 12;
const _: () = assert!(USD_SCALE == 1_000_000_000_000);

/// precision: USD_SCALE. The smallest price accepted: at and above it the unit lost to
/// rounding is at most 1 bp of the price.
pub const MIN_PRICE: u64 = 10_000;

/// A gated price.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GatedPrice {
    /// precision: USD_SCALE. Price of one whole token.
    pub price: u64,
    /// precision: USD_SCALE. Confidence interval (one side).
    pub conf: u64,
    /// Unix time the price was published.
    pub publish_time: i64,
}

/// The limits a price is checked against.
#[derive(Clone, Copy, Debug)]
pub struct OracleLimits {
    pub max_age_secs: u32,
    /// precision: BPS. Widest confidence / price.
    pub max_conf_bps: u16,
}

/// Scales a Pyth mantissa with `exponent` into [`USD_SCALE`], rounding down; `None` when it
/// does not fit a u64.
pub fn normalize(mantissa: u64, exponent: i32) -> Option<u64> {
    normalize_rounding(mantissa, exponent, false)
}

/// [`normalize`], rounding up.
pub fn normalize_up(mantissa: u64, exponent: i32) -> Option<u64> {
    normalize_rounding(mantissa, exponent, true)
}

fn normalize_rounding(mantissa: u64, exponent: i32, up: bool) -> Option<u64> {
    let shift = USD_DECIMALS + exponent;
    let v = if shift >= 0 {
        (mantissa as u128).checked_mul(10u128.checked_pow(shift as u32)?)?
    } else {
        let d = 10u128.checked_pow((-shift) as u32)?;
        if up {
            (mantissa as u128).div_ceil(d)
        } else {
            (mantissa as u128) / d
        }
    };
    u64::try_from(v).ok()
}

/// Steps 1 and 2 of the gate: the account is a `PriceUpdateV2` of the Pyth receiver.
pub fn read_update(account: &AccountInfo) -> Result<PriceUpdateV2> {
    require_keys_eq!(
        *account.owner,
        pyth_solana_receiver_sdk::ID,
        AidxError::OracleWrongOwner
    );
    let data = account.try_borrow_data()?;
    let disc = PriceUpdateV2::DISCRIMINATOR;
    require!(
        data.len() >= disc.len() && &data[..disc.len()] == disc,
        AidxError::OracleWrongAccountType
    );
    PriceUpdateV2::deserialize(&mut &data[disc.len()..])
        .map_err(|_| error!(AidxError::OracleWrongAccountType))
}

/// Validates a price account for the constituent with `feed_id`.
pub fn gate_price(
    account: &AccountInfo,
    feed_id: &[u8; 32],
    limits: OracleLimits,
    last_publish_time: i64,
    now: i64,
) -> Result<GatedPrice> {
    let update = read_update(account)?;
    gate_update(&update, feed_id, limits, last_publish_time, now)
}

/// Steps 3 to 8 of the gate on an update already read.
pub fn gate_update(
    update: &PriceUpdateV2,
    feed_id: &[u8; 32],
    limits: OracleLimits,
    last_publish_time: i64,
    now: i64,
) -> Result<GatedPrice> {
    let msg = &update.price_message;
    require!(msg.feed_id == *feed_id, AidxError::OracleWrongFeed);
    require!(
        update.verification_level == VerificationLevel::Full,
        AidxError::OracleNotFullyVerified
    );
    let age_limit = msg
        .publish_time
        .checked_add(limits.max_age_secs as i64)
        .ok_or(AidxError::MathOverflow)?;
    require!(age_limit >= now, AidxError::OracleStale);
    require!(
        msg.publish_time >= last_publish_time,
        AidxError::OracleOlderThanLast
    );
    require!(msg.price > 0, AidxError::OracleNonPositivePrice);
    require!(
        (MIN_EXPONENT..=MAX_EXPONENT).contains(&msg.exponent),
        AidxError::OracleBadExponent
    );
    // conf / price <= max_conf_bps / BPS_SCALE, in the feed's own units (no rounding).
    let price_raw = msg.price as u64;
    require!(
        (msg.conf as u128) * (BPS_SCALE as u128)
            <= (price_raw as u128) * (limits.max_conf_bps as u128),
        AidxError::OracleConfidenceTooWide
    );
    let price = normalize(price_raw, msg.exponent).ok_or(AidxError::OraclePriceOutOfRange)?;
    require!(price > 0, AidxError::OraclePriceOutOfRange);
    require!(price >= MIN_PRICE, AidxError::OraclePricePrecisionLost);
    let conf = normalize_up(msg.conf, msg.exponent).ok_or(AidxError::OraclePriceOutOfRange)?;
    Ok(GatedPrice {
        price,
        conf,
        publish_time: msg.publish_time,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_scales_exponents() {
        // 190.12345678 with exponent -8 -> 190.12345678 * 1e12
        assert_eq!(normalize(19_012_345_678, -8), Some(190_123_456_780_000));
        // exponent -18 loses digits below 1e-12, rounding down
        assert_eq!(normalize(1_234_567, -18), Some(1));
        assert_eq!(normalize(999_999, -18), Some(0));
        assert_eq!(normalize(5, 0), Some(5_000_000_000_000));
        assert_eq!(normalize(u64::MAX, 6), None);
        // the confidence rounds up
        assert_eq!(normalize_up(1_234_567, -18), Some(2));
        assert_eq!(normalize_up(1_000_000, -18), Some(1));
        assert_eq!(normalize_up(0, -18), Some(0));
        assert_eq!(normalize_up(19_012_345_678, -8), Some(190_123_456_780_000));
    }
}
