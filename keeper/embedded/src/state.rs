//! A saved embedded chain: every account the runtime touched, the wallets that act on it and
//! the labels of the index's constituents, as one JSON file. `aidx demo --save-state FILE`
//! writes it; `nav`, `oracle`, `mint` and `redeem` load it, act, and write it back, so the
//! holder commands work without a cluster.

use crate::Embedded;
use aidx_client::Book;
use anyhow::{anyhow, bail, Context, Result};
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use serde::{Deserialize, Serialize};
use solana_sdk::{account::Account, pubkey::Pubkey};
use std::path::Path;
use std::str::FromStr;

const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct SavedAccount {
    pubkey: String,
    lamports: u64,
    owner: String,
    rent_epoch: u64,
    data: String,
}

#[derive(Serialize, Deserialize)]
struct SavedChain {
    version: u32,
    slot: u64,
    unix_timestamp: i64,
    book: Book,
    accounts: Vec<SavedAccount>,
    /// The chain's event log (base64 of each logged event).
    #[serde(default)]
    events: Vec<String>,
    /// A local node's transaction history (its own format, base64), saved with the accounts it
    /// describes so that the two never part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    history: Option<String>,
}

/// Reads and parses a saved chain, refusing another format version.
fn read_saved(path: &Path) -> Result<SavedChain> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let saved: SavedChain =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    if saved.version != VERSION {
        bail!(
            "{}: state version {} (this keeper reads {VERSION})",
            path.display(),
            saved.version
        );
    }
    Ok(saved)
}

fn accounts_of(saved: &SavedChain) -> Result<Vec<(Pubkey, Account)>> {
    saved
        .accounts
        .iter()
        .map(|a| {
            let key = Pubkey::from_str(&a.pubkey).map_err(|e| anyhow!("{}: {e}", a.pubkey))?;
            let owner = Pubkey::from_str(&a.owner).map_err(|e| anyhow!("{}: {e}", a.owner))?;
            let data = B64
                .decode(&a.data)
                .with_context(|| format!("account {key}"))?;
            Ok((
                key,
                Account {
                    lamports: a.lamports,
                    data,
                    owner,
                    executable: false,
                    rent_epoch: a.rent_epoch,
                },
            ))
        })
        .collect()
}

/// Writes the chain's touched accounts and `book` to `path`.
pub async fn save(chain: &mut Embedded, book: &Book, path: &Path) -> Result<()> {
    save_with_history(chain, book, path, None).await
}

/// [`save`], with a local node's transaction `history` (opaque bytes) beside the accounts.
/// Written to a temporary file first and renamed: a reader never sees half a state.
pub async fn save_with_history(
    chain: &mut Embedded,
    book: &Book,
    path: &Path,
    history: Option<&[u8]>,
) -> Result<()> {
    let clock = chain.clock().await?;
    let accounts = chain
        .export()
        .await?
        .into_iter()
        .map(|(k, a)| SavedAccount {
            pubkey: k.to_string(),
            lamports: a.lamports,
            owner: a.owner.to_string(),
            rent_epoch: a.rent_epoch,
            data: B64.encode(&a.data),
        })
        .collect();
    let saved = SavedChain {
        version: VERSION,
        slot: clock.slot,
        unix_timestamp: clock.unix_timestamp,
        book: book.clone(),
        accounts,
        events: chain.event_log.iter().map(|e| B64.encode(e)).collect(),
        history: history.map(|h| B64.encode(h)),
    };
    let json = serde_json::to_string(&saved)?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    std::fs::write(&tmp, json).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

/// The transaction history a local node saved with the state at `path`, if any.
pub fn read_history(path: &Path) -> Result<Option<Vec<u8>>> {
    let saved = read_saved(path)?;
    saved
        .history
        .map(|h| {
            B64.decode(h)
                .with_context(|| format!("{}: history", path.display()))
        })
        .transpose()
}

/// The accounts and book saved at `path`, without starting anything (e.g. to load them into
/// another validator).
pub fn read(path: &Path) -> Result<(Vec<(Pubkey, Account)>, Book)> {
    let saved = read_saved(path)?;
    Ok((accounts_of(&saved)?, saved.book))
}

/// Writes the saved accounts as `<pubkey>.json` files in the format `solana account
/// --output json` prints and `solana-test-validator --account-dir` loads.
pub fn export_validator_accounts(path: &Path, dir: &Path) -> Result<usize> {
    let (accounts, _) = read(path)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for (key, a) in &accounts {
        let json = serde_json::json!({
            "pubkey": key.to_string(),
            "account": {
                "lamports": a.lamports,
                "data": [B64.encode(&a.data), "base64"],
                "owner": a.owner.to_string(),
                "executable": false,
                "rentEpoch": 0,
                "space": a.data.len(),
            }
        });
        std::fs::write(
            dir.join(format!("{key}.json")),
            serde_json::to_string(&json)?,
        )?;
    }
    Ok(accounts.len())
}

/// Starts an embedded runtime holding the accounts saved at `path`, at a slot after the saved
/// one (so lookup tables are active) and a clock no earlier than the saved one.
pub async fn load(path: &Path) -> Result<(Embedded, Book)> {
    let saved = read_saved(path)?;
    let accounts = accounts_of(&saved)?;
    let keys: Vec<Pubkey> = accounts.iter().map(|(k, _)| *k).collect();
    let mut chain = Embedded::start_with(|pt| {
        for (k, a) in accounts {
            pt.add_account(k, a);
        }
    })
    .await?;
    chain.remember(&keys);
    for e in &saved.events {
        chain.event_log.push(B64.decode(e).context("event log")?);
    }
    chain
        .ctx
        .warp_to_slot(saved.slot.max(1) + 2)
        .map_err(|e| anyhow!("warp: {e:?}"))?;
    let now = chain.clock().await?.unix_timestamp;
    chain
        .set_unix_timestamp(now.max(saved.unix_timestamp))
        .await?;
    Ok((chain, saved.book))
}
