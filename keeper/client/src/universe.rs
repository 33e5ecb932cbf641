//! The index universe: tokens with sub-sector, Pyth feed, price, circulating supply, volume
//! and unlock flag, read from CSV (the project's sample lives in `keeper/client/data/`).

use crate::format::parse_decimal;
use aidx::math::methodology::TokenFacts;
use aidx::math::USD_SCALE;
use aidx::state::SubSector;
use anyhow::{anyhow, bail, Context, Result};

/// The sample universe shipped with the keeper.
pub const SAMPLE_UNIVERSE: &str = include_str!("../data/sample-universe.csv");

/// One token of the universe.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// Ticker.
    pub symbol: String,
    /// Name.
    pub name: String,
    /// AI sub-sector, or host chain.
    pub sector: SubSector,
    /// Pyth feed id, when the token has one.
    pub feed_id: Option<[u8; 32]>,
    /// precision: USD_SCALE. Price of one whole token.
    pub price: u128,
    /// Whole tokens in circulation.
    pub circulating_supply: u128,
    /// Whole USD.
    pub avg_daily_volume_usd: u128,
    /// Whether an unlock cliff above 10% of float is coming.
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

/// The columns of a universe file, in order; `depth_2pct_usd` may follow.
pub const COLUMNS: [&str; 8] = [
    "symbol",
    "name",
    "sector",
    "pyth_feed_id",
    "price_usd",
    "circulating_supply",
    "avg_daily_volume_usd",
    "unlock_over_10pct_float",
];

/// Parses the universe CSV (RFC 4180: a header line, then one token a line; quoted fields may
/// hold commas). Columns as [`COLUMNS`], optionally followed by `depth_2pct_usd`.
pub fn parse(text: &str) -> Result<Vec<Token>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .context("universe header")?
        .iter()
        .map(str::to_string)
        .collect();
    let has_depth = header.len() == COLUMNS.len() + 1 && header[COLUMNS.len()] == "depth_2pct_usd";
    if header.len() < COLUMNS.len()
        || header[..COLUMNS.len()] != COLUMNS
        || (header.len() != COLUMNS.len() && !has_depth)
    {
        bail!(
            "universe header must be {}[,depth_2pct_usd]",
            COLUMNS.join(",")
        );
    }
    let width = header.len();
    let mut tokens = vec![];
    for record in reader.records() {
        let f = record.context("universe")?;
        if f.iter().all(str::is_empty) {
            continue;
        }
        let row = f.position().map(|p| p.line()).unwrap_or_default();
        if f.len() != width {
            bail!("line {row}: {} fields, expected {width}", f.len());
        }
        let at = || format!("line {row}");
        tokens.push(Token {
            symbol: f[0].to_string(),
            name: f[1].to_string(),
            sector: SubSector::from_name(&f[2])
                .ok_or_else(|| anyhow!("line {row}: unknown sector {:?}", &f[2]))?,
            feed_id: parse_feed_id(&f[3]).with_context(at)?,
            price: parse_decimal(&f[4], USD_SCALE).with_context(at)?,
            circulating_supply: parse_decimal(&f[5], 1).with_context(at)?,
            avg_daily_volume_usd: parse_decimal(&f[6], 1).with_context(at)?,
            unlock_over_10pct_float: match &f[7] {
                "true" => true,
                "false" => false,
                x => bail!("line {row}: unlock flag must be true or false, not {x:?}"),
            },
            depth_usd: match f.get(8) {
                Some(d) if !d.is_empty() => Some(parse_decimal(d, 1).with_context(at)?),
                _ => None,
            },
        });
    }
    if tokens.is_empty() && header.is_empty() {
        bail!("empty universe");
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_universe_parses() {
        let u = parse(SAMPLE_UNIVERSE).unwrap();
        assert_eq!(u.len(), 20);
        let tao = &u[0];
        assert_eq!(tao.symbol, "TAO");
        assert_eq!(tao.sector, SubSector::Inference);
        assert_eq!(tao.price, 420 * USD_SCALE);
        assert_eq!(tao.circulating_supply, 9_600_000);
        let params = aidx::state::IndexParams::default().methodology();
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

    #[test]
    fn quoted_fields_may_hold_commas_and_bad_rows_are_named() {
        let head = COLUMNS.join(",");
        let row = "TAO,\"Bittensor, Inc.\",inference,,420.5,9600000,60000000,false";
        let u = parse(&format!("{head}\n{row}\n\n")).unwrap();
        assert_eq!(u.len(), 1);
        assert_eq!(u[0].name, "Bittensor, Inc.");
        assert_eq!(u[0].price, 420_500_000_000_000);
        assert_eq!(u[0].feed_id, None);
        let bad = parse(&format!("{head}\n{row}\nX,x,nowhere,,1,1,1,false\n")).unwrap_err();
        assert_eq!(bad.to_string(), "line 3: unknown sector \"nowhere\"");
        let short = parse(&format!("{head}\nX,x\n")).unwrap_err();
        assert_eq!(short.to_string(), "line 2: 2 fields, expected 8");
        assert!(parse("symbol,name\n").is_err());
    }
}
