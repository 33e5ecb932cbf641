//! PubSub against the node with Solana's own PubSub client: slot, account, logs and signature
//! subscriptions are notified as a validator notifies them.

use aidx_embedded::Embedded;
use aidx_localnet::{Config, LocalNet};
use futures_util::StreamExt;
use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::{signature::Keypair, signer::Signer, transaction::Transaction};
use std::time::Duration;

async fn within<T>(f: impl std::future::Future<Output = Option<T>>) -> T {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("a notification within 10 s")
        .expect("the stream ended")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slot_account_logs_and_signature_subscriptions_are_notified() {
    let net = LocalNet::start(
        Box::new(|| Box::pin(async { Embedded::start().await })),
        Config::loopback(0, 0),
    )
    .unwrap();
    let rpc = RpcClient::new_with_commitment(
        net.url.clone(),
        solana_commitment_config::CommitmentConfig::confirmed(),
    );
    let pubsub = PubsubClient::new(&net.ws_url).await.unwrap();

    // Slots pass on their own, about every 400 ms.
    let (mut slots, unsub_slots) = pubsub.slot_subscribe().await.unwrap();
    let a = within(slots.next()).await.slot;
    let b = within(slots.next()).await.slot;
    assert!(b > a, "{a} then {b}");
    unsub_slots().await;

    // A funded sender pays a recipient; its account and logs subscriptions see it.
    let from = Keypair::new();
    let to = Keypair::new().pubkey();
    rpc.request_airdrop(&from.pubkey(), 1_000_000_000)
        .await
        .unwrap();
    let (mut account, _) = pubsub.account_subscribe(&to, None).await.unwrap();
    let (mut logs, _) = pubsub
        .logs_subscribe(
            solana_rpc_client_api::config::RpcTransactionLogsFilter::Mentions(vec![to.to_string()]),
            solana_rpc_client_api::config::RpcTransactionLogsConfig { commitment: None },
        )
        .await
        .unwrap();
    let blockhash = rpc.get_latest_blockhash().await.unwrap();
    let tx = Transaction::new_signed_with_payer(
        &[anchor_lang::solana_program::system_instruction::transfer(
            &from.pubkey(),
            &to,
            5_000_000,
        )],
        Some(&from.pubkey()),
        &[&from],
        blockhash,
    );
    let sig = rpc.send_transaction(&tx).await.unwrap();
    let acc = within(account.next()).await;
    assert_eq!(acc.value.lamports, 5_000_000);
    let l = within(logs.next()).await;
    assert_eq!(l.value.signature, sig.to_string());
    assert!(l.value.err.is_none());
    assert!(
        l.value.logs.iter().any(|x| x.contains("invoke [1]")),
        "{:?}",
        l.value.logs
    );

    // A signature already processed is notified at once.
    let (mut status, _) = pubsub.signature_subscribe(&sig, None).await.unwrap();
    let s = within(status.next()).await;
    assert!(matches!(
        s.value,
        solana_rpc_client_api::response::RpcSignatureResult::ProcessedSignature(ref p) if p.err.is_none()
    ));
    net.stop();
}
