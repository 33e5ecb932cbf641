//! Burns shares for one constituent, priced conservatively: the NAV the shares claim at
//! `price - conf`, the constituent paid at `price + conf`. The redeem fee rounds up and moves
//! to the fee-share account (not burned); the amount paid rounds down. Refused
//! if any weight would end further above its cap or further outside its band.

use super::single::SingleAsset;
use crate::errors::AidxError;
use crate::events::{emit_event, RedeemedSingle};
use crate::instructions::fees::take_fee_shares;
use crate::math::fees::fee_on;
use crate::math::nav::{weights, PriceSide};
use crate::math::{mul_div, Rounding};
use crate::state::*;
use crate::token::{reconcile_vault, token_amount};
use anchor_lang::prelude::*;
use anchor_spl::token::{self, Burn};
use anchor_spl::token_interface::{self, TransferChecked};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct RedeemSingleArgs {
    /// Raw shares to burn (the fee is taken from them).
    pub shares: u64,
    /// Smallest payout in raw units of the constituent (slippage bound).
    pub min_amount_out: u64,
}

struct Quote {
    row: usize,
    nav_low: u128,
    value_out: u128,
    amount_out: u64,
    fee_shares: u64,
    weights_before: Vec<u64>,
    weights_after: Vec<u64>,
}

fn quote(index: &Index, row: usize, args: &RedeemSingleArgs, clock: &Clock) -> Result<Quote> {
    require!(args.shares > 0, AidxError::ZeroShares);
    index.require_not_quarantined(&[row])?;
    index.require_trade_prices(clock, &[row])?;
    let before = index.trade_holdings(clock)?;
    let fee_shares = fee_on(args.shares, index.params.redeem_fee_bps).map_err(AidxError::from)?;
    let net = args
        .shares
        .checked_sub(fee_shares)
        .ok_or(AidxError::MathOverflow)?;
    let nav_low = index.trade_nav(&before, PriceSide::Low, clock)?;
    let value_out = mul_div(
        net as u128,
        nav_low,
        index.share_supply as u128,
        Rounding::Down,
    )
    .map_err(AidxError::from)?;
    let amount_out = before[row]
        .amount_for(value_out, PriceSide::High, Rounding::Down)
        .map_err(AidxError::from)?;
    require!(amount_out > 0, AidxError::RedeemTooSmall);
    require!(
        amount_out <= before[row].balance,
        AidxError::InsufficientLiquidity
    );
    require!(
        amount_out >= args.min_amount_out,
        AidxError::MinAmountOutNotMet
    );

    let mut after = before.clone();
    after[row].balance -= amount_out;
    let weights_before = weights(&before).map_err(AidxError::from)?;
    let weights_after = weights(&after).map_err(AidxError::from)?;
    index.check_weight_change(&weights_before, &weights_after)?;
    Ok(Quote {
        row,
        nav_low,
        value_out,
        amount_out,
        fee_shares,
        weights_before,
        weights_after,
    })
}

pub fn redeem_single(ctx: Context<SingleAsset>, args: RedeemSingleArgs) -> Result<()> {
    let clock = Clock::get()?;
    let a = &ctx.accounts;
    require!(
        a.holder_shares.amount >= args.shares,
        AidxError::InsufficientShares
    );
    let row = a.prepare(PAUSE_REDEEM_SINGLE, clock.unix_timestamp)?;
    let (q, share_mint_key, bump) = {
        let index = a.index.load()?;
        (
            quote(&index, row, &args, &clock)?,
            index.share_mint,
            index.bump,
        )
    };
    let vault_before = token_amount(&a.vault.to_account_info())?;

    let net = args.shares - q.fee_shares;
    take_fee_shares(
        &a.holder_shares.to_account_info(),
        &a.fee_shares.to_account_info(),
        &a.holder.to_account_info(),
        a.share_token_program.key(),
        q.fee_shares,
    )?;
    token::burn(
        CpiContext::new(
            a.share_token_program.key(),
            Burn {
                mint: a.share_mint.to_account_info(),
                from: a.holder_shares.to_account_info(),
                authority: a.holder.to_account_info(),
            },
        ),
        net,
    )?;
    let seeds: &[&[u8]] = &[INDEX_SEED, share_mint_key.as_ref(), &[bump]];
    token_interface::transfer_checked(
        CpiContext::new_with_signer(
            a.token_program.key(),
            TransferChecked {
                from: a.vault.to_account_info(),
                mint: a.mint.to_account_info(),
                to: a.holder_token.to_account_info(),
                authority: a.index.to_account_info(),
            },
            &[seeds],
        ),
        q.amount_out,
        a.mint.decimals,
    )?;

    let index_key = a.index.key();
    let mut index = a.index.load_mut()?;
    let c = &mut index.constituents_mut()[q.row];
    c.balance = c
        .balance
        .checked_sub(q.amount_out)
        .ok_or(AidxError::MathOverflow)?;
    let balance_after = c.balance;
    reconcile_vault(
        &a.vault.to_account_info(),
        vault_before,
        0,
        q.amount_out,
        balance_after,
    )?;
    index.share_supply = index
        .share_supply
        .checked_sub(net)
        .ok_or(AidxError::MathOverflow)?;
    index.check_share_supply(&a.share_mint.to_account_info())?;
    index.invariant()?;

    emit_event(&RedeemedSingle {
        index: index_key,
        holder: a.holder.key(),
        mint: a.mint.key(),
        shares: args.shares,
        fee_shares: q.fee_shares,
        nav: q.nav_low,
        value_out: q.value_out,
        amount_out: q.amount_out,
        prices: index.constituents().iter().map(|c| c.price).collect(),
        confs: index.constituents().iter().map(|c| c.conf).collect(),
        weights_before: q.weights_before,
        weights_after: q.weights_after,
        balance_after,
        share_supply_after: index.share_supply,
    });
    Ok(())
}
