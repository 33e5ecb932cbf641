//! Recomputes every target with the shared methodology from the stored methodology inputs and
//! fresh stored prices, after the membership rules (`math::membership`) decide who is in:
//! candidates enter, exits wind down. Permissionless, once per review period (quarterly by default) or when
//! the admin has opened a review. Emits every input and price used.
//!
//! Only on inputs observed after the last review (every active row's), and on prices published
//! within the trade max age: otherwise anyone could recompute, once a review is due, on last
//! quarter's inputs or on prices up to the oracle max age old, and lock the real review out
//! for a review period.

use crate::errors::AidxError;
use crate::events::*;
use crate::math::membership::{fill_to_cap, select_members_by_rank, MemberState, RankError};
use crate::math::methodology::{
    compute_targets_of, Ineligible, TargetRow, DEFAULT_MIN_DEPTH_USD, DEFAULT_MIN_VOLUME_USD,
};
use crate::state::*;
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct RecomputeTargets<'info> {
    #[account(mut)]
    pub index: AccountLoader<'info, Index>,
}

/// The row takes part in a review: active and not quarantined.
fn takes_part(c: &Constituent) -> bool {
    c.status != ConstituentStatus::WindingDown as u8 && !c.is_quarantined()
}

/// The review on the index at `clock`: every check (not paused, due or opened, inputs complete,
/// fresh and newer than the last review, prices within the trade age), the targets from the
/// shared methodology, and the new targets stored (a new auction, the window opened). Emits
/// nothing: the instruction and the keeper's backtest run it alike.
pub fn review_targets(index: &mut Index, clock: &Clock) -> Result<(Vec<TargetRow>, Vec<u8>)> {
    index.require_not_paused(PAUSE_TARGETS)?;
    let due = clock.unix_timestamp
        >= index
            .last_review_at
            .saturating_add(index.params.review_period_secs as i64);
    require!(due || index.review_open == 1, AidxError::ReviewNotDue);
    // A winding-down or quarantined row gets target 0 whatever its inputs and price: neither
    // is needed, so a dead feed on it cannot stop a review. Every active row's inputs must be of one
    // observation (posted in batches, the last batch completes it): nobody can recompute
    // between two batches on a mix of this review's and older inputs.
    let observed_at = index
        .constituents()
        .iter()
        .filter(|c| takes_part(c))
        .map(|c| c.inputs_observed_at)
        .max()
        .unwrap_or(0);
    for c in index.constituents().iter().filter(|c| takes_part(c)) {
        require!(
            c.inputs_observed_at == observed_at,
            AidxError::MethodologyInputsIncomplete
        );
        require!(index.price_is_fresh(c, clock), AidxError::StalePrice);
        require!(
            clock.unix_timestamp.saturating_sub(c.publish_time)
                <= i64::from(index.params.trade_max_age_secs),
            AidxError::PriceTooOldForTargets
        );
        require!(
            c.inputs_observed_at > index.last_review_at,
            AidxError::MethodologyInputsStale
        );
    }
    let params = index.params.methodology();
    // A winding-down or quarantined constituent has no market cap for the methodology:
    // target 0. (Released later, a row takes part in the next review; the admin can open one.)
    let facts: Vec<_> = index
        .constituents()
        .iter()
        .map(|c| {
            let mut f = c.facts();
            if !takes_part(c) {
                f.circulating_supply = 0;
            }
            f
        })
        .collect();
    // Membership: the members and the candidates taking part, ranked as posted, with the
    // buffers; the rows set aside keep their state. Exits wind down: rebalancing sells them,
    // holders redeeming in kind still receive them, the admin removes them once empty.
    let before: Vec<MemberState> = index
        .constituents()
        .iter()
        .map(|c| MemberState {
            member: c.member == 1 && takes_part(c),
            reviews_under_entry: c.reviews_under_entry,
        })
        .collect();
    let ranks: Vec<u16> = index.constituents().iter().map(|c| c.rank).collect();
    let mut decisions =
        select_members_by_rank(&facts, &before, &ranks, &params, &index.params.membership())
            .map_err(|e| match e {
                RankError::Missing(i) => {
                    msg!("constituent {} is liquid but has no rank", i);
                    error!(AidxError::RankMissing)
                }
                RankError::Duplicate(i) => {
                    msg!("constituent {} shares its rank", i);
                    error!(AidxError::RankDuplicate)
                }
                RankError::Math(m) => error!(AidxError::from(m)),
            })?;
    if index.params.max_members > 0 {
        fill_to_cap(&mut decisions, params.max_weight);
    }
    let members: Vec<bool> = decisions.iter().map(|d| d.member).collect();
    let rows = compute_targets_of(&facts, &params, Some(&members)).map_err(AidxError::from)?;
    let mut membership = Vec::with_capacity(rows.len());
    for ((c, r), d) in index
        .constituents_mut()
        .iter_mut()
        .zip(&rows)
        .zip(&decisions)
    {
        c.target_weight = r.target;
        if !takes_part(c) {
            membership.push(MEMBERSHIP_ASIDE);
            continue;
        }
        membership.push(match (c.member == 1, d.member) {
            (false, false) => MEMBERSHIP_OUT,
            (true, true) => MEMBERSHIP_STAYS,
            (false, true) => MEMBERSHIP_ENTERS,
            (true, false) => MEMBERSHIP_EXITS,
        });
        c.member = u8::from(d.member);
        c.reviews_under_entry = d.reviews_under_entry;
        // An exit, or a row left out that holds tokens (a founding row the first review does
        // not admit), winds down: sold through rebalancing at any time, then removable.
        if !d.member && (membership.last() == Some(&MEMBERSHIP_EXITS) || c.balance > 0) {
            c.status = ConstituentStatus::WindingDown as u8;
        }
    }
    index.last_review_at = clock.unix_timestamp;
    // New targets start a new auction (the next refresh, poke or swap records it afresh) and
    // open the rebalance window.
    index.targets_changed(clock.unix_timestamp);
    index.review_open = 0;
    index.invariant()?;
    Ok((rows, membership))
}

