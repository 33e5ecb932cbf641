//! `aidx demo`.

use anyhow::Result;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

/// `aidx demo` options.
#[derive(Args)]
pub struct DemoArgs {
    /// Universe CSV (defaults to the bundled sample universe).
    #[arg(long, env = "AIDX_UNIVERSE")]
    pub universe: Option<PathBuf>,
    /// Save the final chain state here for the holder commands.
    #[arg(long, env = "AIDX_SAVE_STATE")]
    pub save_state: Option<PathBuf>,
}

impl DemoArgs {
    /// Runs the demo on a new embedded runtime.
    pub async fn execute(self, out: &mut impl Write) -> Result<()> {
        let csv = super::read_universe(self.universe.as_deref())?;
        crate::demo::run(&csv, out, self.save_state.as_deref()).await?;
        Ok(())
    }
}
