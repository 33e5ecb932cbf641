//! `aidx rebalance`.

use super::chain::ChainArgs;
use crate::output;
use aidx_client::rebalance;
use anyhow::Result;
use clap::Args;
use std::io::Write;

/// `aidx rebalance` options.
#[derive(Args)]
pub struct RebalanceArgs {
    #[command(flatten)]
    chain: ChainArgs,
    #[command(flatten)]
    pyth: super::pyth::PythArgs,
    /// Wallet name in the state that pays in and receives.
    #[arg(long, default_value = "keeper", env = "AIDX_KEEPER")]
    keeper: String,
    /// Largest acceptable slippage against each swap's simulated output, basis points.
    #[arg(long, default_value_t = 50, env = "AIDX_MAX_SLIPPAGE_BPS")]
    max_slippage_bps: u16,
    /// Re-planning rounds after the first.
    #[arg(long, default_value_t = 2, env = "AIDX_RETRIES")]
    retries: usize,
    /// Simulate and print; send nothing.
    #[arg(long, env = "AIDX_DRY_RUN")]
    dry_run: bool,
    /// Print the report as JSON.
    #[arg(long, env = "AIDX_JSON")]
    json: bool,
}

impl RebalanceArgs {
    /// Refreshes prices, records the imbalance and executes the plan.
    pub async fn execute(self, out: &mut impl Write) -> Result<()> {
        let mut o = self.chain.open().await?;
        let wallet = o.book.wallet(&self.keeper)?;
        if let Some(poster) = self.pyth.poster(self.chain.compute_unit_price)? {
            use aidx_client::Chain as _;
            let index = o.chain.load_index(&o.book.index_key()?).await?;
            let posted = poster
                .post_for_index(&mut o.chain, &index, self.dry_run)
                .await?;
            if !self.json {
                super::pyth::show(&posted, self.dry_run, out)?;
            }
        }
        let spinner = o.spinner("refreshing, planning and swapping", self.json);
        let report = rebalance::rebalance(
            &mut o.chain,
            &o.book,
            &wallet,
            self.max_slippage_bps,
            self.retries,
            self.dry_run,
        )
        .await;
        spinner.finish_and_clear();
        let report = report?;
        if !self.dry_run {
            o.save().await?;
        }
        if self.json {
            output::json(out, &report)
        } else {
            output::rebalance(&report, out)
        }
    }
}
