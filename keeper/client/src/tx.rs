//! Building transactions the way both backends send them: the payer first and every other
//! signer once, v0 messages through address lookup tables, and the size a cluster accepts.

use anyhow::{bail, Result};
use solana_sdk::{
    hash::Hash,
    instruction::Instruction,
    message::{v0, AddressLookupTableAccount, VersionedMessage},
    pubkey::Pubkey,
    signature::Keypair,
    signer::Signer,
    transaction::VersionedTransaction,
};

/// The largest serialized transaction a cluster accepts (v0 or legacy).
pub use solana_packet::PACKET_DATA_SIZE;

/// Account locks a transaction may take on mainnet-beta: every key, read-only ones and keys
/// loaded from lookup tables included (`increase_tx_account_lock_limit`, 128, was never
/// activated there). The program keeps every in-kind basket inside it
/// ([`aidx::state::MAX_LEG_ACCOUNTS`]).
pub const MAINNET_ACCOUNT_LOCKS: usize = aidx::state::TX_ACCOUNT_LOCKS;

/// What a transaction takes of a cluster's limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Footprint {
    /// Serialized size, bytes (limit [`PACKET_DATA_SIZE`]).
    pub bytes: usize,
    /// Accounts it locks (limit [`MAINNET_ACCOUNT_LOCKS`]).
    pub locks: usize,
    /// Keys written in the message itself (the rest come from lookup tables).
    pub static_keys: usize,
}

impl Footprint {
    /// Inside both limits.
    pub fn fits(&self) -> bool {
        self.bytes <= PACKET_DATA_SIZE && self.locks <= MAINNET_ACCOUNT_LOCKS
    }
}

impl std::fmt::Display for Footprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} bytes of {PACKET_DATA_SIZE}, {} account locks of {MAINNET_ACCOUNT_LOCKS}",
            self.bytes, self.locks
        )
    }
}

/// The footprint of a signed transaction.
pub fn footprint(tx: &VersionedTransaction) -> Result<Footprint> {
    let static_keys = tx.message.static_account_keys().len();
    let loaded: usize = tx
        .message
        .address_table_lookups()
        .map(|l| {
            l.iter()
                .map(|t| t.writable_indexes.len() + t.readonly_indexes.len())
                .sum()
        })
        .unwrap_or(0);
    Ok(Footprint {
        bytes: wire_size(tx)?,
        locks: static_keys + loaded,
        static_keys,
    })
}

/// The footprint a v0 transaction of `ixs` paid by `payer` through `tables` would have, without
/// signing it (its signatures are counted at their fixed size).
pub fn measure(
    payer: &Pubkey,
    ixs: &[Instruction],
    tables: &[AddressLookupTableAccount],
) -> Result<Footprint> {
    let msg = v0::Message::try_compile(payer, ixs, tables, Hash::default())?;
    let sigs = msg.header.num_required_signatures as usize;
    let tx = VersionedTransaction {
        signatures: vec![solana_sdk::signature::Signature::default(); sigs],
        message: VersionedMessage::V0(msg),
    };
    footprint(&tx)
}

/// One way to send a transaction: the lookup tables it resolves accounts through.
#[derive(Clone, Debug)]
pub struct Shape {
    /// What a person reads: "no lookup table", "the index's lookup table", ...
    pub name: String,
    /// The tables.
    pub tables: Vec<AddressLookupTableAccount>,
}

/// The first of `shapes` (cheapest first) whose transaction fits both limits, with its
/// footprint; an error naming every shape's footprint when none fits.
pub fn choose_shape(
    payer: &Pubkey,
    ixs: &[Instruction],
    shapes: Vec<Shape>,
) -> Result<(Shape, Footprint)> {
    let mut tried = vec![];
    for shape in shapes {
        let f = measure(payer, ixs, &shape.tables)?;
        if f.fits() {
            return Ok((shape, f));
        }
        tried.push(format!("{}: {f}", shape.name));
    }
    bail!(
        "the transaction fits no way of sending it ({})",
        tried.join("; ")
    )
}

/// The signers of a transaction of `ixs` that `payer` pays for: the payer first, then each
/// other key of `signers` once, in order, that some instruction asks to sign. A key no
/// instruction needs is left out rather than refused: signing with it is what the runtime's
/// signing refuses (`KeypairPubkeyMismatch`), and an operator's wallet passed to a
/// permissionless instruction (`accrue_fees`) is not an error.
pub fn signer_list<'a>(
    payer: &'a Keypair,
    ixs: &[Instruction],
    signers: &[&'a Keypair],
) -> Vec<&'a Keypair> {
    let needed = |k: &Pubkey| {
        ixs.iter()
            .flat_map(|ix| &ix.accounts)
            .any(|m| m.is_signer && m.pubkey == *k)
    };
    let mut keys: Vec<&Keypair> = vec![payer];
    for s in signers {
        let k = s.pubkey();
        if needed(&k) && !keys.iter().any(|x| x.pubkey() == k) {
            keys.push(s);
        }
    }
    keys
}

/// Compiles `ixs` into a v0 message paid by `payer`, resolving accounts through `tables`, and
/// signs it with the payer and `signers`.
pub fn build_v0(
    payer: &Keypair,
    ixs: &[Instruction],
    signers: &[&Keypair],
    tables: &[AddressLookupTableAccount],
    blockhash: Hash,
) -> Result<VersionedTransaction> {
    let msg = v0::Message::try_compile(&payer.pubkey(), ixs, tables, blockhash)?;
    Ok(VersionedTransaction::try_new(
        VersionedMessage::V0(msg),
        &signer_list(payer, ixs, signers),
    )?)
}

