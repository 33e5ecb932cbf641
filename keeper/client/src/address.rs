//! Program ids and every address the index uses: its PDAs, associated token accounts and the
//! Pyth push-feed accounts its constituents are priced from.

use aidx::state::{Index, DEAD_SHARES_SEED, FEE_SHARES_SEED, INDEX_SEED, VAULT_SEED};
use anchor_lang::prelude::Pubkey;
use anchor_spl::associated_token::get_associated_token_address_with_program_id;

pub use aidx::ID as PROGRAM_ID;
/// The SPL Token program.
pub const TOKEN_PROGRAM_ID: Pubkey = anchor_spl::token::ID;
/// The Token-2022 program.
pub const TOKEN_2022_PROGRAM_ID: Pubkey = anchor_spl::token_2022::ID;

/// The index PDA of a share mint.
pub fn index_address(share_mint: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[INDEX_SEED, share_mint.as_ref()], &PROGRAM_ID).0
}

/// The vault PDA of a constituent.
pub fn vault_address(index: &Pubkey, mint: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[VAULT_SEED, index.as_ref(), mint.as_ref()], &PROGRAM_ID).0
}

/// The index's dead-share account.
pub fn dead_shares_address(index: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[DEAD_SHARES_SEED, index.as_ref()], &PROGRAM_ID).0
}

/// The index's fee-share account.
pub fn fee_shares_address(index: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[FEE_SHARES_SEED, index.as_ref()], &PROGRAM_ID).0
}

/// The associated token account of `owner` for `mint` under `token_program`.
pub fn ata(owner: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> Pubkey {
    get_associated_token_address_with_program_id(owner, mint, token_program)
}

/// The Pyth push-oracle price feed account (a `PriceUpdateV2` kept current by Pyth's sponsored
/// feeds) for `feed_id` on `shard`: PDA `[shard (u16 LE), feed_id]` of the push-oracle program.
pub fn push_feed_address(shard: u16, feed_id: &[u8; 32]) -> Pubkey {
    Pubkey::find_program_address(
        &[&shard.to_le_bytes(), feed_id],
        &pyth_solana_receiver_sdk::PYTH_PUSH_ORACLE_ID,
    )
    .0
}

/// The push-feed accounts of every constituent (shard 0), table order: what `refresh_prices`
/// is given by default.
pub fn price_feed_accounts(index: &Index) -> Vec<Pubkey> {
    index
        .constituents()
        .iter()
        .map(|c| push_feed_address(0, &c.feed_id))
        .collect()
}

/// The push-feed accounts a refresh before a trade or a plan needs: every row's but one the
/// admin or guardian quarantined (its feed may be dead; nothing values it at its feed price).
/// A row quarantined on proof (frozen vault, paused mint) keeps a live feed, and a mint pays
/// for its slice at that price.
pub fn refresh_feed_accounts(index: &Index) -> Vec<Pubkey> {
    refresh_feed_ids(index)
        .iter()
        .map(|f| push_feed_address(0, f))
        .collect()
}

/// The Pyth feed ids behind [`refresh_feed_accounts`], table order: what a keeper fetches from
/// Hermes and posts before a trade.
pub fn refresh_feed_ids(index: &Index) -> Vec<[u8; 32]> {
    index
        .constituents()
        .iter()
        .filter(|c| c.quarantine != aidx::state::Quarantine::Authority as u8)
        .map(|c| c.feed_id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn sol_push_feed_address() {
        let feed = pyth_solana_receiver_sdk::price_update::get_feed_id_from_hex(
            "0xef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d",
        )
        .unwrap();
        assert_eq!(
            push_feed_address(0, &feed),
            Pubkey::from_str("7UVimffxr9ow1uXYxsr4LHAcV58mLzhmwaeKvJ1pjLiE").unwrap()
        );
    }
}
