//! The cluster backend: JSON-RPC through `solana-rpc-client`. Every send simulates first,
//! prepends compute-unit limit and price instructions, confirms at the configured commitment,
//! and when the blockhash expires before confirmation rebuilds and retries with bounded
//! backoff. Events are read from the `Program data:` log lines the program itself logged.

use crate::chain::{Chain, TxFailure, TxOutcome, TxResult};
use crate::events::events_from_logs;
use crate::tx::build_v0;
use anyhow::{anyhow, bail, Result};
use solana_commitment_config::CommitmentConfig;
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client::rpc_client::GetConfirmedSignaturesForAddress2Config;
use solana_rpc_client_api::config::{
    RpcSendTransactionConfig, RpcSimulateTransactionConfig, RpcTransactionConfig,
};
use solana_sdk::{
    account::Account,
    clock::Clock,
    hash::Hash,
    instruction::Instruction,
    message::AddressLookupTableAccount,
    pubkey::Pubkey,
    signature::{Keypair, Signature},
    signer::Signer,
    transaction::{TransactionError, VersionedTransaction},
};
use solana_transaction_status_client_types::{
    option_serializer::OptionSerializer, UiTransactionEncoding,
};
use std::str::FromStr;
use std::time::Duration;

/// Compute units a transaction requests unless told otherwise: the per-transaction maximum.
pub const DEFAULT_COMPUTE_UNIT_LIMIT: u32 = 1_400_000;

/// A cluster connection and the wallet that pays.
pub struct Rpc {
    client: RpcClient,
    /// What the transport retried and gave up (see [`crate::retry`]).
    pub retry_stats: std::sync::Arc<crate::retry::RetryStats>,
    payer: Keypair,
    commitment: CommitmentConfig,
    /// Compute units requested per transaction.
    pub compute_unit_limit: u32,
    /// Priority fee, micro-lamports per compute unit.
    pub compute_unit_price: u64,
    /// Attempts after the first when the blockhash expires.
    pub retries: usize,
    /// How often a sent transaction's status is polled.
    pub poll_interval: Duration,
}

/// How one attempt to land a transaction ended.
#[derive(Debug)]
enum Landing {
    /// Confirmed (its status is read back with its logs).
    Confirmed(Signature),
    /// Refused before it ran (preflight): the runtime's error.
    Refused(TransactionError),
    /// Its blockhash expired before it was confirmed: it can never land; build it again.
    Expired,
}

/// The outcome of a transaction from its error and logs.
fn outcome(err: Option<TransactionError>, logs: Vec<String>) -> Result<TxResult> {
    Ok(match err {
        None => {
            let (events, raw_events) = events_from_logs(&logs)?.into_iter().unzip();
            Ok(TxOutcome {
                events,
                raw_events,
                logs,
                signature: None,
            })
        }
        Some(error) => Err(TxFailure { error, logs }),
    })
}

impl Rpc {
    /// A connection to `url` paid by `payer`, at `commitment` (processed, confirmed or
    /// finalized).
    pub fn new(url: &str, payer: Keypair, commitment: &str) -> Result<Self> {
        Self::with_retries(url, payer, commitment, crate::retry::RetryPolicy::default())
    }

    /// [`Rpc::new`] retrying transient failures as `policy` says.
    pub fn with_retries(
        url: &str,
        payer: Keypair,
        commitment: &str,
        policy: crate::retry::RetryPolicy,
    ) -> Result<Self> {
        let commitment = CommitmentConfig::from_str(commitment)
            .map_err(|e| anyhow!("commitment {commitment}: {e:?}"))?;
        let retry_stats = std::sync::Arc::<crate::retry::RetryStats>::default();
        let sender = crate::retry::RetrySender::new(url.to_string(), policy, retry_stats.clone());
        Ok(Rpc {
            client: RpcClient::new_sender(
                sender,
                solana_rpc_client::rpc_client::RpcClientConfig::with_commitment(commitment),
            ),
            retry_stats,
            payer,
            commitment,
            compute_unit_limit: DEFAULT_COMPUTE_UNIT_LIMIT,
            compute_unit_price: 0,
            retries: 3,
            poll_interval: Duration::from_millis(400),
        })
    }

    fn with_budget(&self, ixs: &[Instruction]) -> Vec<Instruction> {
        if crate::tx::sets_compute_budget(ixs) {
            return ixs.to_vec();
        }
        let mut all = vec![ComputeBudgetInstruction::set_compute_unit_limit(
            self.compute_unit_limit,
        )];
        if self.compute_unit_price > 0 {
            all.push(ComputeBudgetInstruction::set_compute_unit_price(
                self.compute_unit_price,
            ));
        }
        all.extend_from_slice(ixs);
        all
    }

    async fn build(
        &self,
        ixs: &[Instruction],
        signers: &[&Keypair],
        tables: &[AddressLookupTableAccount],
    ) -> Result<(VersionedTransaction, Hash)> {
        let blockhash = self.client.get_latest_blockhash().await?;
        let tx = build_v0(
            &self.payer,
            &self.with_budget(ixs),
            signers,
            tables,
            blockhash,
        )?;
        Ok((tx, blockhash))
    }

