//! `aidx plan` / `aidx rebalance` on the sample universe: after a 30% move in two names the
//! keeper's plan brings every constituent back inside its band; dry runs send nothing.

use aidx_client as client;
use aidx_client::rebalance::{plan_now, rebalance};
use aidx_client::DevChain as _;

#[tokio::test]
async fn rebalance_after_a_thirty_percent_move_in_two_names() {
    let (mut chain, book) = crate::demo_chain("rebalance").await;
    let index_key = book.index_key().unwrap();
    let keeper = book.wallet("keeper").unwrap();

    // Every constituent is in band after the demo.
    chain.publish_prices(&book, &[], 10).await.unwrap();
    assert!(plan_now(&mut chain, &book).await.unwrap().swaps.is_empty());

    // NEAR +30%, ATOM -30% (from the stored prices).
    let index = chain.index(&index_key).await.unwrap();
    let price = |sym: &str| index.constituents()[book.row_of(sym).unwrap()].price as f64 / 1e12;
    let moves = vec![
        ("NEAR".to_string(), format!("{:.8}", price("NEAR") * 1.3)),
        ("ATOM".to_string(), format!("{:.8}", price("ATOM") * 0.7)),
    ];
    chain.publish_prices(&book, &moves, 10).await.unwrap();
    let plan = plan_now(&mut chain, &book).await.unwrap();
    let out: Vec<&str> = plan
        .deviations
        .iter()
        .filter(|d| d.out_of_band)
        .map(|d| d.symbol.as_str())
        .collect();
    assert_eq!(out, ["NEAR", "ATOM"]);
    assert!(!plan.swaps.is_empty());

    // A dry run sends nothing.
    let before = chain.account_data(&index_key).await.unwrap();
    let dry = rebalance(&mut chain, &book, &keeper, 50, 2, true)
        .await
        .unwrap();
    assert_eq!(dry.swaps_done, 0);
    assert!(
        dry.notes.iter().any(|n| n.starts_with("would swap")),
        "{:?}",
        dry.notes
    );
    assert_eq!(chain.account_data(&index_key).await.unwrap(), before);

    // Record the imbalance, let an hour of the auction pass, then rebalance.
    let ixs = [
        client::refresh_prices(&index_key, &client::price_feed_accounts(&index)),
        client::poke_rebalance(&index_key),
    ];
    chain.send_ok(&ixs, &[]).await.unwrap();
    let clock = chain.clock().await.unwrap();
    chain.ctx.warp_to_slot(clock.slot + 1).unwrap();
    chain
        .set_unix_timestamp(clock.unix_timestamp + 3_600)
        .await
        .unwrap();
    chain.publish_prices(&book, &[], 10).await.unwrap();
    let report = rebalance(&mut chain, &book, &keeper, 50, 2, false)
        .await
        .unwrap();
    println!("{:?}", report.notes);
    println!(
        "rebalance after NEAR +30% / ATOM -30%: {} swaps, reward paid ${:.4}",
        report.swaps_done,
        report.reward_paid_usd as f64 / 1e12
    );
    assert!(report.swaps_done >= 1 && report.swaps_failed == 0);
    assert!(report.reward_paid_usd > 0);
    for r in &report.swapped {
        // the caller earns the auction reward, an hour into a six-hour auction of at most 0.5%
        assert_eq!(r.reward, 5_000_000 * 3_600 / 21_600);
    }
    // Everyone is back in band, and the index recorded it.
    assert!(plan_now(&mut chain, &book).await.unwrap().swaps.is_empty());
    assert_eq!(
        chain.index(&index_key).await.unwrap().imbalance_started_at,
        0
    );
    assert!(report.events.iter().any(|e| e.contains("back in band")));
}

