//! The local node under load: concurrent clients, each with its own wallet, lookup table and
//! JSON-RPC connection, send in-kind mints, in-kind redeems and token transfers through the
//! keeper's RPC backend (preflight simulation, `sendTransaction`, status until confirmed, the
//! logs from `getTransaction`). Afterwards every vault must equal the index's accounting, the
//! share supply the mint's, the audit (history replayed from the node) must pass, and every
//! signature a client was given must be found, succeeded, by `getSignatureStatuses`.
//!
//! [`load_on_loopback_keeps_every_vault_and_signature`] runs a small load in CI;
//! [`load_figures`] (ignored: `scripts/bench` runs it) the 8 × 200 of BENCHMARKS.md and writes
//! its section there.

use aidx::math::ONE_SHARE;
use aidx::state::Index;
use aidx_cli::demo::{run_on, Setup};
use aidx_client::rpc::Rpc;
use aidx_client::tx::Shape;
use aidx_client::{holder, lookup, Book, Chain, DevChain};
use aidx_localnet::LocalNet;
use anchor_spl::token_2022::spl_token_2022::instruction::transfer_checked;
use solana_sdk::{signature::Signature, signer::Signer};
use std::time::{Duration, Instant};

/// What one client did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Op {
    Mint,
    Redeem,
    Transfer,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Mint => "mint in kind (1 share)",
            Op::Redeem => "redeem in kind (1 share)",
            Op::Transfer => "token transfer",
        }
    }
}

/// One confirmed operation.
struct Done {
    kind: Op,
    latency: Duration,
    signature: Signature,
}

/// A load run's figures and what it checked.
struct LoadReport {
    clients: usize,
    ops_per_client: usize,
    constituents: usize,
    wall: Duration,
    done: Vec<Done>,
    /// Signatures found succeeded by `getSignatureStatuses` afterwards.
    found: usize,
}

/// The `q`-quantile (0..=1) of `v`, nearest rank.
fn quantile(v: &mut [Duration], q: f64) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    v.sort();
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e3)
}

/// Runs `clients` × `ops` against a new local node (ticking as a validator does) on which the
/// demo ran first over JSON-RPC; checks every invariant afterwards and returns the figures.
async fn run_load(clients: usize, ops: usize) -> LoadReport {
    let net = LocalNet::start(
        Box::new(|| Box::pin(async { aidx_embedded::Embedded::start().await })),
        aidx_localnet::Config::loopback(0, 0),
    )
    .unwrap();
    let setup = Setup {
        seed: [9; 32],
        start_time: None,
        max_members: aidx::state::DEFAULT_MAX_MEMBERS,
    };
    let rpc = Rpc::new(&net.url, setup.keypair("payer"), "confirmed").unwrap();
    rpc.airdrop_to_payer(10_000_000_000_000).await.unwrap();
    let mut sink = Vec::new();
    let mut demo = run_on(
        rpc,
        setup,
        aidx_client::universe::SAMPLE_UNIVERSE,
        &mut sink,
    )
    .await
    .unwrap();
    let before = demo.finish(&mut sink).await.unwrap().share_supply;
    let mut book = demo.book();
    let mut rpc = demo.into_chain();
    let index_key = book.index_key().unwrap();
    let index: Index = rpc.load_index(&index_key).await.unwrap();

    // Every client: SOL, a hundred times the vaults' balances of every constituent, a share
    // account and a lookup table of its own accounts.
    let names: Vec<String> = (0..clients).map(|i| format!("client{i}")).collect();
    for name in &names {
        let owner = setup.keypair(name);
        let tokens: Vec<_> = index
            .constituents()
            .iter()
            .map(|c| (c.mint, c.token_program, c.balance.saturating_mul(100)))
            .collect();
        let mut own = rpc
            .fund_holder(&owner.pubkey(), 1_000_000_000_000, &tokens)
            .await
            .unwrap();
        own.push(
            rpc.create_ata(
                &owner.pubkey(),
                &index.share_mint,
                &aidx_client::TOKEN_PROGRAM_ID,
            )
            .await
            .unwrap(),
        );
        let table = rpc.create_lookup_table(&own).await.unwrap();
        book.add_wallet(name, &owner);
        book.lookup_tables
            .insert(name.clone(), table.key.to_string());
    }

    let started = Instant::now();
    let runs = names.iter().enumerate().map(|(i, name)| {
        let (book, url, next) = (&book, net.url.clone(), names[(i + 1) % clients].clone());
        async move { client(book, &url, name, &next, ops).await }
    });
    let done: Vec<Done> = futures_util::future::join_all(runs)
        .await
        .into_iter()
        .flatten()
        .collect();
    let wall = started.elapsed();
    assert_eq!(done.len(), clients * ops, "every operation confirmed");

    // Nothing lost, nothing applied twice: every vault holds what the index accounts for,
    // the supply is the mint's, and the history replayed from the node agrees.
    let index: Index = rpc.load_index(&index_key).await.unwrap();
    for c in index.constituents() {
        assert_eq!(rpc.balance_of(&c.vault).await.unwrap(), c.balance);
    }
    assert_eq!(
        rpc.supply_of(&index.share_mint).await.unwrap(),
        index.share_supply
    );
    let mints = done.iter().filter(|d| d.kind == Op::Mint).count() as u64;
    let redeems = done.iter().filter(|d| d.kind == Op::Redeem).count() as u64;
    assert_eq!(
        index.share_supply,
        before + (mints - redeems) * ONE_SHARE,
        "each mint and redeem applied exactly once"
    );
    let report = aidx_client::audit::audit(&mut rpc, &book, true)
        .await
        .unwrap();
    assert!(report.violations.is_empty(), "{:?}", report.violations);

    // Every acknowledged signature, by `getSignatureStatuses`.
    let client = solana_rpc_client::nonblocking::rpc_client::RpcClient::new(net.url.clone());
    let mut found = 0;
    for chunk in done.chunks(256) {
        let sigs: Vec<Signature> = chunk.iter().map(|d| d.signature).collect();
        let statuses = client
            .get_signature_statuses_with_history(&sigs)
            .await
            .unwrap()
            .value;
        for (d, s) in chunk.iter().zip(statuses) {
            let s = s.unwrap_or_else(|| panic!("{} acknowledged but not found", d.signature));
            assert!(s.err.is_none(), "{}: {:?}", d.signature, s.err);
            found += 1;
        }
    }
    net.stop();
    LoadReport {
        clients,
        ops_per_client: ops,
        constituents: index.constituents().len(),
        wall,
        done,
        found,
    }
}

