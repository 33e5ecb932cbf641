//! The chain thread: owns the embedded runtime and answers one request at a time, keeping what a
//! validator's ledger would answer from (every processed transaction with its status, logs and
//! balances, and the signatures per address, newest last).

use crate::rpc::RpcErr;
use crate::StartFn;
use aidx_client::{TxOutcome, TxResult};
use aidx_embedded::Embedded;
use anyhow::Result;
use serde_json::Value;
use solana_sdk::{
    hash::Hash,
    message::{compiled_instruction::CompiledInstruction, VersionedMessage},
    pubkey::Pubkey,
    signature::Signature,
    transaction::{TransactionError, VersionedTransaction},
};
use std::collections::HashMap;
use tokio::sync::{mpsc, oneshot};

/// Blockhashes older than this many slots are no longer accepted (as on a cluster).
pub const MAX_BLOCKHASH_AGE_SLOTS: u64 = 150;
/// Milliseconds per slot.
pub const SLOT_MS: u64 = 400;
/// Lamports per signature.
pub const LAMPORTS_PER_SIGNATURE: u64 = 5_000;

/// A request for the chain thread.
pub enum Job {
    /// A JSON-RPC method with its params; the answer's `result`, or the error.
    Call {
        method: String,
        params: Value,
        reply: oneshot::Sender<Result<Value, RpcErr>>,
    },
    /// Saves the chain (every account it touched) and `book` to `path`.
    Save {
        path: std::path::PathBuf,
        book: Box<aidx_client::Book>,
        reply: oneshot::Sender<Result<()>>,
    },
    /// Ends the thread.
    Stop,
}

/// A processed transaction as the ledger keeps it.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Record {
    pub tx: VersionedTransaction,
    pub slot: u64,
    pub block_time: i64,
    pub err: Option<TransactionError>,
    pub logs: Vec<String>,
    pub fee: u64,
    pub pre_balances: Vec<u64>,
    pub post_balances: Vec<u64>,
    pub units: u64,
    /// Addresses loaded through lookup tables: writable, then read-only.
    pub loaded: (Vec<Pubkey>, Vec<Pubkey>),
    /// Per instruction, the instructions it invoked (CPIs) with their stack heights.
    pub inner: Vec<Vec<(CompiledInstruction, u8)>>,
    /// Token accounts among the keys, before and after.
    pub pre_token: Vec<TokenBalance>,
    pub post_token: Vec<TokenBalance>,
}

/// A token account's balance in a transaction, as the ledger keeps it.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct TokenBalance {
    /// Index among the transaction's keys (static, then loaded).
    pub index: u8,
    pub mint: Pubkey,
    pub owner: Pubkey,
    pub program: Pubkey,
    pub amount: u64,
    pub decimals: u8,
}

/// The node's state on the chain thread.
pub struct Node {
    pub chain: Embedded,
    /// What PubSub connections are told.
    pub notices: tokio::sync::broadcast::Sender<crate::pubsub::Notice>,
    pub genesis: Hash,
    /// Every transaction processed, by signature.
    pub txs: HashMap<Signature, Record>,
    /// Signatures per address, in the order processed.
    pub by_address: HashMap<Pubkey, Vec<Signature>>,
    /// The slot each blockhash handed out was first seen at.
    pub blockhashes: HashMap<Hash, u64>,
    /// The wall-clock instant and the unix time the ticking clock counts from (moved by
    /// `surfnet_timeTravel`).
    pub clock_base: (std::time::Instant, i64),
    /// The saved state this node's history came from and is saved with (see [`Ledger`]).
    pub history_path: Option<std::path::PathBuf>,
}

/// The ledger's format version.
const LEDGER_VERSION: u32 = 1;

/// What the node keeps beside the saved accounts, in the same state file, so that a restart
/// forgets no transaction it acknowledged (statuses, logs, history by address): without it a
/// client that sent before a restart would find its signature unknown and send again.
/// Blockhashes are not kept: a restarted runtime hands out new ones and accepts only those.
#[derive(serde::Serialize, serde::Deserialize, Default)]
struct Ledger {
    version: u32,
    txs: Vec<(Signature, Record)>,
    by_address: Vec<(Pubkey, Vec<Signature>)>,
}

