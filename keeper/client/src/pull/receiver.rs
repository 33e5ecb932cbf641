//! The Wormhole receiver's, Pyth receiver's and Pyth push oracle's instructions, as the keeper
//! sends them to post fully verified prices.
//!
//! The Pyth receiver's side uses `pyth-solana-receiver-sdk`'s types: its program ids, the
//! `PostUpdateParams` the instruction data serializes, its config and treasury PDAs. The
//! Wormhole receiver publishes its instruction types only in a crate built on Anchor 0.28 and
//! Solana 1.16 (`wormhole-core-bridge-solana` 0.0.1-alpha.5), which cannot be linked beside
//! this stack's Solana 3 crates; its four instructions are written here from the IDL Pyth ships
//! with its TypeScript SDK (`WriteEncodedVaaArgs { index: u32, data: bytes }`, the others take
//! no arguments), and a node test checks every instruction byte for byte against that SDK
//! (`app/test/pyth.test.ts`).

use anchor_lang::solana_program::system_instruction;
use borsh::BorshSerialize;
use pyth_solana_receiver_sdk::pda::{get_config_address, get_treasury_address};
use pyth_solana_receiver_sdk::PostUpdateParams;
use pythnet_sdk::wire::v1::MerklePriceUpdate;
use solana_sdk::instruction::{AccountMeta, Instruction};
use solana_sdk::pubkey::Pubkey;
use solana_sha256_hasher::hashv;

/// The Wormhole receiver (core bridge) program Pyth's receiver takes VAAs from.
pub const WORMHOLE_RECEIVER_ID: Pubkey =
    solana_sdk::pubkey!("HDwcJBJXjL9FpJ7UBsYBtaDjsBUhuLCUYoz3zr8SWWaQ");
/// The Pyth receiver program.
pub const RECEIVER_ID: Pubkey = pyth_solana_receiver_sdk::ID;
/// The Pyth push oracle program (sponsored feeds, one account per shard and feed).
pub const PUSH_ORACLE_ID: Pubkey = pyth_solana_receiver_sdk::PYTH_PUSH_ORACLE_ID;
const SYSTEM_PROGRAM_ID: Pubkey = solana_sdk::pubkey!("11111111111111111111111111111111");

/// An encoded VAA account's header before the VAA's bytes: discriminator (8), status (1), write
/// authority (32), version (1), the bytes' length (4).
pub const ENCODED_VAA_HEADER: usize = 46;
/// Where the VAA is split between its two `write_encoded_vaa` instructions: the first chunk
/// fits one transaction with the account's creation and initialisation.
pub const VAA_SPLIT_INDEX: usize = 721;

/// Compute units each instruction needs at most, as Pyth publishes them for its SDK.
pub mod compute_units {
    /// `init_encoded_vaa`.
    pub const INIT_ENCODED_VAA: u32 = 3_000;
    /// `write_encoded_vaa`.
    pub const WRITE_ENCODED_VAA: u32 = 3_000;
    /// `verify_encoded_vaa_v1` (every guardian signature recovered).
    pub const VERIFY_ENCODED_VAA: u32 = 350_000;
    /// `post_update`.
    pub const POST_UPDATE: u32 = 35_000;
    /// `update_price_feed`.
    pub const UPDATE_PRICE_FEED: u32 = 55_000;
    /// `close_encoded_vaa`.
    pub const CLOSE_ENCODED_VAA: u32 = 30_000;
    /// `reclaim_rent`, a system transfer and a system create: Pyth gives no figure.
    pub const SMALL: u32 = 5_000;
}

/// An Anchor instruction's discriminator: `sha256("global:" + name)[..8]`.
pub fn discriminator(name: &str) -> [u8; 8] {
    let h = hashv(&[b"global:", name.as_bytes()]).to_bytes();
    h[..8].try_into().expect("8 bytes")
}

fn anchor_ix(program: Pubkey, name: &str, args: &[u8], accounts: Vec<AccountMeta>) -> Instruction {
    let mut data = discriminator(name).to_vec();
    data.extend_from_slice(args);
    Instruction {
        program_id: program,
        accounts,
        data,
    }
}