/// One client: `ops` operations in turn (mint 1 share in kind, transfer 1 raw unit of a
/// constituent to `next`, redeem 1 share in kind), each timed from building the transaction
/// to its confirmed logs.
async fn client(book: &Book, url: &str, name: &str, next: &str, ops: usize) -> Vec<Done> {
    let holder = book.wallet(name).unwrap();
    let to = book.wallet(next).unwrap().pubkey();
    let mut rpc = Rpc::new(url, holder.insecure_clone(), "confirmed").unwrap();
    let index_key = book.index_key().unwrap();
    let shapes: Vec<Shape> = lookup::shapes(&mut rpc, book, Some(name)).await.unwrap();
    let mut out = vec![];
    for i in 0..ops {
        let index: Index = rpc.load_index(&index_key).await.unwrap();
        let accounts = aidx_client::holder_atas(&index, &holder.pubkey());
        let kind = [Op::Mint, Op::Transfer, Op::Redeem][i % 3];
        let ixs = match kind {
            Op::Mint => {
                let now = rpc.get_clock().await.unwrap().unix_timestamp;
                let needs = holder::in_kind_deposits(
                    &index,
                    ONE_SHARE,
                    now,
                    &vec![false; index.constituents().len()],
                )
                .unwrap();
                let args = aidx::instructions::MintInKindArgs {
                    shares: ONE_SHARE,
                    max_amounts_in: needs.iter().map(|n| n + n / 100 + 1).collect(),
                    min_shares_out: ONE_SHARE,
                };
                vec![aidx_client::mint_in_kind(
                    &index_key,
                    &index,
                    &holder.pubkey(),
                    &accounts,
                    args,
                )]
            }
            Op::Redeem => {
                let args = aidx::instructions::RedeemInKindArgs {
                    shares: ONE_SHARE,
                    min_amounts_out: vec![0; index.constituents().len()],
                    skip_mask: 0,
                };
                vec![aidx_client::redeem_in_kind(
                    &index_key,
                    &index,
                    &holder.pubkey(),
                    &accounts,
                    args,
                )]
            }
            Op::Transfer => {
                let row = (i / 3) % index.constituents().len();
                let c = &index.constituents()[row];
                let dest = aidx_client::ata(&to, &c.mint, &c.token_program);
                vec![transfer_checked(
                    &c.token_program,
                    &accounts[row],
                    &c.mint,
                    &dest,
                    &holder.pubkey(),
                    &[],
                    1,
                    c.decimals,
                )
                .unwrap()]
            }
        };
        let start = Instant::now();
        let (shape, _) = rpc.choose_shape(&ixs, shapes.clone()).unwrap();
        let r = rpc.send_ixs_v0(&ixs, &[&holder], &shape.tables).await;
        let latency = start.elapsed();
        let o = r
            .unwrap_or_else(|e| panic!("{name} op {i}: {e}"))
            .unwrap_or_else(|f| panic!("{name} op {i}: {f}"));
        out.push(Done {
            kind,
            latency,
            signature: o.signature.expect("a sent transaction has a signature"),
        });
    }
    out
}

