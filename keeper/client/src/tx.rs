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
