//! The book of an index: its address, its constituents' labels, and the wallets and lookup
//! tables that act on it, by name. Saved with an embedded chain; on a cluster the index, the
//! symbols and the one keypair come from the command line.

use anyhow::{anyhow, Result};
use serde::{Deserialize, Serialize};
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};
use std::collections::BTreeMap;
use std::str::FromStr;

/// What a saved chain holds besides accounts.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct Book {
    /// The index account.
    pub index: String,
    /// Constituent labels (symbols), table order.
    pub symbols: Vec<String>,
    /// Wallets by name (64-byte keypairs). Local test wallets of the embedded runtime only.
    pub wallets: BTreeMap<String, Vec<u8>>,
    /// Address lookup tables by name ("index", or a wallet name).
    pub lookup_tables: BTreeMap<String, String>,
    /// The wallet every name resolves to when not in `wallets` (a cluster's `--keypair`).
    #[serde(skip)]
    pub fallback_wallet: Option<Vec<u8>>,
}

impl Book {
    /// The index account.
    pub fn index_key(&self) -> Result<Pubkey> {
        Pubkey::from_str(&self.index).map_err(|e| anyhow!("index {}: {e}", self.index))
    }

    /// The wallet `name`, or the fallback wallet when the book has none of that name.
    pub fn wallet(&self, name: &str) -> Result<Keypair> {
        let bytes = self
            .wallets
            .get(name)
            .or(self.fallback_wallet.as_ref())
            .ok_or_else(|| {
                anyhow!(
                    "no wallet {name:?} in the state (have: {})",
                    self.wallets.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            })?;
        Keypair::try_from(bytes.as_slice()).map_err(|e| anyhow!("wallet {name}: {e}"))
    }

    /// Records `k` as wallet `name`.
    pub fn add_wallet(&mut self, name: &str, k: &Keypair) {
        self.wallets.insert(name.to_string(), k.to_bytes().to_vec());
    }

    /// Row of a constituent by symbol (case-insensitive).
    pub fn row_of(&self, symbol: &str) -> Result<usize> {
        self.symbols
            .iter()
            .position(|s| s.eq_ignore_ascii_case(symbol))
            .ok_or_else(|| {
                anyhow!(
                    "no constituent {symbol:?} (have: {})",
                    self.symbols.join(", ")
                )
            })
    }

    /// The symbol of row `row`, or `#row` when the book has none.
    pub fn symbol(&self, row: usize) -> String {
        self.symbols
            .get(row)
            .cloned()
            .unwrap_or_else(|| format!("#{row}"))
    }

    /// A public key given as a base-58 key or as a wallet name of the book.
    pub fn key_of(&self, name_or_key: &str) -> Result<Pubkey> {
        if let Ok(k) = Pubkey::from_str(name_or_key) {
            return Ok(k);
        }
        Ok(self.wallet(name_or_key)?.pubkey())
    }
}
