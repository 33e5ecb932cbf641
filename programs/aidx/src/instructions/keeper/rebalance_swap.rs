//! Permissionless rebalancing: the caller pays in an underweight constituent and receives an
//! overweight one at the oracle cross rate (incoming leg at `price - conf`, outgoing at
//! `price + conf`) plus a Dutch-auction reward that rises from 0 when the imbalance was first
//! recorded to the index's maximum over the auction length. At least one leg must be out of
//! band, both must move toward target, and the amount is clipped so neither crosses its
//! target. Slippage bound for the caller: `min_amount_out`.

use super::poke_rebalance::update_imbalance;
use crate::errors::AidxError;
use crate::events::{emit_event, RebalanceSwapped};
use crate::math::auction::{reward, SwapLegs};
use crate::math::nav::{band_excess, nav, weights, PriceSide};
use crate::math::Rounding;
use crate::state::*;
use crate::token::{reconcile_vault, token_amount};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct RebalanceSwapArgs {
    /// Most raw units of the underweight constituent the caller pays (clipped at its target).
    pub amount_in: u64,
    /// Fewest raw units of the overweight constituent the caller accepts.
    pub min_amount_out: u64,
}

#[derive(Accounts)]
pub struct RebalanceSwap<'info> {
    /// Anyone: pays in, receives out.
    pub caller: Signer<'info>,
    #[account(mut)]
    pub index: AccountLoader<'info, Index>,
    /// The underweight constituent's mint.
    #[account(mint::token_program = token_program_in)]
    pub mint_in: Box<InterfaceAccount<'info, Mint>>,
    /// Its vault; checked against the table in the handler.
    #[account(mut)]
    pub vault_in: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(
        mut,
        constraint = caller_in.mint == mint_in.key() @ AidxError::TokenAccountMintMismatch,
        constraint = caller_in.owner == caller.key() @ AidxError::TokenAccountOwnerMismatch,
    )]
    pub caller_in: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The overweight constituent's mint.
    #[account(mint::token_program = token_program_out)]
    pub mint_out: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut)]
    pub vault_out: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(
        mut,
        constraint = caller_out.mint == mint_out.key() @ AidxError::TokenAccountMintMismatch,
        constraint = caller_out.owner == caller.key() @ AidxError::TokenAccountOwnerMismatch,
    )]
    pub caller_out: Box<InterfaceAccount<'info, TokenAccount>>,
    pub token_program_in: Interface<'info, TokenInterface>,
    pub token_program_out: Interface<'info, TokenInterface>,
}

impl RebalanceSwap<'_> {
    /// Rows of the two legs, with vaults and token programs checked against the table.
    fn rows(&self, index: &Index) -> Result<(usize, usize)> {
        let i = index.position_of(&self.mint_in.key())?;
        let o = index.position_of(&self.mint_out.key())?;
        require!(i != o, AidxError::SameConstituent);
        let (ci, co) = (&index.constituents()[i], &index.constituents()[o]);
        require_keys_eq!(self.vault_in.key(), ci.vault, AidxError::VaultMismatch);
        require_keys_eq!(self.vault_out.key(), co.vault, AidxError::VaultMismatch);
        require_keys_eq!(
            self.token_program_in.key(),
            ci.token_program,
            AidxError::TokenProgramMismatch
        );
        require_keys_eq!(
            self.token_program_out.key(),
            co.token_program,
            AidxError::TokenProgramMismatch
        );
        Ok((i, o))
    }
}

