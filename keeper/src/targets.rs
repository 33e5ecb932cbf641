//! `aidx targets`: the methodology applied to a universe, with every step shown.

use crate::table::{pct, render, ui_amount, Align};
use crate::universe::Token;
use aidx::events::MethodologyInputRow;
use aidx::math::methodology::{compute_targets, MethodologyParams, TargetRow};
use aidx::math::WEIGHT_SCALE;
use aidx::state::{Bucket, IndexParams, SubSector};
use anyhow::Result;
use serde::Serialize;
use std::io::Write;

/// The methodology parameters an index's parameters imply (floors at their defaults).
pub fn methodology_params(p: &IndexParams) -> MethodologyParams {
    p.methodology()
}

/// The on-chain methodology input row of a universe token (whole units; saturating at u64).
pub fn input_row(t: &Token) -> MethodologyInputRow {
    let host = t.sector == SubSector::Host;
    MethodologyInputRow {
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

#[derive(Serialize)]
pub struct TargetView {
    pub symbol: String,
    pub sector: String,
    pub bucket: String,
    pub eligible: bool,
    pub excluded_because: Option<String>,
    /// USD, whole.
    pub market_cap_usd: String,
    /// precision: WEIGHT_SCALE (1e9 = 100%).
    pub raw_weight: u64,
    pub capped_weight: u64,
    pub haircut: u64,
    pub target: u64,
}

#[derive(Serialize)]
pub struct TargetsReport {
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

pub fn print(r: &TargetsReport, out: &mut impl Write) -> Result<()> {
    let rows: Vec<Vec<String>> = r
        .tokens
        .iter()
        .map(|t| {
            vec![
                t.symbol.clone(),
                t.sector.clone(),
                t.bucket.clone(),
                t.excluded_because.clone().unwrap_or_else(|| "yes".into()),
                format!("${}", t.market_cap_usd),
                pct(t.raw_weight as u128),
                pct(t.capped_weight as u128),
                if t.haircut > 0 {
                    format!("-{}", pct(t.haircut as u128))
                } else {
                    String::new()
                },
                pct(t.target as u128),
            ]
        })
        .collect();
    write!(
        out,
        "{}",
        render(
            &[
                ("token", Align::Left),
                ("sector", Align::Left),
                ("bucket", Align::Left),
                ("eligible", Align::Left),
                ("market cap", Align::Right),
                ("raw", Align::Right),
                ("capped", Align::Right),
                ("haircut", Align::Right),
                ("target", Align::Right),
            ],
            &rows
        )
    )?;
    let total: u64 = r.tokens.iter().map(|t| t.target).sum();
    writeln!(
        out,
        "targets sum to {} ({} units of {WEIGHT_SCALE})",
        pct(total as u128),
        total
    )?;
    writeln!(out, "\nsector breakdown")?;
    let rows: Vec<Vec<String>> = r
        .sectors
        .iter()
        .map(|(s, w)| vec![s.clone(), pct(*w as u128)])
        .collect();
    write!(
        out,
        "{}",
        render(&[("sector", Align::Left), ("target", Align::Right)], &rows)
    )?;
    Ok(())
}
