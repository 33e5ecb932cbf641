//! Numbers as people read them: raw token amounts with their decimals, weights as
//! percentages, USD values, and decimal strings parsed back into scaled integers.

use aidx::math::USD_SCALE;
use anyhow::{anyhow, bail, Result};

/// A raw amount with `decimals`, printed with up to `shown` fraction digits (truncated).
pub fn ui_amount(raw: u128, decimals: u8, shown: usize) -> String {
    let scale = 10u128.pow(decimals as u32);
    let int = raw / scale;
    if decimals == 0 || shown == 0 {
        return int.to_string();
    }
    let frac = format!("{:0w$}", raw % scale, w = decimals as usize);
    format!("{int}.{}", &frac[..shown.min(frac.len())])
}

/// A raw amount with `decimals`, every significant fraction digit shown and no trailing zeros:
/// `13.18324905`, `351`, `0.5`.
pub fn ui_amount_exact(raw: u128, decimals: u8) -> String {
    let s = ui_amount(raw, decimals, decimals as usize);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A `USD_SCALE` value as dollars with `shown` fraction digits (truncated): `$1234.56`.
pub fn usd(v: u128, shown: usize) -> String {
    format!("${}", ui_amount(v, USD_SCALE_DECIMALS, shown))
}

/// The decimals of `USD_SCALE` (1e12).
pub const USD_SCALE_DECIMALS: u8 = 12;
const _: () = assert!(10u128.pow(USD_SCALE_DECIMALS as u32) == USD_SCALE);

/// A `WEIGHT_SCALE` ratio as a percentage with two decimals.
pub fn pct(weight: u128) -> String {
    let bp = weight / 100_000; // 1e9 scale -> 1e4 (basis points)
    format!("{}.{:02}%", bp / 100, bp % 100)
}

/// Parses a decimal string ("420", "0.18", "1.2e3" is refused) into an integer scaled by `scale`,
/// rounding down beyond the scale's precision.
pub fn parse_decimal(s: &str, scale: u128) -> Result<u128> {
    let s = s.trim();
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() && frac.is_empty() {
        bail!("empty number");
    }
    if !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) {
        bail!("not a non-negative decimal: {s:?}");
    }
    let int_v: u128 = if int.is_empty() { 0 } else { int.parse()? };
    let mut v = int_v
        .checked_mul(scale)
        .ok_or_else(|| anyhow!("{s} too large"))?;
    let mut unit = scale;
    for ch in frac.chars() {
        unit /= 10;
        if unit == 0 {
            break;
        }
        v = v
            .checked_add(unit * (ch as u128 - '0' as u128))
            .ok_or_else(|| anyhow!("{s} too large"))?;
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(ui_amount(1_234_567, 6, 2), "1.23");
        assert_eq!(ui_amount(5, 0, 2), "5");
        assert_eq!(ui_amount(5, 9, 3), "0.000");
        assert_eq!(pct(150_000_000), "15.00%");
        assert_eq!(pct(1_234_567), "0.12%");
        assert_eq!(usd(1_234_567_890_123_456, 2), "$1234.56");
        assert_eq!(ui_amount_exact(1_318_324_905, 8), "13.18324905");
        assert_eq!(ui_amount_exact(35_100_000_000, 8), "351");
        assert_eq!(ui_amount_exact(100, 0), "100");
        assert_eq!(ui_amount_exact(5, 1), "0.5");
    }

    #[test]
    fn decimals_parse_exactly() {
        assert_eq!(parse_decimal("420", USD_SCALE).unwrap(), 420 * USD_SCALE);
        assert_eq!(parse_decimal("0.18", USD_SCALE).unwrap(), 180_000_000_000);
        assert_eq!(parse_decimal("6.5", 1).unwrap(), 6);
        assert!(parse_decimal("-1", 1).is_err());
        assert!(parse_decimal("1e3", 1).is_err());
        assert!(parse_decimal("", 1).is_err());
    }
}
