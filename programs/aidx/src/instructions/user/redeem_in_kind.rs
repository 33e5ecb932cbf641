//! Burns shares and pays out every constituent pro rata, rounding down. Needs no price, so it
//! works while oracles are stale.
//!
//! A holder can skip named constituents (`skip_mask`): a leg whose mint is paused or whose
//! vault is frozen would otherwise fail the whole redeem and trap everyone.
//! A skipped leg pays nothing; its share stays in the basket, with the remaining holders. Only
//! a leg that cannot move (frozen vault, paused mint: checked here from the accounts) may be
//! skipped: skipping a movable leg would let a large holder push it above its cap unchecked.
//! A quarantined row pays nothing until it is released: its share stays in the basket.

use crate::errors::AidxError;
use crate::events::{emit_event, RedeemedInKind};
use crate::instructions::fees::{accrue_management_fee, take_fee_shares};
use crate::math::fees::fee_on;
use crate::math::shares::redeem_payout;
use crate::state::*;
use crate::token::legs::load_legs;
use anchor_lang::prelude::*;
use anchor_spl::token::{self, Burn, Mint, Token, TokenAccount};
use anchor_spl::token_2022::Token2022;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct RedeemInKindArgs {
    /// Raw shares to burn.
    pub shares: u64,
    /// Smallest payout per constituent, table order (slippage bound; ignored for skipped legs).
    pub min_amounts_out: Vec<u64>,
    /// Bit `i` set: constituent `i` pays nothing and is not transferred.
    pub skip_mask: u32,
}

/// What an in-kind redeem of `shares` pays of each row, raw units, table order, and the redeem
/// fee in shares: the net shares' pro-rata claim on every balance, rounded down; nothing of a
/// row the holder skips (`skip_mask`) or of a quarantined row: every share's claim on it stays
/// with the holders, paid in kind once it is released (otherwise a mint that paid for its slice
/// at the quarantine price and a redeem here would buy it at that price).
/// Runs on the index after the management fee's accrual, as the instruction does: clients quote
/// with it on a copy brought to the time they send ([`Index::accrue_fee`]).
pub fn redeem_in_kind_payouts(
    index: &Index,
    shares: u64,
    skip_mask: u32,
) -> Result<(Vec<u64>, u64)> {
    let fee = fee_on(shares, index.params.redeem_fee_bps).map_err(AidxError::from)?;
    let net = shares - fee;
    let payouts = index
        .constituents()
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if skip_mask & (1 << i) != 0 || c.is_quarantined() {
                return Ok(0);
            }
            redeem_payout(net, c.balance, index.share_supply).map_err(AidxError::from)
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok((payouts, fee))
}

#[derive(Accounts)]
pub struct RedeemInKind<'info> {
    /// Burns the shares and receives the basket.
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
    pub token_program: Program<'info, Token>,
    pub token_2022_program: Program<'info, Token2022>,
    /// The index's fee-share account (management and redeem fees).
    #[account(mut)]
    pub fee_shares: Box<Account<'info, TokenAccount>>,
    // remaining accounts: one leg per constituent, table order: (vault, holder token account),
    // with the mint first for a row whose token program needs it (see token::legs).
}

impl RedeemInKind<'_> {
    pub fn validate(&self, index: &Index, args: &RedeemInKindArgs) -> Result<()> {
        require!(args.shares > 0, AidxError::ZeroShares);
        require!(
            args.min_amounts_out.len() == index.num_constituents as usize,
            AidxError::LegAmountsMismatch
        );
        require!(
            (args.skip_mask as u64) >> index.num_constituents == 0,
            AidxError::InvalidSkipMask
        );
        require!(
            self.holder_shares.amount >= args.shares,
            AidxError::InsufficientShares
        );
        Ok(())
    }
}

pub fn redeem_in_kind<'info>(
    ctx: Context<'info, RedeemInKind<'info>>,
    args: RedeemInKindArgs,
) -> Result<()> {
    let accounts = &ctx.accounts;
    let holder = accounts.holder.key();
    let now = Clock::get()?.unix_timestamp;
    // Never paused: holders can always leave.
    accounts.validate(&*accounts.index.load()?, &args)?;
    let share_mint_info = accounts.share_mint.to_account_info();
    let fee_info = accounts.fee_shares.to_account_info();
    let token_program = accounts.token_program.key();
    accrue_management_fee(
        &accounts.index,
        &share_mint_info,
        &fee_info,
        token_program,
        now,
    )?;

    let (legs, payouts, fee, share_mint_key, bump) = {
        let index = accounts.index.load()?;
        let legs = load_legs(index.constituents(), ctx.remaining_accounts, &holder)?;
        for (i, leg) in legs.iter().enumerate() {
            if args.skip_mask & (1 << i) != 0 && !index.constituents()[i].is_quarantined() {
                require!(leg.cannot_move()?, AidxError::SkippedLegCanMove);
            }
        }
        let (payouts, fee) = redeem_in_kind_payouts(&index, args.shares, args.skip_mask)?;
        require!(payouts.iter().any(|p| *p > 0), AidxError::RedeemTooSmall);
        for (i, (paid, min)) in payouts.iter().zip(&args.min_amounts_out).enumerate() {
            // A holder who accepts nothing of a row says so (its skip bit, or a minimum of 0):
            // a quarantine that lands first cannot take the row from a redeem that wanted it.
            require!(
                paid >= min || args.skip_mask & (1 << i) != 0,
                AidxError::MinAmountOutNotMet
            );
        }
        (legs, payouts, fee, index.share_mint, index.bump)
    };
    let net = args.shares - fee;

    // Interactions: the fee to the fee-share account, burn the rest, then pay every leg.
    let holder_info = accounts.holder.to_account_info();
    let holder_shares = accounts.holder_shares.to_account_info();
    take_fee_shares(&holder_shares, &fee_info, &holder_info, token_program, fee)?;
    token::burn(
        CpiContext::new(
            token_program,
            Burn {
                mint: share_mint_info.clone(),
                from: holder_shares,
                authority: holder_info,
            },
        ),
        net,
    )?;
    let seeds: &[&[u8]] = &[INDEX_SEED, share_mint_key.as_ref(), &[bump]];
    let index_info = accounts.index.to_account_info();
    for (leg, paid) in legs.iter().zip(&payouts) {
        leg.push(&index_info, seeds, *paid)?;
    }

    // Effects, then reconciliation of every vault and of the share supply.
    let index_key = accounts.index.key();
    let mut index = accounts.index.load_mut()?;
    for ((c, leg), paid) in index.constituents_mut().iter_mut().zip(&legs).zip(&payouts) {
        c.balance = c
            .balance
            .checked_sub(*paid)
            .ok_or(AidxError::MathOverflow)?;
        leg.reconcile(0, *paid, c.balance)?;
    }
    index.share_supply = index
        .share_supply
        .checked_sub(net)
        .ok_or(AidxError::MathOverflow)?;
    index.check_share_supply(&share_mint_info)?;
    index.invariant()?;

    emit_event(&RedeemedInKind {
        index: index_key,
        holder,
        shares: args.shares,
        fee_shares: fee,
        amounts_out: payouts,
        skip_mask: args.skip_mask,
        balances_after: index.constituents().iter().map(|c| c.balance).collect(),
        share_supply_after: index.share_supply,
    });
    Ok(())
}
