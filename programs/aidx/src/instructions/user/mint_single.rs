//! Mints shares against a deposit of one constituent, valued against NAV with the
//! conservative side of each price: the deposit at `price - conf`, the NAV it buys into at
//! `price + conf`. Shares round down; the mint fee rounds up and is minted to the fee-share
//! account. Refused if any weight would end further above its cap or
//! further outside its band.

use super::single::SingleAsset;
use crate::errors::AidxError;
use crate::events::{emit_event, MintedSingle};
use crate::instructions::fees::mint_shares;
use crate::math::fees::fee_on;
use crate::math::nav::{weights, PriceSide};
use crate::math::{mul_div, Rounding};
use crate::state::*;
use crate::token::{reconcile_vault, token_amount};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, TransferChecked};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct MintSingleArgs {
    /// Raw units of the constituent to deposit.
    pub amount_in: u64,
    /// Smallest number of raw shares the holder accepts (slippage bound, after the fee).
    pub min_shares_out: u64,
}

/// What a single-asset mint gives, computed before anything moves.
struct Quote {
    row: usize,
    deposit_value: u128,
    nav_high: u128,
    shares: u64,
    fee_shares: u64,
    weights_before: Vec<u64>,
    weights_after: Vec<u64>,
}

fn quote(index: &Index, row: usize, args: &MintSingleArgs, clock: &Clock) -> Result<Quote> {
    require!(args.amount_in > 0, AidxError::ZeroAmount);
    index.require_not_quarantined(&[row])?;
    index.require_trade_prices(clock, &[row])?;
    let before = index.trade_holdings(clock)?;
    let deposit_value = before[row]
        .value_of(args.amount_in, PriceSide::Low, Rounding::Down)
        .map_err(AidxError::from)?;
    let nav_high = index.trade_nav(&before, PriceSide::High, clock)?;
    let gross = mul_div(
        deposit_value,
        index.share_supply as u128,
        nav_high,
        Rounding::Down,
    )
    .map_err(AidxError::from)?;
    let gross = u64::try_from(gross).map_err(|_| AidxError::MathOverflow)?;
    let fee_shares = fee_on(gross, index.params.mint_fee_bps).map_err(AidxError::from)?;
    let shares = gross - fee_shares;
    require!(shares > 0, AidxError::DepositTooSmall);
    require!(shares >= args.min_shares_out, AidxError::MinSharesOutNotMet);

    let mut after = before.clone();
    after[row].balance = after[row]
        .balance
        .checked_add(args.amount_in)
        .ok_or(AidxError::MathOverflow)?;
    let weights_before = weights(&before).map_err(AidxError::from)?;
    let weights_after = weights(&after).map_err(AidxError::from)?;
    index.check_weight_change(&weights_before, &weights_after)?;
    Ok(Quote {
        row,
        deposit_value,
        nav_high,
        shares,
        fee_shares,
        weights_before,
        weights_after,
    })
}

pub fn mint_single<'info>(
    ctx: Context<'info, SingleAsset<'info>>,
    args: MintSingleArgs,
) -> Result<()> {
    let clock = Clock::get()?;
    let a = &ctx.accounts;
    let row = a.prepare(PAUSE_MINT_SINGLE, clock.unix_timestamp)?;
    let (q, share_mint_key, bump) = {
        let index = a.index.load()?;
        (
            quote(&index, row, &args, &clock)?,
            index.share_mint,
            index.bump,
        )
    };
    let vault_before = token_amount(&a.vault.to_account_info())?;

    token_interface::transfer_checked(
        CpiContext::new(
            a.token_program.key(),
            TransferChecked {
                from: a.holder_token.to_account_info(),
                mint: a.mint.to_account_info(),
                to: a.vault.to_account_info(),
                authority: a.holder.to_account_info(),
            },
        ),
        args.amount_in,
        a.mint.decimals,
    )?;
    let share_mint = a.share_mint.to_account_info();
    let token_program = a.share_token_program.key();
    let mint_to = |to: &AccountInfo<'info>, amount: u64| {
        mint_shares(
            &a.index,
            &share_mint,
            to,
            token_program,
            &share_mint_key,
            bump,
            amount,
        )
    };
    mint_to(&a.holder_shares.to_account_info(), q.shares)?;
    mint_to(&a.fee_shares.to_account_info(), q.fee_shares)?;

    let index_key = a.index.key();
    let mut index = a.index.load_mut()?;
    let c = &mut index.constituents_mut()[q.row];
    c.balance = c
        .balance
        .checked_add(args.amount_in)
        .ok_or(AidxError::MathOverflow)?;
    let balance_after = c.balance;
    reconcile_vault(
        &a.vault.to_account_info(),
        vault_before,
        args.amount_in,
        0,
        balance_after,
    )?;
    index.share_supply = index
        .share_supply
        .checked_add(q.shares)
        .and_then(|s| s.checked_add(q.fee_shares))
        .ok_or(AidxError::MathOverflow)?;
    index.check_share_supply(&a.share_mint.to_account_info())?;
    index.invariant()?;

    emit_event(&MintedSingle {
        index: index_key,
        holder: a.holder.key(),
        mint: a.mint.key(),
        amount_in: args.amount_in,
        deposit_value: q.deposit_value,
        nav: q.nav_high,
        shares: q.shares,
        fee_shares: q.fee_shares,
        prices: index.constituents().iter().map(|c| c.price).collect(),
        confs: index.constituents().iter().map(|c| c.conf).collect(),
        weights_before: q.weights_before,
        weights_after: q.weights_after,
        balance_after,
        share_supply_after: index.share_supply,
    });
    Ok(())
}
