//! Development methods beyond a cluster's, named and shaped as surfpool's cheatcodes so that
//! clients written for surfpool work here too: `surfnet_setAccount` writes an account (a Pyth
//! price update, a funded wallet), `surfnet_timeTravel` moves the clock forward to an absolute
//! slot or unix time (milliseconds, as surfpool takes it). A cluster has neither; the keeper
//! uses them through [`aidx_client::dev::DevChain`] to run the demo over JSON-RPC.

use crate::chain::Node;
use crate::rpc::RpcErr;
use serde_json::{json, Value};
use solana_sdk::{account::Account, pubkey::Pubkey};
use std::str::FromStr;

/// `surfnet_setAccount [pubkey, {lamports?, data? (hex), owner?, executable?, rentEpoch?}]`:
/// the fields given replace the account's (a new account starts empty, owned by the system
/// program).
pub async fn set_account(node: &mut Node, params: &Value) -> Result<Value, RpcErr> {
    let key = crate::rpc::pubkey_param(params, 0)?;
    let update = params
        .get(1)
        .and_then(Value::as_object)
        .ok_or_else(|| RpcErr::params("param 1: expected an account update object"))?;
    let mut account = node
        .chain
        .account(&key)
        .await
        .map_err(RpcErr::internal)?
        .unwrap_or_else(|| Account::new(0, 0, &anchor_lang::system_program::ID));
    for (field, v) in update {
        let bad = || RpcErr::params(format!("{field}: invalid value {v}"));
        match field.as_str() {
            "lamports" => account.lamports = v.as_u64().ok_or_else(bad)?,
            "data" => {
                account.data = hex::decode(v.as_str().ok_or_else(bad)?)
                    .map_err(|e| RpcErr::params(format!("data: invalid hex: {e}")))?
            }
            "owner" => {
                account.owner = Pubkey::from_str(v.as_str().ok_or_else(bad)?)
                    .map_err(|e| RpcErr::params(format!("owner: {e}")))?
            }
            "executable" => account.executable = v.as_bool().ok_or_else(bad)?,
            "rentEpoch" => account.rent_epoch = v.as_u64().ok_or_else(bad)?,
            other => return Err(RpcErr::params(format!("unknown account field {other}"))),
        }
    }
    let slot = node.slot().await.map_err(RpcErr::internal)?;
    node.chain.set_account(&key, account.clone());
    if let Ok(ui) = crate::rpc::ui_account_json(&key, &account) {
        let _ = node.notices.send(crate::pubsub::Notice::Account {
            key,
            slot,
            account: ui,
        });
    }
    Ok(crate::rpc::context(slot, Value::Null))
}

/// `surfnet_timeTravel [{absoluteSlot | absoluteTimestamp (ms)}]`: forward only (a target in
/// the past is refused by name); answers the epoch info after the move.
pub async fn time_travel(node: &mut Node, params: &Value) -> Result<Value, RpcErr> {
    let target = params
        .get(0)
        .and_then(Value::as_object)
        .ok_or_else(|| RpcErr::params("param 0: expected {absoluteSlot} or {absoluteTimestamp}"))?;
    let clock = node.chain.clock().await.map_err(RpcErr::internal)?;
    if let Some(v) = target.get("absoluteSlot") {
        let to = v
            .as_u64()
            .ok_or_else(|| RpcErr::params("absoluteSlot: expected a slot"))?;
        if to <= clock.slot {
            return Err(RpcErr::params(format!(
                "absoluteSlot {to} is not after the current slot {}",
                clock.slot
            )));
        }
        node.chain
            .ctx
            .warp_to_slot(to)
            .map_err(|e| RpcErr::internal(format!("warp: {e:?}")))?;
        let _ = node.notices.send(crate::pubsub::Notice::Slot(to));
    } else if let Some(v) = target.get("absoluteTimestamp") {
        let ms = v
            .as_u64()
            .ok_or_else(|| RpcErr::params("absoluteTimestamp: expected milliseconds"))?;
        let to =
            i64::try_from(ms / 1000).map_err(|_| RpcErr::params("absoluteTimestamp: too large"))?;
        if to < clock.unix_timestamp {
            return Err(RpcErr::params(format!(
                "absoluteTimestamp {ms} ms is before the clock ({} s): time only moves forward",
                clock.unix_timestamp
            )));
        }
        node.chain
            .set_unix_timestamp(to)
            .await
            .map_err(RpcErr::internal)?;
        node.clock_base = (std::time::Instant::now(), to);
    } else {
        return Err(RpcErr::params(
            "expected absoluteSlot or absoluteTimestamp (absoluteEpoch is not supported: one epoch here)",
        ));
    }
    epoch_info(node).await
}

/// The epoch info as `getEpochInfo` answers it.
pub async fn epoch_info(node: &mut Node) -> Result<Value, RpcErr> {
    let slot = node.slot().await.map_err(RpcErr::internal)?;
    Ok(json!({
        "absoluteSlot": slot, "blockHeight": slot, "epoch": 0, "slotIndex": slot,
        "slotsInEpoch": 432_000, "transactionCount": node.txs.len()
    }))
}
