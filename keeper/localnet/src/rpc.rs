//! The JSON-RPC 2.0 endpoint: parses requests (single or batch), hands each to the chain thread
//! and shapes the answers with the Solana crates' own response types. Every failure is a
//! JSON-RPC error (-32700 unparsable, -32600 not a request, -32601 unknown method, -32602 bad
//! params, -32002 preflight failure, -32003 signature failure); nothing stops the node.

use crate::chain::{Job, Node, LAMPORTS_PER_SIGNATURE};
use axum::{extract::State, routing::post, Json, Router};
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use serde_json::{json, Value};
use solana_account_decoder::{
    encode_ui_account,
    parse_account_data::{AccountAdditionalDataV3, SplTokenAdditionalDataV2},
};
use solana_account_decoder_client_types::{UiAccountEncoding, UiDataSliceConfig};
use solana_rpc_client_api::response::{
    RpcConfirmedTransactionStatusWithSignature, RpcSimulateTransactionResult,
};
use solana_sdk::{
    account::Account,
    hash::Hash,
    message::VersionedMessage,
    pubkey::Pubkey,
    rent::Rent,
    signature::Signature,
    transaction::{TransactionVersion, VersionedTransaction},
};
use solana_transaction_status_client_types::{
    option_serializer::OptionSerializer, EncodedConfirmedTransactionWithStatusMeta,
    EncodedTransaction, EncodedTransactionWithStatusMeta, TransactionBinaryEncoding,
    TransactionConfirmationStatus, TransactionStatus, UiCompiledInstruction, UiLoadedAddresses,
    UiMessage, UiRawMessage, UiTransaction, UiTransactionStatusMeta,
};
use std::str::FromStr;
use tokio::sync::{mpsc, oneshot};

/// The most requests one batch may carry.
pub const MAX_BATCH: usize = 100;
/// The largest request body accepted, bytes.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// A JSON-RPC error.
#[derive(Debug, Clone)]
pub struct RpcErr {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcErr {
    fn new(code: i64, message: impl Into<String>) -> Self {
        RpcErr {
            code,
            message: message.into(),
            data: None,
        }
    }
    pub(crate) fn params(message: impl Into<String>) -> Self {
        Self::new(-32602, message)
    }
    pub(crate) fn internal(e: impl std::fmt::Display) -> Self {
        Self::new(-32603, format!("internal error: {e}"))
    }
}

/// The HTTP routes: JSON-RPC on `/`, open to pages of any origin (as a validator's RPC is:
/// a web app on another port calls it from the browser).
pub fn router(jobs: mpsc::UnboundedSender<Job>) -> Router {
    Router::new()
        .route("/", post(handle))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::cors::CorsLayer::permissive())
        .with_state(jobs)
}

async fn handle(State(jobs): State<mpsc::UnboundedSender<Job>>, body: String) -> Json<Value> {
    let parsed: Value = match serde_json::from_str(&body) {
        Ok(v) => v,
        Err(e) => {
            return Json(error_reply(
                Value::Null,
                RpcErr::new(-32700, format!("parse error: {e}")),
            ))
        }
    };
    match parsed {
        Value::Array(reqs) => {
            if reqs.is_empty() || reqs.len() > MAX_BATCH {
                return Json(error_reply(
                    Value::Null,
                    RpcErr::new(-32600, format!("a batch carries 1 to {MAX_BATCH} requests")),
                ));
            }
            let mut out = vec![];
            for r in reqs {
                out.push(one(&jobs, r).await);
            }
            Json(Value::Array(out))
        }
        r => Json(one(&jobs, r).await),
    }
}

fn error_reply(id: Value, e: RpcErr) -> Value {
    let mut err = json!({"code": e.code, "message": e.message});
    if let Some(d) = e.data {
        err["data"] = d;
    }
    json!({"jsonrpc": "2.0", "id": id, "error": err})
}

async fn one(jobs: &mpsc::UnboundedSender<Job>, req: Value) -> Value {
    let id = req.get("id").cloned().unwrap_or(Value::Null);
    let Some(method) = req.get("method").and_then(Value::as_str) else {
        return error_reply(id, RpcErr::new(-32600, "invalid request: no method"));
    };
    let params = req.get("params").cloned().unwrap_or(Value::Array(vec![]));
    let (reply, rx) = oneshot::channel();
    if jobs
        .send(Job::Call {
            method: method.to_string(),
            params,
            reply,
        })
        .is_err()
    {
        return error_reply(id, RpcErr::new(-32603, "the node is shutting down"));
    }
    match rx.await {
        Ok(Ok(result)) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Ok(Err(e)) => error_reply(id, e),
        Err(_) => error_reply(id, RpcErr::new(-32603, "the node is shutting down")),
    }
}

