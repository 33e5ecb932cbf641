//! `aidx mint`.

use super::chain::ChainArgs;
use aidx_client::holder::{self, Request};
use anyhow::{bail, Result};
use clap::Args;
use std::io::Write;

/// `aidx mint` options.
#[derive(Args)]
pub struct MintArgs {
    #[command(flatten)]
    chain: ChainArgs,
    #[command(flatten)]
    pyth: super::pyth::PythArgs,
    /// Wallet name in the state (e.g. alice).
    #[arg(long, env = "AIDX_HOLDER")]
    holder: String,
    /// Whole shares to mint in kind.
    #[arg(long, env = "AIDX_SHARES", conflicts_with_all = ["single", "amount"])]
    shares: Option<String>,
    /// Constituent to deposit.
    #[arg(long, requires = "amount", env = "AIDX_SINGLE")]
    single: Option<String>,
    /// Amount of the constituent to deposit, in whole tokens.
    #[arg(long, env = "AIDX_AMOUNT")]
    amount: Option<String>,
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

impl MintArgs {
    /// Mints, in kind or single-asset.
    pub async fn execute(self, out: &mut impl Write) -> Result<()> {
        let request = match (self.shares, self.single, self.amount) {
            (Some(s), None, None) => Request::MintInKind {
                shares: holder::parse_shares(&s)?,
            },
            (None, Some(symbol), Some(amount)) => Request::MintSingle { symbol, amount },
            _ => bail!("give --shares N (in kind) or --single SYMBOL --amount X"),
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
