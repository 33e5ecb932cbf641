//! Tests of the `aidx` commands on the embedded runtime, as one test binary with a module per
//! command family.

mod admin_commands;
mod audit;
mod backtest;
mod demo;
mod faults;
mod holder_commands;
mod keeper_rebalance;
mod load;
mod localnet;
mod pyth;
mod replay;
mod run_loop;
mod ts_fixtures;

/// The demo's final chain, saved with `--save-state` and loaded back: what every command test
/// starts from.
pub async fn demo_chain(tag: &str) -> (aidx_embedded::Embedded, aidx_client::Book) {
    let path = demo_state(tag).await;
    let loaded = aidx_embedded::state::load(&path).await.unwrap();
    std::fs::remove_file(&path).ok();
    loaded
}

/// The demo's final state saved to a temporary file (the caller removes it).
pub async fn demo_state(tag: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("aidx-{tag}-{}.state", std::process::id()));
    let mut sink = Vec::new();
    aidx_cli::demo::run(
        aidx_client::universe::SAMPLE_UNIVERSE,
        &mut sink,
        Some(&path),
    )
    .await
    .expect("demo");
    path
}
