//! Emits NAV, value per share and weights from stored, fresh prices. Changes nothing: clients
//! send it after `refresh_prices` in one simulated transaction to read what a holder would get.

use crate::errors::AidxError;
use crate::events::{emit_event, NavReported};
use crate::math::nav::{nav, weights, PriceSide};
use crate::math::{mul_div, Rounding, ONE_SHARE};
use crate::state::*;
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct ReportNav<'info> {
    pub index: AccountLoader<'info, Index>,
}

pub fn report_nav(ctx: Context<ReportNav>) -> Result<()> {
    let clock = Clock::get()?;
    let index = ctx.accounts.index.load()?;
    require!(index.is_seeded(), AidxError::NotSeeded);
    index.require_fresh_prices(&clock, &[])?;
    let h = index.holdings();
    let nav_mid = nav(&h, PriceSide::Mid, Rounding::Down).map_err(AidxError::from)?;
    emit_event(&NavReported {
        index: ctx.accounts.index.key(),
        slot: clock.slot,
        nav_mid,
        nav_low: nav(&h, PriceSide::Low, Rounding::Down).map_err(AidxError::from)?,
        nav_high: nav(&h, PriceSide::High, Rounding::Up).map_err(AidxError::from)?,
        share_supply: index.share_supply,
        value_per_share: mul_div(
            nav_mid,
            ONE_SHARE as u128,
            index.share_supply as u128,
            Rounding::Down,
        )
        .map_err(AidxError::from)?,
        weights: weights(&h).map_err(AidxError::from)?,
    });
    Ok(())
}
