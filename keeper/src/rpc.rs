//! The cluster backend: JSON-RPC through `solana-rpc-client`. Every send simulates first,
//! prepends compute-unit limit and price instructions, retries with bounded backoff when the
//! blockhash expires, and confirms at the configured commitment. Events are read from the
//! `Program data:` log lines, which is where the program's `sol_log_data` puts them.

use crate::chain::{Chain, TxResult};
use crate::client::AidxEvent;
use crate::embedded::{TxFailure, TxOutcome};
use anyhow::{anyhow, bail, Context, Result};
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use solana_commitment_config::CommitmentConfig;
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_rpc_client::api::config::{RpcSimulateTransactionConfig, RpcTransactionConfig};
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::{
    account::Account,
    clock::Clock,
    instruction::Instruction,
    message::{v0, AddressLookupTableAccount, VersionedMessage},
    pubkey::Pubkey,
    signature::{Keypair, Signature},
    signer::Signer,
    transaction::{TransactionError, VersionedTransaction},
};
use solana_transaction_status_client_types::{
    option_serializer::OptionSerializer, UiTransactionEncoding,
};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// A cluster connection and the wallet that pays.
pub struct Rpc {
    client: RpcClient,
    payer: Keypair,
    commitment: CommitmentConfig,
    /// Compute units requested per transaction.
    pub compute_unit_limit: u32,
    /// Priority fee, micro-lamports per compute unit.
    pub compute_unit_price: u64,
    /// Attempts after the first when the blockhash expires.
    pub retries: usize,
}

/// `url`, `keypair path` and `commitment` from the Solana CLI config file, as `solana` reads them
/// (`~/.config/solana/cli/config.yml`), when it exists.
pub fn solana_cli_defaults() -> (Option<String>, Option<String>, Option<String>) {
    let Some(home) = std::env::var_os("HOME") else {
        return (None, None, None);
    };
    let path = Path::new(&home).join(".config/solana/cli/config.yml");
    let Ok(text) = std::fs::read_to_string(path) else {
        return (None, None, None);
    };
    parse_cli_config(&text)
}

/// `json_rpc_url`, `keypair_path` and `commitment` of a Solana CLI config file's text.
pub fn parse_cli_config(text: &str) -> (Option<String>, Option<String>, Option<String>) {
    let get = |key: &str| {
        text.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == key).then(|| v.trim().trim_matches(|c| c == '"' || c == '\'').to_string())
        })
    };
    (get("json_rpc_url"), get("keypair_path"), get("commitment"))
}

/// Reads a keypair file in the Solana CLI's JSON byte-array format.
pub fn read_keypair(path: &Path) -> Result<Keypair> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let bytes: Vec<u8> =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    Keypair::try_from(bytes.as_slice()).map_err(|e| anyhow!("{}: {e}", path.display()))
}

/// Events in `Program data:` log lines, as logged.
pub fn events_from_logs(logs: &[String]) -> Vec<Vec<u8>> {
    logs.iter()
        .filter_map(|l| l.strip_prefix("Program data: "))
        .filter_map(|d| B64.decode(d.split_whitespace().next()?).ok())
        .filter(|raw| AidxEvent::decode(raw).is_some())
        .collect()
}

fn outcome(err: Option<TransactionError>, logs: Vec<String>) -> TxResult {
    match err {
        None => {
            let raw = events_from_logs(&logs);
            Ok(TxOutcome {
                events: raw.iter().filter_map(|r| AidxEvent::decode(r)).collect(),
                raw_events: raw,
                logs,
            })
        }
        Some(error) => Err(TxFailure { error, logs }),
    }
}

impl Rpc {
    pub fn new(url: &str, payer: Keypair, commitment: &str) -> Result<Self> {
        let commitment = CommitmentConfig::from_str(commitment)
            .map_err(|e| anyhow!("commitment {commitment}: {e:?}"))?;
        Ok(Rpc {
            client: RpcClient::new_with_commitment(url.to_string(), commitment),
            payer,
            commitment,
            compute_unit_limit: 1_400_000,
            compute_unit_price: 0,
            retries: 3,
        })
    }

    fn with_budget(&self, ixs: &[Instruction]) -> Vec<Instruction> {
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
    ) -> Result<VersionedTransaction> {
        let blockhash = self.client.get_latest_blockhash().await?;
        let msg = v0::Message::try_compile(
            &self.payer.pubkey(),
            &self.with_budget(ixs),
            tables,
            blockhash,
        )?;
        let mut keys: Vec<&Keypair> = vec![&self.payer];
        for s in signers {
            if !keys.iter().any(|k| k.pubkey() == s.pubkey()) {
                keys.push(s);
            }
        }
        Ok(VersionedTransaction::try_new(
            VersionedMessage::V0(msg),
            &keys,
        )?)
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
        Ok(outcome(r.err.map(Into::into), r.logs.unwrap_or_default()))
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
            let tx = self.build(ixs, signers, tables).await?;
            if let Err(f) = self.simulate_tx(&tx).await? {
                return Ok(Err(f));
            }
            match self.client.send_and_confirm_transaction(&tx).await {
                Ok(sig) => {
                    let (err, logs) = self.logs_of(&sig).await?;
                    return Ok(outcome(err, logs));
                }
                Err(e)
                    if attempt < self.retries
                        && e.to_string().to_lowercase().contains("blockhash") =>
                {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(400 << attempt)).await;
                }
                Err(e) => bail!("sending failed: {e}"),
            }
        }
    }
}

impl Chain for Rpc {
    fn fee_payer(&self) -> Pubkey {
        self.payer.pubkey()
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
        let tx = self.build(ixs, signers, &[]).await?;
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
        let tx = self.build(ixs, signers, tables).await?;
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
                    solana_rpc_client::rpc_client::GetConfirmedSignaturesForAddress2Config {
                        before,
                        until: None,
                        limit: Some(1000),
                        commitment: Some(self.commitment),
                    },
                )
                .await?;
            if page.is_empty() {
                break;
            }
            before = Some(Signature::from_str(&page[page.len() - 1].signature)?);
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
                events.extend(events_from_logs(&logs));
            }
        }
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::Event;

    #[test]
    fn cli_config_is_read_like_the_solana_cli() {
        let text = "---\njson_rpc_url: \"http://127.0.0.1:8899\"\nwebsocket_url: \"\"\nkeypair_path: /root/.config/solana/id.json\naddress_labels:\n  \"11111111111111111111111111111111\": System Program\ncommitment: confirmed\n";
        let (url, key, c) = parse_cli_config(text);
        assert_eq!(url.as_deref(), Some("http://127.0.0.1:8899"));
        assert_eq!(key.as_deref(), Some("/root/.config/solana/id.json"));
        assert_eq!(c.as_deref(), Some("confirmed"));
    }

    #[test]
    fn events_come_from_program_data_lines() {
        let ev = aidx::events::ReviewOpened {
            index: Pubkey::new_unique(),
            at: 42,
        };
        let logs = vec![
            "Program log: Instruction: OpenReview".to_string(),
            format!("Program data: {}", B64.encode(ev.data())),
            "Program data: bm90IGFuIGV2ZW50".to_string(),
        ];
        let raw = events_from_logs(&logs);
        assert_eq!(raw, vec![ev.data()]);
        match outcome(None, logs) {
            Ok(o) => assert_eq!(o.events, vec![AidxEvent::ReviewOpened(ev)]),
            Err(f) => panic!("{f}"),
        }
    }
}
