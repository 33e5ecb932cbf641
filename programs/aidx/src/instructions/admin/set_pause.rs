//! Pause flags per operation (`PAUSE_*`). The guardian can only add flags; the admin can set
//! any. Redeem in kind has no flag: holders can always leave.

use crate::errors::AidxError;
use crate::events::{emit_event, PauseSet};
use crate::state::*;
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct SetPause<'info> {
    /// The guardian or the admin.
    pub authority: Signer<'info>,
    #[account(mut)]
    pub index: AccountLoader<'info, Index>,
}

pub fn set_pause(ctx: Context<SetPause>, flags: u8) -> Result<()> {
    require!(flags & !PAUSE_ALL == 0, AidxError::InvalidPauseFlags);
    let by = ctx.accounts.authority.key();
    let mut index = ctx.accounts.index.load_mut()?;
    let old = index.paused;
    if by != index.admin {
        require_keys_eq!(by, index.guardian, AidxError::UnauthorizedGuardian);
        require!(flags & old == old, AidxError::GuardianCannotUnpause);
    }
    index.paused = flags;
    // An auction does not run on while rebalancing is paused: it starts again after, and the
    // rebalance window opens again then (a pause must not eat it).
    if (old ^ flags) & PAUSE_REBALANCE != 0 {
        index.imbalance_started_at = 0;
        if flags & PAUSE_REBALANCE == 0 {
            index.targets_changed(Clock::get()?.unix_timestamp);
        }
    }
    index.invariant()?;
    emit_event(&PauseSet {
        index: ctx.accounts.index.key(),
        by,
        old,
        new: flags,
    });
    Ok(())
}
