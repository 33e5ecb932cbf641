//! `accrue_fees` (anyone) mints the management fee due to the fee-share account;
//! `claim_fees` (the fee recipient) takes the fee shares collected there.

use crate::errors::AidxError;
use crate::events::{emit_event, FeesClaimed};
use crate::instructions::fees::accrue_management_fee;
use crate::state::*;
use anchor_lang::prelude::*;
use anchor_spl::token::{self, Mint, Token, TokenAccount, Transfer};

#[derive(Accounts)]
pub struct AccrueFees<'info> {
    #[account(
        mut,
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

pub fn accrue_fees(ctx: Context<AccrueFees>) -> Result<()> {
    let a = &ctx.accounts;
    require!(a.index.load()?.is_seeded(), AidxError::NotSeeded);
    accrue_management_fee(
        &a.index,
        &a.share_mint.to_account_info(),
        &a.fee_shares.to_account_info(),
        a.token_program.key(),
        Clock::get()?.unix_timestamp,
    )?;
    let index = a.index.load()?;
    index.check_share_supply(&a.share_mint.to_account_info())?;
    index.invariant()
}

#[derive(Accounts)]
pub struct ClaimFees<'info> {
    pub fee_recipient: Signer<'info>,
    #[account(
        has_one = fee_recipient @ AidxError::UnauthorizedFeeRecipient,
        has_one = fee_shares @ AidxError::FeeSharesMismatch,
    )]
    pub index: AccountLoader<'info, Index>,
    #[account(mut)]
    pub fee_shares: Box<Account<'info, TokenAccount>>,
    /// The fee recipient's share account.
    #[account(
        mut,
        constraint = recipient_shares.mint == fee_shares.mint @ AidxError::ShareAccountMintMismatch,
        constraint = recipient_shares.owner == fee_recipient.key() @ AidxError::ShareAccountOwnerMismatch,
    )]
    pub recipient_shares: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

pub fn claim_fees(ctx: Context<ClaimFees>) -> Result<()> {
    let a = &ctx.accounts;
    let shares = a.fee_shares.amount;
    require!(shares > 0, AidxError::ZeroShares);
    let (share_mint, bump) = {
        let index = a.index.load()?;
        (index.share_mint, index.bump)
    };
    let seeds: &[&[u8]] = &[INDEX_SEED, share_mint.as_ref(), &[bump]];
    token::transfer(
        CpiContext::new_with_signer(
            a.token_program.key(),
            Transfer {
                from: a.fee_shares.to_account_info(),
                to: a.recipient_shares.to_account_info(),
                authority: a.index.to_account_info(),
            },
            &[seeds],
        ),
        shares,
    )?;
    emit_event(&FeesClaimed {
        index: a.index.key(),
        fee_recipient: a.fee_recipient.key(),
        shares,
    });
    Ok(())
}
