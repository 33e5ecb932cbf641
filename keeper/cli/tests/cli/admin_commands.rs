//! `aidx admin ...` on a saved embedded chain: dry runs send nothing; changes land with their
//! events; the guardian's limits hold through the command too.

use aidx::state::{PAUSE_ALL, PAUSE_MINT_SINGLE, PAUSE_REBALANCE};
use aidx_cli::commands::admin::{parse_flags, AdminCommand as AdminAction, ParamChanges};
use aidx_client::AidxEvent;

/// What `aidx admin` does with the command: its events.
async fn run_admin(
    chain: &mut aidx_embedded::Embedded,
    book: &aidx_client::Book,
    signer: &str,
    command: AdminAction,
    dry_run: bool,
    _out: &mut Vec<u8>,
) -> anyhow::Result<Vec<AidxEvent>> {
    Ok(
        aidx_cli::commands::admin::run(chain, book, signer, command, dry_run)
            .await?
            .events,
    )
}

#[tokio::test]
async fn admin_commands_on_a_saved_chain() {
    let (mut chain, book) = crate::demo_chain("admin").await;
    let index_key = book.index_key().unwrap();
    let mut out = Vec::new();

    // Dry run: the event is shown, nothing changes.
    let before = chain.account_data(&index_key).await.unwrap();
    let changes = ParamChanges {
        mint_fee_bps: Some(20),
        ..Default::default()
    };
    let ev = run_admin(
        &mut chain,
        &book,
        "admin",
        AdminAction::SetParams(changes.clone()),
        true,
        &mut out,
    )
    .await
    .unwrap();
    let [AidxEvent::ParamsUpdated(p)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!((p.old.mint_fee_bps, p.new.mint_fee_bps), (0, 20));
    assert_eq!(chain.account_data(&index_key).await.unwrap(), before);

    // For real.
    run_admin(
        &mut chain,
        &book,
        "admin",
        AdminAction::SetParams(changes),
        false,
        &mut out,
    )
    .await
    .unwrap();
    assert_eq!(
        chain.index(&index_key).await.unwrap().params.mint_fee_bps,
        20
    );

    // The rebalance policy and the membership rules by name.
    let policy = ParamChanges {
        rebalance_window_secs: Some(0),
        breach_weight_bps: Some(1_800),
        clip: Some(aidx_cli::commands::admin::ClipAt::Target),
        max_members: Some(18),
        rank_buffer: Some(3),
        exit_volume_usd: Some(3_500_000),
        reviews_under_entry: Some(3),
        ..Default::default()
    };
    run_admin(
        &mut chain,
        &book,
        "admin",
        AdminAction::SetParams(policy),
        false,
        &mut out,
    )
    .await
    .unwrap();
    let p = chain.index(&index_key).await.unwrap().params;
    assert_eq!(
        (
            p.rebalance_window_secs,
            p.breach_weight_bps,
            p.clip,
            p.max_members,
            p.rank_buffer,
            p.exit_volume_usd,
            p.reviews_under_entry
        ),
        (0, 1_800, aidx::state::CLIP_TARGET, 18, 3, 3_500_000, 3)
    );
    // A window shorter than the auction is refused before anything is sent.
    let short = ParamChanges {
        rebalance_window_secs: Some(60),
        ..Default::default()
    };
    let err = run_admin(
        &mut chain,
        &book,
        "admin",
        AdminAction::SetParams(short),
        false,
        &mut out,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("InvalidRebalanceWindow"), "{err}");

    // A bound is checked before anything is sent.
    let bad = ParamChanges {
        max_weight_pct: Some(25),
        ..Default::default()
    };
    let err = run_admin(
        &mut chain,
        &book,
        "admin",
        AdminAction::SetParams(bad),
        false,
        &mut out,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("InvalidMaxWeight"), "{err}");

    // Pause flags by name; a stranger cannot pause.
    assert_eq!(
        parse_flags("mint-single,rebalance").unwrap(),
        PAUSE_MINT_SINGLE | PAUSE_REBALANCE
    );
    assert_eq!(parse_flags("all").unwrap(), PAUSE_ALL);
    assert!(parse_flags("redeem-in-kind").is_err());
    let pause = AdminAction::Pause {
        flags: "all".into(),
    };
    let err = run_admin(&mut chain, &book, "alice", pause.clone(), false, &mut out)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains(&u32::from(aidx::errors::AidxError::UnauthorizedGuardian).to_string())
            || err.to_string().contains("UnauthorizedGuardian"),
        "{err}"
    );
    let ev = run_admin(&mut chain, &book, "admin", pause, false, &mut out)
        .await
        .unwrap();
    assert!(matches!(&ev[..], [AidxEvent::PauseSet(p)] if p.new == PAUSE_ALL));
    assert_eq!(chain.index(&index_key).await.unwrap().paused, PAUSE_ALL);

    // Wind a constituent down by symbol.
    let ev = run_admin(
        &mut chain,
        &book,
        "admin",
        AdminAction::WindDown {
            symbol: "AKT".into(),
        },
        false,
        &mut out,
    )
    .await
    .unwrap();
    let [AidxEvent::ConstituentWindingDown(w)] = &ev[..] else {
        panic!("{ev:?}")
    };
    let row = book.row_of("AKT").unwrap();
    assert_eq!(w.row as usize, row);
    assert_eq!(
        chain.index(&index_key).await.unwrap().constituents()[row].target_weight,
        0
    );

    // Quarantine a constituent (the admin may, for any reason: say its feed died); the audit
    // shows it left out, then the admin releases it.
    let sym = book.symbol(1);
    let ev = run_admin(
        &mut chain,
        &book,
        "admin",
        AdminAction::Quarantine {
            symbol: sym.clone(),
        },
        false,
        &mut out,
    )
    .await
    .unwrap();
    let [AidxEvent::ConstituentQuarantined(q)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(
        (q.row, q.reason),
        (1, aidx::state::Quarantine::Authority as u8)
    );
    let report = aidx_client::audit::audit(&mut chain, &book, true)
        .await
        .unwrap();
    assert_eq!(report.rows[1].quarantine, Some("by authority"));
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    let mut text = Vec::new();
    aidx_cli::output::audit(&report, &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{sym} ")))
        .unwrap();
    assert!(line.ends_with("by authority"), "{text}");
    assert!(text.lines().next().is_some_and(|l| l.starts_with("index ")));
    assert!(text.contains("quarantined"), "{text}");
    // A release comes an hour after the quarantine at the earliest.
    let err = run_admin(
        &mut chain,
        &book,
        "admin",
        AdminAction::Release {
            symbol: sym.clone(),
        },
        true,
        &mut out,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("ReleaseTooEarly"), "{err}");
    let clock = chain.clock().await.unwrap();
    chain.ctx.warp_to_slot(clock.slot + 1).unwrap();
    chain
        .set_unix_timestamp(clock.unix_timestamp + aidx::state::MIN_QUARANTINE_SECS)
        .await
        .unwrap();
    let ev = run_admin(
        &mut chain,
        &book,
        "admin",
        AdminAction::Release { symbol: sym },
        false,
        &mut out,
    )
    .await
    .unwrap();
    assert!(matches!(&ev[..], [AidxEvent::ConstituentReleased(r)] if r.row == 1));
    // Writing off needs 30 days in quarantine.
    let err = run_admin(
        &mut chain,
        &book,
        "admin",
        AdminAction::WriteOff {
            symbol: book.symbol(1),
        },
        true,
        &mut out,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("NotQuarantined"), "{err}");

    // A permissionless instruction sent with an operator's wallet it does not need: the
    // wallet is left out of the signatures, not a panic.
    let ev = run_admin(
        &mut chain,
        &book,
        "admin",
        AdminAction::AccrueFees,
        false,
        &mut out,
    )
    .await
    .unwrap();
    assert!(
        ev.iter().all(|e| matches!(e, AidxEvent::FeesAccrued(_))),
        "{ev:?}"
    );
}

/// `aidx admin review` on the 43-token universe's index (20 members): a dry run posts nothing
/// and keeps everyone; after THETA's circulating supply falls (rank 20 to beyond 22, the
/// buffer) and SYXJ's rises (rank 21, not in the table, to 1), the review posts every row's
/// rank, THETA exits and winds down, and SYXJ is named as an entrant the table lacks (its place
/// is left for it: no candidate in the table fills it).
#[tokio::test]
async fn a_review_posts_ranks_and_changes_membership_on_chain() {
    use aidx::events::{TargetsRecomputed, MEMBERSHIP_EXITS, MEMBERSHIP_STAYS};
    use aidx_client::{events_of, DevChain as _};
    let csv = include_str!("../data/universe-43.csv");
    let path = std::env::temp_dir().join(format!("aidx-review-{}.state", std::process::id()));
    let mut sink = Vec::new();
    aidx_cli::demo::run_with(aidx_cli::demo::Setup::random(), csv, &mut sink, Some(&path))
        .await
        .expect("demo");
    let (mut chain, book) = aidx_embedded::state::load(&path).await.unwrap();
    std::fs::remove_file(&path).ok();
    let index_key = book.index_key().unwrap();
    let dir = std::env::temp_dir().join(format!("aidx-review-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };

    // As the universe stands: every member stays, nothing is posted by a dry run.
    let same = write("same.csv", csv);
    let before = chain.account_data(&index_key).await.unwrap();
    let (plan, events) =
        aidx_cli::commands::admin::review(&mut chain, &book, "admin", Some(&same), true)
            .await
            .unwrap();
    assert!(events.is_empty());
    assert_eq!(chain.account_data(&index_key).await.unwrap(), before);
    assert_eq!(plan.rows.len(), 20);
    assert!(
        plan.rows.iter().all(|r| r.decision == "stays" && r.member),
        "{:?}",
        plan.rows
    );
    assert!(plan.entrants_outside.is_empty());

    // THETA falls out of the buffer; SYXJ, outside the table, jumps to the top.
    let moved = csv
        .lines()
        .map(|l| {
            if l.starts_with("THETA,") {
                l.replace(",1000000000,", ",10000000,")
            } else if l.starts_with("SYXJ,") {
                l.replace(",300000000,", ",300000000000,")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let moved = write("moved.csv", &moved);
    chain.publish_prices(&book, &[], 10).await.unwrap();
    run_admin(
        &mut chain,
        &book,
        "admin",
        AdminAction::OpenReview,
        false,
        &mut Vec::new(),
    )
    .await
    .unwrap();
    let (plan, events) =
        aidx_cli::commands::admin::review(&mut chain, &book, "admin", Some(&moved), false)
            .await
            .unwrap();
    assert_eq!(plan.entrants_outside, ["SYXJ"]);
    let theta = book.row_of("THETA").unwrap();
    assert_eq!(plan.rows[theta].decision, "exits");
    assert!(plan.rows[theta].rank > 22, "{:?}", plan.rows[theta]);
    let e = events_of::<TargetsRecomputed>(&events)
        .pop()
        .expect("TargetsRecomputed");
    for (row, m) in e.membership.iter().enumerate() {
        let want = if row == theta {
            MEMBERSHIP_EXITS
        } else {
            MEMBERSHIP_STAYS
        };
        assert_eq!(*m, want, "row {row}");
    }
    assert_eq!(e.inputs[theta].rank, plan.rows[theta].rank);
    let index = chain.index(&index_key).await.unwrap();
    let c = &index.constituents()[theta];
    assert_eq!(
        (c.status, c.target_weight, c.member),
        (aidx::state::ConstituentStatus::WindingDown as u8, 0, 0)
    );
    assert_eq!(
        index
            .constituents()
            .iter()
            .filter(|c| c.member == 1)
            .count(),
        19
    );
    // The audit replays the membership and the exit from the events, and finds the posted
    // ranks in the order of the market caps at the review's prices.
    let report = aidx_client::audit::audit(&mut chain, &book, true)
        .await
        .unwrap();
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    // Ranks out of that order are named.
    let mut bad = e.clone();
    let (a, b) = (book.row_of("SOL").unwrap(), theta);
    (bad.inputs[a].rank, bad.inputs[b].rank) = (bad.inputs[b].rank, bad.inputs[a].rank);
    let found = aidx_client::audit::rank_order(&bad);
    assert!(!found.is_empty() && found.iter().all(|v| v.rule == "rank-order"));
    assert!(aidx_client::audit::rank_order(&e).is_empty());
    std::fs::remove_dir_all(&dir).ok();
}
