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

/// Slots differ by design (the node moves one slot per transaction, the embedded runtime only
/// when told); everything else in an event must be equal.
fn without_slots(events: &[aidx_client::AidxEvent]) -> Vec<aidx_client::AidxEvent> {
    use aidx_client::AidxEvent as E;
    events
        .iter()
        .cloned()
        .map(|e| match e {
            E::PricesRefreshed(mut p) => {
                p.slot = 0;
                E::PricesRefreshed(p)
            }
            E::NavReported(mut n) => {
                n.slot = 0;
                E::NavReported(n)
            }
            e => e,
        })
        .collect()
}

/// The demo's whole life (listing, seeding, in-kind mints and redeems through lookup tables,
/// oracle prices, targets recomputed on-chain, a price move, the keeper's auction rebalance,
/// single-asset mint and redeem) sent through the keeper's JSON-RPC backend to the local node,
/// and straight to an embedded runtime, from the same keys and the same start time: the same
/// events, unit for unit, the same output, NAV, balances and supply, and the node's history
/// (getSignaturesForAddress, getTransaction logs) equal to what was sent.
#[tokio::test]
async fn the_demos_whole_life_over_json_rpc_equals_the_embedded_run() {
    use aidx_cli::demo::{run_on, Setup};
    let setup = Setup {
        seed: [7; 32],
        start_time: Some(1_900_000_000),
        max_members: aidx::state::DEFAULT_MAX_MEMBERS,
    };
    let csv = aidx_client::universe::SAMPLE_UNIVERSE;

    let mut direct_out = Vec::new();
    let embedded = aidx_embedded::Embedded::start().await.unwrap();
    let mut direct = run_on(embedded, setup, csv, &mut direct_out).await.unwrap();
    let direct_summary = direct.finish(&mut direct_out).await.unwrap();

    let net = LocalNet::start(
        Box::new(|| Box::pin(async { aidx_embedded::Embedded::start().await })),
        aidx_localnet::Config {
            ticking: false,
            ..aidx_localnet::Config::loopback(0, 0)
        },
    )
    .unwrap();
    let rpc = Rpc::new(&net.url, setup.keypair("payer"), "confirmed").unwrap();
    rpc.airdrop_to_payer(1_000_000_000_000).await.unwrap();
    let mut node_out = Vec::new();
    let mut over_rpc = run_on(rpc, setup, csv, &mut node_out).await.unwrap();
    let node_summary = over_rpc.finish(&mut node_out).await.unwrap();

    assert_eq!(node_summary.index, direct_summary.index);
    assert_eq!(node_summary.share_supply, direct_summary.share_supply);
    assert_eq!(node_summary.value_per_share, direct_summary.value_per_share);
    assert_eq!(node_summary.rebalance_swaps, direct_summary.rebalance_swaps);
    assert!(node_summary.rebalance_swaps > 0);
    assert_eq!(node_summary.reward_paid_usd, direct_summary.reward_paid_usd);
    assert_eq!(node_summary.events.len(), direct_summary.events.len());
    assert_eq!(
        without_slots(&node_summary.events),
        without_slots(&direct_summary.events)
    );
    // What a person reads: every line equal but the lookup tables' addresses (derived from
    // each chain's fee payer).
    let lines = |out: &[u8]| -> Vec<String> {
        String::from_utf8_lossy(out)
            .lines()
            .filter(|l| !l.contains("lookup table"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(lines(&node_out), lines(&direct_out));

    // The final state read over JSON-RPC against the embedded runtime's.
    let key = direct_summary.index;
    let mut rpc = Rpc::new(&net.url, setup.keypair("payer"), "confirmed").unwrap();
    let (mut embedded, book) = (direct.into_chain(), over_rpc.book());
    let (a, b) = (
        rpc.load_index(&key).await.unwrap(),
        embedded.load_index(&key).await.unwrap(),
    );
    assert_eq!(a.share_supply, b.share_supply);
    for (x, y) in a.constituents().iter().zip(b.constituents()) {
        assert_eq!(
            (x.balance, x.price, x.target_weight),
            (y.balance, y.price, y.target_weight)
        );
        assert_eq!(rpc.balance_of(&x.vault).await.unwrap(), x.balance);
    }
    for who in ["alice", "bob"] {
        let owner = solana_sdk::signer::Signer::pubkey(&book.wallet(who).unwrap());
        let shares = aidx_client::ata(&owner, &a.share_mint, &aidx_client::TOKEN_PROGRAM_ID);
        assert_eq!(
            rpc.balance_of(&shares).await.unwrap(),
            embedded.balance_of(&shares).await.unwrap()
        );
    }
    // The history an auditor replays from the node.
    let history: Vec<aidx_client::AidxEvent> = rpc
        .index_events(&key)
        .await
        .unwrap()
        .iter()
        .map(|raw| aidx_client::AidxEvent::try_decode(raw).unwrap())
        .collect();
    let logged: Vec<aidx_client::AidxEvent> = embedded
        .index_events(&key)
        .await
        .unwrap()
        .iter()
        .map(|raw| aidx_client::AidxEvent::try_decode(raw).unwrap())
        .collect();
    assert_eq!(without_slots(&history), without_slots(&logged));
    let report = aidx_client::audit::audit(&mut rpc, &book, true)
        .await
        .unwrap();
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    net.stop();
}

/// `getTransaction` of an in-kind mint as a validator reports it: inner instructions (one
/// token transfer per constituent and the share mint, at stack height 2) and pre/post token
/// balances whose differences are the amounts the event names.
#[tokio::test]
async fn get_transaction_reports_inner_instructions_and_token_balances() {
    use solana_transaction_status_client_types::{
        option_serializer::OptionSerializer, UiInstruction, UiTransactionEncoding,
    };
    let path = crate::demo_state("localnet-meta").await;
    let (_, book) = aidx_embedded::state::load(&path).await.unwrap();
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
    let done = execute_with(
        &mut rpc,
        &book,
        "alice",
        Request::MintInKind { shares: ONE_SHARE },
        50,
        false,
    )
    .await
    .unwrap();
    let minted = aidx_client::events_of::<aidx::events::MintedInKind>(&done.events)
        .pop()
        .unwrap();
    let key = book.index_key().unwrap();
    let index = rpc.load_index(&key).await.unwrap();
    let client = solana_rpc_client::nonblocking::rpc_client::RpcClient::new(net.url.clone());
    let newest = client.get_signatures_for_address(&key).await.unwrap()[0]
        .signature
        .parse()
        .unwrap();
    let tx = client
        .get_transaction_with_config(
            &newest,
            solana_rpc_client_api::config::RpcTransactionConfig {
                encoding: Some(UiTransactionEncoding::Json),
                commitment: None,
                max_supported_transaction_version: Some(0),
            },
        )
        .await
        .unwrap();
    let meta = tx.transaction.meta.unwrap();
    let OptionSerializer::Some(inner) = meta.inner_instructions else {
        panic!("no inner instructions")
    };
    // The compute-budget instruction invokes nothing; the mint (index 1) invokes a transfer
    // per constituent and the share mint.
    assert_eq!(inner.len(), 1);
    assert_eq!(inner[0].index, 1);
    let n = index.constituents().len();
    assert_eq!(inner[0].instructions.len(), n + 1);
    for ix in &inner[0].instructions {
        let UiInstruction::Compiled(c) = ix else {
            panic!("not compiled")
        };
        assert_eq!(c.stack_height, Some(2));
    }
    let (OptionSerializer::Some(pre), OptionSerializer::Some(post)) =
        (meta.pre_token_balances, meta.post_token_balances)
    else {
        panic!("no token balances")
    };
    assert_eq!(pre.len(), post.len());
    let alice = solana_sdk::signer::Signer::pubkey(&book.wallet("alice").unwrap());
    for (row, c) in index.constituents().iter().enumerate() {
        let amount =
            |list: &[solana_transaction_status_client_types::UiTransactionTokenBalance],
             owner: &str| {
                list.iter()
                    .find(|b| {
                        b.mint == c.mint.to_string()
                            && b.owner == OptionSerializer::Some(owner.to_string())
                    })
                    .map(|b| b.ui_token_amount.amount.parse::<u64>().unwrap())
                    .unwrap()
            };
        let holder = alice.to_string();
        let vault_owner = key.to_string();
        assert_eq!(
            amount(&pre, &holder) - amount(&post, &holder),
            minted.amounts_in[row]
        );
        assert_eq!(
            amount(&post, &vault_owner) - amount(&pre, &vault_owner),
            minted.amounts_in[row]
        );
    }
    net.stop();
}

/// Every chain command of the `aidx` binary with `--url` against the local node, as a user
/// runs them (the index, symbols and lookup tables from the environment, a keypair file per
/// signer): nav, oracle, mint and redeem in kind and single-asset, plan, rebalance, admin,
/// audit with the history from the node, and one round of the keeper loop.
#[tokio::test]
async fn every_chain_command_works_with_url_against_the_node() {
    // What `aidx localnet --demo` serves: the demo run on the node over JSON-RPC, so that the
    // node's history begins with the index's creation.
    let (net, book) = aidx_cli::commands::localnet::demo_node(
        aidx_client::universe::SAMPLE_UNIVERSE,
        aidx_localnet::Config {
            ticking: false,
            ..aidx_localnet::Config::loopback(0, 0)
        },
    )
    .await
    .unwrap();
    let dir = std::env::temp_dir().join(format!("aidx-cli-url-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in &book.wallets {
        std::fs::write(
            dir.join(format!("{name}.json")),
            serde_json::to_string(bytes).unwrap(),
        )
        .unwrap();
    }
    let tables: Vec<String> = book
        .lookup_tables
        .iter()
        .map(|(n, a)| format!("{n}={a}"))
        .collect();
    let (url, index, symbols, tables) = (
        net.url.clone(),
        book.index.clone(),
        book.symbols.join(","),
        tables.join(","),
    );
    let dir2 = dir.clone();
    let aidx = move |signer: &str, args: &[&str]| -> String {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_aidx"))
            .args(args)
            .env("RUST_BACKTRACE", "0")
            .env("HOME", &dir2)
            .env("AIDX_URL", &url)
            .env("AIDX_INDEX", &index)
            .env("AIDX_SYMBOLS", &symbols)
            .env("AIDX_LOOKUP_TABLES", &tables)
            .env("AIDX_KEYPAIR", dir2.join(format!("{signer}.json")))
            .output()
            .expect("run aidx");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "aidx {args:?}: {text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    let run = |signer: &'static str, args: Vec<&'static str>| {
        let aidx = aidx.clone();
        tokio::task::spawn_blocking(move || aidx(signer, &args))
    };
    let key = book.index_key().unwrap();
    let mut rpc = Rpc::new(&net.url, book.wallet("alice").unwrap(), "confirmed").unwrap();
    let supply = rpc.load_index(&key).await.unwrap().share_supply;
    // The admin's wallet pays its own fees on a cluster (the demo's payer paid them).
    Rpc::new(&net.url, book.wallet("admin").unwrap(), "confirmed")
        .unwrap()
        .airdrop_to_payer(10_000_000_000)
        .await
        .unwrap();

    let out = run("admin", vec!["oracle", "--set", "TAO=520"])
        .await
        .unwrap();
    assert!(
        out.contains("prices published for 17 constituents"),
        "{out}"
    );
    let nav: serde_json::Value =
        serde_json::from_str(&run("alice", vec!["nav", "--json"]).await.unwrap()).unwrap();
    assert_eq!(nav["constituents"][0]["symbol"], "TAO");
    assert_eq!(nav["constituents"][0]["price_usd"], "520.0000");
    run("alice", vec!["mint", "--holder", "alice", "--shares", "2"])
        .await
        .unwrap();
    run(
        "alice",
        vec!["redeem", "--holder", "alice", "--shares", "1"],
    )
    .await
    .unwrap();
    assert_eq!(
        rpc.load_index(&key).await.unwrap().share_supply,
        supply + ONE_SHARE
    );
    let before = rpc.load_index(&key).await.unwrap();
    let out = run(
        "alice",
        vec![
            "mint", "--holder", "alice", "--single", "FIL", "--amount", "1",
        ],
    )
    .await
    .unwrap();
    let after = rpc.load_index(&key).await.unwrap();
    assert!(after.share_supply > before.share_supply, "{out}");
    let fil = book.row_of("FIL").unwrap();
    assert_eq!(
        after.constituents()[fil].balance - before.constituents()[fil].balance,
        100_000_000,
        "one FIL (8 decimals) deposited"
    );
    run(
        "alice",
        vec![
            "redeem", "--holder", "alice", "--shares", "0.01", "--single", "TAO",
        ],
    )
    .await
    .unwrap();
    let redeemed = rpc.load_index(&key).await.unwrap();
    assert_eq!(redeemed.share_supply, after.share_supply - ONE_SHARE / 100);
    let tao = book.row_of("TAO").unwrap();
    assert!(redeemed.constituents()[tao].balance < after.constituents()[tao].balance);
    let plan: serde_json::Value =
        serde_json::from_str(&run("alice", vec!["plan", "--json"]).await.unwrap()).unwrap();
    assert!(plan.is_object(), "{plan}");
    run("keeper", vec!["rebalance"]).await.unwrap();
    run("admin", vec!["admin", "pause", "--flags", "mint-single"])
        .await
        .unwrap();
    assert_ne!(rpc.load_index(&key).await.unwrap().paused, 0);
    run("admin", vec!["admin", "pause", "--flags", "none"])
        .await
        .unwrap();
    assert_eq!(rpc.load_index(&key).await.unwrap().paused, 0);
    let audit: serde_json::Value = serde_json::from_str(
        &run("alice", vec!["audit", "--events", "--json"])
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(audit["violations"], serde_json::json!([]), "{audit}");
    let config = dir.join("run.json");
    std::fs::write(
        &config,
        serde_json::json!({
            "interval_secs": 5,
            "kill_switch": dir.join("stop"),
            "max_rounds": 1
        })
        .to_string(),
    )
    .unwrap();
    let config = Box::leak(config.to_string_lossy().to_string().into_boxed_str());
    run("keeper", vec!["run", "--config", config])
        .await
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    net.stop();
}