pub fn rebalance_swap(ctx: Context<RebalanceSwap>, args: RebalanceSwapArgs) -> Result<()> {
    let clock = Clock::get()?;
    let now = clock.unix_timestamp;
    let a = &ctx.accounts;
    let index_key = a.index.key();

    // Checks and pricing, before anything moves.
    let (i, o, q, r, started, weights_before, nav_before, share_mint, bump) = {
        let index = a.index.load()?;
        index.require_not_paused(PAUSE_REBALANCE)?;
        require!(index.is_seeded(), AidxError::NotSeeded);
        let (i, o) = a.rows(&index)?;
        index.require_not_quarantined(&[i, o])?;
        index.require_trade_prices(&clock, &[i, o])?;
        let h = index.trade_holdings(&clock)?;
        let w = weights(&h).map_err(AidxError::from)?;
        // Bands and targets as the rest of the index sees them (a quarantined row left out).
        let targets = index.band_targets()?;
        let (ti, to) = (targets[i], targets[o]);
        let band = index.params.band;
        let out_i = band_excess(w[i], ti, band).map_err(AidxError::from)? > 0;
        let out_o = band_excess(w[o], to, band).map_err(AidxError::from)? > 0;
        require!(out_i || out_o, AidxError::InsideBand);
        require!(w[i] < ti && w[o] > to, AidxError::LegNotTowardTarget);
        let started = if index.imbalance_started_at == 0 {
            now
        } else {
            index.imbalance_started_at
        };
        let r = reward(
            now - started,
            index.params.auction_duration_secs,
            index.params.auction_max_reward_bps,
        )
        .map_err(AidxError::from)?;
        let nav_before = nav(&h, PriceSide::Mid, Rounding::Down).map_err(AidxError::from)?;
        let legs = SwapLegs {
            inp: h[i],
            out: h[o],
            target_in: ti,
            target_out: to,
            nav_mid: nav_before,
            reward: r,
        };
        let q = legs.clip(args.amount_in).map_err(AidxError::from)?;
        require!(
            q.amount_in > 0 && q.amount_out > 0,
            AidxError::NothingToTrade
        );
        require!(
            q.amount_out >= args.min_amount_out,
            AidxError::MinAmountOutNotMet
        );
        (
            i,
            o,
            q,
            r,
            started,
            w,
            nav_before,
            index.share_mint,
            index.bump,
        )
    };

    // Interactions.
    let (in_before, out_before) = (
        token_amount(&a.vault_in.to_account_info())?,
        token_amount(&a.vault_out.to_account_info())?,
    );
    token_interface::transfer_checked(
        CpiContext::new(
            a.token_program_in.key(),
            TransferChecked {
                from: a.caller_in.to_account_info(),
                mint: a.mint_in.to_account_info(),
                to: a.vault_in.to_account_info(),
                authority: a.caller.to_account_info(),
            },
        ),
        q.amount_in,
        a.mint_in.decimals,
    )?;
    let seeds: &[&[u8]] = &[INDEX_SEED, share_mint.as_ref(), &[bump]];
    token_interface::transfer_checked(
        CpiContext::new_with_signer(
            a.token_program_out.key(),
            TransferChecked {
                from: a.vault_out.to_account_info(),
                mint: a.mint_out.to_account_info(),
                to: a.caller_out.to_account_info(),
                authority: a.index.to_account_info(),
            },
            &[seeds],
        ),
        q.amount_out,
        a.mint_out.decimals,
    )?;

    // Effects and reconciliation.
    let mut index = a.index.load_mut()?;
    {
        let rows = index.constituents_mut();
        rows[i].balance = rows[i]
            .balance
            .checked_add(q.amount_in)
            .ok_or(AidxError::MathOverflow)?;
        rows[o].balance = rows[o]
            .balance
            .checked_sub(q.amount_out)
            .ok_or(AidxError::MathOverflow)?;
    }
    let cs = index.constituents();
    reconcile_vault(
        &a.vault_in.to_account_info(),
        in_before,
        q.amount_in,
        0,
        cs[i].balance,
    )?;
    reconcile_vault(
        &a.vault_out.to_account_info(),
        out_before,
        0,
        q.amount_out,
        cs[o].balance,
    )?;
    let h = index.band_holdings();
    let weights_after = weights(&h).map_err(AidxError::from)?;
    // The incoming leg never ends above its cap (its target may exceed the cap only on an
    // index whose targets were stated, not computed).
    require!(
        weights_after[i] <= index.band_cap()? || weights_after[i] <= weights_before[i],
        AidxError::WeightAboveCap
    );
    let nav_after = nav(&h, PriceSide::Mid, Rounding::Down).map_err(AidxError::from)?;
    if index.imbalance_started_at == 0 {
        index.imbalance_started_at = started;
        emit_event(&crate::events::ImbalanceStarted {
            index: index_key,
            at: started,
            weights: weights_before.clone(),
            targets: index.targets(),
        });
    }
    update_imbalance(&mut index, index_key, &weights_after, now)?;
    index.invariant()?;

    let cs = index.constituents();
    emit_event(&RebalanceSwapped {
        index: index_key,
        caller: a.caller.key(),
        row_in: i as u8,
        row_out: o as u8,
        amount_in: q.amount_in,
        amount_out: q.amount_out,
        amount_requested: args.amount_in,
        price_in: cs[i].price,
        conf_in: cs[i].conf,
        price_out: cs[o].price,
        conf_out: cs[o].conf,
        value_in: q.value_in,
        value_out: q.value_out,
        reward: r,
        auction_elapsed: now - started,
        weights_before,
        weights_after,
        targets: index.targets(),
        nav_before,
        nav_after,
    });
    Ok(())
}
