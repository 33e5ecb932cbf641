//! The admin opens a methodology review: targets may then be recomputed before the review
//! period has passed (once; recomputing closes it).

use crate::errors::AidxError;
use crate::events::{emit_event, ReviewOpened};
use crate::state::*;
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct OpenReview<'info> {
    pub admin: Signer<'info>,
    #[account(mut, has_one = admin @ AidxError::UnauthorizedAdmin)]
    pub index: AccountLoader<'info, Index>,
}

pub fn open_review(ctx: Context<OpenReview>) -> Result<()> {
    let at = Clock::get()?.unix_timestamp;
    let mut index = ctx.accounts.index.load_mut()?;
    index.review_open = 1;
    index.invariant()?;
    emit_event(&ReviewOpened {
        index: ctx.accounts.index.key(),
        at,
    });
    Ok(())
}
