//! The methodology applied to a universe, with every step per token: what `aidx targets`
//! shows and what the demo seeds the index at.

use crate::format::ui_amount;
use crate::universe::Token;
use aidx::events::MethodologyInputRow;
use aidx::math::membership::{select_members, Decision, MemberState, MembershipParams, Why};
use aidx::math::methodology::{compute_targets_of, MethodologyParams, TargetRow};
use aidx::state::{Bucket, SubSector};
use anyhow::Result;
use serde::Serialize;
use solana_sdk::pubkey::Pubkey;

/// The on-chain methodology input row of a universe token listed as `mint`, ranked `rank`
/// among the universe's liquid tokens (see [`ranks`]; whole units, saturating at u64).
pub fn input_row(t: &Token, mint: Pubkey, rank: Option<usize>) -> MethodologyInputRow {
    let host = t.sector == SubSector::Host;
    MethodologyInputRow {
        mint,
        circulating_supply: u64::try_from(t.circulating_supply).unwrap_or(u64::MAX),
        avg_daily_volume_usd: u64::try_from(t.avg_daily_volume_usd).unwrap_or(u64::MAX),
        depth_usd: t.depth_usd.map(|d| u64::try_from(d).unwrap_or(u64::MAX)),
        unlock: t.unlock_over_10pct_float,
        sub_sector: t.sector as u8,
        bucket: if host { Bucket::Host } else { Bucket::PurePlay } as u8,
        rank: rank.and_then(|r| u16::try_from(r).ok()).unwrap_or(0),
    }
}

/// Each universe token's rank among the liquid ones (`None`: not liquid), as the membership
/// rules rank them with `before` the tokens' states: what the methodology authority posts.
pub fn ranks(
    universe: &[Token],
    params: &MethodologyParams,
    membership: &MembershipParams,
    before: &[MemberState],
) -> Result<Vec<Option<usize>>> {
    let facts: Vec<_> = universe.iter().map(Token::facts).collect();
    let decisions = select_members(&facts, before, params, membership)
        .map_err(|e| anyhow::anyhow!("membership: {e}"))?;
    Ok(decisions.iter().map(|d| d.rank).collect())
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
    /// Its rank by circulating market cap among the liquid tokens (1 = largest), if liquid.
    pub rank: Option<usize>,
    /// The review's membership decision: `enters`, `stays`, `exits` or `out`.
    pub membership: String,
    /// Why, as a person reads it.
    pub membership_because: String,
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

/// Why a membership decision was taken, as a person reads it.
pub fn describe(d: &Decision, p: &MethodologyParams, m: &MembershipParams) -> String {
    let n = m.max_constituents;
    let rank = d.rank.unwrap_or(0);
    let usd = |v: u128| format!("${}M", ui_amount(v, 6, 1));
    match d.why {
        Why::TopRank => format!("rank {rank} <= {}", n.saturating_sub(m.rank_buffer)),
        Why::WithinBuffer => format!("rank {rank}, within the buffer (<= {})", n + m.rank_buffer),
        Why::Filled => format!("rank {rank}, fills the index to {n}"),
        Why::BeyondBuffer => format!("rank {rank} > {}", n + m.rank_buffer),
        Why::MadeWay => format!("rank {rank} > {n}: made way for an entrant"),
        Why::RankTooLow => format!(
            "rank {rank} > {} and the index is full",
            n.saturating_sub(m.rank_buffer)
        ),
        Why::BelowExitFloor => format!("volume under {}", usd(m.exit_volume_usd)),
        Why::UnderEntryFloorTooLong => format!(
            "volume under {} at {} reviews in a row",
            usd(p.min_volume_usd),
            d.reviews_under_entry
        ),
        Why::NotEligible(e) => e.describe().to_string(),
        Why::NoLimit => "no count limit".to_string(),
    }
}

/// Runs the methodology on `universe` at a first review (no members yet) with the index's
/// default membership rules, and collects every step per token.
pub fn report(universe: &[Token], params: &MethodologyParams) -> Result<TargetsReport> {
    let before = vec![MemberState::default(); universe.len()];
    report_with(
        universe,
        params,
        &MembershipParams::index_default(),
        &before,
    )
}

/// Runs the membership rules (`before`: each token's state before the review) and the
/// methodology on the members, and collects every step per token.
pub fn report_with(
    universe: &[Token],
    params: &MethodologyParams,
    membership: &MembershipParams,
    before: &[MemberState],
) -> Result<TargetsReport> {
    let facts: Vec<_> = universe.iter().map(Token::facts).collect();
    let decisions = select_members(&facts, before, params, membership)
        .map_err(|e| anyhow::anyhow!("membership: {e}"))?;
    let members: Vec<bool> = decisions.iter().map(|d| d.member).collect();
    let rows = compute_targets_of(&facts, params, Some(&members))?;
    let tokens = universe
        .iter()
        .zip(&rows)
        .zip(&decisions)
        .map(|((t, r), d)| TargetView {
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
            rank: d.rank,
            membership: d.verb().into(),
            membership_because: match t.feed_id {
                None => "no Pyth feed".into(),
                Some(_) => describe(d, params, membership),
            },
            // A liquid token not selected still has its market cap shown (it was ranked by it).
            market_cap_usd: ui_amount(
                match (d.rank, r.market_cap) {
                    (Some(_), 0) => t.facts().price.saturating_mul(t.circulating_supply),
                    _ => r.market_cap,
                },
                12,
                0,
            ),
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
