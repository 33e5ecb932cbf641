//! The keeper's `demo` end to end on the embedded runtime.

use aidx::events::NavReported;
use aidx::math::shares::DEAD_SHARES;
use aidx::math::{ONE_SHARE, USD_SCALE};
use aidx_cli::demo::run;
use aidx_client::tx::PACKET_DATA_SIZE;
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
    assert!(s.largest_tx <= PACKET_DATA_SIZE);

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
