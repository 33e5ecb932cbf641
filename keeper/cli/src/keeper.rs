//! `aidx run`: the keeper loop. Every interval: stop if the kill switch exists, otherwise
//! refresh prices, record the imbalance, plan and execute the rebalance swaps, and log what was
//! done. The configuration is a JSON file, validated before the loop starts.

use aidx_client::holder::MAX_SLIPPAGE_BPS;
use aidx_client::rebalance::rebalance;
use aidx_client::{Book, Chain};
use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The keeper loop's configuration.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Seconds between rounds (at least 5).
    pub interval_secs: u64,
    /// Wallet that pays in and receives (a name in the state, or any name on a cluster).
    #[serde(default = "default_keeper")]
    pub keeper: String,
    /// Slippage bound on each swap's simulated output, basis points (at most 5000).
    #[serde(default = "default_slippage")]
    pub max_slippage_bps: u16,
    /// Re-planning rounds after the first within one tick (at most 10).
    #[serde(default = "default_retries")]
    pub retries: usize,
    /// When this file exists the loop stops before its next round.
    pub kill_switch: PathBuf,
    /// Stop after this many rounds (none: run until the kill switch).
    #[serde(default)]
    pub max_rounds: Option<u64>,
}

fn default_keeper() -> String {
    "keeper".into()
}
fn default_slippage() -> u16 {
    50
}
fn default_retries() -> usize {
    2
}

impl RunConfig {
    /// Reads and validates a configuration file.
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let c: RunConfig = serde_json::from_str(&text)
            .with_context(|| format!("{}: invalid keeper configuration", path.display()))?;
        c.validate()?;
        Ok(c)
    }

    pub fn validate(&self) -> Result<()> {
        if self.interval_secs < 5 {
            bail!(
                "interval_secs must be at least 5, not {}",
                self.interval_secs
            );
        }
        if self.max_slippage_bps > MAX_SLIPPAGE_BPS {
            bail!("max_slippage_bps must be at most {}", MAX_SLIPPAGE_BPS);
        }
        if self.retries > 10 {
            bail!("retries must be at most 10");
        }
        if self.keeper.is_empty() {
            bail!("keeper must name a wallet");
        }
        if self.kill_switch.as_os_str().is_empty() {
            bail!("kill_switch must be a path");
        }
        Ok(())
    }
}

/// What the loop did.
#[derive(Debug, Default, PartialEq)]
pub struct RunSummary {
    pub rounds: u64,
    pub swaps: usize,
    pub failed: usize,
    /// precision: USD_SCALE.
    pub reward_paid_usd: u128,
    pub stopped_by_kill_switch: bool,
    /// Stopped by ctrl-c or SIGTERM, between rounds.
    pub stopped_by_signal: bool,
    /// Rounds that traded nothing because fresh Pyth prices could not be posted.
    pub pyth_failures: u64,
}

/// What the loop is given besides its configuration.
#[derive(Default)]
pub struct RunOptions<'a> {
    /// Fresh Pyth prices posted before each round (`--hermes-url`).
    pub poster: Option<&'a aidx_client::pull::post::Poster>,
    /// Where the loop counts what it does (`--metrics-addr`).
    pub metrics: Option<&'a crate::metrics::Metrics>,
    /// Turns true when the loop should stop (ctrl-c, SIGTERM): it stops before its next
    /// round, never in the middle of one.
    pub stop: Option<tokio::sync::watch::Receiver<bool>>,
}

/// Resolves when `stop` turns true (never without one).
async fn stop_requested(stop: &mut Option<tokio::sync::watch::Receiver<bool>>) {
    match stop {
        Some(rx) => {
            let _ = rx.wait_for(|s| *s).await;
        }
        None => std::future::pending::<()>().await,
    }
}

