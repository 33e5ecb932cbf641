//! Development methods beyond a cluster's, named and shaped as surfpool's cheatcodes so that
//! clients written for surfpool work here too: `surfnet_setAccount` writes an account (a Pyth
//! price update, a funded wallet), `surfnet_timeTravel` moves the clock forward to an absolute
//! slot or unix time (milliseconds, as surfpool takes it; never back). A cluster has neither; the keeper
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

/// The farthest one `surfnet_timeTravel` moves the slot: a little over two epochs.
pub const MAX_SLOT_JUMP: u64 = 1_000_000;

/// `surfnet_timeTravel [{absoluteSlot | absoluteTimestamp (ms)}]`: moves forward to the target;
/// a target not ahead changes nothing (as surfpool: the clock never goes back, and a retried
/// request is harmless); a slot more than [`MAX_SLOT_JUMP`] ahead is refused by name. Answers
/// the epoch info after the move.
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
        if to > clock.slot.saturating_add(MAX_SLOT_JUMP) {
            return Err(RpcErr::params(format!(
                "absoluteSlot {to} is more than {MAX_SLOT_JUMP} slots after the current slot {}",
                clock.slot
            )));
        }
        if to > clock.slot {
            node.chain
                .ctx
                .warp_to_slot(to)
                .map_err(|e| RpcErr::internal(format!("warp: {e:?}")))?;
            let _ = node.notices.send(crate::pubsub::Notice::Slot(to));
        }
    } else if let Some(v) = target.get("absoluteTimestamp") {
        let ms = v
            .as_u64()
            .ok_or_else(|| RpcErr::params("absoluteTimestamp: expected milliseconds"))?;
        let to =
            i64::try_from(ms / 1000).map_err(|_| RpcErr::params("absoluteTimestamp: too large"))?;
        if to > clock.unix_timestamp {
            node.chain
                .set_unix_timestamp(to)
                .await
                .map_err(RpcErr::internal)?;
            node.clock_base = (std::time::Instant::now(), to);
        }
    } else {
        return Err(RpcErr::params(
            "expected absoluteSlot or absoluteTimestamp (absoluteEpoch is not supported)",
        ));
    }
    epoch_info(node).await
}

/// The epoch info as `getEpochInfo` answers it, from the runtime's epoch schedule.
pub async fn epoch_info(node: &mut Node) -> Result<Value, RpcErr> {
    let slot = node.slot().await.map_err(RpcErr::internal)?;
    let schedule = &node.chain.ctx.genesis_config().epoch_schedule;
    let (epoch, slot_index) = schedule.get_epoch_and_slot_index(slot);
    Ok(json!({
        "absoluteSlot": slot, "blockHeight": slot, "epoch": epoch, "slotIndex": slot_index,
        "slotsInEpoch": schedule.get_slots_in_epoch(epoch), "transactionCount": node.txs.len()
    }))
}