fn param(params: &Value, i: usize) -> Option<&Value> {
    params.as_array().and_then(|a| a.get(i))
}

fn string_param<'a>(params: &'a Value, i: usize, what: &str) -> Result<&'a str, RpcErr> {
    param(params, i)
        .and_then(Value::as_str)
        .ok_or_else(|| RpcErr::params(format!("param {i}: expected {what} as a string")))
}

pub(crate) fn pubkey_param(params: &Value, i: usize) -> Result<Pubkey, RpcErr> {
    let s = string_param(params, i, "a public key")?;
    Pubkey::from_str(s).map_err(|e| RpcErr::params(format!("invalid public key {s}: {e}")))
}

fn config(params: &Value, i: usize) -> Option<&serde_json::Map<String, Value>> {
    param(params, i).and_then(Value::as_object)
}

pub(crate) fn context(slot: u64, value: Value) -> Value {
    json!({"context": {"slot": slot, "apiVersion": "3.1.12"}, "value": value})
}

/// `encoding` as the RPC spells it (base58, base64, base64+zstd, jsonParsed; binary).
fn account_encoding(encoding: &str) -> Result<UiAccountEncoding, RpcErr> {
    serde_json::from_value(json!(encoding))
        .map_err(|_| RpcErr::params(format!("unknown encoding {encoding}")))
}

/// An account in `encoding`, by the validators' own encoder (`solana-account-decoder`):
/// jsonParsed parses token mints and accounts (with the mint's decimals) and falls back to
/// base64 for the rest, as a validator does.
async fn encode_account(
    node: &mut Node,
    key: &Pubkey,
    a: &Account,
    format: &AccountFormat,
) -> Result<Value, RpcErr> {
    let enc = account_encoding(&format.encoding)?;
    let shown = match format.slice {
        Some(s) => a.data.len().saturating_sub(s.offset).min(s.length),
        None => a.data.len(),
    };
    if matches!(enc, UiAccountEncoding::Base58 | UiAccountEncoding::Binary) && shown > 128 {
        return Err(RpcErr::new(
            -32600,
            "encoded binary (base 58) data should be less than 128 bytes, please use Base64 encoding.",
        ));
    }
    let mut additional = None;
    if enc == UiAccountEncoding::JsonParsed && is_token_program(&a.owner) {
        if let Some((mint, _)) = token_account_fields(&a.data) {
            if let Ok((decimals, _)) = token_mint(node, &mint).await {
                additional = Some(AccountAdditionalDataV3 {
                    spl_token_additional_data: Some(SplTokenAdditionalDataV2 {
                        decimals,
                        ..Default::default()
                    }),
                });
            }
        }
    }
    serde_json::to_value(encode_ui_account(key, a, enc, additional, format.slice))
        .map_err(RpcErr::internal)
}

/// How an account method shows accounts: its `encoding` and `dataSlice` (a window of the
/// data, for the binary encodings, as a validator applies it).
struct AccountFormat {
    encoding: String,
    slice: Option<UiDataSliceConfig>,
}

/// The [`AccountFormat`] of config `params[i]`, `default` encoding when none is given.
fn account_format(params: &Value, i: usize, default: &str) -> Result<AccountFormat, RpcErr> {
    let slice = match config(params, i).and_then(|c| c.get("dataSlice")) {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            serde_json::from_value::<UiDataSliceConfig>(v.clone()).map_err(|e| {
                RpcErr::params(format!("dataSlice: expected {{offset, length}}: {e}"))
            })?,
        ),
    };
    Ok(AccountFormat {
        encoding: encoding_of(params, i, default),
        slice,
    })
}

/// An account as `UiAccount` JSON, base64 (PubSub notifications).
pub(crate) fn ui_account_json(key: &Pubkey, a: &Account) -> Result<Value, RpcErr> {
    serde_json::to_value(encode_ui_account(
        key,
        a,
        UiAccountEncoding::Base64,
        None,
        None,
    ))
    .map_err(RpcErr::internal)
}

