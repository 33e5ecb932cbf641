//! The admin opens the index to its first mint, once the constituent table is set up.
//!
//! The first mint seeds the basket from the stated composition (each row's
//! `initial_units_per_share`) and locks it. Before this step nobody can mint, so nobody can
//! seed a half-configured index (after the first `add_constituent`, say) and lock its
//! composition at one row; after it, `add_constituent` adds rows empty (no seed units), as
//! after the first mint.

use crate::errors::AidxError;
use crate::events::{emit_event, IndexOpened};
use anchor_lang::prelude::*;

use super::roles::AdminOnly;

pub fn open_index(ctx: Context<AdminOnly>) -> Result<()> {
    let at = Clock::get()?.unix_timestamp;
    let mut index = ctx.accounts.index.load_mut()?;
    require!(index.opened == 0, AidxError::IndexAlreadyOpen);
    require!(
        index
            .constituents()
            .iter()
            .any(|c| c.initial_units_per_share > 0),
        AidxError::EmptyBasket
    );
    index.opened = 1;
    index.invariant()?;
    emit_event(&IndexOpened {
        index: ctx.accounts.index.key(),
        at,
        initial_units_per_share: index
            .constituents()
            .iter()
            .map(|c| c.initial_units_per_share)
            .collect(),
        targets: index.targets(),
    });
    Ok(())
}