#[tokio::test]
async fn load_on_loopback_keeps_every_vault_and_signature() {
    let r = run_load(4, 9).await;
    assert_eq!(r.found, 36);
    assert!(r.done.iter().any(|d| d.kind == Op::Transfer));
}

/// The 8 × 200 of BENCHMARKS.md ("Local node under load"), written there.
#[tokio::test]
#[ignore = "benchmark: run by scripts/bench"]
async fn load_figures() {
    let env = |k: &str, d: usize| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let r = run_load(env("AIDX_LOAD_CLIENTS", 8), env("AIDX_LOAD_OPS", 200)).await;
    let section = render(&r);
    println!("{section}");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../BENCHMARKS.md");
    let md = std::fs::read_to_string(&path).unwrap_or_default();
    std::fs::write(&path, with_section(&md, &section)).unwrap();
}

/// Where the section sits in BENCHMARKS.md; `scripts/bench`'s writer keeps it.
const BEGIN: &str = "<!-- kept: localnet-load -->";
const END: &str = "<!-- /kept -->";

/// `md` with the kept block replaced by `section` (or inserted before "## How to reproduce").
fn with_section(md: &str, section: &str) -> String {
    let block = format!("{BEGIN}\n{section}\n{END}\n");
    if let (Some(a), Some(b)) = (md.find(BEGIN), md.find(END)) {
        return format!(
            "{}{block}{}",
            &md[..a],
            md[b + END.len()..].trim_start_matches('\n')
        );
    }
    match md.find("## How to reproduce") {
        Some(at) => format!("{}{block}\n{}", &md[..at], &md[at..]),
        None => format!("{md}\n{block}"),
    }
}

#[test]
fn the_load_section_replaces_its_old_self() {
    let md = "# B\n\n## A\n\n## How to reproduce\n\nx\n";
    let once = with_section(md, "first");
    assert!(once.contains("first") && once.find("first") < once.find("## How to reproduce"));
    let twice = with_section(&once, "second");
    assert!(twice.contains("second") && !twice.contains("first"));
    assert_eq!(twice.matches(BEGIN).count(), 1);
}

fn render(r: &LoadReport) -> String {
    use std::fmt::Write;
    let total = r.done.len();
    let mut s = String::new();
    writeln!(s, "## Local node under load (JSON-RPC on loopback)\n").unwrap();
    writeln!(
        s,
        "`aidx localnet` (ticking: a slot every 400 ms) after the demo ran on it over JSON-RPC ({} constituents). \
         {} concurrent clients, each with its own wallet, lookup table and HTTP connection, sent {} operations each \
         in turn (an in-kind mint of one share, a token transfer, an in-kind redeem of one share) through the keeper's \
         RPC backend: preflight simulation, `sendTransaction`, `getSignatureStatuses` until confirmed, then the logs \
         from `getTransaction`. Latency is that whole round, per operation, as the client sees it.\n",
        r.constituents, r.clients, r.ops_per_client
    )
    .unwrap();
    writeln!(
        s,
        "| operations | wall time | throughput | p50 | p99 | max |\n|---:|---:|---:|---:|---:|---:|"
    )
    .unwrap();
    let mut all: Vec<Duration> = r.done.iter().map(|d| d.latency).collect();
    writeln!(
        s,
        "| {total} | {:.1} s | {:.1} tx/s | {} ms | {} ms | {} ms |\n",
        r.wall.as_secs_f64(),
        total as f64 / r.wall.as_secs_f64(),
        ms(quantile(&mut all, 0.5)),
        ms(quantile(&mut all, 0.99)),
        ms(quantile(&mut all, 1.0)),
    )
    .unwrap();
    writeln!(s, "| operation | count | p50 | p99 |\n|---|---:|---:|---:|").unwrap();
    for kind in [Op::Mint, Op::Redeem, Op::Transfer] {
        let mut v: Vec<Duration> = r
            .done
            .iter()
            .filter(|d| d.kind == kind)
            .map(|d| d.latency)
            .collect();
        writeln!(
            s,
            "| {} | {} | {} ms | {} ms |",
            kind.name(),
            v.len(),
            ms(quantile(&mut v, 0.5)),
            ms(quantile(&mut v, 0.99))
        )
        .unwrap();
    }
    writeln!(
        s,
        "\nAfterwards: every vault equal to the index's accounting, the share supply equal to the mint's and to the \
         demo's plus one share per mint less one per redeem (nothing applied twice), the audit with the history \
         replayed from the node passed, and {} of {} acknowledged signatures found succeeded by `getSignatureStatuses` \
         (none missing). Debug build; `cargo test -p aidx-cli --test cli -- --ignored load_figures` (`AIDX_LOAD_CLIENTS`, \
         `AIDX_LOAD_OPS`).",
        r.found, total
    )
    .unwrap();
    s
}
