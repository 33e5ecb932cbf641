//! `aidx oracle`.

use super::chain::ChainArgs;
use aidx_client::DevChain as _;
use anyhow::Result;
use clap::Args;
use std::io::Write;

/// `aidx oracle` options.
#[derive(Args)]
pub struct OracleArgs {
    #[command(flatten)]
    chain: ChainArgs,
    /// SYMBOL=USD, e.g. TAO=512.5 (repeatable).
    #[arg(long = "set", value_parser = parse_pair, env = "AIDX_SET", value_delimiter = ',')]
    set: Vec<(String, String)>,
    /// Confidence interval, basis points of the price.
    #[arg(long, default_value_t = 10, env = "AIDX_CONF_BPS")]
    conf_bps: u64,
}

fn parse_pair(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(a, b)| (a.trim().to_string(), b.trim().to_string()))
        .ok_or_else(|| format!("expected SYMBOL=USD, got {s:?}"))
}

impl OracleArgs {
    /// Publishes the prices on a development chain (a saved state, or a local node with
    /// `--url`) and saves it.
    pub async fn execute(self, out: &mut impl Write) -> Result<()> {
        let mut o = self.chain.open().await?;
        let book = o.book.clone();
        o.chain
            .publish_prices(&book, &self.set, self.conf_bps)
            .await?;
        o.save().await?;
        writeln!(
            out,
            "prices published for {} constituents",
            book.symbols.len()
        )?;
        Ok(())
    }
}
