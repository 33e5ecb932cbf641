//! Permissionless rebalancing: the caller pays in an underweight constituent and receives an
//! overweight one at the oracle cross rate (incoming leg at `price - conf`, outgoing at
//! `price + conf`) plus a Dutch-auction reward that rises from 0 when the imbalance was first
//! recorded to the index's maximum over the auction length. At least one leg must be out of
//! band and tradeable now (inside the rebalance window after new targets, or above the breach
//! weight), both must move toward target, and the amount is clipped so neither crosses its
//! target (an out-of-band leg, with the edge clip, stops just inside its band's edge).
//! Slippage bound for the caller: `min_amount_out`.

use super::poke_rebalance::{emit_imbalance_change, imbalance_change, ClockChanges};
use crate::errors::AidxError;
use crate::events::{emit_event, RebalanceSwapped};
use crate::math::auction::{reward, SwapLegs, SwapQuote};
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

/// A rebalance swap priced on the index, before anything moves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwapPricing {
    /// Row paid in.
    pub row_in: usize,
    /// Row paid out.
    pub row_out: usize,
    /// The clipped, priced swap.
    pub quote: SwapQuote,
    /// precision: WEIGHT_SCALE. The auction reward paid.
    pub reward: u64,
    /// When the auction started (now, if this swap starts it).
    pub started: i64,
    /// Priced on the breach clock (outside the window, the out-leg breaching), not the
    /// index's.
    pub breach: bool,
    /// precision: WEIGHT_SCALE. Weights before, of `band_holdings`.
    pub weights_before: Vec<u64>,
    /// precision: USD_SCALE. NAV at mid before.
    pub nav_before: u128,
}

/// Every check of a rebalance swap of `args.amount_in` of row `i` for row `o` at `clock`, and
/// its price: paused, seeded, quarantined legs, trade-age prices, a leg out of band and
/// tradeable now (the window, or a breach), both legs toward target, the clip (target or band
/// edge, see [`Index::clip_limit`]), the caller's minimum. Pure: the instruction and the
/// keeper's backtest run it alike.
pub fn price_swap(
    index: &Index,
    i: usize,
    o: usize,
    args: &RebalanceSwapArgs,
    clock: &Clock,
) -> Result<SwapPricing> {
    let now = clock.unix_timestamp;
    index.require_not_paused(PAUSE_REBALANCE)?;
    require!(index.is_seeded(), AidxError::NotSeeded);
    require!(i != o, AidxError::SameConstituent);
    index.require_not_quarantined(&[i, o])?;
    index.require_trade_prices(clock, &[i, o])?;
    let h = index.trade_holdings(clock)?;
    let w = weights(&h).map_err(AidxError::from)?;
    // Bands and targets as the rest of the index sees them (a quarantined row left out).
    let targets = index.band_targets()?;
    let (ti, to) = (targets[i], targets[o]);
    let band = index.params.band;
    // An exit is sold out whatever its weight rounds to.
    let exit_o = Index::is_exit(&index.constituents()[o]);
    let out_i = band_excess(w[i], ti, band).map_err(AidxError::from)? > 0;
    let out_o = exit_o || band_excess(w[o], to, band).map_err(AidxError::from)? > 0;
    require!(out_i || out_o, AidxError::InsideBand);
    let tradeable = index.tradeable(&w, now)?;
    require!(
        tradeable[i] || tradeable[o],
        AidxError::OutsideRebalanceWindow
    );
    require!(
        w[i] < ti && (w[o] > to || exit_o),
        AidxError::LegNotTowardTarget
    );
    let (breach, recorded) = index.auction_start(o, now);
    let started = if recorded == 0 { now } else { recorded };
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
        limit_in: index.clip_limit(w[i], ti)?,
        limit_out: index.clip_limit(w[o], to)?,
        nav_mid: nav_before,
        reward: r,
    };
    let mut q = legs.clip(args.amount_in).map_err(AidxError::from)?;
    if exit_o && q.amount_out < legs.out.balance {
        if let Some(all) = sell_out(&legs, q.amount_in, args.amount_in)? {
            q = all;
        }
    }
    require!(
        q.amount_in > 0 && q.amount_out > 0,
        AidxError::NothingToTrade
    );
    require!(
        q.amount_out >= args.min_amount_out,
        AidxError::MinAmountOutNotMet
    );
    Ok(SwapPricing {
        row_in: i,
        row_out: o,
        quote: q,
        reward: r,
        started,
        breach,
        weights_before: w,
        nav_before,
    })
}