/// Runs rounds, one each `interval_secs` (a tokio interval: a round longer than the interval
/// delays the next rather than bunching them), until the kill switch appears, `max_rounds` is
/// reached or a stop is requested; `after_round` runs after each round (the CLI saves an
/// embedded chain there).
pub async fn run<C: Chain>(
    chain: &mut C,
    book: &Book,
    config: &RunConfig,
    mut options: RunOptions<'_>,
    mut after_round: impl FnMut(&mut C) -> Result<()>,
) -> Result<RunSummary> {
    let keeper = book.wallet(&config.keeper)?;
    let mut summary = RunSummary::default();
    let mut interval = tokio::time::interval(Duration::from_secs(config.interval_secs));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            _ = stop_requested(&mut options.stop) => {
                tracing::warn!(rounds = summary.rounds, "stop requested: stopping between rounds");
                summary.stopped_by_signal = true;
                return Ok(summary);
            }
            _ = interval.tick() => {}
        }
        if config.kill_switch.exists() {
            tracing::warn!(path = %config.kill_switch.display(), "kill switch present: stopping");
            summary.stopped_by_kill_switch = true;
            return Ok(summary);
        }
        if config.max_rounds.is_some_and(|m| summary.rounds >= m) {
            return Ok(summary);
        }
        if let Some(m) = options.metrics {
            m.round_in_progress.set(1);
        }
        let ok = round(chain, book, config, &keeper, &options, &mut summary).await;
        if let Some(m) = options.metrics {
            m.rounds.inc();
            m.round_in_progress.set(0);
            if ok {
                m.last_success.set(unix_now());
            }
            if let Err(e) = price_ages(chain, book, m).await {
                tracing::warn!(error = %e, "price ages not read");
            }
        }
        after_round(chain)?;
        summary.rounds += 1;
        if config.max_rounds.is_some_and(|m| summary.rounds >= m) {
            return Ok(summary);
        }
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// One round: fresh prices when a poster is given, then the rebalance. Whether nothing failed.
async fn round<C: Chain>(
    chain: &mut C,
    book: &Book,
    config: &RunConfig,
    keeper: &solana_sdk::signature::Keypair,
    options: &RunOptions<'_>,
    summary: &mut RunSummary,
) -> bool {
    let metrics = options.metrics;
    let fail = |kind: &str| {
        if let Some(m) = metrics {
            m.fail(kind);
        }
    };
    let started = std::time::Instant::now();
    if let Err(e) = chain.get_clock().await {
        tracing::error!(
            round = summary.rounds,
            error = format!("{e:#}"),
            "round failed: the chain cannot be read"
        );
        fail("round");
        return false;
    }
    if let Some(m) = metrics {
        m.rpc_latency.observe(started.elapsed().as_secs_f64());
    }
    // Fresh prices first when a Hermes is given: a round that cannot post them trades nothing.
    if let Some(p) = options.poster {
        let index = match book.index_key() {
            Ok(key) => chain.load_index(&key).await,
            Err(e) => Err(e),
        };
        let posted = match index {
            Ok(index) => p.post_for_index(chain, &index, false).await,
            Err(e) => Err(e),
        };
        match posted {
            Ok(posted) => tracing::info!(
                transactions = posted.transactions.len(),
                "pyth prices posted"
            ),
            Err(e) => {
                summary.pyth_failures += 1;
                fail("pyth");
                tracing::error!(
                    round = summary.rounds,
                    error = format!("{e:#}"),
                    "round failed: posting Pyth prices"
                );
                return false;
            }
        }
    }
    match rebalance(
        chain,
        book,
        keeper,
        config.max_slippage_bps,
        config.retries,
        false,
    )
    .await
    {
        Ok(r) => {
            tracing::info!(
                round = summary.rounds,
                swaps = r.swaps_done,
                failed = r.swaps_failed,
                reward_usd = r.reward_paid_usd as f64 / 1e12,
                "round done"
            );
            for note in &r.notes {
                tracing::debug!(detail = %note, "round output");
            }
            for symbol in &r.quarantined {
                tracing::warn!(%symbol, "quarantined: left out of rebalancing");
            }
            summary.swaps += r.swaps_done;
            summary.failed += r.swaps_failed;
            summary.reward_paid_usd += r.reward_paid_usd;
            if let Some(m) = metrics {
                m.swaps.inc_by(r.swaps_done as u64);
                m.reward_paid_usd.inc_by(r.reward_paid_usd as f64 / 1e12);
                for _ in 0..r.swaps_failed {
                    m.fail("swap");
                }
            }
            r.swaps_failed == 0
        }
        Err(e) => {
            tracing::error!(
                round = summary.rounds,
                error = format!("{e:#}"),
                "round failed"
            );
            fail("round");
            false
        }
    }
}

/// Each constituent's stored price age against the cluster's clock, whether the rebalance
/// window is open, and how long the auction has run.
async fn price_ages<C: Chain>(
    chain: &mut C,
    book: &Book,
    m: &crate::metrics::Metrics,
) -> Result<()> {
    let index = chain.load_index(&book.index_key()?).await?;
    let now = chain.get_clock().await?.unix_timestamp;
    m.window_open.set(i64::from(index.window_open(now)));
    m.auction_seconds.set(if index.imbalance_started_at == 0 {
        0
    } else {
        now.saturating_sub(index.imbalance_started_at)
    });
    for (i, c) in index.constituents().iter().enumerate() {
        m.price_age
            .get_or_create(&crate::metrics::SymbolLabel {
                symbol: book.symbol(i),
            })
            .set(now.saturating_sub(c.publish_time));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_is_validated() {
        let ok: RunConfig =
            serde_json::from_str(r#"{"interval_secs": 60, "kill_switch": "/tmp/stop"}"#).unwrap();
        assert_eq!(
            (ok.keeper.as_str(), ok.max_slippage_bps, ok.retries),
            ("keeper", 50, 2)
        );
        ok.validate().unwrap();
        let bad = RunConfig {
            interval_secs: 1,
            ..ok.clone()
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("interval_secs"));
        let bad = RunConfig {
            max_slippage_bps: 9_000,
            ..ok.clone()
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("max_slippage_bps"));
        let bad = RunConfig {
            retries: 11,
            ..ok.clone()
        };
        assert!(bad.validate().is_err());
        assert!(serde_json::from_str::<RunConfig>(
            r#"{"interval_secs": 60, "kill_switch": "x", "typo": 1}"#
        )
        .is_err());
        assert!(serde_json::from_str::<RunConfig>(r#"{"kill_switch": "x"}"#).is_err());
    }
}