    async fn simulate_tx(&self, tx: &VersionedTransaction) -> Result<TxResult> {
        let r = self
            .client
            .simulate_transaction_with_config(
                tx,
                RpcSimulateTransactionConfig {
                    sig_verify: false,
                    replace_recent_blockhash: true,
                    commitment: Some(self.commitment),
                    ..Default::default()
                },
            )
            .await?
            .value;
        outcome(r.err.map(Into::into), r.logs.unwrap_or_default())
    }

    async fn logs_of(
        &self,
        signature: &Signature,
    ) -> Result<(Option<TransactionError>, Vec<String>)> {
        let tx = self
            .client
            .get_transaction_with_config(
                signature,
                RpcTransactionConfig {
                    encoding: Some(UiTransactionEncoding::Json),
                    commitment: Some(self.commitment),
                    max_supported_transaction_version: Some(0),
                },
            )
            .await?;
        let meta = tx
            .transaction
            .meta
            .ok_or_else(|| anyhow!("transaction {signature} has no status"))?;
        let logs = match meta.log_messages {
            OptionSerializer::Some(l) => l,
            _ => vec![],
        };
        Ok((meta.err.map(Into::into), logs))
    }

    /// Sends once and waits until the transaction is confirmed or its blockhash expires.
    async fn land(&self, tx: &VersionedTransaction, blockhash: &Hash) -> Result<Landing> {
        let config = RpcSendTransactionConfig {
            preflight_commitment: Some(self.commitment.commitment),
            ..Default::default()
        };
        let signature = *tx
            .signatures
            .first()
            .ok_or_else(|| anyhow!("a transaction without signatures"))?;
        // Once the transaction may have reached the node, a failure to learn what became of it
        // must not read as "it failed": sending it again could apply it twice.
        let unknown = |e: &dyn std::fmt::Display| {
            anyhow!(
                "transaction {signature} was sent but its outcome is unknown ({e}): check its \
                 status before sending again"
            )
        };
        if let Err(e) = self.client.send_transaction_with_config(tx, config).await {
            match e.get_transaction_error() {
                // An earlier attempt landed and only its answer was lost: the status says how.
                Some(TransactionError::AlreadyProcessed) => {}
                // A validator names an expired blockhash before an already processed signature:
                // a resend of a transaction that landed after all may be answered so.
                Some(TransactionError::BlockhashNotFound) => {
                    return match self.landed(&signature).await.map_err(|e| unknown(&e))? {
                        true => Ok(Landing::Confirmed(signature)),
                        false => Ok(Landing::Expired),
                    }
                }
                Some(error) => return Ok(Landing::Refused(error)),
                None => return Err(unknown(&e)),
            }
        }
        loop {
            if self.landed(&signature).await.map_err(|e| unknown(&e))? {
                return Ok(Landing::Confirmed(signature));
            }
            let valid = self
                .client
                .is_blockhash_valid(blockhash, self.commitment)
                .await
                .map_err(|e| unknown(&e))?;
            if !valid {
                // It may have landed between the two reads: ask once more before rebuilding.
                return match self.landed(&signature).await.map_err(|e| unknown(&e))? {
                    true => Ok(Landing::Confirmed(signature)),
                    false => Ok(Landing::Expired),
                };
            }
            tokio::time::sleep(self.poll_interval).await;
        }
    }

    /// Whether `signature` has landed at the configured commitment (the node's whole history
    /// searched).
    async fn landed(&self, signature: &Signature) -> Result<bool> {
        let status = self
            .client
            .get_signature_statuses_with_history(&[*signature])
            .await?
            .value
            .into_iter()
            .next()
            .flatten();
        Ok(status.is_some_and(|s| s.satisfies_commitment(self.commitment)))
    }

    /// Simulates, then sends and confirms; on an expired blockhash rebuilds and retries with
    /// bounded backoff.
    async fn send_tx(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
        tables: &[AddressLookupTableAccount],
    ) -> Result<TxResult> {
        let mut attempt = 0;
        loop {
            let (tx, blockhash) = self.build(ixs, signers, tables).await?;
            if let Err(f) = self.simulate_tx(&tx).await? {
                return Ok(Err(f));
            }
            match self.land(&tx, &blockhash).await? {
                Landing::Confirmed(signature) => {
                    let (err, logs) = self.logs_of(&signature).await?;
                    return Ok(outcome(err, logs)?.map(|o| TxOutcome {
                        signature: Some(signature),
                        ..o
                    }));
                }
                Landing::Refused(error) => {
                    return Ok(Err(TxFailure {
                        error,
                        logs: vec![],
                    }))
                }
                Landing::Expired if attempt < self.retries => {
                    attempt += 1;
                    backoff(attempt).await;
                }
                Landing::Expired => {
                    bail!(
                        "the blockhash expired {} times before the transaction was confirmed",
                        attempt + 1
                    )
                }
            }
        }
    }
}

/// Backoff before attempt `n` (n >= 1): 0.8 s, 1.6 s, 3.2 s, ...
async fn backoff(n: usize) {
    tokio::time::sleep(Duration::from_millis(400 << n.min(6))).await;
}

