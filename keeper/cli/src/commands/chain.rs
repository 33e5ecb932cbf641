//! Where a chain command acts: a saved embedded runtime (`--state`), or a cluster (`--url`, with
//! defaults from the Solana CLI config file when neither is given).

use aidx_client::rpc::Rpc;
use aidx_client::{Book, Chain, TxResult};
#[cfg(feature = "embedded")]
use aidx_embedded::{state, Embedded};
use anyhow::{anyhow, Context, Result};
use clap::Args;
use indicatif::ProgressBar;
use serde::Deserialize;
use solana_sdk::{
    account::Account, clock::Clock, instruction::Instruction, message::AddressLookupTableAccount,
    pubkey::Pubkey, signature::Keypair,
};
use std::path::{Path, PathBuf};

/// The chain options every chain command takes.
#[derive(Args, Clone, Debug)]
pub struct ChainArgs {
    /// Saved embedded chain (written by `aidx demo --save-state FILE`); updated in place by
    /// commands that send transactions.
    #[arg(long, env = "AIDX_STATE", conflicts_with = "url")]
    pub state: Option<PathBuf>,
    /// JSON-RPC URL of a cluster.
    #[arg(long, env = "AIDX_URL")]
    pub url: Option<String>,
    /// Keypair file that pays and signs on a cluster (every wallet name resolves to it).
    #[arg(long, env = "AIDX_KEYPAIR")]
    pub keypair: Option<PathBuf>,
    /// Commitment on a cluster: processed, confirmed or finalized.
    #[arg(long, env = "AIDX_COMMITMENT")]
    pub commitment: Option<String>,
    /// The index account on a cluster.
    #[arg(long, env = "AIDX_INDEX")]
    pub index: Option<String>,
    /// Constituent symbols on a cluster, table order (comma-separated), for readable output.
    #[arg(long, env = "AIDX_SYMBOLS", value_delimiter = ',')]
    pub symbols: Vec<String>,
    /// Address lookup tables on a cluster, `NAME=ADDRESS` (comma-separated or repeated):
    /// `index` for the index's table, a holder's name for the holder's own.
    #[arg(
        long = "lookup-table",
        env = "AIDX_LOOKUP_TABLES",
        value_delimiter = ','
    )]
    pub lookup_tables: Vec<String>,
    /// Priority fee on a cluster, micro-lamports per compute unit.
    #[arg(long, env = "AIDX_CU_PRICE", default_value_t = 0)]
    pub compute_unit_price: u64,
}

/// The Solana CLI's config file (`~/.config/solana/cli/config.yml`), the fields aidx reads.
/// Deserialized with serde_yaml 0.9, the YAML crate `solana-cli-config` itself uses; that
/// crate is not a dependency because it brings clap 2, the remote-wallet stack and hidapi
/// (which needs libudev headers to build) for one file read.
#[derive(Debug, Default, Deserialize, PartialEq)]
pub struct SolanaCliConfig {
    /// `json_rpc_url`.
    #[serde(default)]
    pub json_rpc_url: Option<String>,
    /// `keypair_path`.
    #[serde(default)]
    pub keypair_path: Option<String>,
    /// `commitment`.
    #[serde(default)]
    pub commitment: Option<String>,
}

impl SolanaCliConfig {
    /// The file the Solana CLI reads, when `HOME` is set.
    pub fn default_path() -> Option<PathBuf> {
        std::env::var_os("HOME").map(|h| Path::new(&h).join(".config/solana/cli/config.yml"))
    }

