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
    pub fee_shares: Pubkey,
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
    pub target_weight: u64,
    /// Accounts the row takes in an in-kind leg (2, or 3 with the mint).
    pub leg_accounts: u8,
    /// The mint's freeze authority, which can freeze the vault (recorded, not refused).
    pub freeze_authority: Option<Pubkey>,
    /// A Token-2022 pause authority can stop every transfer (recorded, not refused).
    pub pausable: bool,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct MintedInKind {
    pub index: Pubkey,
    pub holder: Pubkey,
    /// Raw shares credited to the holder.
    pub shares: u64,
    /// Raw shares paid as the mint fee (to the fee-share account).
    pub fee_shares: u64,
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
    /// Raw shares the holder gave up (fee included).
    pub shares: u64,
    /// Raw shares of `shares` paid as the redeem fee (to the fee-share account, not burned).
    pub fee_shares: u64,
    /// Raw units paid out, per constituent in table order.
    pub amounts_out: Vec<u64>,
    /// Constituents the holder skipped (bit per table row); they paid nothing.
    pub skip_mask: u32,
    /// Internal balances after, per constituent in table order.
    pub balances_after: Vec<u64>,
    pub share_supply_after: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct PricesRefreshed {
    pub index: Pubkey,
    pub slot: u64,
    pub unix_timestamp: i64,
    /// precision: USD_SCALE. Per constituent, table order.
    pub prices: Vec<u64>,
    /// precision: USD_SCALE. Per constituent, table order.
    pub confs: Vec<u64>,
    pub publish_times: Vec<i64>,
    /// Bit `i` set: row `i`'s price came from this instruction (the others are as stored).
    pub refreshed: u32,
}

/// NAV and value per share from stored, fresh prices.
#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct NavReported {
    pub index: Pubkey,
    pub slot: u64,
    /// precision: USD_SCALE. NAV at mid, low (price - conf) and high (price + conf) prices.
    pub nav_mid: u128,
    pub nav_low: u128,
    pub nav_high: u128,
    pub share_supply: u64,
    /// precision: USD_SCALE. Value of one whole share at mid prices.
    pub value_per_share: u128,
    /// precision: WEIGHT_SCALE. Weights at mid prices, table order.
    pub weights: Vec<u64>,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct MintedSingle {
    pub index: Pubkey,
    pub holder: Pubkey,
    pub mint: Pubkey,
    /// Raw units deposited.
    pub amount_in: u64,
    /// precision: USD_SCALE. The deposit valued at price - conf.
    pub deposit_value: u128,
    /// precision: USD_SCALE. NAV before, at price + conf.
    pub nav: u128,
    /// Raw shares credited to the holder.
    pub shares: u64,
    /// Raw shares paid as the mint fee (minted to the fee-share account).
    pub fee_shares: u64,
    /// precision: USD_SCALE. Per constituent: price and conf used.
    pub prices: Vec<u64>,
    pub confs: Vec<u64>,
    /// precision: WEIGHT_SCALE. Weights at mid prices before and after.
    pub weights_before: Vec<u64>,
    pub weights_after: Vec<u64>,
    pub balance_after: u64,
    pub share_supply_after: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct RedeemedSingle {
    pub index: Pubkey,
    pub holder: Pubkey,
    pub mint: Pubkey,
    /// Raw shares burned (fee included).
    pub shares: u64,
    /// Raw shares of `shares` paid as the redeem fee (to the fee-share account, not burned).
    pub fee_shares: u64,
    /// precision: USD_SCALE. NAV before, at price - conf.
    pub nav: u128,
    /// precision: USD_SCALE. Value paid, priced at price + conf.
    pub value_out: u128,
    /// Raw units paid out.
    pub amount_out: u64,
    pub prices: Vec<u64>,
    pub confs: Vec<u64>,
    pub weights_before: Vec<u64>,
    pub weights_after: Vec<u64>,
    pub balance_after: u64,
    pub share_supply_after: u64,
}

/// Methodology inputs of one constituent, as posted and as used.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct MethodologyInputRow {
    /// The constituent the row is for: rows are matched by mint, not only by position.
    pub mint: Pubkey,
    /// Whole tokens in circulation (not fully diluted).
    pub circulating_supply: u64,
    /// Whole USD.
    pub avg_daily_volume_usd: u64,
    /// Whole USD within 2% of mid; `None` when not reported.
    pub depth_usd: Option<u64>,
    /// Faces an unlock over 10% of its float.
    pub unlock: bool,
    /// [`crate::state::SubSector`] as u8.
    pub sub_sector: u8,
    /// [`crate::state::Bucket`] as u8.
    pub bucket: u8,
    /// Rank by circulating market cap among the universe's liquid tokens at observation (1 =
    /// largest), as the membership rules rank them with the index's members (what `aidx
    /// targets` shows); 0: not liquid. The review applies the rank buffer on it: the table
    /// holds only part of the universe.
    pub rank: u16,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct MethodologyInputsSet {
    pub index: Pubkey,
    pub observed_at: i64,
    /// Per constituent, table order.
    pub rows: Vec<MethodologyInputRow>,
}

/// The admin opened the index to its first mint: the seed composition is final.
#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct IndexOpened {
    pub index: Pubkey,
    pub at: i64,
    /// Raw units per whole share the first mint will take, table order.
    pub initial_units_per_share: Vec<u64>,
    pub targets: Vec<u64>,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewOpened {
    pub index: Pubkey,
    pub at: i64,
}

/// Everything `recompute_targets` used, so anyone can recompute the targets.
#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct TargetsRecomputed {
    pub index: Pubkey,
    pub at: i64,
    /// precision: WEIGHT_SCALE.
    pub max_weight: u64,
    pub unlock_haircut: u64,
    pub pure_play_share: u64,
    /// Whole USD.
    pub min_volume_usd: u64,
    pub min_depth_usd: u64,
    /// precision: USD_SCALE. Per constituent, table order.
    pub prices: Vec<u64>,
    pub inputs: Vec<MethodologyInputRow>,
    pub inputs_observed_at: i64,
    /// precision: WEIGHT_SCALE. Per constituent, table order.
    pub targets: Vec<u64>,
    /// 0 eligible, 1 volume, 2 depth, 3 no market cap, 4 not selected (the membership
    /// rules); per constituent.
    pub ineligible: Vec<u8>,
    /// The review's membership decision per constituent: [`MEMBERSHIP_OUT`],
    /// [`MEMBERSHIP_STAYS`], [`MEMBERSHIP_ENTERS`], [`MEMBERSHIP_EXITS`] (now winding down),
    /// [`MEMBERSHIP_ASIDE`] (winding down or quarantined: not decided).
    pub membership: Vec<u8>,
}

/// `TargetsRecomputed::membership`: not a member, before or after.
pub const MEMBERSHIP_OUT: u8 = 0;
/// A member that stays.
pub const MEMBERSHIP_STAYS: u8 = 1;
/// A candidate that enters.
pub const MEMBERSHIP_ENTERS: u8 = 2;
/// A member that exits: its row winds down.
pub const MEMBERSHIP_EXITS: u8 = 3;
/// Winding down or quarantined: left out of the decision.
pub const MEMBERSHIP_ASIDE: u8 = 4;

/// Some constituent went out of band: the rebalance auction starts now.
#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct ImbalanceStarted {
    pub index: Pubkey,
    pub at: i64,
    /// precision: WEIGHT_SCALE. Weights at mid and targets, table order.
    pub weights: Vec<u64>,
    pub targets: Vec<u64>,
}

