//! Constituent lifecycle after `add_constituent`: wind down (target 0; rebalancing sells it,
//! single-asset deposits of it are refused by the band rule) and remove once its balance is 0.
//!
//! Winding down hands the row's target to the other rows pro rata, capped at the index's cap
//! with the excess redistributed (the methodology's own `distribute`; uncapped when too few
//! rows remain for the cap), so the targets keep their sum exactly: a row that leaves does not
//! leave the rest of the index under target.

use crate::errors::AidxError;
use crate::events::{emit_event, ConstituentRemoved, ConstituentWindingDown};
use crate::math::methodology::{distribute, MethodologyError};
use crate::math::WEIGHT_SCALE;
use crate::state::*;
use crate::token::token_amount;
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{
    self, CloseAccount, Mint, TokenAccount, TokenInterface, TransferChecked,
};

use super::roles::AdminOnly;

pub fn wind_down_constituent(ctx: Context<AdminOnly>, mint: Pubkey) -> Result<()> {
    let mut index = ctx.accounts.index.load_mut()?;
    let row = index.position_of(&mint)?;
    let (opened, seeded) = (index.opened == 1, index.is_seeded());
    let c = &mut index.constituents_mut()[row];
    require!(
        c.status == ConstituentStatus::Active as u8,
        AidxError::AlreadyWindingDown
    );
    // Open but not yet seeded: the first mint will take this row's stated units. Winding it
    // down (and removing it) would change a composition that is final, and could leave
    // nothing to seed with.
    require!(
        !(opened && !seeded && c.initial_units_per_share > 0),
        AidxError::SeedCompositionLocked
    );
    c.status = ConstituentStatus::WindingDown as u8;
    let balance = c.balance;
    let old_target = hand_on_target(&mut index, row)?;
    // A new target starts a new auction.
    index.targets_changed(Clock::get()?.unix_timestamp);
    index.invariant()?;
    emit_event(&ConstituentWindingDown {
        index: ctx.accounts.index.key(),
        mint,
        row: row as u8,
        old_target,
        balance,
        targets_after: index.targets(),
    });
    Ok(())
}

/// Sets row `row`'s target to 0 and hands it to the other rows: same total, pro rata, capped
/// (uncapped when too few rows remain for the cap to be feasible). When no other row has a
/// target there is nothing to carry it and the targets sum to 0. Returns the old target.
pub fn hand_on_target(index: &mut Index, row: usize) -> Result<u64> {
    let old_target = index.constituents()[row].target_weight;
    index.constituents_mut()[row].target_weight = 0;
    let others: Vec<u128> = index
        .constituents()
        .iter()
        .map(|c| c.target_weight as u128)
        .collect();
    let total = others
        .iter()
        .try_fold(old_target as u128, |a, t| a.checked_add(*t))
        .and_then(|t| u64::try_from(t).ok())
        .ok_or(AidxError::MathOverflow)?;
    if old_target > 0 && others.iter().any(|t| *t > 0) {
        let targets = match distribute(&others, total, index.params.max_weight) {
            Err(MethodologyError::InfeasibleCap { .. }) => distribute(&others, total, WEIGHT_SCALE),
            r => r,
        }
        .map_err(AidxError::from)?;
        for (c, t) in index.constituents_mut().iter_mut().zip(targets) {
            c.target_weight = t;
        }
    }
    Ok(old_target)
}

/// Drops row `row` from the table; later rows move up by one.
pub fn drop_row(index: &mut Index, row: usize) {
    let n = index.num_constituents as usize;
    index.constituents.copy_within(row + 1..n, row);
    index.constituents[n - 1] = bytemuck::Zeroable::zeroed();
    index.num_constituents -= 1;
}

#[derive(Accounts)]
pub struct RemoveConstituent<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(mut, has_one = admin @ AidxError::UnauthorizedAdmin)]
    pub index: AccountLoader<'info, Index>,
    #[account(mint::token_program = token_program)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    /// The constituent's vault; checked against the table in the handler.
    #[account(mut)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Receives tokens that were sent to the vault but never accounted (donations).
    #[account(
        mut,
        constraint = sweep_to.mint == mint.key() @ AidxError::TokenAccountMintMismatch,
    )]
    pub sweep_to: Box<InterfaceAccount<'info, TokenAccount>>,
    pub token_program: Interface<'info, TokenInterface>,
}

pub fn remove_constituent(ctx: Context<RemoveConstituent>) -> Result<()> {
    let a = &ctx.accounts;
    let mint = a.mint.key();
    let (row, share_mint, bump) = {
        let index = a.index.load()?;
        let row = index.position_of(&mint)?;
        let c = &index.constituents()[row];
        require_keys_eq!(a.vault.key(), c.vault, AidxError::VaultMismatch);
        require_keys_eq!(
            a.token_program.key(),
            c.token_program,
            AidxError::TokenProgramMismatch
        );
        require!(
            c.status == ConstituentStatus::WindingDown as u8,
            AidxError::NotWindingDown
        );
        require!(c.balance == 0, AidxError::ConstituentNotEmpty);
        (row, index.share_mint, index.bump)
    };
    let seeds: &[&[u8]] = &[INDEX_SEED, share_mint.as_ref(), &[bump]];
    let swept = token_amount(&a.vault.to_account_info())?;
    if swept > 0 {
        token_interface::transfer_checked(
            CpiContext::new_with_signer(
                a.token_program.key(),
                TransferChecked {
                    from: a.vault.to_account_info(),
                    mint: a.mint.to_account_info(),
                    to: a.sweep_to.to_account_info(),
                    authority: a.index.to_account_info(),
                },
                &[seeds],
            ),
            swept,
            a.mint.decimals,
        )?;
    }
    token_interface::close_account(CpiContext::new_with_signer(
        a.token_program.key(),
        CloseAccount {
            account: a.vault.to_account_info(),
            destination: a.admin.to_account_info(),
            authority: a.index.to_account_info(),
        },
        &[seeds],
    ))?;

    let mut index = a.index.load_mut()?;
    drop_row(&mut index, row);
    index.invariant()?;
    emit_event(&ConstituentRemoved {
        index: a.index.key(),
        mint,
        row: row as u8,
        swept,
    });
    Ok(())
}
