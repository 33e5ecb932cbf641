//! Validates Pyth price accounts through the oracle gate and stores the prices. Permissionless.
//! Any subset of the rows, in any order: each account names its row by its feed id, so a dead
//! feed stops only what must value its row, not every price. On a seeded index whose priced
//! rows are all fresh afterwards it also starts or clears the rebalance auction clock at the
//! new prices, so an imbalance that ends without a poke does not leave an old start time for
//! the next one. A quarantined row's price may be refreshed too; its quarantine price only rises.

use super::poke_rebalance::update_imbalance;
use crate::errors::AidxError;
use crate::events::{emit_event, PricesRefreshed};
use crate::oracle::{gate_update, read_update, OracleLimits};
use crate::state::*;
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct RefreshPrices<'info> {
    #[account(mut)]
    pub index: AccountLoader<'info, Index>,
    // remaining accounts: PriceUpdateV2 accounts of distinct constituents, any order; nothing
    // else.
}

pub fn refresh_prices<'info>(ctx: Context<'info, RefreshPrices<'info>>) -> Result<()> {
    let clock = Clock::get()?;
    let index_key = ctx.accounts.index.key();
    let mut index = ctx.accounts.index.load_mut()?;
    let n = index.num_constituents as usize;
    require!(
        !ctx.remaining_accounts.is_empty() && ctx.remaining_accounts.len() <= n,
        AidxError::PriceAccountsMismatch
    );
    let limits = OracleLimits {
        max_age_secs: index.params.oracle_max_age_secs,
        max_conf_bps: index.params.oracle_max_conf_bps,
    };
    let mut refreshed: u32 = 0;
    for account in ctx.remaining_accounts {
        let update = read_update(account)?;
        let row = index
            .constituents()
            .iter()
            .position(|c| c.feed_id == update.price_message.feed_id)
            .ok_or_else(|| error!(AidxError::OracleWrongFeed))?;
        require!(
            refreshed & (1 << row) == 0,
            AidxError::PriceAccountDuplicate
        );
        refreshed |= 1 << row;
        let c = &mut index.constituents_mut()[row];
        let p = gate_update(
            &update,
            &c.feed_id,
            limits,
            c.publish_time,
            clock.unix_timestamp,
        )?;
        c.store_price(&p, clock.slot)?;
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
        refreshed,
    };
    emit_event(&prices);
    if index.is_seeded() && index.require_fresh_prices(&clock, &[]).is_ok() {
        let w = index.band_weights()?;
        update_imbalance(&mut index, index_key, &w, clock.unix_timestamp)?;
    }
    index.invariant()
}
