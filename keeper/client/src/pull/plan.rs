//! The transactions that post an accumulator update's prices, fully verified, each inside a
//! packet (1,232 bytes) with a compute-unit limit and price; and the ones that close what they
//! opened.

use super::accumulator::Accumulator;
use super::receiver::{self, compute_units as cu};
use crate::tx::{measure, PACKET_DATA_SIZE};
use anyhow::{bail, Result};
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_sdk::instruction::Instruction;
use solana_sdk::pubkey::Pubkey;

/// The most compute units a transaction may ask for.
pub const MAX_TX_COMPUTE_UNITS: u32 = 1_400_000;

/// Where the verified prices are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Destination {
    /// Each feed's push-oracle account of `shard` (`update_price_feed`): the accounts the index
    /// refreshes from by default (shard 0), persistent, no rent.
    PushFeed {
        /// The push oracle's shard.
        shard: u16,
    },
    /// An account of the keeper's per feed (receiver `post_update`, a fresh keypair each),
    /// closed after the trade (`reclaim_rent`).
    Accounts,
}

/// How to post: where, which treasury pays the update fee into, the rent of the VAA's account
/// and the compute-unit price (micro-lamports).
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Where the prices go.
    pub destination: Destination,
    /// The receiver's treasury (0-255) the update fee goes to.
    pub treasury_id: u8,
    /// Lamports that make the VAA's account rent-exempt (`getMinimumBalanceForRentExemption`
    /// of [`receiver::encoded_vaa_space`]).
    pub encoded_vaa_rent: u64,
    /// Compute-unit price, micro-lamports (0: none set).
    pub compute_unit_price: u64,
}

/// One transaction of a plan.
#[derive(Clone, Debug)]
pub struct PlannedTx {
    /// What it does, as a person reads it.
    pub label: String,
    /// Its instructions, the compute-budget ones first.
    pub instructions: Vec<Instruction>,
    /// Keys besides the payer that sign it (the VAA's account when created; the keeper's price
    /// accounts when posted into).
    pub signers: Vec<Pubkey>,
    /// Its compute-unit limit.
    pub compute_units: u32,
    /// Its serialized size, bytes.
    pub bytes: usize,
}

/// What posting an accumulator update takes.
#[derive(Clone, Debug)]
pub struct PostPlan {
    /// The transactions that post the prices, in order (each after the previous one landed).
    pub post: Vec<PlannedTx>,
    /// The transactions that close what the posting opened (the VAA's account; the keeper's
    /// price accounts, after the trade that reads them).
    pub close: Vec<PlannedTx>,
    /// The VAA's account.
    pub encoded_vaa: Pubkey,
    /// Where each feed's price lands, in the update's order.
    pub price_accounts: Vec<([u8; 32], Pubkey)>,
}

