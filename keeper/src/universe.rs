//! The index universe: tokens with sub-sector, Pyth feed, price, circulating supply, volume
//! and unlock flag, read from CSV (the project's sample lives in `keeper/data/`).

use aidx::math::methodology::TokenFacts;
use aidx::math::USD_SCALE;
use aidx::state::SubSector;
use anyhow::{anyhow, bail, Context, Result};

/// The sample universe shipped with the keeper.
pub const SAMPLE_UNIVERSE: &str = include_str!("../data/sample-universe.csv");

#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub symbol: String,
    pub name: String,
    pub sector: SubSector,
    /// Pyth feed id, when the token has one.
    pub feed_id: Option<[u8; 32]>,
    /// precision: USD_SCALE. Price of one whole token.
    pub price: u128,
    /// Whole tokens in circulation.
    pub circulating_supply: u128,
    /// Whole USD.
    pub avg_daily_volume_usd: u128,
    pub unlock_over_10pct_float: bool,
    /// Whole USD within 2% of mid, when the universe reports it (optional column
    /// `depth_2pct_usd`).
    pub depth_usd: Option<u128>,
}

impl Token {
    /// The methodology's view of the token. A token without a Pyth feed cannot be priced
    /// on-chain: it is given a zero price, which makes it ineligible (no market cap).
    pub fn facts(&self) -> TokenFacts {
        TokenFacts {
            price: if self.feed_id.is_some() {
                self.price
            } else {
                0
            },
            circulating_supply: self.circulating_supply,
            avg_daily_volume_usd: self.avg_daily_volume_usd,
            depth_usd: self.depth_usd,
            unlock: self.unlock_over_10pct_float,
            host: self.sector == SubSector::Host,
        }
    }
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
        v += unit * (ch as u128 - '0' as u128);
    }
    Ok(v)
}

fn parse_feed_id(s: &str) -> Result<Option<[u8; 32]>> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let hex = s.strip_prefix("0x").unwrap_or(s);
    if hex.len() != 64 {
        bail!("feed id must be 32 bytes of hex: {s}");
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
            .with_context(|| format!("feed id {s}"))?;
    }
    Ok(Some(out))
}

/// Parses the universe CSV (header line required, columns as in the sample).
pub fn parse(csv: &str) -> Result<Vec<Token>> {
    let mut lines = csv.lines().filter(|l| !l.trim().is_empty());
    let header = lines.next().ok_or_else(|| anyhow!("empty universe"))?;
    let cols: Vec<&str> = header.split(',').map(str::trim).collect();
    let want = [
        "symbol",
        "name",
        "sector",
        "pyth_feed_id",
        "price_usd",
        "circulating_supply",
        "avg_daily_volume_usd",
        "unlock_over_10pct_float",
    ];
    let has_depth = cols.len() == want.len() + 1 && cols[want.len()] == "depth_2pct_usd";
    if cols[..want.len().min(cols.len())] != want[..] || (cols.len() != want.len() && !has_depth) {
        bail!(
            "universe header must be {}[,depth_2pct_usd]",
            want.join(",")
        );
    }
    let width = cols.len();
    lines
        .enumerate()
        .map(|(n, line)| {
            let f: Vec<&str> = line.split(',').map(str::trim).collect();
            let row = n + 2;
            if f.len() != width {
                bail!("line {row}: {} fields, expected {width}", f.len());
            }
            Ok(Token {
                symbol: f[0].to_string(),
                name: f[1].to_string(),
                sector: SubSector::from_name(f[2])
                    .ok_or_else(|| anyhow!("line {row}: unknown sector {:?}", f[2]))?,
                feed_id: parse_feed_id(f[3]).with_context(|| format!("line {row}"))?,
                price: parse_decimal(f[4], USD_SCALE).with_context(|| format!("line {row}"))?,
                circulating_supply: parse_decimal(f[5], 1)
                    .with_context(|| format!("line {row}"))?,
                avg_daily_volume_usd: parse_decimal(f[6], 1)
                    .with_context(|| format!("line {row}"))?,
                unlock_over_10pct_float: match f[7] {
                    "true" => true,
                    "false" => false,
                    x => bail!("line {row}: unlock flag must be true or false, not {x:?}"),
                },
                depth_usd: match f.get(8) {
                    Some(d) if !d.is_empty() => {
                        Some(parse_decimal(d, 1).with_context(|| format!("line {row}"))?)
                    }
                    _ => None,
                },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_parse_exactly() {
        assert_eq!(parse_decimal("420", USD_SCALE).unwrap(), 420 * USD_SCALE);
        assert_eq!(parse_decimal("0.18", USD_SCALE).unwrap(), 180_000_000_000);
        assert_eq!(parse_decimal("6.5", 1).unwrap(), 6);
        assert!(parse_decimal("-1", 1).is_err());
        assert!(parse_decimal("1e3", 1).is_err());
        assert!(parse_decimal("", 1).is_err());
    }

    #[test]
    fn sample_universe_parses() {
        let u = parse(SAMPLE_UNIVERSE).unwrap();
        assert_eq!(u.len(), 20);
        let tao = &u[0];
        assert_eq!(tao.symbol, "TAO");
        assert_eq!(tao.sector, SubSector::Inference);
        assert_eq!(tao.price, 420 * USD_SCALE);
        assert_eq!(tao.circulating_supply, 9_600_000);
        let params = crate::targets::methodology_params(&aidx::state::IndexParams::default());
        let facts: Vec<_> = u.iter().map(Token::facts).collect();
        let rows = aidx::math::methodology::compute_targets(&facts, &params).unwrap();
        let eligible: Vec<&str> = u
            .iter()
            .zip(&rows)
            .filter(|(_, r)| r.target > 0)
            .map(|(t, _)| t.symbol.as_str())
            .collect();
        // VIRTUAL and IOTX have no feed; OLAS has neither a feed nor the volume.
        assert_eq!(eligible.len(), 17);
        assert!(
            !eligible.contains(&"VIRTUAL")
                && !eligible.contains(&"OLAS")
                && !eligible.contains(&"IOTX")
        );
    }
}