/// [`Ledger`] borrowed from the node, for writing.
#[derive(serde::Serialize)]
struct LedgerRef<'a> {
    version: u32,
    txs: Vec<(&'a Signature, &'a Record)>,
    by_address: Vec<(&'a Pubkey, &'a Vec<Signature>)>,
}

pub(crate) fn run(
    start: StartFn,
    mut jobs: mpsc::UnboundedReceiver<Job>,
    ready: std::sync::mpsc::Sender<Result<()>>,
    config: crate::Config,
    notices: tokio::sync::broadcast::Sender<crate::pubsub::Notice>,
) {
    let ticking = config.ticking;
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(e.into()));
            return;
        }
    };
    rt.block_on(async move {
        let mut node = match start().await {
            Ok(chain) => Node::new(chain, notices, config.history).await,
            Err(e) => Err(e),
        };
        let node = match node.as_mut() {
            Ok(n) => {
                let _ = ready.send(Ok(()));
                n
            }
            Err(e) => {
                let _ = ready.send(Err(anyhow::anyhow!("{e}")));
                return;
            }
        };
        // A slot about every 400 ms, and the clock's unix time following the wall clock from
        // where the state left it, as on a validator.
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(SLOT_MS));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            let job = tokio::select! {
                job = jobs.recv() => job,
                _ = tick.tick(), if ticking => {
                    let (started, t0) = node.clock_base;
                    let _ = node.tick(t0 + started.elapsed().as_secs() as i64).await;
                    continue;
                }
            };
            let Some(job) = job else { break };
            match job {
                Job::Stop => break,
                Job::Save { path, book, reply } => {
                    let r = match node.ledger_bytes() {
                        Ok(ledger) => {
                            aidx_embedded::state::save_with_history(
                                &mut node.chain,
                                &book,
                                &path,
                                Some(&ledger),
                            )
                            .await
                        }
                        Err(e) => Err(e),
                    };
                    let _ = reply.send(r);
                }
                Job::Call {
                    method,
                    params,
                    reply,
                } => {
                    let r = crate::rpc::dispatch(node, &method, params).await;
                    let _ = reply.send(r);
                }
            }
        }
    });
}

impl Node {
    async fn new(
        mut chain: Embedded,
        notices: tokio::sync::broadcast::Sender<crate::pubsub::Notice>,
        history_path: Option<std::path::PathBuf>,
    ) -> Result<Node> {
        let genesis = chain.ctx.banks_client.get_latest_blockhash().await?;
        let now = chain.clock().await?.unix_timestamp;
        let mut node = Node {
            clock_base: (std::time::Instant::now(), now),
            history_path,
            chain,
            notices,
            genesis,
            txs: HashMap::new(),
            by_address: HashMap::new(),
            blockhashes: HashMap::new(),
        };
        let slot = node.slot().await?;
        node.blockhashes.insert(genesis, slot);
        node.load_ledger()?;
        Ok(node)
    }

    /// The transaction history, for saving with the state.
    pub fn ledger_bytes(&self) -> Result<Vec<u8>> {
        Ok(bincode::serialize(&LedgerRef {
            version: LEDGER_VERSION,
            txs: self.txs.iter().collect(),
            by_address: self.by_address.iter().collect(),
        })?)
    }

    /// Reads back the transaction history saved with the state it started from, if any.
    fn load_ledger(&mut self) -> Result<()> {
        let Some(path) = self.history_path.as_ref().filter(|p| p.exists()) else {
            return Ok(());
        };
        let Some(bytes) = aidx_embedded::state::read_history(path)? else {
            return Ok(());
        };
        let ledger: Ledger = bincode::deserialize(&bytes)
            .map_err(|e| anyhow::anyhow!("{}: transaction history: {e}", path.display()))?;
        if ledger.version != LEDGER_VERSION {
            anyhow::bail!(
                "{}: transaction history version {} (this node reads {LEDGER_VERSION})",
                path.display(),
                ledger.version
            );
        }
        self.txs.extend(ledger.txs);
        self.by_address.extend(ledger.by_address);
        Ok(())
    }

