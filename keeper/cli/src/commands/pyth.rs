//! `--hermes-url`: fresh Pyth prices posted, fully verified, before a trade on a cluster.

use aidx_client::pull::hermes::Hermes;
use aidx_client::pull::post::{Posted, Poster};
use anyhow::Result;
use clap::Args;
use std::io::Write;
use std::time::Duration;

/// Where fresh Pyth prices come from.
#[derive(Args, Clone, Debug, Default)]
pub struct PythArgs {
    /// Pyth Hermes endpoint (for example https://hermes.pyth.network). With it, the latest
    /// updates of every price the trade values are posted fully verified (Wormhole receiver,
    /// then the push feeds the index refreshes from) before the trade; without it, the trade
    /// reads the push feeds as they are.
    #[arg(long, env = "AIDX_HERMES_URL")]
    pub hermes_url: Option<String>,
    /// Seconds to wait for Hermes.
    #[arg(long, env = "AIDX_HERMES_TIMEOUT_SECS", default_value_t = 5)]
    pub hermes_timeout_secs: u64,
    /// The Pyth receiver treasury (0-255) the update fee is paid into (default: one at random
    /// each post, as Pyth's SDK does, spreading write locks).
    #[arg(long, env = "AIDX_PYTH_TREASURY")]
    pub pyth_treasury: Option<u8>,
    /// Seconds left between a price's publication and the trade for posting it: prices older
    /// than the trade age less this are not posted.
    #[arg(long, env = "AIDX_PYTH_MARGIN_SECS", default_value_t = aidx_client::pull::post::POSTING_MARGIN_SECS)]
    pub pyth_margin_secs: u32,
}

impl PythArgs {
    /// The poster these options describe, if any (`compute_unit_price` from the chain options).
    pub fn poster(&self, compute_unit_price: u64) -> Result<Option<Poster>> {
        let Some(url) = &self.hermes_url else {
            return Ok(None);
        };
        Ok(Some(Poster {
            hermes: Hermes::new(url, Duration::from_secs(self.hermes_timeout_secs.max(1)))?,
            treasury_id: self.pyth_treasury,
            compute_unit_price,
            margin_secs: self.pyth_margin_secs,
        }))
    }
}

/// What posting did, a line a transaction (and any warning).
pub fn show(posted: &Posted, dry_run: bool, out: &mut impl Write) -> Result<()> {
    if dry_run && !posted.transactions.is_empty() {
        writeln!(
            out,
            "pyth: a dry run posts nothing: the trade below is simulated on the push feeds as they are"
        )?;
    }
    for w in &posted.warnings {
        writeln!(out, "pyth: warning: {w}")?;
    }
    for t in &posted.transactions {
        writeln!(
            out,
            "pyth: {} {} ({} bytes, {} compute units{})",
            if dry_run { "would send" } else { "sent" },
            t.label,
            t.bytes,
            t.compute_units,
            t.signature
                .as_ref()
                .map(|s| format!(", {s}"))
                .unwrap_or_default()
        )?;
    }
    Ok(())
}
