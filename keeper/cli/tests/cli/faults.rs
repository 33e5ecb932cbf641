//! The keeper's JSON-RPC backend against a node behind a fault-injecting proxy
//! (`aidx_localnet::faults`): answers dropped or delayed, 429, an unhealthy node, a blockhash
//! that expires before confirmation, the node stopped and restarted mid-run. Each time every
//! operation completes, the proxy shows the fault was met, and nothing is lost or applied
//! twice: the share supply grows by exactly the shares minted, every vault equals the index's
//! accounting, and the node's history holds each mint once.

use aidx::math::ONE_SHARE;
use aidx_client::holder::{execute_with, Request};
use aidx_client::retry::RetryPolicy;
use aidx_client::rpc::Rpc;
use aidx_client::{AidxEvent, Book, Chain};
use aidx_localnet::faults::{Fault, FaultPlan, FaultProxy};
use aidx_localnet::LocalNet;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// A node (not ticking) on the demo's final state, keeping its history in the state file.
async fn node(tag: &str) -> (LocalNet, Book, PathBuf) {
    let path = crate::demo_state(tag).await;
    let (_, book): (aidx_embedded::Embedded, Book) =
        aidx_embedded::state::load(&path).await.unwrap();
    let net = start(&path);
    (net, book, path)
}

fn start(path: &Path) -> LocalNet {
    let load = path.to_path_buf();
    LocalNet::start(
        Box::new(move || Box::pin(async move { Ok(aidx_embedded::state::load(&load).await?.0) })),
        aidx_localnet::Config {
            ticking: false,
            history: Some(path.to_path_buf()),
            ..aidx_localnet::Config::loopback(0, 0)
        },
    )
    .unwrap()
}

fn cleanup(path: &Path) {
    std::fs::remove_file(path).ok();
}

/// `n` in-kind mints of one share by alice through `rpc`, each to completion.
async fn mints(rpc: &mut Rpc, book: &Book, n: usize) {
    for i in 0..n {
        let r = execute_with(
            rpc,
            book,
            "alice",
            Request::MintInKind { shares: ONE_SHARE },
            50,
            false,
        )
        .await
        .unwrap_or_else(|e| panic!("mint {i}: {e:#}"));
        assert!(
            r.events
                .iter()
                .any(|e| matches!(e, AidxEvent::MintedInKind(_))),
            "mint {i} emitted MintedInKind"
        );
    }
}

/// Nothing lost, nothing applied twice: supply, vaults, and the history's mints.
async fn check(rpc: &mut Rpc, book: &Book, supply_before: u64, mints_before: usize, n: usize) {
    let key = book.index_key().unwrap();
    let index = rpc.load_index(&key).await.unwrap();
    assert_eq!(index.share_supply, supply_before + n as u64 * ONE_SHARE);
    assert_eq!(
        rpc.supply_of(&index.share_mint).await.unwrap(),
        index.share_supply
    );
    for c in index.constituents() {
        assert_eq!(rpc.balance_of(&c.vault).await.unwrap(), c.balance);
    }
    assert_eq!(minted(rpc, &key).await, mints_before + n);
}

/// In-kind mints in the index's history as the node serves it.
async fn minted(rpc: &mut Rpc, key: &solana_sdk::pubkey::Pubkey) -> usize {
    rpc.index_events(key)
        .await
        .unwrap()
        .iter()
        .filter(|raw| matches!(AidxEvent::try_decode(raw), Ok(AidxEvent::MintedInKind(_))))
        .count()
}

/// Runs `n` mints through a proxy injecting `plan`, and checks the outcome.
async fn under(tag: &str, plan: FaultPlan, n: usize) -> (u64, u64) {
    let (net, book, path) = node(tag).await;
    let proxy = FaultProxy::start(&net.url, plan).unwrap();
    let policy = RetryPolicy {
        attempts: 8,
        base: Duration::from_millis(20),
        max: Duration::from_millis(500),
    };
    let mut rpc = Rpc::with_retries(
        &proxy.url,
        book.wallet("alice").unwrap(),
        "confirmed",
        policy,
    )
    .unwrap();
    let mut direct = Rpc::new(&net.url, book.wallet("alice").unwrap(), "confirmed").unwrap();
    let key = book.index_key().unwrap();
    let supply = direct.load_index(&key).await.unwrap().share_supply;
    let before = minted(&mut direct, &key).await;
    mints(&mut rpc, &book, n).await;
    check(&mut direct, &book, supply, before, n).await;
    let injected = proxy.injected();
    let retried = rpc.retry_stats.retried.load(Ordering::Relaxed);
    drop(proxy);
    net.stop();
    cleanup(&path);
    (injected, retried)
}

#[tokio::test]
async fn dropped_answers_are_retried_and_nothing_applies_twice() {
    // Every third answer lost, sendTransaction's included: the resend is refused as
    // AlreadyProcessed and read as sent.
    let (injected, retried) = under(
        "fault-drop",
        FaultPlan {
            fault: Fault::DropAnswer,
            every: 3,
            methods: vec![],
            limit: 20,
        },
        4,
    )
    .await;
    assert!(injected >= 5, "{injected}");
    assert!(retried >= injected, "{retried} < {injected}");
}

#[tokio::test]
async fn lost_answers_to_sendtransaction_are_resent_and_land_once() {
    // The first three sends' answers are lost after the node processed them: each resend of
    // the same signed transaction is refused as AlreadyProcessed, read as sent.
    let (injected, retried) = under(
        "fault-drop-send",
        FaultPlan {
            fault: Fault::DropAnswer,
            every: 1,
            methods: vec!["sendTransaction"],
            limit: 3,
        },
        3,
    )
    .await;
    assert_eq!(injected, 3);
    assert!(retried >= 3, "{retried}");
}

