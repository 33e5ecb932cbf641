//! The embedded runtime runs on mainnet-beta's transaction limits: 64 account locks (every key,
//! read-only ones too) and transactions no larger than a packet.

use aidx_embedded::MAINNET_ACCOUNT_LOCKS;
use aidx_tests::*;
use solana_sdk::{
    instruction::{AccountMeta, Instruction},
    pubkey::Pubkey,
    transaction::TransactionError,
};

/// An instruction to a program that does not exist, naming `keys` read-only: the runtime
/// counts locks before it looks for the program.
fn naming(keys: &[Pubkey]) -> Instruction {
    Instruction {
        program_id: Pubkey::new_from_array([7; 32]),
        accounts: keys
            .iter()
            .map(|k| AccountMeta::new_readonly(*k, false))
            .collect(),
        data: vec![],
    }
}

#[tokio::test]
async fn sixty_five_account_locks_are_refused() {
    let mut t = TestContext::new().await;
    let keys: Vec<Pubkey> = (0..64).map(|_| Pubkey::new_unique()).collect();
    let table = t.chain.create_lookup_table(&keys).await.unwrap();
    let tables = std::slice::from_ref(&table);
    // Fixed keys: the payer, the compute-budget program the runtime's sends add, the program.
    let fixed = 3;
    let locks = |n: usize| n + fixed;

    let n = MAINNET_ACCOUNT_LOCKS - fixed;
    let tx = t
        .chain
        .build_v0(&[naming(&keys[..n])], &[], tables)
        .await
        .unwrap();
    assert_eq!(
        tx.message.static_account_keys().len() + n,
        locks(n),
        "every key counts"
    );
    let r = t.chain.process_versioned(tx).await.unwrap();
    let at_limit = r.unwrap_err().error;
    assert_ne!(
        at_limit,
        TransactionError::TooManyAccountLocks,
        "{} locks pass the lock check",
        locks(n)
    );

    let r = t
        .chain
        .send_v0(&[naming(&keys[..n + 1])], &[], tables)
        .await
        .unwrap();
    assert_eq!(
        r.unwrap_err().error,
        TransactionError::TooManyAccountLocks,
        "{} locks",
        locks(n + 1)
    );

    // The test runtime's own limit allows them: the limit above is the one set, not a default.
    let mut wide = TestContext::with_test_limits().await;
    let table = wide.chain.create_lookup_table(&keys).await.unwrap();
    let r = wide
        .chain
        .send_v0(&[naming(&keys[..n + 1])], &[], std::slice::from_ref(&table))
        .await
        .unwrap();
    assert_ne!(r.unwrap_err().error, TransactionError::TooManyAccountLocks);
}

#[tokio::test]
async fn a_transaction_over_the_packet_size_is_refused_before_it_runs() {
    let mut t = TestContext::new().await;
    let big = Instruction {
        program_id: Pubkey::new_from_array([7; 32]),
        accounts: vec![],
        data: vec![1; 1_200],
    };
    let err = t.chain.send(&[big], &[]).await.unwrap_err();
    assert!(
        err.to_string().contains("over the 1232-byte packet limit"),
        "{err}"
    );
}