/// The serialized size of a transaction, bytes.
pub fn wire_size(tx: &VersionedTransaction) -> Result<usize> {
    Ok(bincode::serialized_size(tx)? as usize)
}

/// The transaction's size, or an error when a cluster would refuse it as too large.
pub fn check_size(tx: &VersionedTransaction) -> Result<usize> {
    let size = wire_size(tx)?;
    if size > PACKET_DATA_SIZE {
        bail!("transaction is {size} bytes, over the {PACKET_DATA_SIZE}-byte packet limit");
    }
    Ok(size)
}

/// Whether `ixs` set their own compute budget (a limit or a price): a backend then sends them
/// as they are, instead of putting its own budget first (two would fail the transaction).
pub fn sets_compute_budget(ixs: &[Instruction]) -> bool {
    ixs.iter()
        .any(|ix| ix.program_id == solana_compute_budget_interface::ID)
}

#[cfg(test)]
mod tests {
    use super::*;
    use solana_sdk::instruction::AccountMeta;

    #[test]
    fn payer_first_and_every_needed_signer_once() {
        let (payer, a, b, idle) = (
            Keypair::new(),
            Keypair::new(),
            Keypair::new(),
            Keypair::new(),
        );
        let ix = Instruction {
            program_id: Pubkey::new_unique(),
            accounts: vec![
                AccountMeta::new_readonly(a.pubkey(), true),
                AccountMeta::new(b.pubkey(), true),
                AccountMeta::new(idle.pubkey(), false),
            ],
            data: vec![],
        };
        let keys: Vec<_> = signer_list(
            &payer,
            std::slice::from_ref(&ix),
            &[&a, &payer, &idle, &b, &a],
        )
        .iter()
        .map(|k| k.pubkey())
        .collect();
        assert_eq!(keys, vec![payer.pubkey(), a.pubkey(), b.pubkey()]);
        // An unneeded signer does not make the transaction unsignable.
        let tx = build_v0(&payer, &[ix], &[&a, &b, &idle], &[], Hash::default()).unwrap();
        assert_eq!(tx.signatures.len(), 3);
    }

    #[test]
    fn footprint_counts_table_keys_as_locks_and_the_cheapest_fitting_shape_wins() {
        let payer = Keypair::new();
        let keys: Vec<Pubkey> = (0..40).map(|_| Pubkey::new_unique()).collect();
        let ix = Instruction {
            program_id: Pubkey::new_unique(),
            accounts: keys.iter().map(|k| AccountMeta::new(*k, false)).collect(),
            data: vec![1; 8],
        };
        let table = AddressLookupTableAccount {
            key: Pubkey::new_unique(),
            addresses: keys.clone(),
        };
        let bare = measure(&payer.pubkey(), std::slice::from_ref(&ix), &[]).unwrap();
        // payer + program + 40 keys, all static: 42 * 32 bytes of keys alone
        assert_eq!((bare.locks, bare.static_keys), (42, 42));
        assert!(bare.bytes > PACKET_DATA_SIZE && !bare.fits());
        let with = measure(
            &payer.pubkey(),
            std::slice::from_ref(&ix),
            std::slice::from_ref(&table),
        )
        .unwrap();
        assert_eq!((with.locks, with.static_keys), (42, 2));
        assert!(with.fits());
        // The measurement is the signed transaction's size.
        let tx = build_v0(
            &payer,
            std::slice::from_ref(&ix),
            &[],
            std::slice::from_ref(&table),
            Hash::default(),
        )
        .unwrap();
        assert_eq!(footprint(&tx).unwrap(), with);

        let shapes = vec![
            Shape {
                name: "no lookup table".into(),
                tables: vec![],
            },
            Shape {
                name: "the table".into(),
                tables: vec![table.clone()],
            },
        ];
        let (picked, f) = choose_shape(&payer.pubkey(), std::slice::from_ref(&ix), shapes).unwrap();
        assert_eq!((picked.name.as_str(), f), ("the table", with));

        // 70 accounts fit no shape: too many locks even through a table.
        let many: Vec<Pubkey> = (0..70).map(|_| Pubkey::new_unique()).collect();
        let wide = Instruction {
            program_id: ix.program_id,
            accounts: many.iter().map(|k| AccountMeta::new(*k, false)).collect(),
            data: vec![],
        };
        let err = choose_shape(
            &payer.pubkey(),
            &[wide],
            vec![Shape {
                name: "a table of all of them".into(),
                tables: vec![AddressLookupTableAccount {
                    key: Pubkey::new_unique(),
                    addresses: many,
                }],
            }],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("72 account locks of 64"), "{err}");
    }

    #[test]
    fn size_is_checked_against_the_packet() {
        let payer = Keypair::new();
        let memo = |n: usize| Instruction {
            program_id: solana_sdk::pubkey::Pubkey::new_unique(),
            accounts: vec![],
            data: vec![7; n],
        };
        let small = build_v0(&payer, &[memo(10)], &[], &[], Hash::default()).unwrap();
        assert!(check_size(&small).unwrap() < PACKET_DATA_SIZE);
        let big = build_v0(&payer, &[memo(PACKET_DATA_SIZE)], &[], &[], Hash::default()).unwrap();
        assert!(check_size(&big)
            .unwrap_err()
            .to_string()
            .contains("packet limit"));
    }
}