    /// The next slot, at unix time `now` (never backwards).
    pub async fn tick(&mut self, now: i64) -> Result<()> {
        let slot = self.slot().await?;
        self.chain
            .ctx
            .warp_to_slot(slot.saturating_add(1))
            .map_err(|e| anyhow::anyhow!("warp: {e:?}"))?;
        if now > self.chain.clock().await?.unix_timestamp {
            self.chain.set_unix_timestamp(now).await?;
        }
        let _ = self
            .notices
            .send(crate::pubsub::Notice::Slot(slot.saturating_add(1)));
        Ok(())
    }

    pub async fn slot(&mut self) -> Result<u64> {
        Ok(self.chain.clock().await?.slot)
    }

    /// The latest blockhash, remembered with the slot it was first handed out at.
    pub async fn latest_blockhash(&mut self) -> Result<(Hash, u64)> {
        let hash = self.chain.ctx.banks_client.get_latest_blockhash().await?;
        let slot = self.slot().await?;
        let first = *self.blockhashes.entry(hash).or_insert(slot);
        Ok((hash, first))
    }

    /// A blockhash this node handed out within [`MAX_BLOCKHASH_AGE_SLOTS`].
    pub async fn blockhash_is_valid(&mut self, hash: &Hash) -> Result<bool> {
        let slot = self.slot().await?;
        Ok(self
            .blockhashes
            .get(hash)
            .is_some_and(|s| slot.saturating_sub(*s) <= MAX_BLOCKHASH_AGE_SLOTS))
    }

    /// The addresses `tx` loads through lookup tables (writable, read-only), read from the
    /// tables as they are now.
    pub async fn loaded_addresses(
        &mut self,
        tx: &VersionedTransaction,
    ) -> Result<(Vec<Pubkey>, Vec<Pubkey>)> {
        use solana_address_lookup_table_interface::state::AddressLookupTable;
        let mut writable = vec![];
        let mut readonly = vec![];
        if let VersionedMessage::V0(m) = &tx.message {
            for l in &m.address_table_lookups {
                let data = self.chain.account_data(&l.account_key).await?;
                let table = AddressLookupTable::deserialize(&data)
                    .map_err(|e| anyhow::anyhow!("lookup table {}: {e}", l.account_key))?;
                let at = |i: &u8| table.addresses.get(*i as usize).copied();
                writable.extend(l.writable_indexes.iter().filter_map(at));
                readonly.extend(l.readonly_indexes.iter().filter_map(at));
            }
        }
        Ok((writable, readonly))
    }

    /// Every account key of `tx`, static then loaded.
    pub fn all_keys(tx: &VersionedTransaction, loaded: &(Vec<Pubkey>, Vec<Pubkey>)) -> Vec<Pubkey> {
        let mut keys = tx.message.static_account_keys().to_vec();
        keys.extend(loaded.0.iter().copied());
        keys.extend(loaded.1.iter().copied());
        keys
    }

    async fn accounts(
        &mut self,
        keys: &[Pubkey],
    ) -> Result<Vec<Option<solana_sdk::account::Account>>> {
        let mut out = vec![];
        for k in keys {
            out.push(self.chain.account(k).await?);
        }
        Ok(out)
    }

    /// Token balances of the token accounts among `accounts` (mints' decimals read now).
    async fn token_balances(
        &mut self,
        accounts: &[Option<solana_sdk::account::Account>],
    ) -> Vec<TokenBalance> {
        let mut out = vec![];
        for (i, a) in accounts.iter().enumerate() {
            let Some(a) = a else { continue };
            if !crate::rpc::is_token_program(&a.owner) {
                continue;
            }
            use anchor_spl::token_2022::spl_token_2022::{
                extension::StateWithExtensions, state::Account,
            };
            let Ok(t) = StateWithExtensions::<Account>::unpack(&a.data) else {
                continue;
            };
            let (mint, owner, amount) = (t.base.mint, t.base.owner, t.base.amount);
            let Ok((decimals, _)) = crate::rpc::token_mint(self, &mint).await else {
                continue;
            };
            out.push(TokenBalance {
                index: i as u8,
                mint,
                owner,
                program: a.owner,
                amount,
                decimals,
            });
        }
        out
    }

