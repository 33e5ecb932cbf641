//! `aidx run` as an operator runs it: Prometheus metrics scraped while it runs, and a SIGTERM
//! in the middle of a round that lets the round finish, then stops and saves.

use aidx_localnet::hermes::{HermesFault, MockHermes};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn scrape(url: &str) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async { reqwest::get(url).await.unwrap().text().await.unwrap() })
}

/// The value of the first sample line starting with `name`.
fn sample(metrics: &str, name: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn metrics_are_scraped_and_a_sigterm_mid_round_lets_the_round_finish() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let state = rt.block_on(crate::demo_state("run-sigterm"));
    // A Hermes that takes 3 s to answer: every round is in progress that long.
    let (index, now) = rt.block_on(async {
        let (mut chain, book) = aidx_embedded::state::load(&state).await.unwrap();
        use aidx_client::Chain as _;
        let index = chain.load_index(&book.index_key().unwrap()).await.unwrap();
        (index, chain.get_clock().await.unwrap().unix_timestamp)
    });
    // Newer than what the saved push feeds hold (published at `now`) and at other prices, so
    // that what the round posts can be told from what was there.
    let hermes = MockHermes::start().unwrap();
    let hermes_price = |c: &aidx::state::Constituent| (c.price / 10_000) as i64 * 101 / 100;
    for c in index.constituents() {
        hermes.set_price(c.feed_id, hermes_price(c), now + 1);
    }
    hermes.set_fault(HermesFault::Slow(Duration::from_secs(3)));
    let dir = std::env::temp_dir().join(format!("aidx-run-sigterm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("run.json");
    std::fs::write(
        &config,
        serde_json::json!({"interval_secs": 5, "kill_switch": dir.join("stop")}).to_string(),
    )
    .unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_aidx"))
        .args(["run", "--state"])
        .arg(&state)
        .arg("--config")
        .arg(&config)
        .args(["--metrics-addr", "127.0.0.1:0", "--hermes-url", &hermes.url])
        .args(["--hermes-timeout-secs", "10"])
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("metrics at ")
        .unwrap_or_else(|| panic!("{line}"))
        .to_string();

    // The first round starts at once and waits on Hermes: in progress.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let m = scrape(&url);
        if sample(&m, "aidx_keeper_round_in_progress") == Some(1.0) {
            assert_eq!(sample(&m, "aidx_keeper_rounds_total"), Some(0.0), "{m}");
            break;
        }
        assert!(Instant::now() < deadline, "no round started: {m}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // The round finishes (Hermes answers, the prices are posted, the rebalance runs); then the
    // loop stops instead of starting another, and the chain is saved.
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let exit = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(exit.success(), "{stderr}");
    assert!(
        rest.contains("1 rounds, ") && rest.contains("(stopped by a signal between rounds)"),
        "{rest}\n{stderr}"
    );
    assert!(
        stderr.contains("stopping after the round in progress"),
        "{stderr}"
    );
    assert!(stderr.contains("pyth prices posted"), "{stderr}");
    assert!(stderr.contains("round done"), "the rebalance ran: {stderr}");
    assert_eq!(
        hermes.served(),
        1,
        "one round, one fetch: nothing fetched or posted twice"
    );

    // What the round posted is in the saved state, once: every push feed at Hermes' price.
    rt.block_on(async {
        let (mut chain, _book) = aidx_embedded::state::load(&state).await.unwrap();
        use aidx_client::Chain as _;
        for c in index.constituents() {
            let key = aidx_client::push_feed_address(0, &c.feed_id);
            let data = chain.data_of(&key).await.unwrap();
            let update = <pyth_solana_receiver_sdk::price_update::PriceUpdateV2 as anchor_lang::AnchorDeserialize>::deserialize(&mut &data[8..]).unwrap();
            assert_eq!(update.price_message.publish_time, now + 1);
            assert_eq!(update.price_message.price, hermes_price(c));
        }
    });
    std::fs::remove_file(&state).ok();
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_metrics_name_what_a_round_did() {
    let m = aidx_cli::metrics::Metrics::new();
    m.rounds.inc();
    m.swaps.inc_by(3);
    m.reward_paid_usd.inc_by(1.25);
    m.fail("pyth");
    m.rpc_latency.observe(0.02);
    m.price_age
        .get_or_create(&aidx_cli::metrics::SymbolLabel {
            symbol: "TAO".into(),
        })
        .set(4);
    m.window_open.set(1);
    m.auction_seconds.set(3_600);
    let text = m.encode();
    for expected in [
        "aidx_keeper_rounds_total 1",
        "aidx_keeper_swaps_total 3",
        "aidx_keeper_reward_paid_usd_total 1.25",
        "aidx_keeper_failures_total{kind=\"pyth\"} 1",
        "aidx_keeper_price_age_seconds{symbol=\"TAO\"} 4",
        "aidx_keeper_rpc_latency_seconds_count 1",
        "aidx_keeper_rebalance_window_open 1",
        "aidx_keeper_auction_seconds 3600",
        "# EOF",
    ] {
        assert!(text.contains(expected), "{expected} in\n{text}");
    }
}