pub fn recompute_targets(ctx: Context<RecomputeTargets>) -> Result<()> {
    let clock = Clock::get()?;
    let index_key = ctx.accounts.index.key();
    let mut index = ctx.accounts.index.load_mut()?;
    let (rows, membership) = review_targets(&mut index, &clock)?;
    let params = index.params.methodology();

    let cs = index.constituents();
    emit_event(&TargetsRecomputed {
        index: index_key,
        at: clock.unix_timestamp,
        max_weight: params.max_weight,
        unlock_haircut: params.unlock_haircut,
        pure_play_share: params.pure_play_share,
        min_volume_usd: DEFAULT_MIN_VOLUME_USD,
        min_depth_usd: DEFAULT_MIN_DEPTH_USD,
        prices: cs.iter().map(|c| c.price).collect(),
        inputs: cs
            .iter()
            .map(|c| MethodologyInputRow {
                mint: c.mint,
                circulating_supply: c.circulating_supply,
                avg_daily_volume_usd: c.avg_daily_volume_usd,
                depth_usd: (c.flags & FLAG_DEPTH_REPORTED != 0).then_some(c.depth_usd),
                unlock: c.flags & FLAG_UNLOCK != 0,
                sub_sector: c.sub_sector,
                bucket: c.bucket,
                rank: c.rank,
            })
            .collect(),
        inputs_observed_at: cs.iter().map(|c| c.inputs_observed_at).min().unwrap_or(0),
        targets: rows.iter().map(|r| r.target).collect(),
        ineligible: rows
            .iter()
            .map(|r| match r.ineligible {
                None => 0,
                Some(Ineligible::Volume) => 1,
                Some(Ineligible::Depth) => 2,
                Some(Ineligible::NoMarketCap) => 3,
                Some(Ineligible::NotSelected) => 4,
            })
            .collect(),
        membership,
    });
    Ok(())
}
