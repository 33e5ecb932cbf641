//! On-chain state: the index account with its parameters and constituent table.

pub mod constituent;
pub mod index;
pub mod params;

pub use constituent::*;
pub use index::*;
pub use params::*;

/// Seed of the index PDA: `["index", share_mint]`.
pub const INDEX_SEED: &[u8] = b"index";
/// Seed of a constituent vault: `["vault", index, constituent_mint]`.
pub const VAULT_SEED: &[u8] = b"vault";
/// Seed of the index's own dead-share token account: `["dead_shares", index]`.
pub const DEAD_SHARES_SEED: &[u8] = b"dead_shares";
/// Seed of the index's fee-share account: `["fee_shares", index]`.
pub const FEE_SHARES_SEED: &[u8] = b"fee_shares";

/// Pause bits (`Index::paused`). Redeem in kind has none: holders can always leave.
pub const PAUSE_MINT_IN_KIND: u8 = 1;
pub const PAUSE_MINT_SINGLE: u8 = 2;
pub const PAUSE_REDEEM_SINGLE: u8 = 4;
pub const PAUSE_REBALANCE: u8 = 8;
pub const PAUSE_TARGETS: u8 = 16;
pub const PAUSE_ALL: u8 = 31;

/// How long a row stays quarantined before the admin may write it off: a month for holders
/// to see it coming, and for the token's issuer to thaw or unpause it.
pub const WRITE_OFF_AFTER_SECS: i64 = 30 * 24 * 60 * 60;

/// The shortest quarantine: a release comes at least this long after the quarantine, so that
/// whoever pays for a quarantined row's slice carries its market for that long (otherwise its
/// freeze authority could freeze, quarantine, mint, thaw, release and redeem in one
/// transaction and buy the row from the vault at the oracle's price).
pub const MIN_QUARANTINE_SECS: i64 = 60 * 60;
/// How long the admin's or guardian's quarantine of a row that can move holds it back from
/// redeems in kind: after this anyone may release it, so no authority can keep holders from
/// leaving with it.
pub const AUTHORITY_HOLD_SECS: i64 = 7 * 24 * 60 * 60;

/// The most decimals a constituent mint may have (10^decimals must stay far inside u128).
pub const MAX_DECIMALS: u8 = 18;

/// The largest constituent table. Bounded by the 10 KiB an account can be created with in
/// one instruction and by the accounts a basket transaction can lock (below).
pub const MAX_CONSTITUENTS: usize = 24;
// Row masks (`skip_mask`, `PricesRefreshed::refreshed`) are u32.
const _: () = assert!(MAX_CONSTITUENTS <= 32);

/// Account locks a transaction may take on mainnet-beta (every key, read-only ones too).
pub const TX_ACCOUNT_LOCKS: usize = 64;
/// Locks an in-kind transaction takes besides its legs: `mint_in_kind`'s eight named accounts
/// (`redeem_in_kind` has seven), the aidx program, the compute-budget program and a fee payer
/// other than the holder.
pub const IN_KIND_FIXED_LOCKS: usize = 11;
/// The most leg accounts an index may need, so that in-kind mint and redeem of the whole
/// basket always fit one transaction: `add_constituent` refuses a row past it.
pub const MAX_LEG_ACCOUNTS: usize = TX_ACCOUNT_LOCKS - IN_KIND_FIXED_LOCKS;
