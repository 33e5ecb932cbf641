//! Fee plumbing shared by every instruction that changes the share supply: the management fee
//! accrued (minted to the fee-share account) before the supply changes, and mint / redeem fees
//! paid in shares into the same account. The fee recipient claims them with `claim_fees`.

use crate::events::{emit_event, FeesAccrued, ShareSupplySynced};
use crate::state::*;
use anchor_lang::prelude::*;
use anchor_spl::token::{self, MintTo};

/// Accrues the management fee up to `now`: mints the due shares to the fee-share account and
/// records the supply. Call with the index not borrowed, before computing anything from the
/// supply. Returns the shares minted.
pub fn accrue_management_fee<'info>(
    index: &AccountLoader<'info, Index>,
    share_mint: &AccountInfo<'info>,
    fee_shares: &AccountInfo<'info>,
    token_program: Pubkey,
    now: i64,
) -> Result<u64> {
    let mint_supply = crate::token::mint_supply(share_mint)?;
    let (accrual, share_mint_key, bump) = {
        let mut ix = index.load_mut()?;
        let accrual = ix.accrue_fee(mint_supply, now)?;
        (accrual, ix.share_mint, ix.bump)
    };
    if let Some((old, new)) = accrual.synced {
        emit_event(&ShareSupplySynced {
            index: index.key(),
            old,
            new,
        });
    }
    let Accrual {
        fee, elapsed, rate, ..
    } = accrual;
    if fee > 0 {
        mint_shares(
            index,
            share_mint,
            fee_shares,
            token_program,
            &share_mint_key,
            bump,
            fee,
        )?;
        emit_event(&FeesAccrued {
            index: index.key(),
            elapsed,
            management_fee_bps: rate,
            fee_shares: fee,
            share_supply_after: index.load()?.share_supply,
        });
    }
    Ok(fee)
}

/// Mints `amount` shares to `to` (a holder's or the fee-share account), signed by the index.
/// Nothing happens for 0.
pub fn mint_shares<'info>(
    index: &AccountLoader<'info, Index>,
    share_mint: &AccountInfo<'info>,
    to: &AccountInfo<'info>,
    token_program: Pubkey,
    share_mint_key: &Pubkey,
    bump: u8,
    amount: u64,
) -> Result<()> {
    if amount == 0 {
        return Ok(());
    }
    let seeds: &[&[u8]] = &[INDEX_SEED, share_mint_key.as_ref(), &[bump]];
    token::mint_to(
        CpiContext::new_with_signer(
            token_program,
            MintTo {
                mint: share_mint.clone(),
                to: to.clone(),
                authority: index.to_account_info(),
            },
            &[seeds],
        ),
        amount,
    )
}

/// Moves `amount` of the holder's shares into the fee-share account (a redeem fee).
pub fn take_fee_shares<'info>(
    holder_shares: &AccountInfo<'info>,
    fee_shares: &AccountInfo<'info>,
    holder: &AccountInfo<'info>,
    token_program: Pubkey,
    amount: u64,
) -> Result<()> {
    if amount == 0 {
        return Ok(());
    }
    token::transfer(
        CpiContext::new(
            token_program,
            token::Transfer {
                from: holder_shares.clone(),
                to: fee_shares.clone(),
                authority: holder.clone(),
            },
        ),
        amount,
    )
}
