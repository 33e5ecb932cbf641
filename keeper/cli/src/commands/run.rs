//! `aidx run`.

use super::chain::ChainArgs;
use crate::keeper::{self, RunConfig, RunOptions};
use crate::metrics::Metrics;
use aidx_client::format::usd;
use anyhow::Result;
use clap::Args;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// `aidx run` options.
#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    chain: ChainArgs,
    #[command(flatten)]
    pyth: super::pyth::PythArgs,
    /// The keeper configuration (JSON).
    #[arg(long, env = "AIDX_RUN_CONFIG")]
    config: PathBuf,
    /// Serve Prometheus metrics at http://ADDR/metrics (port 0: any free port; the address is
    /// printed).
    #[arg(long, env = "AIDX_METRICS_ADDR")]
    metrics_addr: Option<SocketAddr>,
}

/// A watch that turns true on ctrl-c or SIGTERM; a second signal exits at once (a round that
/// hangs can still be stopped without SIGKILL; nothing is saved then).
fn stop_on_signals() -> Result<tokio::sync::watch::Receiver<bool>> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::spawn(async move {
        for n in 0.. {
            #[cfg(unix)]
            let terminated = term.recv();
            #[cfg(not(unix))]
            let terminated = std::future::pending::<Option<()>>();
            let which = tokio::select! {
                _ = tokio::signal::ctrl_c() => "ctrl-c",
                _ = terminated => "SIGTERM",
            };
            if n > 0 {
                tracing::error!(signal = which, "second signal: exiting now, the round in progress unfinished and nothing saved");
                std::process::exit(130);
            }
            tracing::warn!(
                signal = which,
                "stopping after the round in progress (a second signal exits at once)"
            );
            let _ = tx.send(true);
        }
    });
    Ok(rx)
}

impl RunArgs {
    /// Runs the keeper loop; an embedded chain is saved after the loop (and after a signal).
    pub async fn execute(self, out: &mut impl Write) -> Result<()> {
        let config = RunConfig::load(&self.config)?;
        let mut o = self.chain.open().await?;
        let poster = self.pyth.poster(self.chain.compute_unit_price)?;
        let metrics = Arc::new(Metrics::new());
        if let Some(addr) = self.metrics_addr {
            let bound = crate::metrics::serve(metrics.clone(), addr).await?;
            writeln!(out, "metrics at http://{bound}/metrics")?;
            out.flush()?;
        }
        let options = RunOptions {
            poster: poster.as_ref(),
            metrics: Some(&metrics),
            stop: Some(stop_on_signals()?),
        };
        let summary = keeper::run(&mut o.chain, &o.book, &config, options, |_| Ok(())).await?;
        o.save().await?;
        writeln!(
            out,
            "{} rounds, {} swaps, {} failed, reward paid {}{}{}",
            summary.rounds,
            summary.swaps,
            summary.failed,
            usd(summary.reward_paid_usd, 4),
            if summary.pyth_failures > 0 {
                format!(
                    ", {} rounds without fresh Pyth prices",
                    summary.pyth_failures
                )
            } else {
                String::new()
            },
            if summary.stopped_by_kill_switch {
                " (kill switch)"
            } else if summary.stopped_by_signal {
                " (stopped by a signal between rounds)"
            } else {
                ""
            }
        )?;
        Ok(())
    }
}