/// The guardian set's account: `["GuardianSet", index big-endian]` under the Wormhole receiver.
pub fn guardian_set_address(index: u32) -> Pubkey {
    Pubkey::find_program_address(
        &[b"GuardianSet", &index.to_be_bytes()],
        &WORMHOLE_RECEIVER_ID,
    )
    .0
}

/// The size of the account holding `vaa_len` bytes of VAA.
pub fn encoded_vaa_space(vaa_len: usize) -> usize {
    ENCODED_VAA_HEADER + vaa_len
}

/// Creates the account the VAA is written into (owned by the Wormhole receiver; `encoded_vaa`
/// signs), funded with `lamports` (rent exemption for [`encoded_vaa_space`]).
pub fn create_encoded_vaa(
    payer: &Pubkey,
    encoded_vaa: &Pubkey,
    vaa_len: usize,
    lamports: u64,
) -> Instruction {
    system_instruction::create_account(
        payer,
        encoded_vaa,
        lamports,
        encoded_vaa_space(vaa_len) as u64,
        &WORMHOLE_RECEIVER_ID,
    )
}

/// `init_encoded_vaa`: the payer becomes the account's write authority.
pub fn init_encoded_vaa(payer: &Pubkey, encoded_vaa: &Pubkey) -> Instruction {
    anchor_ix(
        WORMHOLE_RECEIVER_ID,
        "init_encoded_vaa",
        &[],
        vec![
            AccountMeta::new_readonly(*payer, true),
            AccountMeta::new(*encoded_vaa, false),
        ],
    )
}

#[derive(BorshSerialize)]
struct WriteEncodedVaaArgs<'a> {
    index: u32,
    data: &'a [u8],
}

/// `write_encoded_vaa`: `data` at byte `index` of the VAA.
pub fn write_encoded_vaa(
    payer: &Pubkey,
    encoded_vaa: &Pubkey,
    index: u32,
    data: &[u8],
) -> Instruction {
    let args = borsh::to_vec(&WriteEncodedVaaArgs { index, data }).expect("borsh");
    anchor_ix(
        WORMHOLE_RECEIVER_ID,
        "write_encoded_vaa",
        &args,
        vec![
            AccountMeta::new_readonly(*payer, true),
            AccountMeta::new(*encoded_vaa, false),
        ],
    )
}

/// `verify_encoded_vaa_v1`: every signature checked against guardian set `guardian_set_index`.
pub fn verify_encoded_vaa(
    payer: &Pubkey,
    encoded_vaa: &Pubkey,
    guardian_set_index: u32,
) -> Instruction {
    anchor_ix(
        WORMHOLE_RECEIVER_ID,
        "verify_encoded_vaa_v1",
        &[],
        vec![
            AccountMeta::new_readonly(*payer, true),
            AccountMeta::new(*encoded_vaa, false),
            AccountMeta::new_readonly(guardian_set_address(guardian_set_index), false),
        ],
    )
}

/// `close_encoded_vaa`: the VAA's account closed, its rent back to the payer.
pub fn close_encoded_vaa(payer: &Pubkey, encoded_vaa: &Pubkey) -> Instruction {
    anchor_ix(
        WORMHOLE_RECEIVER_ID,
        "close_encoded_vaa",
        &[],
        vec![
            AccountMeta::new(*payer, true),
            AccountMeta::new(*encoded_vaa, false),
        ],
    )
}

/// The instructions that create, write and verify `vaa` in `encoded_vaa` (a fresh keypair's
/// account, which signs the creation), in order: create, init, the first chunk, the second
/// (when the VAA is longer than [`VAA_SPLIT_INDEX`]), verify.
pub fn post_vaa(
    payer: &Pubkey,
    encoded_vaa: &Pubkey,
    vaa: &[u8],
    guardian_set_index: u32,
    lamports: u64,
) -> Vec<Instruction> {
    let split = vaa.len().min(VAA_SPLIT_INDEX);
    let mut out = vec![
        create_encoded_vaa(payer, encoded_vaa, vaa.len(), lamports),
        init_encoded_vaa(payer, encoded_vaa),
        write_encoded_vaa(payer, encoded_vaa, 0, &vaa[..split]),
    ];
    if vaa.len() > split {
        out.push(write_encoded_vaa(
            payer,
            encoded_vaa,
            split as u32,
            &vaa[split..],
        ));
    }
    out.push(verify_encoded_vaa(payer, encoded_vaa, guardian_set_index));
    out
}

