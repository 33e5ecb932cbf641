//! `aidx redeem`.

use super::chain::ChainArgs;
use aidx_client::holder::{self, Request};
use anyhow::Result;
use clap::Args;
use std::io::Write;

/// `aidx redeem` options.
#[derive(Args)]
pub struct RedeemArgs {
    #[command(flatten)]
    chain: ChainArgs,
    #[command(flatten)]
    pyth: super::pyth::PythArgs,
    /// Wallet name in the state.
    #[arg(long, env = "AIDX_HOLDER")]
    holder: String,
    /// Whole shares to redeem.
    #[arg(long, env = "AIDX_SHARES")]
    shares: String,
    /// Constituent to receive (single-asset redeem).
    #[arg(long, conflicts_with = "skip", env = "AIDX_SINGLE")]
    single: Option<String>,
    /// Constituents to skip in an in-kind redeem (paused or frozen legs; repeatable).
    #[arg(long, env = "AIDX_SKIP", value_delimiter = ',')]
    skip: Vec<String>,
    /// Largest acceptable slippage against the quote, basis points.
    #[arg(long, default_value_t = 50, env = "AIDX_MAX_SLIPPAGE_BPS")]
    max_slippage_bps: u16,
    /// Simulate the transaction and print what it would do; send nothing.
    #[arg(long, env = "AIDX_DRY_RUN")]
    dry_run: bool,
    /// Print the events as JSON.
    #[arg(long, env = "AIDX_JSON")]
    json: bool,
}

impl RedeemArgs {
    /// Redeems, in kind or single-asset.
    pub async fn execute(self, out: &mut impl Write) -> Result<()> {
        let shares = holder::parse_shares(&self.shares)?;
        let request = match self.single {
            Some(symbol) => Request::RedeemSingle { symbol, shares },
            None => Request::RedeemInKind {
                shares,
                skip: self.skip,
            },
        };
        super::holder_request(
            &self.chain,
            &self.pyth,
            &self.holder,
            request,
            self.max_slippage_bps,
            self.dry_run,
            self.json,
            out,
        )
        .await
    }
}
