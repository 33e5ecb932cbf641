//! Validates one Pyth price account per constituent through the oracle gate and stores the
//! prices. Permissionless. On a seeded index it also starts or clears the rebalance auction
//! clock at the new prices, so an imbalance that ends without a poke does not leave an old
//! start time for the next one.

use super::poke_rebalance::update_imbalance;
use crate::errors::AidxError;
use crate::events::{emit_event, PricesRefreshed};
use crate::math::nav::weights;
use crate::oracle::{gate_price, OracleLimits};
use crate::state::*;
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct RefreshPrices<'info> {
    #[account(mut)]
    pub index: AccountLoader<'info, Index>,
    // remaining accounts: one PriceUpdateV2 per constituent, table order; nothing else.
}

pub fn refresh_prices<'info>(ctx: Context<'info, RefreshPrices<'info>>) -> Result<()> {
    let clock = Clock::get()?;
    let index_key = ctx.accounts.index.key();
    let mut index = ctx.accounts.index.load_mut()?;
    require!(
        ctx.remaining_accounts.len() == index.num_constituents as usize,
        AidxError::PriceAccountsMismatch
    );
    let limits = OracleLimits {
        max_age_secs: index.params.oracle_max_age_secs,
        max_conf_bps: index.params.oracle_max_conf_bps,
    };
    for (c, account) in index
        .constituents_mut()
        .iter_mut()
        .zip(ctx.remaining_accounts)
    {
        let p = gate_price(
            account,
            &c.feed_id,
            limits,
            c.publish_time,
            clock.unix_timestamp,
        )?;
        c.price = p.price;
        c.conf = p.conf;
        c.publish_time = p.publish_time;
        c.price_slot = clock.slot;
    }
    let prices = PricesRefreshed {
        index: index_key,
        slot: clock.slot,
        unix_timestamp: clock.unix_timestamp,
        prices: index.constituents().iter().map(|c| c.price).collect(),
        confs: index.constituents().iter().map(|c| c.conf).collect(),
        publish_times: index
            .constituents()
            .iter()
            .map(|c| c.publish_time)
            .collect(),
    };
    emit_event(&prices);
    if index.is_seeded() {
        let w = weights(&index.holdings()).map_err(AidxError::from)?;
        update_imbalance(&mut index, index_key, &w, clock.unix_timestamp)?;
    }
    index.invariant()
}
