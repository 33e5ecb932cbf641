//! Records when an imbalance starts (some constituent out of band: the auction clock starts)
//! and clears it when every constituent is back in band. Permissionless; needs fresh prices.

use crate::errors::AidxError;
use crate::events::{emit_event, BreachClock, ImbalanceCleared, ImbalanceStarted};
use crate::state::*;
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct PokeRebalance<'info> {
    #[account(mut)]
    pub index: AccountLoader<'info, Index>,
}

/// What an auction clock did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImbalanceChange {
    /// It started at this time.
    Started(i64),
    /// It stopped; it had started at this time.
    Cleared(i64),
}

/// What the two auction clocks did: the index's (some row may be traded) and the breach
/// clock (outside the window, some row breaches: see [`Index::breaching`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClockChanges {
    /// The index's clock.
    pub main: Option<ImbalanceChange>,
    /// The breach clock.
    pub breach: Option<ImbalanceChange>,
}

fn step(clock: &mut i64, running: bool, now: i64) -> Option<ImbalanceChange> {
    if running && *clock == 0 {
        *clock = now;
        Some(ImbalanceChange::Started(now))
    } else if !running && *clock != 0 {
        let started = *clock;
        *clock = 0;
        Some(ImbalanceChange::Cleared(started))
    } else {
        None
    }
}

/// Starts or clears the auction clocks for the index at `weights` (of `band_holdings`) at
/// `now`: the index's runs while some row may be traded (see [`Index::tradeable`]), the breach
/// clock while some row breaches. Emits nothing.
pub fn imbalance_change(index: &mut Index, weights: &[u64], now: i64) -> Result<ClockChanges> {
    let tradeable = index.tradeable(weights, now)?;
    let any = tradeable.iter().any(|t| *t);
    let breaching = index.breaching(&tradeable, now);
    Ok(ClockChanges {
        main: step(&mut index.imbalance_started_at, any, now),
        breach: step(&mut index.breach_started_at, breaching, now),
    })
}

/// Emits what [`imbalance_change`] did.
pub fn emit_imbalance_change(
    index: &Index,
    index_key: Pubkey,
    change: ClockChanges,
    weights: &[u64],
    now: i64,
) {
    match change.main {
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
    match change.breach {
        Some(ImbalanceChange::Started(at)) => emit_event(&BreachClock {
            index: index_key,
            at,
            started_at: at,
            cleared: false,
        }),
        Some(ImbalanceChange::Cleared(started_at)) => emit_event(&BreachClock {
            index: index_key,
            at: now,
            started_at,
            cleared: true,
        }),
        None => {}
    }
}

/// Starts or clears the auction clocks for the index at `weights` and emits what changed.
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