fn decode_tx(params: &Value) -> Result<VersionedTransaction, RpcErr> {
    let encoded = string_param(params, 0, "an encoded transaction")?;
    let encoding = encoding_of(params, 1, "base58");
    let bytes = match encoding.as_str() {
        "base64" => B64
            .decode(encoded)
            .map_err(|e| RpcErr::params(format!("invalid base64 encoding: {e}")))?,
        "base58" => bs58::decode(encoded)
            .into_vec()
            .map_err(|e| RpcErr::params(format!("invalid base58 encoding: {e}")))?,
        other => return Err(RpcErr::params(format!("unsupported encoding: {other}"))),
    };
    if bytes.len() > aidx_client::tx::PACKET_DATA_SIZE {
        return Err(RpcErr::params(format!(
            "encoded transaction too large: {} bytes (max: {} bytes)",
            bytes.len(),
            aidx_client::tx::PACKET_DATA_SIZE
        )));
    }
    let tx: VersionedTransaction = bincode::deserialize(&bytes)
        .map_err(|e| RpcErr::params(format!("failed to deserialize VersionedTransaction: {e}")))?;
    // As a validator's sanitizer: one signature per required signer, at least the fee payer's.
    let required = tx.message.header().num_required_signatures as usize;
    if required == 0 || tx.signatures.len() != required {
        return Err(RpcErr::params(format!(
            "invalid transaction: {} signatures for {required} required signers",
            tx.signatures.len()
        )));
    }
    Ok(tx)
}

fn signature_param(params: &Value, i: usize) -> Result<Signature, RpcErr> {
    let s = string_param(params, i, "a signature")?;
    Signature::from_str(s).map_err(|e| RpcErr::params(format!("invalid signature {s}: {e}")))
}

