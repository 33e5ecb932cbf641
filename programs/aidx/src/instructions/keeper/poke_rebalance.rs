//! Records when an imbalance starts (some constituent out of band: the auction clock starts)
//! and clears it when every constituent is back in band. Permissionless; needs fresh prices.

use crate::errors::AidxError;
use crate::events::{emit_event, ImbalanceCleared, ImbalanceStarted};
use crate::state::*;
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct PokeRebalance<'info> {
    #[account(mut)]
    pub index: AccountLoader<'info, Index>,
}

/// What the auction clock did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImbalanceChange {
    /// Some row became tradeable out of band: the auction started at this time.
    Started(i64),
    /// No row is tradeable out of band any more: the auction that started then is over.
    Cleared(i64),
}

/// Starts or clears the auction clock for the index at `weights` (of `band_holdings`) at
/// `now`: it runs while some row may be traded (see [`Index::tradeable`]). Emits nothing.
pub fn imbalance_change(
    index: &mut Index,
    weights: &[u64],
    now: i64,
) -> Result<Option<ImbalanceChange>> {
    let any = index.tradeable(weights, now)?.into_iter().any(|o| o);
    Ok(if any && index.imbalance_started_at == 0 {
        index.imbalance_started_at = now;
        Some(ImbalanceChange::Started(now))
    } else if !any && index.imbalance_started_at != 0 {
        let started_at = index.imbalance_started_at;
        index.imbalance_started_at = 0;
        Some(ImbalanceChange::Cleared(started_at))
    } else {
        None
    })
}

/// Emits what [`imbalance_change`] did.
pub fn emit_imbalance_change(
    index: &Index,
    index_key: Pubkey,
    change: Option<ImbalanceChange>,
    weights: &[u64],
    now: i64,
) {
    match change {
        Some(ImbalanceChange::Started(at)) => emit_event(&ImbalanceStarted {
            index: index_key,
            at,
            weights: weights.to_vec(),
            targets: index.targets(),
        }),
        Some(ImbalanceChange::Cleared(started_at)) => emit_event(&ImbalanceCleared {
            index: index_key,
            at: now,
            started_at,
            weights: weights.to_vec(),
        }),
        None => {}
    }
}

/// Starts or clears the auction clock for the index at `weights` and emits what changed.
pub fn update_imbalance(
    index: &mut Index,
    index_key: Pubkey,
    weights: &[u64],
    now: i64,
) -> Result<()> {
    let change = imbalance_change(index, weights, now)?;
    emit_imbalance_change(index, index_key, change, weights, now);
    Ok(())
}

pub fn poke_rebalance(ctx: Context<PokeRebalance>) -> Result<()> {
    let clock = Clock::get()?;
    let index_key = ctx.accounts.index.key();
    let mut index = ctx.accounts.index.load_mut()?;
    require!(index.is_seeded(), AidxError::NotSeeded);
    index.require_fresh_prices(&clock, &[])?;
    let w = index.band_weights()?;
    update_imbalance(&mut index, index_key, &w, clock.unix_timestamp)?;
    index.invariant()
}