    /// Reads `path`; a missing file is an empty config.
    pub fn load(path: &Path) -> Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text).with_context(|| format!("parsing {}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Parses the file's text.
    pub fn parse(text: &str) -> Result<Self> {
        Ok(serde_yaml::from_str(text)?)
    }
}

/// An open chain.
pub enum Backend {
    /// A saved embedded runtime, written back to `path` by [`Opened::save`].
    #[cfg(feature = "embedded")]
    Embedded {
        /// The runtime.
        chain: Box<Embedded>,
        /// Where it was loaded from.
        path: PathBuf,
    },
    /// A cluster.
    Rpc(Box<Rpc>),
}

/// An open chain and the book of its index.
pub struct Opened {
    /// The chain.
    pub chain: Backend,
    /// The index, its symbols and wallets.
    pub book: Book,
}

impl Opened {
    /// Writes an embedded chain back to its file (after a command that sent transactions).
    pub async fn save(&mut self) -> Result<()> {
        #[cfg(feature = "embedded")]
        if let Backend::Embedded { chain, path } = &mut self.chain {
            state::save(chain, &self.book, path).await?;
        }
        Ok(())
    }

    /// A spinner on stderr with `message` while a command waits on a cluster (sending,
    /// confirming); hidden on the embedded runtime, with `--json`, and when stderr is not a
    /// terminal. Finish it with `finish_and_clear`.
    pub fn spinner(&self, message: &'static str, json: bool) -> ProgressBar {
        if json || !matches!(self.chain, Backend::Rpc(_)) {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new_spinner().with_message(message);
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    }

    /// The embedded runtime, or an error naming `what` needs one.
    #[cfg(feature = "embedded")]
    pub fn embedded(&mut self, what: &str) -> Result<&mut Embedded> {
        match &mut self.chain {
            Backend::Embedded { chain, .. } => Ok(chain),
            Backend::Rpc(_) => Err(anyhow!(
                "{what} works on the embedded chain only (--state FILE)"
            )),
        }
    }
}

impl ChainArgs {
    /// Opens the chain these options name.
    pub async fn open(&self) -> Result<Opened> {
        if let Some(path) = &self.state {
            #[cfg(feature = "embedded")]
            {
                let (chain, book) = state::load(path).await?;
                return Ok(Opened {
                    chain: Backend::Embedded {
                        chain: Box::new(chain),
                        path: path.clone(),
                    },
                    book,
                });
            }
            #[cfg(not(feature = "embedded"))]
            anyhow::bail!(
                "--state {}: this aidx is built without the embedded runtime (feature `embedded`)",
                path.display()
            );
        }
        let cfg = match SolanaCliConfig::default_path() {
            Some(p) => SolanaCliConfig::load(&p)?,
            None => SolanaCliConfig::default(),
        };
        let url = self
            .url
            .clone()
            .or(cfg.json_rpc_url)
            .ok_or_else(|| anyhow!("give --state FILE (embedded) or --url URL (cluster)"))?;
        let keypair_path = self
            .keypair
            .clone()
            .or(cfg.keypair_path.map(PathBuf::from))
            .ok_or_else(|| anyhow!("give --keypair FILE"))?;
        let keypair = solana_sdk::signature::read_keypair_file(&keypair_path)
            .map_err(|e| anyhow!("{}: {e}", keypair_path.display()))?;
        let index = self
            .index
            .clone()
            .ok_or_else(|| anyhow!("give --index PUBKEY"))?;
        let mut lookup_tables = std::collections::BTreeMap::new();
        for t in &self.lookup_tables {
            let (name, address) = t
                .split_once('=')
                .ok_or_else(|| anyhow!("--lookup-table {t}: expected NAME=ADDRESS"))?;
            <solana_sdk::pubkey::Pubkey as std::str::FromStr>::from_str(address)
                .map_err(|e| anyhow!("--lookup-table {t}: {address}: {e}"))?;
            lookup_tables.insert(name.to_string(), address.to_string());
        }
        let book = Book {
            index,
            symbols: self.symbols.clone(),
            lookup_tables,
            fallback_wallet: Some(keypair.to_bytes().to_vec()),
            ..Default::default()
        };
        let commitment = self
            .commitment
            .clone()
            .or(cfg.commitment)
            .unwrap_or_else(|| "confirmed".into());
        let mut rpc = Rpc::new(&url, keypair, &commitment)?;
        rpc.compute_unit_price = self.compute_unit_price;
        Ok(Opened {
            chain: Backend::Rpc(Box::new(rpc)),
            book,
        })
    }
}

/// Runs `$call` with `$c` bound to the open backend's chain.
macro_rules! on_backend {
    ($backend:expr, $c:ident => $call:expr) => {
        match $backend {
            #[cfg(feature = "embedded")]
            Backend::Embedded { chain: $c, .. } => $call,
            Backend::Rpc($c) => $call,
        }
    };
}

/// Both backends behind one [`Chain`]: each call goes to the open one.
impl Chain for Backend {
    fn fee_payer(&self) -> Pubkey {
        on_backend!(self, c => c.fee_payer())
    }
    fn budget_instructions(&self) -> Vec<Instruction> {
        on_backend!(self, c => c.budget_instructions())
    }
    async fn get_account(&mut self, key: &Pubkey) -> Result<Option<Account>> {
        on_backend!(self, c => c.get_account(key).await)
    }
    async fn get_clock(&mut self) -> Result<Clock> {
        on_backend!(self, c => c.get_clock().await)
    }
    async fn simulate_ixs(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<TxResult> {
        on_backend!(self, c => c.simulate_ixs(ixs, signers).await)
    }
    async fn simulate_ixs_v0(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
        tables: &[AddressLookupTableAccount],
    ) -> Result<TxResult> {
        on_backend!(self, c => c.simulate_ixs_v0(ixs, signers, tables).await)
    }
    async fn send_ixs(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<TxResult> {
        on_backend!(self, c => c.send_ixs(ixs, signers).await)
    }
    async fn send_ixs_v0(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
        tables: &[AddressLookupTableAccount],
    ) -> Result<TxResult> {
        on_backend!(self, c => c.send_ixs_v0(ixs, signers, tables).await)
    }
    async fn index_events(&mut self, index: &Pubkey) -> Result<Vec<Vec<u8>>> {
        on_backend!(self, c => c.index_events(index).await)
    }
}

/// Development methods on both backends: the embedded runtime's own, or a local node's
/// cheatcodes over JSON-RPC (a cluster refuses them by name).
impl aidx_client::DevChain for Backend {
    async fn set_account(&mut self, key: &Pubkey, account: Account) -> Result<()> {
        on_backend!(self, c => aidx_client::DevChain::set_account(c.as_mut(), key, account).await)
    }
    async fn set_unix_timestamp(&mut self, unix_timestamp: i64) -> Result<()> {
        on_backend!(self, c => aidx_client::DevChain::set_unix_timestamp(c.as_mut(), unix_timestamp).await)
    }
    async fn next_slot(&mut self) -> Result<()> {
        on_backend!(self, c => c.next_slot().await)
    }
    async fn recent_slot(&mut self) -> Result<u64> {
        on_backend!(self, c => c.recent_slot().await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_config_is_read_like_the_solana_cli() {
        let text = "---\njson_rpc_url: \"http://127.0.0.1:8899\"\nwebsocket_url: \"\"\nkeypair_path: /root/.config/solana/id.json\naddress_labels:\n  \"11111111111111111111111111111111\": System Program\ncommitment: confirmed\n";
        let c = SolanaCliConfig::parse(text).unwrap();
        assert_eq!(c.json_rpc_url.as_deref(), Some("http://127.0.0.1:8899"));
        assert_eq!(
            c.keypair_path.as_deref(),
            Some("/root/.config/solana/id.json")
        );
        assert_eq!(c.commitment.as_deref(), Some("confirmed"));
        let missing = SolanaCliConfig::load(Path::new("/nonexistent/config.yml")).unwrap();
        assert_eq!(missing, SolanaCliConfig::default());
        assert!(SolanaCliConfig::parse("json_rpc_url: [").is_err());
    }
}
