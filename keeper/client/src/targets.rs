//! The methodology applied to a universe, with every step per token: what `aidx targets`
//! shows and what the demo seeds the index at.

use crate::format::ui_amount;
use crate::universe::Token;
use aidx::events::MethodologyInputRow;
use aidx::math::methodology::{compute_targets, MethodologyParams, TargetRow};
use aidx::state::{Bucket, SubSector};
use anyhow::Result;
use serde::Serialize;
use solana_sdk::pubkey::Pubkey;

/// The on-chain methodology input row of a universe token listed as `mint` (whole units;
/// saturating at u64).
pub fn input_row(t: &Token, mint: Pubkey) -> MethodologyInputRow {
    let host = t.sector == SubSector::Host;
    MethodologyInputRow {
        mint,
        circulating_supply: u64::try_from(t.circulating_supply).unwrap_or(u64::MAX),
        avg_daily_volume_usd: u64::try_from(t.avg_daily_volume_usd).unwrap_or(u64::MAX),
        depth_usd: t.depth_usd.map(|d| u64::try_from(d).unwrap_or(u64::MAX)),
        unlock: t.unlock_over_10pct_float,
        sub_sector: t.sector as u8,
        bucket: if host { Bucket::Host } else { Bucket::PurePlay } as u8,
    }
}

/// Why a universe token is out of the index, if it is.
pub fn exclusion(t: &Token, row: &TargetRow) -> Option<String> {
    if t.feed_id.is_none() {
        Some("no Pyth feed".into())
    } else {
        row.ineligible.map(|i| i.describe().to_string())
    }
}

/// One universe token through the methodology.
#[derive(Serialize)]
pub struct TargetView {
    /// Ticker.
    pub symbol: String,
    /// Sub-sector name.
    pub sector: String,
    /// `pure-play` or `host`.
    pub bucket: String,
    /// Whether the token is in the index.
    pub eligible: bool,
    /// Why it is not, when it is not.
    pub excluded_because: Option<String>,
    /// USD, whole.
    pub market_cap_usd: String,
    /// precision: WEIGHT_SCALE (1e9 = 100%). Circulating market-cap weight among the eligible.
    pub raw_weight: u64,
    /// precision: WEIGHT_SCALE. After the cap and its pro-rata redistribution.
    pub capped_weight: u64,
    /// precision: WEIGHT_SCALE. Taken off for an unlock cliff.
    pub haircut: u64,
    /// precision: WEIGHT_SCALE. The target weight.
    pub target: u64,
}

/// The methodology's result for a universe.
#[derive(Serialize)]
pub struct TargetsReport {
    /// Every token, universe order.
    pub tokens: Vec<TargetView>,
    /// (sector, summed target), the seven AI sub-sectors then host chains.
    pub sectors: Vec<(String, u64)>,
}

/// Runs the methodology on `universe` and collects every step per token.
pub fn report(universe: &[Token], params: &MethodologyParams) -> Result<TargetsReport> {
    let facts: Vec<_> = universe.iter().map(Token::facts).collect();
    let rows = compute_targets(&facts, params)?;
    let tokens = universe
        .iter()
        .zip(&rows)
        .map(|(t, r)| TargetView {
            symbol: t.symbol.clone(),
            sector: t.sector.name().into(),
            bucket: if t.sector == SubSector::Host {
                "host"
            } else {
                "pure-play"
            }
            .into(),
            eligible: exclusion(t, r).is_none(),
            excluded_because: exclusion(t, r),
            market_cap_usd: ui_amount(r.market_cap, 12, 0),
            raw_weight: r.raw_weight,
            capped_weight: r.capped_weight,
            haircut: r.haircut,
            target: r.target,
        })
        .collect();
    let sectors = SubSector::ALL
        .iter()
        .map(|s| {
            let w = universe
                .iter()
                .zip(&rows)
                .filter(|(t, _)| t.sector == *s)
                .map(|(_, r)| r.target)
                .sum();
            (s.name().to_string(), w)
        })
        .collect();
    Ok(TargetsReport { tokens, sectors })
}