/// The breach clock (outside the rebalance window, a row out of band above the breach weight
/// may be sold; its auction runs from when the breach was first recorded): started at
/// `started_at` = `at`, or (`cleared`) no breach left at `at`.
#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct BreachClock {
    pub index: Pubkey,
    pub at: i64,
    pub started_at: i64,
    pub cleared: bool,
}

/// Every constituent is back inside its band: the auction ends.
#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct ImbalanceCleared {
    pub index: Pubkey,
    pub at: i64,
    /// Unix time the imbalance had started.
    pub started_at: i64,
    pub weights: Vec<u64>,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct RebalanceSwapped {
    pub index: Pubkey,
    pub caller: Pubkey,
    /// Rows of the constituent paid in (underweight) and paid out (overweight).
    pub row_in: u8,
    pub row_out: u8,
    /// Raw units, after the clip.
    pub amount_in: u64,
    pub amount_out: u64,
    /// Raw units the caller offered.
    pub amount_requested: u64,
    /// precision: USD_SCALE. Prices and confidences used.
    pub price_in: u64,
    pub conf_in: u64,
    pub price_out: u64,
    pub conf_out: u64,
    /// precision: USD_SCALE. `amount_in` at price - conf, and what was paid for it.
    pub value_in: u128,
    pub value_out: u128,
    /// precision: WEIGHT_SCALE. Reward on `value_in`, and seconds into the auction.
    pub reward: u64,
    pub auction_elapsed: i64,
    /// precision: WEIGHT_SCALE. All weights at mid before and after.
    pub weights_before: Vec<u64>,
    pub weights_after: Vec<u64>,
    pub targets: Vec<u64>,
    /// precision: USD_SCALE. NAV at mid before and after.
    pub nav_before: u128,
    pub nav_after: u128,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct FeesAccrued {
    pub index: Pubkey,
    /// Seconds since the last accrual.
    pub elapsed: i64,
    pub management_fee_bps: u16,
    /// Raw shares minted to the fee-share account.
    pub fee_shares: u64,
    pub share_supply_after: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct FeesClaimed {
    pub index: Pubkey,
    pub fee_recipient: Pubkey,
    /// Raw shares moved to the fee recipient.
    pub shares: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct ParamsUpdated {
    pub index: Pubkey,
    pub old: IndexParams,
    pub new: IndexParams,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct RolesUpdated {
    pub index: Pubkey,
    pub old_methodology_authority: Pubkey,
    pub new_methodology_authority: Pubkey,
    pub old_guardian: Pubkey,
    pub new_guardian: Pubkey,
    pub old_fee_recipient: Pubkey,
    pub new_fee_recipient: Pubkey,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct AdminProposed {
    pub index: Pubkey,
    pub admin: Pubkey,
    pub old_pending: Pubkey,
    pub new_pending: Pubkey,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct AdminAccepted {
    pub index: Pubkey,
    pub old_admin: Pubkey,
    pub new_admin: Pubkey,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct PauseSet {
    pub index: Pubkey,
    pub by: Pubkey,
    pub old: u8,
    pub new: u8,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct ConstituentWindingDown {
    pub index: Pubkey,
    pub mint: Pubkey,
    pub row: u8,
    pub old_target: u64,
    pub balance: u64,
    /// Every row's target after: the row's target handed to the others pro rata, capped.
    pub targets_after: Vec<u64>,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct ConstituentRemoved {
    pub index: Pubkey,
    pub mint: Pubkey,
    /// The row it had; later rows moved up by one.
    pub row: u8,
    /// Raw units of unaccounted tokens (donations) swept out of the vault before closing it.
    pub swept: u64,
}

/// The index followed the share mint's supply down after shares were burned outside the
/// program; their claim on the basket went to the remaining holders.
#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct ShareSupplySynced {
    pub index: Pubkey,
    pub old: u64,
    pub new: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct ConstituentQuarantined {
    pub index: Pubkey,
    pub mint: Pubkey,
    pub row: u8,
    pub by: Pubkey,
    /// `state::Quarantine` as u8: 1 frozen vault, 2 paused mint (both shown on-chain), 3 by
    /// the admin or guardian.
    pub reason: u8,
    pub at: i64,
    /// The row's balance: the claim every share keeps on it.
    pub balance: u64,
    /// precision: USD_SCALE. What a share minted during the quarantine pays per whole token.
    pub quarantine_price: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct ConstituentReleased {
    pub index: Pubkey,
    pub mint: Pubkey,
    pub row: u8,
    pub by: Pubkey,
    pub reason: u8,
    pub quarantined_at: i64,
    pub at: i64,
    pub balance: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct ConstituentWrittenOff {
    pub index: Pubkey,
    pub mint: Pubkey,
    /// The vault that keeps the tokens: the index no longer accounts for them.
    pub vault: Pubkey,
    /// The row it had; later rows moved up by one.
    pub row: u8,
    /// The claim written off: `balance` raw units against `share_supply` raw shares.
    pub balance: u64,
    pub share_supply: u64,
    pub quarantine_price: u64,
    pub quarantined_at: i64,
    pub at: i64,
    pub old_target: u64,
    /// Every remaining row's target after (the row's target handed to the others).
    pub targets_after: Vec<u64>,
}
