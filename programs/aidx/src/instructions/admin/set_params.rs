//! The admin changes the index parameters; every one is checked against its bound, and the
//! event carries the old and the new values. The management fee is accrued at the old rate
//! first (pass the fee-share account), so a rate change never applies retroactively.

use crate::errors::AidxError;
use crate::events::{emit_event, ParamsUpdated};
use crate::instructions::fees::accrue_management_fee;
use crate::state::*;
use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

#[derive(Accounts)]
pub struct SetParams<'info> {
    pub admin: Signer<'info>,
    #[account(
        mut,
        has_one = admin @ AidxError::UnauthorizedAdmin,
        has_one = share_mint @ AidxError::ShareMintMismatch,
        has_one = fee_shares @ AidxError::FeeSharesMismatch,
    )]
    pub index: AccountLoader<'info, Index>,
    #[account(mut)]
    pub share_mint: Box<Account<'info, Mint>>,
    #[account(mut)]
    pub fee_shares: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

pub fn set_params(ctx: Context<SetParams>, params: IndexParams) -> Result<()> {
    params.validate()?;
    let a = &ctx.accounts;
    let now = Clock::get()?.unix_timestamp;
    accrue_management_fee(
        &a.index,
        &a.share_mint.to_account_info(),
        &a.fee_shares.to_account_info(),
        a.token_program.key(),
        now,
    )?;
    let mut index = a.index.load_mut()?;
    let old = index.params;
    index.params = params;
    // A new band, auction or rebalance parameter starts a new auction and opens the window.
    index.targets_changed(now);
    index.invariant()?;
    emit_event(&ParamsUpdated {
        index: a.index.key(),
        old,
        new: params,
    });
    Ok(())
}
