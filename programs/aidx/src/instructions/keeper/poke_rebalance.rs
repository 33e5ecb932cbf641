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

/// Starts or clears the auction clock for the index at `weights`; emits what changed.
pub fn update_imbalance(
    index: &mut Index,
    index_key: Pubkey,
    weights: &[u64],
    now: i64,
) -> Result<()> {
    let any_out = index.out_of_band(weights)?.into_iter().any(|o| o);
    if any_out && index.imbalance_started_at == 0 {
        index.imbalance_started_at = now;
        emit_event(&ImbalanceStarted {
            index: index_key,
            at: now,
            weights: weights.to_vec(),
            targets: index.targets(),
        });
    } else if !any_out && index.imbalance_started_at != 0 {
        let started_at = index.imbalance_started_at;
        index.imbalance_started_at = 0;
        emit_event(&ImbalanceCleared {
            index: index_key,
            at: now,
            started_at,
            weights: weights.to_vec(),
        });
    }
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
