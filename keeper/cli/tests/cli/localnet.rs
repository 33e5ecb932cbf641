//! The local JSON-RPC node (`aidx-localnet`) under the keeper's own RPC backend: the same holder
//! requests sent through JSON-RPC to the node and straight to an embedded runtime loaded from
//! the same saved state give the same events, unit for unit, and leave the same index.

use aidx::math::ONE_SHARE;
use aidx_client::holder::{execute_with, Request};
use aidx_client::rpc::Rpc;
use aidx_client::Chain;
use aidx_localnet::LocalNet;

#[tokio::test]
async fn the_rpc_backend_against_the_local_node_matches_the_embedded_runtime() {
    let path = crate::demo_state("localnet").await;
    let (mut embedded, book) = aidx_embedded::state::load(&path).await.unwrap();
    let state = path.clone();
    let net = LocalNet::start(
        Box::new(move || Box::pin(async move { Ok(aidx_embedded::state::load(&state).await?.0) })),
        aidx_localnet::Config {
            ticking: false,
            ..aidx_localnet::Config::loopback(0, 0)
        },
    )
    .unwrap();
    std::fs::remove_file(&path).ok();
    let mut rpc = Rpc::new(&net.url, book.wallet("alice").unwrap(), "confirmed").unwrap();

    let requests = [
        Request::MintInKind { shares: ONE_SHARE },
        Request::RedeemInKind {
            shares: ONE_SHARE / 2,
            skip: vec![],
        },
    ];
    let mut sent = vec![];
    for request in requests {
        let on_node = execute_with(&mut rpc, &book, "alice", request.clone(), 50, false)
            .await
            .unwrap();
        let direct = execute_with(&mut embedded, &book, "alice", request, 50, false)
            .await
            .unwrap();
        assert!(!on_node.events.is_empty());
        assert_eq!(on_node.events, direct.events);
        sent.extend(on_node.events);
    }
    let key = book.index_key().unwrap();
    // The index's history as an auditor reads it from the node: its signatures
    // (getSignaturesForAddress) and their logs (getTransaction), parsed for events.
    let history: Vec<aidx_client::AidxEvent> = rpc
        .index_events(&key)
        .await
        .unwrap()
        .iter()
        .map(|raw| aidx_client::AidxEvent::try_decode(raw).unwrap())
        .collect();
    assert_eq!(history, sent);
    let (a, b) = (
        rpc.load_index(&key).await.unwrap(),
        embedded.load_index(&key).await.unwrap(),
    );
    assert_eq!(a.share_supply, b.share_supply);
    let balances = |i: &aidx::state::Index| -> Vec<u64> {
        i.constituents().iter().map(|c| c.balance).collect()
    };
    assert_eq!(balances(&a), balances(&b));
    let report = aidx_client::audit::audit(&mut rpc, &book, false)
        .await
        .unwrap();
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    net.stop();
}
