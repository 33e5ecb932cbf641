//! Creates an index: the index PDA, its share mint (mint and freeze authority: the index) and
//! the index's own dead-share account, with validated parameters and roles.

use crate::errors::AidxError;
use crate::events::{emit_event, IndexInitialized};
use crate::math::SHARE_DECIMALS;
use crate::state::*;
use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct InitializeIndexArgs {
    pub params: IndexParams,
    /// Posts methodology inputs.
    pub methodology_authority: Pubkey,
    /// Can pause operations.
    pub guardian: Pubkey,
    /// Receives fees, as shares.
    pub fee_recipient: Pubkey,
}

#[derive(Accounts)]
pub struct InitializeIndex<'info> {
    /// Pays for the new accounts.
    #[account(mut)]
    pub payer: Signer<'info>,
    /// Becomes the index admin.
    pub admin: Signer<'info>,
    /// The new share mint (a fresh keypair); the index PDA is derived from it.
    #[account(
        init,
        payer = payer,
        mint::decimals = SHARE_DECIMALS,
        mint::authority = index,
        mint::freeze_authority = index,
        mint::token_program = token_program,
    )]
    pub share_mint: Box<Account<'info, Mint>>,
    /// The index, PDA `["index", share_mint]`.
    #[account(
        init,
        payer = payer,
        space = INDEX_ACCOUNT_SIZE,
        seeds = [INDEX_SEED, share_mint.key().as_ref()],
        bump,
    )]
    pub index: AccountLoader<'info, Index>,
    /// The index's own share account for dead shares, PDA `["dead_shares", index]`.
    #[account(
        init,
        payer = payer,
        seeds = [DEAD_SHARES_SEED, index.key().as_ref()],
        bump,
        token::mint = share_mint,
        token::authority = index,
        token::token_program = token_program,
    )]
    pub dead_shares: Box<Account<'info, TokenAccount>>,
    /// The index's fee-share account, PDA `["fee_shares", index]`.
    #[account(
        init,
        payer = payer,
        seeds = [FEE_SHARES_SEED, index.key().as_ref()],
        bump,
        token::mint = share_mint,
        token::authority = index,
        token::token_program = token_program,
    )]
    pub fee_shares: Box<Account<'info, TokenAccount>>,
    /// Shares live on SPL Token.
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

impl InitializeIndex<'_> {
    pub fn validate(&self, args: &InitializeIndexArgs) -> Result<()> {
        args.params.validate()?;
        for role in [
            args.methodology_authority,
            args.guardian,
            args.fee_recipient,
        ] {
            require_keys_neq!(role, Pubkey::default(), AidxError::InvalidRole);
        }
        Ok(())
    }
}

pub fn initialize_index(ctx: Context<InitializeIndex>, args: InitializeIndexArgs) -> Result<()> {
    ctx.accounts.validate(&args)?;
    let mut index = ctx.accounts.index.load_init()?;
    index.admin = ctx.accounts.admin.key();
    index.pending_admin = Pubkey::default();
    index.methodology_authority = args.methodology_authority;
    index.guardian = args.guardian;
    index.fee_recipient = args.fee_recipient;
    index.share_mint = ctx.accounts.share_mint.key();
    index.dead_shares = ctx.accounts.dead_shares.key();
    index.fee_shares = ctx.accounts.fee_shares.key();
    index.fee_shares_bump = ctx.bumps.fee_shares;
    index.params = args.params;
    index.share_supply = 0;
    index.created_at = Clock::get()?.unix_timestamp;
    index.window_opened_at = index.created_at;
    index.bump = ctx.bumps.index;
    index.dead_shares_bump = ctx.bumps.dead_shares;
    index.num_constituents = 0;
    index.invariant()?;

    emit_event(&IndexInitialized {
        index: ctx.accounts.index.key(),
        share_mint: index.share_mint,
        dead_shares: index.dead_shares,
        fee_shares: index.fee_shares,
        admin: index.admin,
        methodology_authority: index.methodology_authority,
        guardian: index.guardian,
        fee_recipient: index.fee_recipient,
        params: index.params,
    });
    Ok(())
}