/// `aidx run`: one round after a price move rebalances; the kill switch stops it before a round.
#[tokio::test]
async fn keeper_loop_rounds_and_kill_switch() {
    use aidx_cli::keeper::{run, RunConfig};
    let (mut chain, book) = crate::demo_chain("run").await;
    let index = chain.index(&book.index_key().unwrap()).await.unwrap();
    let tao = index.constituents()[book.row_of("TAO").unwrap()].price as f64 / 1e12;
    chain
        .publish_prices(&book, &[("TAO".into(), format!("{:.8}", tao * 1.4))], 10)
        .await
        .unwrap();

    let kill = std::env::temp_dir().join(format!("aidx-kill-{}", std::process::id()));
    std::fs::remove_file(&kill).ok();
    let config = RunConfig {
        interval_secs: 5,
        keeper: "keeper".into(),
        max_slippage_bps: 50,
        retries: 2,
        kill_switch: kill.clone(),
        max_rounds: Some(1),
    };
    let mut rounds_seen = 0;
    let s = run(&mut chain, &book, &config, Default::default(), |_| {
        rounds_seen += 1;
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(
        (s.rounds, rounds_seen, s.failed, s.stopped_by_kill_switch),
        (1, 1, 0, false)
    );
    assert!(s.swaps >= 1);
    assert!(plan_now(&mut chain, &book).await.unwrap().swaps.is_empty());

    std::fs::write(&kill, b"stop").unwrap();
    let s = run(&mut chain, &book, &config, Default::default(), |_| Ok(()))
        .await
        .unwrap();
    std::fs::remove_file(&kill).ok();
    assert_eq!((s.rounds, s.stopped_by_kill_switch), (0, true));
}

/// A quarantined constituent is left out of the keeper's plan: ATOM falls 30% (out of band)
/// and is quarantined by the admin; the plan neither buys it back nor counts it out of band,
/// and the keeper still rebalances NEAR (+30%) against the rest, with no failed swap.
#[tokio::test]
async fn the_keeper_leaves_a_quarantined_row_out() {
    use aidx_client::admin::{execute, Action};
    let (mut chain, book) = crate::demo_chain("quarantine").await;
    let index_key = book.index_key().unwrap();
    let keeper = book.wallet("keeper").unwrap();
    let index = chain.index(&index_key).await.unwrap();
    let price = |sym: &str| index.constituents()[book.row_of(sym).unwrap()].price as f64 / 1e12;
    let moves = vec![
        ("NEAR".to_string(), format!("{:.8}", price("NEAR") * 1.3)),
        ("ATOM".to_string(), format!("{:.8}", price("ATOM") * 0.7)),
    ];
    chain.publish_prices(&book, &moves, 10).await.unwrap();
    let atom = book.row_of("ATOM").unwrap();
    let q = execute(&mut chain, &book, "admin", Action::Quarantine(atom), false)
        .await
        .unwrap();
    assert!(
        matches!(&q.events[..], [client::AidxEvent::ConstituentQuarantined(e)] if e.row as usize == atom)
    );

    let plan = plan_now(&mut chain, &book).await.unwrap();
    let out: Vec<&str> = plan
        .deviations
        .iter()
        .filter(|d| d.out_of_band)
        .map(|d| d.symbol.as_str())
        .collect();
    assert_eq!(out, ["NEAR"]);
    assert!(plan.deviations[atom].quarantined);
    assert!(!plan.swaps.is_empty());
    assert!(plan
        .swaps
        .iter()
        .all(|s| s.row_in != atom && s.row_out != atom));

    let report = rebalance(&mut chain, &book, &keeper, 50, 2, false)
        .await
        .unwrap();
    assert_eq!(report.quarantined, ["ATOM"]);
    assert!(
        report.swaps_done >= 1 && report.swaps_failed == 0,
        "{:?}",
        report.notes
    );
    assert!(plan_now(&mut chain, &book).await.unwrap().swaps.is_empty());
    let mut text = Vec::new();
    aidx_cli::output::rebalance(&report, &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.starts_with("  ATOM is quarantined: left out\n"),
        "{text}"
    );
}
