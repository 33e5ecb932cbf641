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
/// The largest constituent table. Bounded by the 10 KiB an account can be created with in
/// one instruction and by the accounts a basket transaction can lock.
pub const MAX_CONSTITUENTS: usize = 24;