/// An exit sold out: when `requested` buys at least the out-leg's whole balance at the swap's
/// prices, the least amount above `clipped` that does, paying out exactly the balance (the
/// vault gives no more than it is paid for; rounding never leaves dust that no swap can take
/// and that keeps the row from being removed). `None` when the request does not reach it or
/// the incoming leg would cross its limit.
fn sell_out(legs: &SwapLegs, clipped: u64, requested: u64) -> Result<Option<SwapQuote>> {
    let balance = legs.out.balance;
    // An amount too large to price buys everything.
    let buys_all = |a: u64| match legs.price(a) {
        Ok(q) => q.amount_out >= balance,
        Err(_) => true,
    };
    if !buys_all(requested) {
        return Ok(None);
    }
    let (mut lo, mut hi) = (clipped, requested);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if buys_all(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    let Ok(priced) = legs.price(hi) else {
        return Ok(None);
    };
    let all = SwapQuote {
        amount_in: hi,
        amount_out: balance,
        value_in: priced.value_in,
        value_out: legs
            .out
            .value_of(balance, PriceSide::High, Rounding::Down)
            .map_err(AidxError::from)?,
    };
    Ok(legs.fits(&all).unwrap_or(false).then_some(all))
}

/// What a rebalance swap did to the index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwapEffects {
    /// precision: WEIGHT_SCALE. Weights after, of `band_holdings`.
    pub weights_after: Vec<u64>,
    /// precision: USD_SCALE. NAV at mid after.
    pub nav_after: u128,
    /// The swap recorded its auction's start (no refresh or poke had): the index's clock, or
    /// (`SwapPricing::breach`) the breach clock.
    pub recorded_start: bool,
    /// What the auction clocks did after the swap.
    pub change: ClockChanges,
}

/// The effects of a priced swap on the index's accounting: both balances, the cap of the
/// incoming leg, the auction clock, the invariants. Emits nothing.
pub fn apply_swap(index: &mut Index, p: &SwapPricing, now: i64) -> Result<SwapEffects> {
    let (i, o, q) = (p.row_in, p.row_out, &p.quote);
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
    let h = index.band_holdings();
    let weights_after = weights(&h).map_err(AidxError::from)?;
    // The incoming leg never ends above its cap (its target may exceed the cap only on an
    // index whose targets were stated, not computed).
    require!(
        weights_after[i] <= index.band_cap()? || weights_after[i] <= p.weights_before[i],
        AidxError::WeightAboveCap
    );
    let nav_after = nav(&h, PriceSide::Mid, Rounding::Down).map_err(AidxError::from)?;
    let clock = if p.breach {
        &mut index.breach_started_at
    } else {
        &mut index.imbalance_started_at
    };
    let recorded_start = *clock == 0;
    if recorded_start {
        *clock = p.started;
    }
    let change = imbalance_change(index, &weights_after, now)?;
    index.invariant()?;
    Ok(SwapEffects {
        weights_after,
        nav_after,
        recorded_start,
        change,
    })
}

pub fn rebalance_swap(ctx: Context<RebalanceSwap>, args: RebalanceSwapArgs) -> Result<()> {
    let clock = Clock::get()?;
    let now = clock.unix_timestamp;
    let a = &ctx.accounts;
    let index_key = a.index.key();

    // Checks and pricing, before anything moves.
    let (p, share_mint, bump) = {
        let index = a.index.load()?;
        index.require_not_paused(PAUSE_REBALANCE)?;
        require!(index.is_seeded(), AidxError::NotSeeded);
        let (i, o) = a.rows(&index)?;
        (
            price_swap(&index, i, o, &args, &clock)?,
            index.share_mint,
            index.bump,
        )
    };
    let q = p.quote;

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
    let e = apply_swap(&mut index, &p, now)?;
    let (i, o) = (p.row_in, p.row_out);
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
    if e.recorded_start && p.breach {
        emit_event(&crate::events::BreachClock {
            index: index_key,
            at: p.started,
            started_at: p.started,
            cleared: false,
        });
    } else if e.recorded_start {
        emit_event(&crate::events::ImbalanceStarted {
            index: index_key,
            at: p.started,
            weights: p.weights_before.clone(),
            targets: index.targets(),
        });
    }
    emit_imbalance_change(&index, index_key, e.change, &e.weights_after, now);

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
        reward: p.reward,
        auction_elapsed: now - p.started,
        weights_before: p.weights_before,
        weights_after: e.weights_after,
        targets: index.targets(),
        nav_before: p.nav_before,
        nav_after: e.nav_after,
    });
    Ok(())
}