/// Receiver `post_update`: the price in `update` (proved against the verified VAA in
/// `encoded_vaa`) into `price_update_account` (a fresh keypair's account, which signs; the
/// payer is its write authority), paying the update fee into treasury `treasury_id`.
pub fn post_update(
    payer: &Pubkey,
    encoded_vaa: &Pubkey,
    price_update_account: &Pubkey,
    treasury_id: u8,
    update: &MerklePriceUpdate,
) -> Instruction {
    let params = PostUpdateParams {
        merkle_price_update: update.clone(),
        treasury_id,
    };
    anchor_ix(
        RECEIVER_ID,
        "post_update",
        &borsh::to_vec(&params).expect("borsh"),
        vec![
            AccountMeta::new(*payer, true),
            AccountMeta::new_readonly(*encoded_vaa, false),
            AccountMeta::new_readonly(get_config_address(), false),
            AccountMeta::new(get_treasury_address(treasury_id), false),
            AccountMeta::new(*price_update_account, true),
            AccountMeta::new_readonly(SYSTEM_PROGRAM_ID, false),
            AccountMeta::new_readonly(*payer, true),
        ],
    )
}

/// Receiver `reclaim_rent`: a price update account of the payer's closed, its rent back.
pub fn reclaim_rent(payer: &Pubkey, price_update_account: &Pubkey) -> Instruction {
    anchor_ix(
        RECEIVER_ID,
        "reclaim_rent",
        &[],
        vec![
            AccountMeta::new(*payer, true),
            AccountMeta::new(*price_update_account, false),
        ],
    )
}

/// Push oracle `update_price_feed`: the price in `update` into the feed's push account of
/// `shard` (skipped by the program when not newer than what the account holds).
pub fn update_price_feed(
    payer: &Pubkey,
    encoded_vaa: &Pubkey,
    treasury_id: u8,
    shard: u16,
    update: &MerklePriceUpdate,
    feed_id: &[u8; 32],
) -> Instruction {
    let params = PostUpdateParams {
        merkle_price_update: update.clone(),
        treasury_id,
    };
    let mut args = borsh::to_vec(&params).expect("borsh");
    args.extend_from_slice(&shard.to_le_bytes());
    args.extend_from_slice(feed_id);
    anchor_ix(
        PUSH_ORACLE_ID,
        "update_price_feed",
        &args,
        vec![
            AccountMeta::new(*payer, true),
            AccountMeta::new_readonly(RECEIVER_ID, false),
            AccountMeta::new_readonly(*encoded_vaa, false),
            AccountMeta::new_readonly(get_config_address(), false),
            AccountMeta::new(get_treasury_address(treasury_id), false),
            AccountMeta::new(crate::address::push_feed_address(shard, feed_id), false),
            AccountMeta::new_readonly(SYSTEM_PROGRAM_ID, false),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discriminators_are_anchors() {
        // The figures Pyth's TypeScript SDK sends (its IDLs, decoded).
        assert_eq!(
            hex::encode(discriminator("init_encoded_vaa")),
            "d1c1ad195bcab5da"
        );
        assert_eq!(
            hex::encode(discriminator("write_encoded_vaa")),
            "c7d06eb1964c762a"
        );
        assert_eq!(
            hex::encode(discriminator("verify_encoded_vaa_v1")),
            "6738b1e5f0674449"
        );
        assert_eq!(
            hex::encode(discriminator("close_encoded_vaa")),
            "30ddaec6e7079826"
        );
        assert_eq!(
            hex::encode(discriminator("post_update")),
            "855fcfaf0b4f762c"
        );
        assert_eq!(
            hex::encode(discriminator("reclaim_rent")),
            "dac813c5e359c016"
        );
        assert_eq!(
            hex::encode(discriminator("update_price_feed")),
            "1c095d965699bc73"
        );
    }

    #[test]
    fn addresses() {
        assert_eq!(
            get_config_address().to_string(),
            "DaWUKXCyXsnzcvLUyeJRWou8KTn7XtadgTsdhJ6RHS7b"
        );
        assert_eq!(
            get_treasury_address(0).to_string(),
            "8hQfT7SVhkCrzUSgBq6u2wYEt1sH3xmofZ5ss3YaydZW"
        );
    }
}