#[tokio::test]
async fn a_lost_answer_and_an_expired_blockhash_do_not_apply_twice() {
    // The transaction lands, the node moves past its blockhash, the answer is lost: the resend
    // is answered BlockhashNotFound (as a validator checks the blockhash first); the backend
    // finds the signature landed instead of rebuilding it.
    let (injected, _) = under(
        "fault-drop-expire",
        FaultPlan {
            fault: Fault::DropAnswerThenExpire,
            every: 1,
            methods: vec!["sendTransaction"],
            limit: 2,
        },
        2,
    )
    .await;
    assert_eq!(injected, 2);
}

#[tokio::test]
async fn delayed_answers_are_waited_for() {
    let (injected, _) = under(
        "fault-delay",
        FaultPlan {
            fault: Fault::Delay(Duration::from_millis(150)),
            every: 2,
            methods: vec![],
            limit: 30,
        },
        2,
    )
    .await;
    assert!(injected >= 5, "{injected}");
}

#[tokio::test]
async fn rate_limits_are_waited_out() {
    // 429 is waited out by solana-rpc-client's own HttpSender (Retry-After: 0).
    let (injected, _) = under(
        "fault-429",
        FaultPlan {
            fault: Fault::TooManyRequests,
            every: 2,
            methods: vec![],
            limit: 20,
        },
        2,
    )
    .await;
    assert!(injected >= 5, "{injected}");
}

#[tokio::test]
async fn an_unhealthy_node_is_retried() {
    let (injected, retried) = under(
        "fault-unhealthy",
        FaultPlan {
            fault: Fault::Unhealthy,
            every: 3,
            methods: vec![],
            limit: 20,
        },
        2,
    )
    .await;
    assert!(injected >= 3, "{injected}");
    assert!(retried >= injected);
}

#[tokio::test]
async fn an_expired_blockhash_is_rebuilt_and_lands_once() {
    // The first send is acknowledged but never forwarded, and the node moves past its
    // blockhash: the backend sees the signature unknown and the blockhash invalid, rebuilds
    // with a new one, simulates again and lands it once.
    let (injected, _) = under(
        "fault-expire",
        FaultPlan {
            fault: Fault::ExpireBlockhash,
            every: 1,
            methods: vec!["sendTransaction"],
            limit: 1,
        },
        2,
    )
    .await;
    assert_eq!(injected, 1);
}

#[tokio::test]
async fn a_node_that_gives_up_is_reported_by_name() {
    // Unhealthy on every request: the backend gives up after its attempts and says so.
    let (net, book, path) = node("fault-down").await;
    let proxy = FaultProxy::start(
        &net.url,
        FaultPlan {
            fault: Fault::Unhealthy,
            every: 1,
            methods: vec![],
            limit: u64::MAX,
        },
    )
    .unwrap();
    let policy = RetryPolicy {
        attempts: 3,
        base: Duration::from_millis(10),
        max: Duration::from_millis(20),
    };
    let mut rpc = Rpc::with_retries(
        &proxy.url,
        book.wallet("alice").unwrap(),
        "confirmed",
        policy,
    )
    .unwrap();
    let err = execute_with(
        &mut rpc,
        &book,
        "alice",
        Request::MintInKind { shares: ONE_SHARE },
        50,
        false,
    )
    .await
    .unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("no answer after 3 attempts"), "{msg}");
    assert!(msg.contains("unhealthy"), "{msg}");
    assert_eq!(rpc.retry_stats.gave_up.load(Ordering::Relaxed), 1);
    drop(proxy);
    net.stop();
    cleanup(&path);
}

#[tokio::test]
async fn a_node_restarted_mid_run_loses_nothing() {
    // The node stops (answering what it holds, then saving accounts and history) and starts
    // again from its files on another port while the keeper is minting; the keeper rides
    // out the gap and every mint lands exactly once, history included.
    let (net, book, path) = node("fault-restart").await;
    let proxy = FaultProxy::start(
        &net.url,
        FaultPlan {
            fault: Fault::Delay(Duration::ZERO),
            every: u64::MAX,
            methods: vec![],
            limit: 0,
        },
    )
    .unwrap();
    // Patient enough for a save, a stop and a reload on a slow machine.
    let policy = RetryPolicy {
        attempts: 12,
        base: Duration::from_millis(100),
        max: Duration::from_secs(5),
    };
    let mut rpc = Rpc::with_retries(
        &proxy.url,
        book.wallet("alice").unwrap(),
        "confirmed",
        policy,
    )
    .unwrap();
    let key = book.index_key().unwrap();
    let mut direct = Rpc::new(&net.url, book.wallet("alice").unwrap(), "confirmed").unwrap();
    let supply = direct.load_index(&key).await.unwrap().share_supply;
    let before = minted(&mut direct, &key).await;
    let n = 6;
    let restart = async {
        // Once two mints have landed, stop and start again.
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if direct.load_index(&key).await.unwrap().share_supply >= supply + 2 * ONE_SHARE {
                break;
            }
        }
        let (p, b) = (path.clone(), book.clone());
        tokio::task::spawn_blocking(move || net.stop_and_save(&p, &b))
            .await
            .unwrap()
            .unwrap();
        let p = path.clone();
        let net = tokio::task::spawn_blocking(move || start(&p))
            .await
            .unwrap();
        proxy.set_upstream(&net.url);
        net
    };
    let (net, ()) = tokio::join!(restart, mints(&mut rpc, &book, n));
    let mut direct = Rpc::new(&net.url, book.wallet("alice").unwrap(), "confirmed").unwrap();
    check(&mut direct, &book, supply, before, n).await;
    assert!(rpc.retry_stats.retried.load(Ordering::Relaxed) > 0);
    drop(proxy);
    net.stop();
    cleanup(&path);
}
