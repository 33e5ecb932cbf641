//! Accounts shared by the single-asset instructions: the holder's share account and one
//! constituent leg (mint, vault, holder token account, its token program).

use crate::errors::AidxError;
use crate::state::*;
use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};
use anchor_spl::token_interface::{
    Mint as AnyMint, TokenAccount as AnyTokenAccount, TokenInterface,
};

#[derive(Accounts)]
pub struct SingleAsset<'info> {
    /// Deposits or withdraws the constituent and receives or burns the shares.
    pub holder: Signer<'info>,
    #[account(
        mut,
        has_one = share_mint @ AidxError::ShareMintMismatch,
        has_one = fee_shares @ AidxError::FeeSharesMismatch,
    )]
    pub index: AccountLoader<'info, Index>,
    #[account(mut)]
    pub share_mint: Box<Account<'info, Mint>>,
    /// The holder's share account.
    #[account(
        mut,
        constraint = holder_shares.mint == share_mint.key() @ AidxError::ShareAccountMintMismatch,
        constraint = holder_shares.owner == holder.key() @ AidxError::ShareAccountOwnerMismatch,
    )]
    pub holder_shares: Box<Account<'info, TokenAccount>>,
    /// The constituent's mint; the handler checks it is in the table.
    #[account(mint::token_program = token_program)]
    pub mint: Box<InterfaceAccount<'info, AnyMint>>,
    /// The constituent's vault; the handler checks it is the table's.
    #[account(mut)]
    pub vault: Box<InterfaceAccount<'info, AnyTokenAccount>>,
    /// The holder's token account of `mint`.
    #[account(
        mut,
        constraint = holder_token.mint == mint.key() @ AidxError::TokenAccountMintMismatch,
        constraint = holder_token.owner == holder.key() @ AidxError::TokenAccountOwnerMismatch,
    )]
    pub holder_token: Box<InterfaceAccount<'info, AnyTokenAccount>>,
    /// The constituent's token program.
    pub token_program: Interface<'info, TokenInterface>,
    /// The share mint's token program.
    pub share_token_program: Program<'info, Token>,
    /// The index's fee-share account (management and mint / redeem fees).
    #[account(mut)]
    pub fee_shares: Box<Account<'info, TokenAccount>>,
}

impl<'info> SingleAsset<'info> {
    /// Checks the pause bit and the constituent, then accrues the management fee: call before
    /// quoting, so the quote sees the supply after accrual. Returns the constituent's row.
    pub fn prepare(&self, pause_bit: u8, now: i64) -> Result<usize> {
        let row = {
            let index = self.index.load()?;
            index.require_not_paused(pause_bit)?;
            self.constituent_row(&index)?
        };
        crate::instructions::fees::accrue_management_fee(
            &self.index,
            &self.share_mint.to_account_info(),
            &self.fee_shares.to_account_info(),
            self.share_token_program.key(),
            now,
        )?;
        Ok(row)
    }

    /// The row of `mint`, with the vault and token program checked against it.
    pub fn constituent_row(&self, index: &Index) -> Result<usize> {
        let k = index.position_of(&self.mint.key())?;
        let c = &index.constituents()[k];
        require_keys_eq!(self.vault.key(), c.vault, AidxError::VaultMismatch);
        require_keys_eq!(
            self.token_program.key(),
            c.token_program,
            AidxError::TokenProgramMismatch
        );
        require!(index.is_seeded(), AidxError::NotSeeded);
        Ok(k)
    }
}
