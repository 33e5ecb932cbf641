//! One event per state change, carrying what an auditor needs to replay the index.
//!
//! Events are written with `sol_log_data` (the same syscall Anchor's `emit!` uses, so clients
//! read them from `Program data:` log lines). Unlike `emit!`, this path reaches the syscall
//! stubs when the program runs natively, which is how the in-process runtime captures them.

use crate::state::IndexParams;
use anchor_lang::prelude::*;

/// Log an event as `discriminator ++ borsh`.
pub fn emit_event<E: anchor_lang::Event>(event: &E) {
    solana_program::log::sol_log_data(&[&event.data()]);
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct IndexInitialized {
    pub index: Pubkey,
    pub share_mint: Pubkey,
    pub dead_shares: Pubkey,
    pub admin: Pubkey,
    pub methodology_authority: Pubkey,
    pub guardian: Pubkey,
    pub fee_recipient: Pubkey,
    pub params: IndexParams,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct ConstituentAdded {
    pub index: Pubkey,
    /// Row in the constituent table.
    pub position: u8,
    pub mint: Pubkey,
    pub vault: Pubkey,
    pub token_program: Pubkey,
    pub feed_id: [u8; 32],
    pub decimals: u8,
    pub sub_sector: u8,
    pub bucket: u8,
    pub initial_units_per_share: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct MintedInKind {
    pub index: Pubkey,
    pub holder: Pubkey,
    /// Raw shares credited to the holder.
    pub shares: u64,
    /// Raw shares minted to the dead-share account (first mint only).
    pub dead_shares: u64,
    /// Raw units taken in, per constituent in table order.
    pub amounts_in: Vec<u64>,
    /// Internal balances after, per constituent in table order.
    pub balances_after: Vec<u64>,
    pub share_supply_after: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct RedeemedInKind {
    pub index: Pubkey,
    pub holder: Pubkey,
    /// Raw shares burned.
    pub shares: u64,
    /// Raw units paid out, per constituent in table order.
    pub amounts_out: Vec<u64>,
    /// Constituents the holder skipped (bit per table row); they paid nothing.
    pub skip_mask: u32,
    /// Internal balances after, per constituent in table order.
    pub balances_after: Vec<u64>,
    pub share_supply_after: u64,
}
