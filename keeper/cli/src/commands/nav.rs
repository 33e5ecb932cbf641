//! `aidx nav`.

use super::chain::ChainArgs;
use crate::output;
use aidx_client::holder;
use anyhow::Result;
use clap::Args;
use std::io::Write;

/// `aidx nav` options.
#[derive(Args)]
pub struct NavArgs {
    #[command(flatten)]
    chain: ChainArgs,
    /// Use the prices the index stores instead of refreshing them in a simulation.
    #[arg(long, env = "AIDX_STORED_PRICES")]
    stored_prices: bool,
    /// Print JSON instead of a table.
    #[arg(long, env = "AIDX_JSON")]
    json: bool,
}

impl NavArgs {
    /// Reads NAV (nothing is sent).
    pub async fn execute(self, out: &mut impl Write) -> Result<()> {
        let mut o = self.chain.open().await?;
        let view = holder::nav(&mut o.chain, &o.book, self.stored_prices).await?;
        if self.json {
            output::json(out, &view)
        } else {
            output::nav(&view, out)
        }
    }
}