    /// Processes a signed transaction and records it (`inner`: its inner instructions when a
    /// simulation on this state just gave them, else one runs first), then moves to the next
    /// slot (so the next transaction sees a new blockhash, as on a cluster). The outcome, as
    /// the runtime gave it.
    pub async fn process(
        &mut self,
        tx: VersionedTransaction,
        inner: Option<Vec<Vec<(CompiledInstruction, u8)>>>,
    ) -> Result<(Signature, TxResult)> {
        let signature = *tx
            .signatures
            .first()
            .ok_or_else(|| anyhow::anyhow!("a transaction without signatures"))?;
        if self.txs.contains_key(&signature) {
            return Ok((
                signature,
                Err(aidx_client::TxFailure {
                    error: TransactionError::AlreadyProcessed,
                    logs: vec![],
                }),
            ));
        }
        let loaded = self.loaded_addresses(&tx).await?;
        let keys = Self::all_keys(&tx, &loaded);
        let inner = match inner {
            Some(i) => i,
            None => {
                // Its outcome is the processing's below; only the inner instructions are kept.
                let _ = self.chain.simulate_versioned(tx.clone()).await?;
                std::mem::take(&mut self.chain.last_inner_instructions)
            }
        };
        let pre = self.accounts(&keys).await?;
        let pre_token = self.token_balances(&pre).await;
        let clock = self.chain.clock().await?;
        let result = self.chain.process_versioned(tx.clone()).await?;
        let post = self.accounts(&keys).await?;
        let post_token = self.token_balances(&post).await;
        let lamports = |v: &[Option<solana_sdk::account::Account>]| -> Vec<u64> {
            v.iter()
                .map(|a| a.as_ref().map_or(0, |a| a.lamports))
                .collect()
        };
        let (err, logs) = match &result {
            Ok(TxOutcome { logs, .. }) => (None, logs.clone()),
            Err(f) => (Some(f.error.clone()), f.logs.clone()),
        };
        // A transaction the bank refused before running it (its blockhash, its fee payer, its
        // accounts) never lands on a cluster: no status, no fee, nothing to record.
        if !matches!(
            err,
            None | Some(TransactionError::InstructionError(..))
                | Some(TransactionError::InsufficientFundsForRent { .. })
        ) {
            return Ok((signature, result));
        }
        for k in &keys {
            let list = self.by_address.entry(*k).or_default();
            if list.last() != Some(&signature) {
                list.push(signature);
            }
        }
        // PubSub: the transaction, and every account it changed.
        let _ = self.notices.send(crate::pubsub::Notice::Tx {
            signature,
            slot: clock.slot,
            err: err.clone(),
            logs: logs.clone(),
            keys: keys.clone(),
        });
        for ((k, before), after) in keys.iter().zip(&pre).zip(&post) {
            if before != after {
                if let Some(a) = after {
                    if let Ok(ui) = crate::rpc::ui_account_json(k, a) {
                        let _ = self.notices.send(crate::pubsub::Notice::Account {
                            key: *k,
                            slot: clock.slot,
                            account: ui,
                        });
                    }
                }
            }
        }
        self.txs.insert(
            signature,
            Record {
                fee: LAMPORTS_PER_SIGNATURE * tx.signatures.len() as u64,
                tx,
                slot: clock.slot,
                block_time: clock.unix_timestamp,
                err,
                logs,
                pre_balances: lamports(&pre),
                post_balances: lamports(&post),
                units: self.chain.last_units_consumed,
                loaded,
                inner,
                pre_token,
                post_token,
            },
        );
        self.chain
            .ctx
            .warp_to_slot(clock.slot.saturating_add(1))
            .map_err(|e| anyhow::anyhow!("warp: {e:?}"))?;
        Ok((signature, result))
    }
}
