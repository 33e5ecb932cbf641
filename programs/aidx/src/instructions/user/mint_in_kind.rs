//! Mints shares against a deposit of every constituent in proportion to the basket.
//!
//! The first mint seeds the basket from the stated composition (`initial_units_per_share`) and
//! mints [`DEAD_SHARES`] to the index's own account on top of the holder's shares; every later
//! mint deposits `ceil(shares * balance / supply)` of each constituent. Deposits round up and
//! are computed from internal balances, so donations to a vault move nothing. While a
//! quarantined row cannot move the deposit leaves it out and pays for its slice in the other
//! rows, at prices.

use crate::errors::AidxError;
use crate::events::{emit_event, MintedInKind};
use crate::instructions::fees::{accrue_management_fee, mint_shares};
use crate::math::fees::fee_on;
use crate::math::nav::PriceSide;
use crate::math::shares::{mint_deposit, seed_deposit, DEAD_SHARES, MIN_FIRST_MINT};
use crate::math::{mul_div, Rounding};
use crate::state::*;
use crate::token::legs::load_legs;
use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};
use anchor_spl::token_2022::Token2022;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct MintInKindArgs {
    /// Raw shares to mint (the deposit buys these; the mint fee is paid out of them).
    pub shares: u64,
    /// Largest deposit per constituent, table order (slippage bound).
    pub max_amounts_in: Vec<u64>,
    /// Smallest number of raw shares the holder accepts (after fees).
    pub min_shares_out: u64,
}

#[derive(Accounts)]
pub struct MintInKind<'info> {
    /// Deposits the basket and receives the shares.
    pub holder: Signer<'info>,
    #[account(
        mut,
        has_one = share_mint @ AidxError::ShareMintMismatch,
        has_one = dead_shares @ AidxError::DeadSharesMismatch,
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
    /// The index's dead-share account (credited at the first mint only).
    #[account(mut)]
    pub dead_shares: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
    pub token_2022_program: Program<'info, Token2022>,
    /// The index's fee-share account (management and mint fees).
    #[account(mut)]
    pub fee_shares: Box<Account<'info, TokenAccount>>,
    // remaining accounts: one leg per constituent, table order: (vault, holder token account),
    // with the mint first for a row whose token program needs it (see token::legs).
}

impl MintInKind<'_> {
    pub fn validate(&self, index: &Index, args: &MintInKindArgs) -> Result<()> {
        require!(args.shares > 0, AidxError::ZeroShares);
        require!(index.num_constituents > 0, AidxError::EmptyBasket);
        require!(index.opened == 1, AidxError::IndexNotOpen);
        require!(
            args.max_amounts_in.len() == index.num_constituents as usize,
            AidxError::LegAmountsMismatch
        );
        require!(
            index.is_seeded() || args.shares >= MIN_FIRST_MINT,
            AidxError::FirstMintTooSmall
        );
        Ok(())
    }
}

