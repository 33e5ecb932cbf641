//! The embedded runtime's transaction logs are written as a cluster writes them: one `invoke`
//! and one `success` / `failed` line per invocation at its real depth, the program's own
//! `Program log:` lines, and a `Program data:` line per event, from which the client's log
//! parser (the one the RPC backend uses) recovers exactly the events the runtime captured.

use aidx::errors::AidxError;
use aidx::math::{ONE_SHARE, USD_SCALE};
use aidx_client::events::events_from_logs;
use aidx_tests::*;

fn depth_lines(logs: &[String], program: &str) -> Vec<String> {
    logs.iter()
        .filter(|l| l.starts_with(&format!("Program {program} ")))
        .cloned()
        .collect()
}

/// The event payloads the client's log parser finds in `logs`.
fn parsed_events(logs: &[String]) -> Vec<Vec<u8>> {
    events_from_logs(logs)
        .unwrap()
        .into_iter()
        .map(|(_, raw)| raw)
        .collect()
}

#[tokio::test]
async fn logs_carry_every_event_as_a_cluster_writes_them() {
    let mut t = TestContext::new().await;
    let fx = t.create_index(3, units).await;
    let a = t.holder(&fx, rich).await;
    let id = aidx::ID.to_string();

    // An in-kind mint: one event, three CPIs at depth 2 inside one invocation at depth 1.
    let o = t.mint_in_kind(&fx, &a, ONE_SHARE).await.unwrap();
    let parsed = parsed_events(&o.logs);
    assert_eq!(parsed, o.raw_events);
    assert_eq!(parsed.len(), 1);
    assert_eq!(
        depth_lines(&o.logs, &id),
        vec![
            format!("Program {id} invoke [1]"),
            format!("Program {id} success")
        ]
    );
    let cpis = o
        .logs
        .iter()
        .filter(|l| l.starts_with("Program Token") && l.ends_with(" invoke [2]"))
        .count();
    assert_eq!(
        cpis,
        3 + 2,
        "three legs pulled, shares minted twice (holder, fee account)"
    );
    assert!(o.logs.iter().all(|l| !l.ends_with(" invoke [1]")
        || l.starts_with("Program ComputeBudget")
        || *l == format!("Program {id} invoke [1]")));
    // The event line sits after the last CPI block, before the program's end.
    let data = o
        .logs
        .iter()
        .position(|l| l.starts_with("Program data: "))
        .unwrap();
    assert_eq!(o.logs[data + 1], format!("Program {id} success"));

    // A refresh on a seeded index: two events (prices, then the auction clock), in order.
    let o = t
        .set_prices(&fx, &[USD_SCALE, 2 * USD_SCALE, USD_SCALE], 10)
        .await
        .unwrap();
    let parsed = parsed_events(&o.logs);
    assert_eq!(parsed, o.raw_events);
    assert_eq!(parsed.len(), 2);

    // A refusal: one failure line with the error code. (The natively run program's `msg!`
    // lines, Anchor's error message among them, print to stdout: a cluster logs them as
    // `Program log:` lines.)
    let r = t.mint_single(&fx, &a, 0, 0, 0).await;
    assert_aidx_error(&r, AidxError::ZeroAmount);
    let f = r.unwrap_err();
    assert_eq!(
        depth_lines(&f.logs, &id),
        vec![
            format!("Program {id} invoke [1]"),
            format!(
                "Program {id} failed: custom program error: {:#x}",
                u32::from(AidxError::ZeroAmount)
            )
        ]
    );
}
