//! The keeper's `demo` end to end on the embedded runtime.

use aidx::math::shares::DEAD_SHARES;
use aidx::math::{ONE_SHARE, USD_SCALE};
use aidx_keeper::client::AidxEvent;
use aidx_keeper::demo::{run, PACKET_DATA_SIZE};
use aidx_keeper::universe::SAMPLE_UNIVERSE;

#[tokio::test]
async fn demo_seeds_mints_redeems_and_reports() {
    let mut out = Vec::new();
    let s = run(SAMPLE_UNIVERSE, &mut out).await.expect("demo");
    let text = String::from_utf8(out).unwrap();

    assert_eq!(s.constituents, 17);
    // alice 100 - 40, bob 250, plus the dead shares
    assert_eq!(s.share_supply, 310 * ONE_SHARE + DEAD_SHARES);
    // seeded at $100 a share; units per share round down, so a share is worth a little less
    assert!(
        s.value_per_share <= 100 * USD_SCALE && s.value_per_share > 99 * USD_SCALE,
        "{}",
        s.value_per_share
    );
    assert!(s.largest_tx <= PACKET_DATA_SIZE);

    let kinds: Vec<&str> = s.events.iter().map(AidxEvent::name).collect();
    assert_eq!(kinds[0], "IndexInitialized");
    assert_eq!(
        kinds.iter().filter(|k| **k == "ConstituentAdded").count(),
        17
    );
    assert_eq!(
        &kinds[18..],
        ["MintedInKind", "MintedInKind", "RedeemedInKind"]
    );

    for needle in [
        "excluded OLAS",
        "== Basket",
        "value per share",
        "alice  holds 60.00 shares",
        "bob    holds 250.00 shares",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}