/// Deposits for `shares`, per constituent, and the dead shares minted with them: proportional
/// to balances once seeded, from the stated composition (with dead shares) at the first mint.
/// A quarantined row is deposited in kind like any other while it can move; one that cannot
/// (`stuck[i]`: its vault frozen or its mint paused, read from the legs) takes nothing, and the
/// rows not quarantined pay for the new shares' slice of it (see [`quarantine_payment`]),
/// valued at `clock`. Clients quote with it.
pub fn mint_in_kind_deposits(
    index: &Index,
    shares: u64,
    clock: &Clock,
    stuck: &[bool],
) -> Result<(Vec<u64>, u64)> {
    if index.is_seeded() {
        let set_aside = |i: usize| index.constituents()[i].is_quarantined() && stuck[i];
        require!(
            stuck.len() == index.num_constituents as usize,
            AidxError::LegAmountsMismatch
        );
        let mut amounts = index
            .constituents()
            .iter()
            .enumerate()
            .map(|(i, c)| match set_aside(i) {
                true => Ok(0),
                false => {
                    mint_deposit(shares, c.balance, index.share_supply).map_err(AidxError::from)
                }
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        if (0..amounts.len()).any(set_aside) {
            let extras = quarantine_payment(index, shares, clock, &set_aside)?;
            for (a, extra) in amounts.iter_mut().zip(extras) {
                *a = a.checked_add(extra).ok_or(AidxError::MathOverflow)?;
            }
        }
        return Ok((amounts, 0));
    }
    let with_dead = shares
        .checked_add(DEAD_SHARES)
        .ok_or(AidxError::MathOverflow)?;
    let amounts = index
        .constituents()
        .iter()
        .map(|c| seed_deposit(with_dead, c.initial_units_per_share).map_err(AidxError::from))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    require!(amounts.iter().any(|a| *a > 0), AidxError::EmptyBasket);
    Ok((amounts, DEAD_SHARES))
}

/// What minting `shares` pays, on top of the pro-rata deposit, for the new shares' slice of
/// the quarantined rows that cannot move (`set_aside`): `X`, their slice valued at
/// [`Index::quarantine_price_now`] (rounded up), paid in the rows not quarantined pro rata to
/// their balances, `ceil(B_i * X / V)` where `V` is those rows' value at the low side of their
/// trade prices (rounded down). The math and what it guarantees:
/// `instructions::admin::quarantine`.
fn quarantine_payment(
    index: &Index,
    shares: u64,
    clock: &Clock,
    set_aside: &dyn Fn(usize) -> bool,
) -> Result<Vec<u64>> {
    let rows = index.constituents();
    let mut slice_value: u128 = 0;
    for (i, c) in rows.iter().enumerate() {
        if !set_aside(i) || c.balance == 0 {
            continue;
        }
        let price = index.quarantine_price_now(c, clock)?;
        let slice = mint_deposit(shares, c.balance, index.share_supply).map_err(AidxError::from)?;
        slice_value = slice_value
            .checked_add(Index::quarantine_value_of(c, slice, price)?)
            .ok_or(AidxError::MathOverflow)?;
    }
    if slice_value == 0 {
        return Ok(vec![0; rows.len()]);
    }
    // The rows it is paid in are valued like a trade's.
    index.require_trade_prices(clock, &[])?;
    let holdings = index.trade_holdings(clock)?;
    let rest = index.trade_nav(&holdings, PriceSide::Low, clock)?;
    require!(rest > 0, AidxError::QuarantineCannotBePaid);
    rows.iter()
        .map(|c| match c.is_quarantined() {
            true => Ok(0),
            false => {
                let extra = mul_div(c.balance as u128, slice_value, rest, Rounding::Up)
                    .map_err(AidxError::from)?;
                Ok(u64::try_from(extra).map_err(|_| AidxError::MathOverflow)?)
            }
        })
        .collect()
}

pub fn mint_in_kind<'info>(
    ctx: Context<'info, MintInKind<'info>>,
    args: MintInKindArgs,
) -> Result<()> {
    let accounts = &ctx.accounts;
    let holder = accounts.holder.key();
    let clock = Clock::get()?;
    let now = clock.unix_timestamp;
    {
        let index = accounts.index.load()?;
        index.require_not_paused(PAUSE_MINT_IN_KIND)?;
        accounts.validate(&index, &args)?;
    }
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

    let (legs, amounts, dead, fee, share_mint_key, bump) = {
        let index = accounts.index.load()?;
        let legs = load_legs(index.constituents(), ctx.remaining_accounts, &holder)?;
        let stuck = legs
            .iter()
            .map(|l| l.cannot_move())
            .collect::<Result<Vec<_>>>()?;
        let (amounts, dead) = mint_in_kind_deposits(&index, args.shares, &clock, &stuck)?;
        for (amount, max) in amounts.iter().zip(&args.max_amounts_in) {
            require!(amount <= max, AidxError::MaxAmountInExceeded);
        }
        let fee = fee_on(args.shares, index.params.mint_fee_bps).map_err(AidxError::from)?;
        (legs, amounts, dead, fee, index.share_mint, index.bump)
    };
    let net = args.shares - fee;
    require!(net >= args.min_shares_out, AidxError::MinSharesOutNotMet);

    // Interactions: pull every leg, then mint.
    let holder_info = accounts.holder.to_account_info();
    for (leg, amount) in legs.iter().zip(&amounts) {
        leg.pull(&holder_info, *amount)?;
    }
    let mint_to = |to: &AccountInfo<'info>, amount: u64| {
        mint_shares(
            &accounts.index,
            &share_mint_info,
            to,
            token_program,
            &share_mint_key,
            bump,
            amount,
        )
    };
    mint_to(&accounts.holder_shares.to_account_info(), net)?;
    mint_to(&fee_info, fee)?;
    mint_to(&accounts.dead_shares.to_account_info(), dead)?;

    // Effects, then reconciliation of every vault and of the share supply.
    let index_key = accounts.index.key();
    let mut index = accounts.index.load_mut()?;
    for ((c, leg), amount) in index.constituents_mut().iter_mut().zip(&legs).zip(&amounts) {
        c.balance = c
            .balance
            .checked_add(*amount)
            .ok_or(AidxError::MathOverflow)?;
        leg.reconcile(*amount, 0, c.balance)?;
    }
    index.share_supply = index
        .share_supply
        .checked_add(args.shares)
        .and_then(|s| s.checked_add(dead))
        .ok_or(AidxError::MathOverflow)?;
    index.check_share_supply(&share_mint_info)?;
    index.invariant()?;

    emit_event(&MintedInKind {
        index: index_key,
        holder,
        shares: net,
        fee_shares: fee,
        dead_shares: dead,
        amounts_in: amounts,
        balances_after: index.constituents().iter().map(|c| c.balance).collect(),
        share_supply_after: index.share_supply,
    });
    Ok(())
}