impl Chain for Rpc {
    fn fee_payer(&self) -> Pubkey {
        self.payer.pubkey()
    }
    fn budget_instructions(&self) -> Vec<Instruction> {
        self.with_budget(&[])
    }
    async fn get_account(&mut self, key: &Pubkey) -> Result<Option<Account>> {
        Ok(self
            .client
            .get_account_with_commitment(key, self.commitment)
            .await?
            .value)
    }
    async fn get_clock(&mut self) -> Result<Clock> {
        let data = self.data_of(&solana_sdk::sysvar::clock::ID).await?;
        Ok(bincode::deserialize(&data)?)
    }
    async fn simulate_ixs(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<TxResult> {
        let (tx, _) = self.build(ixs, signers, &[]).await?;
        self.simulate_tx(&tx).await
    }
    async fn send_ixs(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<TxResult> {
        self.send_tx(ixs, signers, &[]).await
    }
    async fn simulate_ixs_v0(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
        tables: &[AddressLookupTableAccount],
    ) -> Result<TxResult> {
        let (tx, _) = self.build(ixs, signers, tables).await?;
        self.simulate_tx(&tx).await
    }
    async fn send_ixs_v0(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
        tables: &[AddressLookupTableAccount],
    ) -> Result<TxResult> {
        self.send_tx(ixs, signers, tables).await
    }
    async fn index_events(&mut self, index: &Pubkey) -> Result<Vec<Vec<u8>>> {
        // Every signature that touched the index, newest first, paged.
        let mut signatures = vec![];
        let mut before = None;
        loop {
            let page = self
                .client
                .get_signatures_for_address_with_config(
                    index,
                    GetConfirmedSignaturesForAddress2Config {
                        before,
                        until: None,
                        limit: Some(1000),
                        commitment: Some(self.commitment),
                    },
                )
                .await?;
            let Some(last) = page.last() else { break };
            before = Some(Signature::from_str(&last.signature)?);
            signatures.extend(
                page.into_iter()
                    .filter(|s| s.err.is_none())
                    .map(|s| s.signature),
            );
        }
        let mut events = vec![];
        for sig in signatures.iter().rev() {
            let (err, logs) = self.logs_of(&Signature::from_str(sig)?).await?;
            if err.is_none() {
                events.extend(events_from_logs(&logs)?.into_iter().map(|(_, raw)| raw));
            }
        }
        Ok(events)
    }
}

/// A local node's development methods, by surfpool's cheatcode names (`aidx localnet` serves
/// them; a cluster does not, and says so by name).
impl crate::dev::DevChain for Rpc {
    async fn set_account(&mut self, key: &Pubkey, account: Account) -> Result<()> {
        let update = serde_json::json!({
            "lamports": account.lamports,
            "data": hex::encode(&account.data),
            "owner": account.owner.to_string(),
            "executable": account.executable,
            "rentEpoch": account.rent_epoch,
        });
        self.cheat(
            "surfnet_setAccount",
            serde_json::json!([key.to_string(), update]),
        )
        .await
    }
    async fn set_unix_timestamp(&mut self, unix_timestamp: i64) -> Result<()> {
        let ms = u64::try_from(unix_timestamp)?
            .checked_mul(1000)
            .ok_or_else(|| anyhow!("timestamp {unix_timestamp} out of range"))?;
        self.cheat(
            "surfnet_timeTravel",
            serde_json::json!([{ "absoluteTimestamp": ms }]),
        )
        .await
    }
    async fn next_slot(&mut self) -> Result<()> {
        let slot = self.client.get_slot().await?;
        self.cheat(
            "surfnet_timeTravel",
            serde_json::json!([{ "absoluteSlot": slot + 1 }]),
        )
        .await
    }
    async fn recent_slot(&mut self) -> Result<u64> {
        // The slot before the current one is the newest in `SlotHashes`.
        self.next_slot().await?;
        Ok(self.client.get_slot().await?.saturating_sub(1))
    }
}

impl Rpc {
    /// Asks the node for `lamports` to the fee payer (`requestAirdrop`: a test validator, a
    /// local node or devnet) and waits until it is confirmed.
    pub async fn airdrop_to_payer(&self, lamports: u64) -> Result<()> {
        let signature = self
            .client
            .request_airdrop(&self.payer.pubkey(), lamports)
            .await?;
        for _ in 0..100 {
            if self
                .client
                .confirm_transaction_with_commitment(&signature, self.commitment)
                .await?
                .value
            {
                return Ok(());
            }
            tokio::time::sleep(self.poll_interval).await;
        }
        bail!("the airdrop {signature} was not confirmed")
    }

    /// Calls a development method; a node without it answers "Method not found".
    async fn cheat(&self, method: &'static str, params: serde_json::Value) -> Result<()> {
        self.client
            .send::<serde_json::Value>(
                solana_rpc_client_api::request::RpcRequest::Custom { method },
                params,
            )
            .await
            .map_err(|e| anyhow!("{method}: {e}"))?;
        Ok(())
    }
}