/// Answers one method on the chain thread.
pub async fn dispatch(node: &mut Node, method: &str, params: Value) -> Result<Value, RpcErr> {
    let slot = node.slot().await.map_err(RpcErr::internal)?;
    Ok(match method {
        "getHealth" => json!("ok"),
        "getVersion" => json!({"solana-core": "3.1.12", "feature-set": 0}),
        "getGenesisHash" => json!(node.genesis.to_string()),
        "getSlot" | "getBlockHeight" => json!(slot),
        "getEpochInfo" => crate::cheat::epoch_info(node).await?,
        "surfnet_setAccount" => crate::cheat::set_account(node, &params).await?,
        "surfnet_timeTravel" => crate::cheat::time_travel(node, &params).await?,
        "getLatestBlockhash" => {
            let (hash, first) = node.latest_blockhash().await.map_err(RpcErr::internal)?;
            context(
                slot,
                json!({"blockhash": hash.to_string(),
                       "lastValidBlockHeight": first.saturating_add(crate::chain::MAX_BLOCKHASH_AGE_SLOTS)}),
            )
        }
        "isBlockhashValid" => {
            let s = string_param(&params, 0, "a blockhash")?;
            let hash = Hash::from_str(s)
                .map_err(|e| RpcErr::params(format!("invalid blockhash {s}: {e}")))?;
            let valid = node
                .blockhash_is_valid(&hash)
                .await
                .map_err(RpcErr::internal)?;
            context(slot, json!(valid))
        }
        "getMinimumBalanceForRentExemption" => {
            let len = param(&params, 0)
                .and_then(Value::as_u64)
                .ok_or_else(|| RpcErr::params("param 0: expected a data length"))?;
            // An account holds at most 10 MiB (MAX_PERMITTED_DATA_LENGTH).
            if len > 10 * 1024 * 1024 {
                return Err(RpcErr::params(format!(
                    "data length {len} is larger than an account can hold (10485760)"
                )));
            }
            json!(Rent::default().minimum_balance(len as usize))
        }
        "getFeeForMessage" => {
            let s = string_param(&params, 0, "a base64 message")?;
            let bytes = B64
                .decode(s)
                .map_err(|e| RpcErr::params(format!("invalid base64 encoding: {e}")))?;
            let m: VersionedMessage = bincode::deserialize(&bytes)
                .map_err(|e| RpcErr::params(format!("failed to deserialize message: {e}")))?;
            let n = m.header().num_required_signatures as u64;
            context(slot, json!(n * LAMPORTS_PER_SIGNATURE))
        }
        "getRecentPrioritizationFees" => json!([]),
        "getBalance" => {
            let key = pubkey_param(&params, 0)?;
            let a = node.chain.account(&key).await.map_err(RpcErr::internal)?;
            context(slot, json!(a.map_or(0, |a| a.lamports)))
        }
        "getAccountInfo" => {
            let key = pubkey_param(&params, 0)?;
            let format = account_format(&params, 1, "base58")?;
            let a = node.chain.account(&key).await.map_err(RpcErr::internal)?;
            let v = match a {
                Some(a) => encode_account(node, &key, &a, &format).await?,
                None => Value::Null,
            };
            context(slot, v)
        }
        "getMultipleAccounts" => {
            let keys = param(&params, 0)
                .and_then(Value::as_array)
                .ok_or_else(|| RpcErr::params("param 0: expected an array of public keys"))?;
            if keys.len() > 100 {
                return Err(RpcErr::params("too many public keys (max 100)"));
            }
            let format = account_format(&params, 1, "base64")?;
            let mut out = vec![];
            for k in keys {
                let s = k
                    .as_str()
                    .ok_or_else(|| RpcErr::params("expected a public key"))?;
                let key = Pubkey::from_str(s)
                    .map_err(|e| RpcErr::params(format!("invalid public key {s}: {e}")))?;
                out.push(
                    match node.chain.account(&key).await.map_err(RpcErr::internal)? {
                        Some(a) => encode_account(node, &key, &a, &format).await?,
                        None => Value::Null,
                    },
                );
            }
            context(slot, Value::Array(out))
        }
        "requestAirdrop" => {
            let to = pubkey_param(&params, 0)?;
            let lamports = param(&params, 1)
                .and_then(Value::as_u64)
                .ok_or_else(|| RpcErr::params("param 1: expected lamports"))?;
            let payer = node.chain.payer().insecure_clone();
            let (hash, _) = node.latest_blockhash().await.map_err(RpcErr::internal)?;
            let tx = solana_sdk::transaction::Transaction::new_signed_with_payer(
                &[anchor_system_transfer(
                    &solana_sdk::signer::Signer::pubkey(&payer),
                    &to,
                    lamports,
                )],
                Some(&solana_sdk::signer::Signer::pubkey(&payer)),
                &[&payer],
                hash,
            );
            let (sig, r) = node
                .process(tx.into(), None)
                .await
                .map_err(RpcErr::internal)?;
            r.map_err(|f| RpcErr::new(-32603, format!("airdrop failed: {f}")))?;
            json!(sig.to_string())
        }
        "simulateTransaction" => {
            let tx = decode_tx(&params)?;
            let cfg = config(&params, 1);
            let sig_verify = cfg
                .and_then(|c| c.get("sigVerify"))
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if sig_verify && !tx.verify_with_results().iter().all(|ok| *ok) {
                return Err(RpcErr::new(
                    -32003,
                    "Transaction signature verification failure",
                ));
            }
            let r = node
                .chain
                .simulate_versioned(tx)
                .await
                .map_err(|e| RpcErr::params(format!("{e}")))?;
            context(slot, simulation(r, node.chain.last_units_consumed))
        }
        "sendTransaction" => {
            let tx = decode_tx(&params)?;
            if !tx.verify_with_results().iter().all(|ok| *ok) {
                return Err(RpcErr::new(
                    -32003,
                    "Transaction signature verification failure",
                ));
            }
            let skip_preflight = config(&params, 1)
                .and_then(|c| c.get("skipPreflight"))
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let blockhash_ok = node
                .blockhash_is_valid(tx.message.recent_blockhash())
                .await
                .map_err(RpcErr::internal)?;
            // Sent again (a client retrying after a lost answer): never processed twice. As on
            // a validator, an expired blockhash is named before an already processed signature
            // (preflight below); without preflight it is dropped.
            if blockhash_ok && node.txs.contains_key(&tx.signatures[0]) {
                if skip_preflight {
                    return Ok(json!(tx.signatures[0].to_string()));
                }
                let data = simulation(
                    Err(aidx_client::TxFailure {
                        error: solana_sdk::transaction::TransactionError::AlreadyProcessed,
                        logs: vec![],
                    }),
                    0,
                );
                return Err(RpcErr {
                    code: -32002,
                    message:
                        "Transaction simulation failed: This transaction has already been processed"
                            .into(),
                    data: Some(data),
                });
            }
            if !skip_preflight {
                let failure = if !blockhash_ok {
                    Some(simulation(
                        Err(aidx_client::TxFailure {
                            error: solana_sdk::transaction::TransactionError::BlockhashNotFound,
                            logs: vec![],
                        }),
                        0,
                    ))
                } else {
                    let r = node
                        .chain
                        .simulate_versioned(tx.clone())
                        .await
                        .map_err(|e| RpcErr::params(format!("{e}")))?;
                    r.is_err()
                        .then(|| simulation(r, node.chain.last_units_consumed))
                };
                if let Some(data) = failure {
                    let err = data["err"].clone();
                    return Err(RpcErr {
                        code: -32002,
                        message: format!("Transaction simulation failed: {err}"),
                        data: Some(data),
                    });
                }
            } else if !blockhash_ok {
                // A cluster drops it: it never lands.
                return Ok(json!(tx.signatures[0].to_string()));
            }
            // The preflight just ran it on the same state: its inner instructions are this
            // transaction's.
            let inner =
                (!skip_preflight).then(|| std::mem::take(&mut node.chain.last_inner_instructions));
            let (sig, _) = node.process(tx, inner).await.map_err(RpcErr::internal)?;
            json!(sig.to_string())
        }
        "getSignatureStatuses" => {
            let sigs = param(&params, 0)
                .and_then(Value::as_array)
                .ok_or_else(|| RpcErr::params("param 0: expected an array of signatures"))?;
            if sigs.len() > 256 {
                return Err(RpcErr::params("too many signatures (max 256)"));
            }
            let mut out = vec![];
            for s in sigs {
                let s = s
                    .as_str()
                    .ok_or_else(|| RpcErr::params("expected a signature"))?;
                let sig = Signature::from_str(s)
                    .map_err(|e| RpcErr::params(format!("invalid signature {s}: {e}")))?;
                out.push(match node.txs.get(&sig) {
                    Some(r) => serde_json::to_value(TransactionStatus {
                        slot: r.slot,
                        confirmations: None,
                        status: r.err.clone().map_or(Ok(()), Err),
                        err: r.err.clone(),
                        confirmation_status: Some(TransactionConfirmationStatus::Finalized),
                    })
                    .map_err(RpcErr::internal)?,
                    None => Value::Null,
                });
            }
            context(slot, Value::Array(out))
        }
        "getTransaction" => {
            let sig = signature_param(&params, 0)?;
            let cfg = config(&params, 1);
            let encoding = encoding_of(&params, 1, "json");
            let max_version = cfg
                .and_then(|c| c.get("maxSupportedTransactionVersion"))
                .and_then(Value::as_u64);
            match node.txs.get(&sig) {
                None => Value::Null,
                Some(r) => {
                    let v0 = matches!(r.tx.message, VersionedMessage::V0(_));
                    if v0 && max_version.is_none() {
                        return Err(RpcErr::new(
                            -32015,
                            "Transaction version (0) is not supported by the requesting client. Please try the request again with the following configuration parameter: \"maxSupportedTransactionVersion\": 0",
                        ));
                    }
                    serde_json::to_value(encoded(r, &encoding, v0)?).map_err(RpcErr::internal)?
                }
            }
        }
        "getSignaturesForAddress" => {
            let key = pubkey_param(&params, 0)?;
            let cfg = config(&params, 1);
            let limit = cfg
                .and_then(|c| c.get("limit"))
                .and_then(Value::as_u64)
                .unwrap_or(1000);
            if limit == 0 || limit > 1000 {
                return Err(RpcErr::params("Invalid limit; max 1000"));
            }
            let sig_of = |k: &str| -> Result<Option<Signature>, RpcErr> {
                match cfg.and_then(|c| c.get(k)).and_then(Value::as_str) {
                    None => Ok(None),
                    Some(s) => Signature::from_str(s)
                        .map(Some)
                        .map_err(|e| RpcErr::params(format!("invalid {k} signature {s}: {e}"))),
                }
            };
            let (before, until) = (sig_of("before")?, sig_of("until")?);
            let mut out = vec![];
            let list = node.by_address.get(&key).cloned().unwrap_or_default();
            let mut started = before.is_none();
            for sig in list.iter().rev() {
                if !started {
                    started = Some(*sig) == before;
                    continue;
                }
                if Some(*sig) == until || out.len() as u64 >= limit {
                    break;
                }
                let r = &node.txs[sig];
                out.push(RpcConfirmedTransactionStatusWithSignature {
                    signature: sig.to_string(),
                    slot: r.slot,
                    err: r.err.clone().map(Into::into),
                    memo: None,
                    block_time: Some(r.block_time),
                    confirmation_status: Some(TransactionConfirmationStatus::Finalized),
                });
            }
            serde_json::to_value(out).map_err(RpcErr::internal)?
        }
        "getTokenAccountBalance" => {
            let key = pubkey_param(&params, 0)?;
            let (mint, amount) = token_account(node, &key).await?;
            let (decimals, _) = token_mint(node, &mint).await?;
            context(slot, json!(ui_token_amount(amount, decimals)))
        }
        "getTokenSupply" => {
            let mint = pubkey_param(&params, 0)?;
            let (decimals, supply) = token_mint(node, &mint).await?;
            context(slot, json!(ui_token_amount(supply, decimals)))
        }
        "getTokenAccountsByOwner" => {
            let owner = pubkey_param(&params, 0)?;
            let filter = config(&params, 1).ok_or_else(|| {
                RpcErr::params("param 1: expected {\"mint\": ..} or {\"programId\": ..}")
            })?;
            let key_of = |k: &str| -> Result<Option<Pubkey>, RpcErr> {
                match filter.get(k).and_then(Value::as_str) {
                    None => Ok(None),
                    Some(s) => Pubkey::from_str(s)
                        .map(Some)
                        .map_err(|e| RpcErr::params(format!("invalid {k} {s}: {e}"))),
                }
            };
            let (mint, program) = (key_of("mint")?, key_of("programId")?);
            if mint.is_none() && program.is_none() {
                return Err(RpcErr::params("expected a mint or a programId filter"));
            }
            let format = account_format(&params, 2, "base64")?;
            let mut out = vec![];
            for key in node.chain.known_keys() {
                let Some(a) = node.chain.account(&key).await.map_err(RpcErr::internal)? else {
                    continue;
                };
                if !is_token_program(&a.owner) || program.is_some_and(|p| p != a.owner) {
                    continue;
                }
                let Some((m, o)) = token_account_fields(&a.data) else {
                    continue;
                };
                if o != owner || mint.is_some_and(|x| x != m) {
                    continue;
                }
                let account = encode_account(node, &key, &a, &format).await?;
                out.push(json!({"pubkey": key.to_string(), "account": account}));
            }
            context(slot, Value::Array(out))
        }
        "getProgramAccounts" => {
            let program = pubkey_param(&params, 0)?;
            let cfg = config(&params, 1);
            let format = account_format(&params, 1, "base58")?;
            let filters = cfg
                .and_then(|c| c.get("filters"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let filters = filters
                .iter()
                .map(Filter::parse)
                .collect::<Result<Vec<_>, _>>()?;
            let mut out = vec![];
            for key in node.chain.known_keys() {
                let Some(a) = node.chain.account(&key).await.map_err(RpcErr::internal)? else {
                    continue;
                };
                if a.owner != program || !filters.iter().all(|f| f.matches(&a.data)) {
                    continue;
                }
                let account = encode_account(node, &key, &a, &format).await?;
                out.push(json!({"pubkey": key.to_string(), "account": account}));
            }
            let with_context = cfg
                .and_then(|c| c.get("withContext"))
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if with_context {
                context(slot, Value::Array(out))
            } else {
                Value::Array(out)
            }
        }
        other => return Err(RpcErr::new(-32601, format!("Method not found: {other}"))),
    })
}

/// The `encoding` of config `params[i]`, or `default`.
fn encoding_of(params: &Value, i: usize, default: &str) -> String {
    config(params, i)
        .and_then(|c| c.get("encoding"))
        .and_then(Value::as_str)
        .unwrap_or(default)
        .to_string()
}

/// A `getProgramAccounts` filter.
enum Filter {
    DataSize(usize),
    Memcmp { offset: usize, bytes: Vec<u8> },
}

impl Filter {
    fn parse(v: &Value) -> Result<Filter, RpcErr> {
        if let Some(n) = v.get("dataSize").and_then(Value::as_u64) {
            return Ok(Filter::DataSize(n as usize));
        }
        let m = v
            .get("memcmp")
            .ok_or_else(|| RpcErr::params(format!("unknown filter {v}")))?;
        let offset =
            m.get("offset")
                .and_then(Value::as_u64)
                .ok_or_else(|| RpcErr::params("memcmp: expected an offset"))? as usize;
        let s = m
            .get("bytes")
            .and_then(Value::as_str)
            .ok_or_else(|| RpcErr::params("memcmp: expected bytes"))?;
        let bytes = match m
            .get("encoding")
            .and_then(Value::as_str)
            .unwrap_or("base58")
        {
            "base58" => bs58::decode(s)
                .into_vec()
                .map_err(|e| RpcErr::params(format!("memcmp: invalid base58: {e}")))?,
            "base64" => B64
                .decode(s)
                .map_err(|e| RpcErr::params(format!("memcmp: invalid base64: {e}")))?,
            other => return Err(RpcErr::params(format!("memcmp: unknown encoding {other}"))),
        };
        if bytes.len() > 128 {
            return Err(RpcErr::params("memcmp: at most 128 bytes"));
        }
        Ok(Filter::Memcmp { offset, bytes })
    }

    fn matches(&self, data: &[u8]) -> bool {
        match self {
            Filter::DataSize(n) => data.len() == *n,
            Filter::Memcmp { offset, bytes } => data
                .get(*offset..offset.saturating_add(bytes.len()))
                .is_some_and(|d| d == bytes.as_slice()),
        }
    }
}

pub(crate) fn is_token_program(p: &Pubkey) -> bool {
    *p == aidx_client::TOKEN_PROGRAM_ID || *p == aidx_client::TOKEN_2022_PROGRAM_ID
}

/// `(mint, owner)` of a token account of either program.
fn token_account_fields(data: &[u8]) -> Option<(Pubkey, Pubkey)> {
    use anchor_spl::token_2022::spl_token_2022::{extension::StateWithExtensions, state::Account};
    let a = StateWithExtensions::<Account>::unpack(data).ok()?;
    Some((a.base.mint, a.base.owner))
}

/// The data of `key` if a token program owns it, or the cluster's error naming `what`.
async fn token_data(node: &mut Node, key: &Pubkey, what: &str) -> Result<Vec<u8>, RpcErr> {
    node.chain
        .account(key)
        .await
        .map_err(RpcErr::internal)?
        .filter(|a| is_token_program(&a.owner))
        .map(|a| a.data)
        .ok_or_else(|| RpcErr::params(format!("Invalid param: could not find {what} {key}")))
}

/// `(mint, amount)` of a token account of either program.
async fn token_account(node: &mut Node, key: &Pubkey) -> Result<(Pubkey, u64), RpcErr> {
    use anchor_spl::token_2022::spl_token_2022::{extension::StateWithExtensions, state::Account};
    let data = token_data(node, key, "account").await?;
    let t = StateWithExtensions::<Account>::unpack(&data)
        .map_err(|_| RpcErr::params(format!("Invalid param: not a Token account {key}")))?;
    Ok((t.base.mint, t.base.amount))
}

/// `(decimals, supply)` of a mint of either program.
pub(crate) async fn token_mint(node: &mut Node, key: &Pubkey) -> Result<(u8, u64), RpcErr> {
    use anchor_spl::token_2022::spl_token_2022::{extension::StateWithExtensions, state::Mint};
    let data = token_data(node, key, "mint").await?;
    let m = StateWithExtensions::<Mint>::unpack(&data)
        .map_err(|_| RpcErr::params(format!("Invalid param: not a Token mint {key}")))?;
    Ok((m.base.decimals, m.base.supply))
}

/// A token amount as clusters show it, by the validators' own formatter.
pub(crate) fn ui_token_amount(amount: u64, decimals: u8) -> Value {
    json!(ui_amount(amount, decimals))
}

pub(crate) fn ui_amount(
    amount: u64,
    decimals: u8,
) -> solana_account_decoder_client_types::token::UiTokenAmount {
    solana_account_decoder::parse_token::token_amount_to_ui_amount_v3(
        amount,
        &SplTokenAdditionalDataV2 {
            decimals,
            ..Default::default()
        },
    )
}

/// Inner instructions as a validator reports them: per instruction that invoked any, its
/// index and the compiled instructions with their stack heights.
fn inner_instructions(
    inner: &[Vec<(
        solana_sdk::message::compiled_instruction::CompiledInstruction,
        u8,
    )>],
) -> Vec<solana_transaction_status_client_types::UiInnerInstructions> {
    inner
        .iter()
        .enumerate()
        .filter(|(_, list)| !list.is_empty())
        .map(|(i, list)| {
            solana_transaction_status_client_types::InnerInstructions {
                index: i as u8,
                instructions: list
                    .iter()
                    .map(
                        |(ix, height)| solana_transaction_status_client_types::InnerInstruction {
                            instruction: ix.clone(),
                            stack_height: Some(*height as u32),
                        },
                    )
                    .collect(),
            }
            .into()
        })
        .collect()
}

/// Token balances as a validator reports them.
fn token_balances(
    balances: &[crate::chain::TokenBalance],
) -> Vec<solana_transaction_status_client_types::UiTransactionTokenBalance> {
    balances
        .iter()
        .map(|b| {
            solana_transaction_status_client_types::TransactionTokenBalance {
                account_index: b.index,
                mint: b.mint.to_string(),
                ui_token_amount: ui_amount(b.amount, b.decimals),
                owner: b.owner.to_string(),
                program_id: b.program.to_string(),
            }
            .into()
        })
        .collect()
}

/// A simulation's result as a cluster reports it.
fn simulation(r: aidx_client::TxResult, units: u64) -> Value {
    let (err, logs) = match r {
        Ok(o) => (None, o.logs),
        Err(f) => (Some(f.error.into()), f.logs),
    };
    serde_json::to_value(RpcSimulateTransactionResult {
        err,
        logs: Some(logs),
        accounts: None,
        units_consumed: Some(units),
        loaded_accounts_data_size: None,
        return_data: None,
        inner_instructions: None,
        replacement_blockhash: None,
        fee: None,
        pre_balances: None,
        post_balances: None,
        pre_token_balances: None,
        post_token_balances: None,
        loaded_addresses: None,
    })
    .expect("a simulation result serializes")
}

/// A recorded transaction in `encoding` (json or base64) with its status meta.
fn encoded(
    r: &crate::chain::Record,
    encoding: &str,
    v0: bool,
) -> Result<EncodedConfirmedTransactionWithStatusMeta, RpcErr> {
    let transaction = match encoding {
        "base64" => EncodedTransaction::Binary(
            B64.encode(bincode::serialize(&r.tx).map_err(RpcErr::internal)?),
            TransactionBinaryEncoding::Base64,
        ),
        "json" => {
            let m = &r.tx.message;
            EncodedTransaction::Json(UiTransaction {
                signatures: r.tx.signatures.iter().map(|s| s.to_string()).collect(),
                message: UiMessage::Raw(UiRawMessage {
                    header: *m.header(),
                    account_keys: m
                        .static_account_keys()
                        .iter()
                        .map(|k| k.to_string())
                        .collect(),
                    recent_blockhash: m.recent_blockhash().to_string(),
                    instructions: m
                        .instructions()
                        .iter()
                        .map(|i| UiCompiledInstruction::from(i, Some(1)))
                        .collect(),
                    address_table_lookups: m
                        .address_table_lookups()
                        .map(|ls| ls.iter().map(Into::into).collect()),
                }),
            })
        }
        other => {
            return Err(RpcErr::params(format!(
                "encoding {other} is not served by this node yet (json, base64)"
            )))
        }
    };
    let err = r.err.clone().map(Into::into);
    let meta = UiTransactionStatusMeta {
        err: err.clone(),
        status: err.map_or(Ok(()), Err),
        fee: r.fee,
        pre_balances: r.pre_balances.clone(),
        post_balances: r.post_balances.clone(),
        inner_instructions: OptionSerializer::Some(inner_instructions(&r.inner)),
        log_messages: OptionSerializer::Some(r.logs.clone()),
        pre_token_balances: OptionSerializer::Some(token_balances(&r.pre_token)),
        post_token_balances: OptionSerializer::Some(token_balances(&r.post_token)),
        rewards: OptionSerializer::None,
        loaded_addresses: if v0 {
            OptionSerializer::Some(UiLoadedAddresses {
                writable: r.loaded.0.iter().map(|k| k.to_string()).collect(),
                readonly: r.loaded.1.iter().map(|k| k.to_string()).collect(),
            })
        } else {
            OptionSerializer::Skip
        },
        return_data: OptionSerializer::Skip,
        compute_units_consumed: OptionSerializer::Some(r.units),
        cost_units: OptionSerializer::Skip,
    };
    Ok(EncodedConfirmedTransactionWithStatusMeta {
        slot: r.slot,
        transaction: EncodedTransactionWithStatusMeta {
            transaction,
            meta: Some(meta),
            version: Some(if v0 {
                TransactionVersion::Number(0)
            } else {
                TransactionVersion::LEGACY
            }),
        },
        block_time: Some(r.block_time),
    })
}

fn anchor_system_transfer(
    from: &Pubkey,
    to: &Pubkey,
    lamports: u64,
) -> solana_sdk::instruction::Instruction {
    anchor_lang::solana_program::system_instruction::transfer(from, to, lamports)
}
