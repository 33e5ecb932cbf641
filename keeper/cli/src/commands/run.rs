//! `aidx run`.

use super::chain::ChainArgs;
use crate::keeper::{self, RunConfig};
use aidx_client::format::usd;
use anyhow::Result;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

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
}

impl RunArgs {
    /// Runs the keeper loop; an embedded chain is saved after the loop.
    pub async fn execute(self, out: &mut impl Write) -> Result<()> {
        let config = RunConfig::load(&self.config)?;
        let mut o = self.chain.open().await?;
        let poster = self.pyth.poster(self.chain.compute_unit_price)?;
        let summary =
            keeper::run(&mut o.chain, &o.book, &config, poster.as_ref(), |_| Ok(())).await?;
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
            } else {
                ""
            }
        )?;
        Ok(())
    }
}
