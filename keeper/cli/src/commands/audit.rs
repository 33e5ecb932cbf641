//! `aidx audit`.

use super::chain::ChainArgs;
use crate::{chart, output};
use aidx_client::audit;
use anyhow::{bail, Context, Result};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

/// `aidx audit` options.
#[derive(Args)]
pub struct AuditArgs {
    #[command(flatten)]
    chain: ChainArgs,
    /// Also replay the index's history from its events and compare with the state.
    #[arg(long, env = "AIDX_EVENTS")]
    events: bool,
    /// Write a chart of weight, target and band per constituent (SVG).
    #[arg(long, env = "AIDX_CHART")]
    chart: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long, env = "AIDX_JSON")]
    json: bool,
}

impl AuditArgs {
    /// Audits the index; an error when an invariant is violated.
    pub async fn execute(self, out: &mut impl Write) -> Result<()> {
        let mut o = self.chain.open().await?;
        let report = audit::audit(&mut o.chain, &o.book, self.events).await?;
        if self.json {
            output::json(out, &report)?;
        } else {
            output::audit(&report, out)?;
        }
        if let Some(path) = &self.chart {
            std::fs::write(path, chart::audit_svg(&report))
                .with_context(|| format!("writing {}", path.display()))?;
        }
        if !report.violations.is_empty() {
            bail!("{} invariant violations", report.violations.len());
        }
        Ok(())
    }
}