/// Every instruction of a post, without compute budgets, with its compute units and label:
/// what Pyth's TypeScript SDK builds for the same inputs (`app/test/pyth.test.ts`).
pub struct Steps {
    /// Posting instructions, in order.
    pub post: Vec<(Instruction, u32, &'static str)>,
    /// Closing instructions, in order.
    pub close: Vec<(Instruction, u32, &'static str)>,
    /// Where each feed's price lands.
    pub price_accounts: Vec<([u8; 32], Pubkey)>,
}

/// The instructions that post `acc` from `payer`: the VAA written into `encoded_vaa` and
/// verified, then each price into its destination (`price_keys[i]` for
/// [`Destination::Accounts`], one per update); the closes.
pub fn steps(
    payer: &Pubkey,
    acc: &Accumulator,
    encoded_vaa: &Pubkey,
    price_keys: &[Pubkey],
    options: &Options,
) -> Result<Steps> {
    let mut post: Vec<(Instruction, u32, &'static str)> = vec![];
    let vaa = receiver::post_vaa(
        payer,
        encoded_vaa,
        &acc.vaa,
        acc.guardian_set_index,
        options.encoded_vaa_rent,
    );
    let n = vaa.len();
    for (i, ix) in vaa.into_iter().enumerate() {
        let step = match i {
            0 => (cu::SMALL, "create the VAA's account"),
            1 => (cu::INIT_ENCODED_VAA, "init the VAA's account"),
            _ if i == n - 1 => (cu::VERIFY_ENCODED_VAA, "verify the VAA"),
            _ => (cu::WRITE_ENCODED_VAA, "write the VAA"),
        };
        post.push((ix, step.0, step.1));
    }
    let mut close = vec![(
        receiver::close_encoded_vaa(payer, encoded_vaa),
        cu::CLOSE_ENCODED_VAA,
        "close the VAA's account",
    )];
    let mut price_accounts = vec![];
    match options.destination {
        Destination::PushFeed { shard } => {
            for u in &acc.updates {
                let feed = u.price.feed_id;
                post.push((
                    receiver::update_price_feed(
                        payer,
                        encoded_vaa,
                        options.treasury_id,
                        shard,
                        &u.merkle,
                        &feed,
                    ),
                    cu::UPDATE_PRICE_FEED,
                    "update a push feed",
                ));
                price_accounts.push((feed, crate::address::push_feed_address(shard, &feed)));
            }
        }
        Destination::Accounts => {
            if price_keys.len() != acc.updates.len() {
                bail!(
                    "{} price accounts for {} updates",
                    price_keys.len(),
                    acc.updates.len()
                );
            }
            for (u, key) in acc.updates.iter().zip(price_keys) {
                post.push((
                    receiver::post_update(payer, encoded_vaa, key, options.treasury_id, &u.merkle),
                    cu::POST_UPDATE,
                    "post a price",
                ));
                price_accounts.push((u.price.feed_id, *key));
            }
            for key in price_keys {
                close.push((
                    receiver::reclaim_rent(payer, key),
                    cu::SMALL,
                    "close a price account",
                ));
            }
        }
    }
    Ok(Steps {
        post,
        close,
        price_accounts,
    })
}

/// [`steps`] packed into transactions: in order, each taking the next instruction while the
/// transaction (its compute budget included) stays inside a packet and 1.4M compute units.
pub fn plan(
    payer: &Pubkey,
    acc: &Accumulator,
    encoded_vaa: &Pubkey,
    price_keys: &[Pubkey],
    options: &Options,
) -> Result<PostPlan> {
    let s = steps(payer, acc, encoded_vaa, price_keys, options)?;
    let signers: Vec<Pubkey> = std::iter::once(*encoded_vaa)
        .chain(price_keys.iter().copied())
        .collect();
    Ok(PostPlan {
        post: pack(payer, &s.post, &signers, options.compute_unit_price)?,
        close: pack(payer, &s.close, &signers, options.compute_unit_price)?,
        encoded_vaa: *encoded_vaa,
        price_accounts: s.price_accounts,
    })
}

fn budget(units: u32, price: u64) -> Vec<Instruction> {
    let mut out = vec![ComputeBudgetInstruction::set_compute_unit_limit(units)];
    if price > 0 {
        out.push(ComputeBudgetInstruction::set_compute_unit_price(price));
    }
    out
}

fn finish(
    payer: &Pubkey,
    group: &[(Instruction, u32, &'static str)],
    signers: &[Pubkey],
    price: u64,
) -> Result<PlannedTx> {
    let units: u32 = group.iter().map(|g| g.1).sum();
    let mut instructions = budget(units, price);
    instructions.extend(group.iter().map(|g| g.0.clone()));
    let bytes = measure(payer, &instructions, &[])?.bytes;
    let mut labels: Vec<&str> = vec![];
    for g in group {
        if labels.last() != Some(&g.2) {
            labels.push(g.2);
        }
    }
    let needed: Vec<Pubkey> = signers
        .iter()
        .filter(|k| {
            instructions
                .iter()
                .flat_map(|ix| &ix.accounts)
                .any(|m| m.is_signer && m.pubkey == **k)
        })
        .copied()
        .collect();
    Ok(PlannedTx {
        label: labels.join(", "),
        instructions,
        signers: needed,
        compute_units: units,
        bytes,
    })
}

fn pack(
    payer: &Pubkey,
    steps: &[(Instruction, u32, &'static str)],
    signers: &[Pubkey],
    price: u64,
) -> Result<Vec<PlannedTx>> {
    let mut out = vec![];
    let mut group: Vec<(Instruction, u32, &'static str)> = vec![];
    for step in steps {
        group.push(step.clone());
        let t = finish(payer, &group, signers, price)?;
        if t.bytes <= PACKET_DATA_SIZE && t.compute_units <= MAX_TX_COMPUTE_UNITS {
            continue;
        }
        group.pop();
        if group.is_empty() {
            bail!(
                "{} alone is {} bytes, {} compute units: it fits no transaction",
                step.2,
                t.bytes,
                t.compute_units
            );
        }
        out.push(finish(payer, &group, signers, price)?);
        group = vec![step.clone()];
        let alone = finish(payer, &group, signers, price)?;
        if alone.bytes > PACKET_DATA_SIZE || alone.compute_units > MAX_TX_COMPUTE_UNITS {
            bail!(
                "{} alone is {} bytes, {} compute units: it fits no transaction",
                step.2,
                alone.bytes,
                alone.compute_units
            );
        }
    }
    if !group.is_empty() {
        let t = finish(payer, &group, signers, price)?;
        if t.bytes > PACKET_DATA_SIZE {
            bail!("{} is {} bytes: it fits no transaction", t.label, t.bytes);
        }
        out.push(t);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use solana_sdk::instruction::{AccountMeta, Instruction};

    fn ix(bytes: usize) -> (Instruction, u32, &'static str) {
        let ix = Instruction {
            program_id: Pubkey::new_unique(),
            accounts: vec![AccountMeta::new(Pubkey::new_unique(), false)],
            data: vec![0; bytes],
        };
        (ix, 1_000, "a step")
    }

    #[test]
    fn an_instruction_too_big_for_any_transaction_is_named_wherever_it_is() {
        let payer = Pubkey::new_unique();
        // Small, too big, small: the middle one fails the plan (it used to pass unchecked).
        let steps = [ix(600), ix(1_300), ix(10)];
        let e = pack(&payer, &steps, &[], 0).unwrap_err().to_string();
        assert!(e.contains("fits no transaction"), "{e}");
        // Three that fit two a transaction: packed in order, each inside a packet.
        let steps = [ix(400), ix(400), ix(400)];
        let txs = pack(&payer, &steps, &[], 0).unwrap();
        assert_eq!(txs.len(), 2);
        assert!(txs.iter().all(|t| t.bytes <= PACKET_DATA_SIZE));
        assert_eq!(txs[0].instructions.len(), 1 + 2);
    }
}
