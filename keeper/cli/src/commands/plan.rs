//! `aidx plan`.

use super::chain::ChainArgs;
use crate::output;
use aidx_client::{rebalance, Chain};
use anyhow::Result;
use clap::Args;
use std::io::Write;

/// `aidx plan` options.
#[derive(Args)]
pub struct PlanArgs {
    #[command(flatten)]
    chain: ChainArgs,
    /// Use the prices the index stores instead of refreshing them in a simulation.
    #[arg(long, env = "AIDX_STORED_PRICES")]
    stored_prices: bool,
    /// Print JSON instead of tables.
    #[arg(long, env = "AIDX_JSON")]
    json: bool,
}

impl PlanArgs {
    /// Plans the rebalance (nothing is sent).
    pub async fn execute(self, out: &mut impl Write) -> Result<()> {
        let mut o = self.chain.open().await?;
        let plan = rebalance::plan_at(&mut o.chain, &o.book, self.stored_prices).await?;
        if self.json {
            return output::json(out, &plan);
        }
        let index = o.chain.load_index(&o.book.index_key()?).await?;
        output::plan(&plan, &index, out)
    }
}
