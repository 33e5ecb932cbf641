//! The keeper's `demo` end to end on the embedded runtime.

use aidx::events::NavReported;
use aidx::math::shares::DEAD_SHARES;
use aidx::math::{ONE_SHARE, USD_SCALE};
use aidx_cli::demo::run;
use aidx_client::universe::SAMPLE_UNIVERSE;
use aidx_client::{events_of, AidxEvent};

#[tokio::test]
async fn demo_seeds_mints_prices_and_reports() {
    let mut out = Vec::new();
    let s = run(SAMPLE_UNIVERSE, &mut out, None).await.expect("demo");
    let text = String::from_utf8(out).unwrap();

    assert_eq!(s.constituents, 17);
    let kinds: Vec<&str> = s.events.iter().map(AidxEvent::name).collect();
    assert_eq!(kinds[0], "IndexInitialized");
    assert_eq!(
        kinds.iter().filter(|k| **k == "ConstituentAdded").count(),
        17
    );
    // The story, in order (other events in between).
    let story = [
        "MintedInKind",
        "MintedInKind",
        "RedeemedInKind",
        "NavReported",
        "MethodologyInputsSet",
        "TargetsRecomputed",
        "ImbalanceStarted",
        "NavReported",
        "RebalanceSwapped",
        "MintedSingle",
        "RedeemedSingle",
        "NavReported",
    ];
    let mut at = 0;
    for k in &kinds {
        if at < story.len() && *k == story[at] {
            at += 1;
        }
    }
    assert_eq!(at, story.len(), "events out of order: {kinds:?}");
    assert!(s.rebalance_swaps >= 1);
    assert!(s.reward_paid_usd > 0);
    let navs = events_of::<NavReported>(&s.events);
    // Seeded at $100 a share; units per share round down, so a share is worth a little less.
    assert!(navs[0].value_per_share <= 100 * USD_SCALE);
    assert!(navs[0].value_per_share > 99 * USD_SCALE);
    // TAO +30% and FIL -30% move the value per share up (TAO weighs more than FIL).
    assert!(navs[1].value_per_share > navs[0].value_per_share);
    let single_in = s.events.iter().find_map(|e| match e {
        AidxEvent::MintedSingle(m) => Some(m.shares),
        _ => None,
    });
    // After the rebalance every constituent is inside its band.
    let last = navs.last().unwrap();
    let swapped = s.events.iter().rev().find_map(|e| match e {
        AidxEvent::RebalanceSwapped(r) => Some(r),
        _ => None,
    });
    let targets = &swapped.unwrap().targets;
    for (w, t) in swapped.unwrap().weights_after.iter().zip(targets) {
        let half = t / 5; // band 20% relative
        assert!(
            *w + half >= *t && *w <= t + half,
            "weight {w} outside band around {t}"
        );
    }
    assert_eq!(last.weights.len(), 17);
    // alice 100 - 40 - 1, bob 250 + his single mint, plus the dead shares
    assert_eq!(
        s.share_supply,
        309 * ONE_SHARE + single_in.unwrap() + DEAD_SHARES
    );
    assert_eq!(s.value_per_share, navs.last().unwrap().value_per_share);
    assert!(s.largest_tx.fits(), "{}", s.largest_tx);
    // 17 legs of 2 accounts; the pure plays are Token-2022 without extensions.
    assert_eq!(s.largest_tx.locks, 8 + 2 * 17 + 3);

    for needle in [
        "excluded OLAS",
        "equal to `aidx targets` for 17/17 constituents, unit for unit",
        "== Price move: TAO +30%, FIL -30%",
        "TAO     inference  token-2022      4.2868  $546.00",
        "value per share $100.91",
        "alice  holds 59.0000 shares",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}

/// `aidx demo --universe FILE`'s output; the run must succeed.
fn demo_output(universe: &str, extra: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_aidx"))
        .args(["demo", "--universe", universe])
        .args(extra)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("run aidx");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// `aidx demo --universe FILE` on a 24-token universe (the sample's 17 eligible tokens and 7
/// synthetic pure plays: a full constituent table) runs through on mainnet's limits: every
/// in-kind transaction is one v0 transaction of at most 64 account locks and 1,232 bytes, and
/// the demo says which lookup tables each went through.
#[test]
fn demo_runs_a_full_table_on_mainnet_limits() {
    let universe = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/universe-24.csv");
    let text = demo_output(universe, &["--max-members", "24"]);
    assert!(text.contains("24 constituents added"), "{text}");
    assert!(
        text.contains("for 24/24 constituents, unit for unit"),
        "{text}"
    );
    let sent: Vec<(usize, usize)> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("one v0 transaction through"))
        .map(|l| {
            assert!(
                l.contains("through the index's and alice's lookup tables")
                    || l.contains("through the index's and bob's lookup tables"),
                "{l}"
            );
            let nums: Vec<usize> = l
                .rsplit(':')
                .next()
                .unwrap()
                .split(|c: char| !c.is_ascii_digit())
                .filter_map(|w| w.parse().ok())
                .collect();
            // "<bytes> bytes of 1232, <locks> account locks of 64"
            assert_eq!((nums[1], nums[3]), (1232, 64), "{l}");
            (nums[0], nums[2])
        })
        .collect();
    assert_eq!(sent.len(), 3, "{text}");
    for (bytes, locks) in &sent {
        assert!(
            *bytes <= 1232 && *locks <= 64,
            "{bytes} bytes, {locks} locks"
        );
    }
    // 24 plain legs: 8 + 48 accounts, the program, the compute-budget program, the payer.
    assert_eq!(sent[0].1, 59);
    assert!(text.contains("every constituent back in band"), "{text}");
}

/// A universe with 43 eligible tokens (the 24-token file and 19 more synthetic pure plays):
/// the membership rules take the 24 largest by circulating market cap (as many as one in-kind
/// transaction holds) and the demo runs through; before them it added 24 rows and failed with
/// `TooManyConstituents`.
#[test]
fn demo_on_a_43_eligible_universe_takes_the_top_20_and_runs_through() {
    let universe = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/universe-43.csv");
    let targets = std::process::Command::new(env!("CARGO_BIN_EXE_aidx"))
        .args(["targets", "--universe", universe, "--json"])
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("run aidx");
    let report: serde_json::Value = serde_json::from_slice(&targets.stdout).unwrap();
    let tokens = report["tokens"].as_array().unwrap();
    let ranked: Vec<&serde_json::Value> = tokens.iter().filter(|t| t["rank"].is_u64()).collect();
    assert_eq!(ranked.len(), 43);
    let members: Vec<u64> = ranked
        .iter()
        .filter(|t| t["membership"] == "enters")
        .map(|t| t["rank"].as_u64().unwrap())
        .collect();
    assert_eq!(members.len(), 20);
    assert!(members.iter().all(|r| *r <= 20), "{members:?}");
    for t in ranked.iter().filter(|t| t["membership"] == "out") {
        assert_eq!(t["target"], 0);
        assert!(t["membership_because"]
            .as_str()
            .unwrap()
            .ends_with("and the index is full"));
    }
    let text = demo_output(universe, &[]);
    assert!(text.contains("20 constituents added"), "{text}");
    assert_eq!(
        text.lines()
            .filter(|l| l.contains("excluded") && l.contains("and the index is full"))
            .count(),
        23,
        "{text}"
    );
}
