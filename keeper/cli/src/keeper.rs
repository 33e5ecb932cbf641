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
    /// Rounds that traded nothing because fresh Pyth prices could not be posted.
    pub pyth_failures: u64,
}

/// Runs rounds until the kill switch appears or `max_rounds` is reached; `after_round` runs after
/// each round (the CLI saves an embedded chain there).
pub async fn run<C: Chain>(
    chain: &mut C,
    book: &Book,
    config: &RunConfig,
    poster: Option<&aidx_client::pull::post::Poster>,
    mut after_round: impl FnMut(&mut C) -> Result<()>,
) -> Result<RunSummary> {
    let keeper = book.wallet(&config.keeper)?;
    let mut summary = RunSummary::default();
    loop {
        if config.kill_switch.exists() {
            tracing::warn!(path = %config.kill_switch.display(), "kill switch present: stopping");
            summary.stopped_by_kill_switch = true;
            return Ok(summary);
        }
        if config.max_rounds.is_some_and(|m| summary.rounds >= m) {
            return Ok(summary);
        }
        // Fresh prices first when a Hermes is given: a round that cannot post them trades
        // nothing.
        let posted = match poster {
            None => Ok(()),
            Some(p) => match chain.load_index(&book.index_key()?).await {
                Ok(index) => p.post_for_index(chain, &index, false).await.map(|posted| {
                    tracing::info!(
                        transactions = posted.transactions.len(),
                        "pyth prices posted"
                    );
                }),
                Err(e) => Err(e),
            },
        };
        let result = match posted {
            Ok(()) => {
                rebalance(
                    chain,
                    book,
                    &keeper,
                    config.max_slippage_bps,
                    config.retries,
                    false,
                )
                .await
            }
            Err(e) => {
                summary.pyth_failures += 1;
                Err(e.context("posting Pyth prices"))
            }
        };
        match result {
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
            }
            Err(e) => tracing::error!(
                round = summary.rounds,
                error = format!("{e:#}"),
                "round failed"
            ),
        }
        after_round(chain)?;
        summary.rounds += 1;
        if config.max_rounds.is_some_and(|m| summary.rounds >= m) {
            return Ok(summary);
        }
        tokio::time::sleep(Duration::from_secs(config.interval_secs)).await;
    }
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
