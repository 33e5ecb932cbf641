//! The index's history replayed from its events alone: what an auditor compares with the
//! state. Every payload must be an aidx event; every row, mint and amount an event names must
//! fit what the events before it built. Anything else is a named [`ReplayError`], never a
//! panic; sums are checked.

use crate::events::{AidxEvent, EventError};
use aidx::state::IndexParams;
use anchor_lang::prelude::Pubkey;

/// The index as its events describe it.
#[derive(Debug, Default, PartialEq)]
pub struct Replayed {
    /// Constituent mints, table order.
    pub mints: Vec<Pubkey>,
    /// Internal balances, raw units, table order.
    pub balances: Vec<u64>,
    /// precision: WEIGHT_SCALE. Targets, table order.
    pub targets: Vec<u64>,
    /// Raw shares.
    pub share_supply: u64,
    /// The parameters, once the index is initialized.
    pub params: Option<IndexParams>,
    /// Pause flags.
    pub paused: u8,
    /// Fee shares paid in, less claimed.
    pub fee_shares: u64,
    /// Which rows are quarantined, table order.
    pub quarantined: Vec<bool>,
    /// Which rows are members (admitted by a review), table order.
    pub members: Vec<bool>,
    /// Which rows are winding down, table order.
    pub winding_down: Vec<bool>,
    /// The last review's event: its prices and posted inputs (ranks) for the audit.
    pub last_review: Option<aidx::events::TargetsRecomputed>,
    /// Rows written off, in order: what each share's claim on them was.
    pub written_off: Vec<WrittenOff>,
}

/// A row written off: the claim recorded when it left the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenOff {
    /// The row's mint.
    pub mint: Pubkey,
    /// The vault that keeps the tokens.
    pub vault: Pubkey,
    /// Raw units the index held of it...
    pub balance: u64,
    /// ...against this many raw shares.
    pub share_supply: u64,
    /// Unix time.
    pub at: i64,
}

/// Why the event log cannot be replayed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    /// A payload in the log is not an aidx event (foreign, truncated or corrupt data).
    #[error("event {position}: {source}")]
    Undecodable {
        /// Its position in the log, from 0.
        position: usize,
        /// Why it does not decode.
        source: EventError,
    },
    /// An event names a table row the replay does not have.
    #[error("event {position} ({event}) names row {row}, but the replayed table has {rows} rows")]
    UnknownRow {
        /// Its position in the log.
        position: usize,
        /// The event's name.
        event: &'static str,
        /// The row it names.
        row: usize,
        /// Rows replayed so far.
        rows: usize,
    },
    /// An event names a mint no `ConstituentAdded` before it added.
    #[error("event {position} ({event}) names mint {mint}, which no earlier event added")]
    UnknownMint {
        /// Its position in the log.
        position: usize,
        /// The event's name.
        event: &'static str,
        /// The mint it names.
        mint: Pubkey,
    },
    /// The history does not begin with the index's `IndexInitialized`: it is incomplete (a
    /// node started from a saved state serves only what it processed itself).
    #[error("the history is incomplete: its first event for the index, at {position}, is {event}, not IndexInitialized")]
    Incomplete {
        /// Its position in the log.
        position: usize,
        /// The event's name.
        event: &'static str,
    },
    /// An event carries a balance per row for another number of rows.
    #[error("event {position} ({event}) carries {got} balances for {rows} rows")]
    RowCount {
        /// Its position in the log.
        position: usize,
        /// The event's name.
        event: &'static str,
        /// Balances it carries.
        got: usize,
        /// Rows replayed so far.
        rows: usize,
    },
    /// Applying an event would overflow or go below zero.
    #[error("event {position} ({event}) takes the replayed {what} out of range")]
    OutOfRange {
        /// Its position in the log.
        position: usize,
        /// The event's name.
        event: &'static str,
        /// Which figure.
        what: &'static str,
    },
}

/// Folds the event log into the state it describes for `index_key`; events of other indexes
/// are passed over.
pub fn replay(log: &[Vec<u8>], index_key: &Pubkey) -> Result<Replayed, ReplayError> {
    let mut r = Replayed::default();
    for (position, raw) in log.iter().enumerate() {
        let e = AidxEvent::try_decode(raw)
            .map_err(|source| ReplayError::Undecodable { position, source })?;
        // Every aidx event's first field is its index (after the 8-byte discriminator).
        let ours = raw.get(8..40) == Some(index_key.as_ref());
        if ours && r.params.is_none() && !matches!(e, AidxEvent::IndexInitialized(_)) {
            return Err(ReplayError::Incomplete {
                position,
                event: e.name(),
            });
        }
        apply(&mut r, &e, index_key, position)?;
    }
    Ok(r)
}

fn apply(
    r: &mut Replayed,
    e: &AidxEvent,
    index_key: &Pubkey,
    position: usize,
) -> Result<(), ReplayError> {
    let event = e.name();
    let out_of_range = |what| ReplayError::OutOfRange {
        position,
        event,
        what,
    };
    let row_of_mint = |r: &Replayed, mint: &Pubkey| {
        r.mints
            .iter()
            .position(|m| m == mint)
            .ok_or(ReplayError::UnknownMint {
                position,
                event,
                mint: *mint,
            })
    };
    let check_row = |r: &Replayed, row: usize| {
        if row < r.mints.len() {
            Ok(row)
        } else {
            Err(ReplayError::UnknownRow {
                position,
                event,
                row,
                rows: r.mints.len(),
            })
        }
    };
    let set_balances = |r: &mut Replayed, balances: &[u64]| {
        if balances.len() != r.mints.len() {
            return Err(ReplayError::RowCount {
                position,
                event,
                got: balances.len(),
                rows: r.mints.len(),
            });
        }
        r.balances = balances.to_vec();
        Ok(())
    };
    let set_targets = |r: &mut Replayed, targets: &[u64]| {
        if targets.len() != r.mints.len() {
            return Err(ReplayError::RowCount {
                position,
                event,
                got: targets.len(),
                rows: r.mints.len(),
            });
        }
        r.targets = targets.to_vec();
        Ok(())
    };
    let add_fees = |r: &mut Replayed, fees: u64| {
        r.fee_shares = r
            .fee_shares
            .checked_add(fees)
            .ok_or(out_of_range("fee shares"))?;
        Ok::<_, ReplayError>(())
    };
    match e {
        AidxEvent::IndexInitialized(x) if x.index == *index_key => r.params = Some(x.params),
        AidxEvent::ConstituentAdded(x) if x.index == *index_key => {
            r.mints.push(x.mint);
            r.balances.push(0);
            r.targets.push(x.target_weight);
            r.quarantined.push(false);
            r.members.push(false);
            r.winding_down.push(false);
        }
        AidxEvent::MintedInKind(x) if x.index == *index_key => {
            set_balances(r, &x.balances_after)?;
            r.share_supply = x.share_supply_after;
            add_fees(r, x.fee_shares)?;
        }
        AidxEvent::RedeemedInKind(x) if x.index == *index_key => {
            set_balances(r, &x.balances_after)?;
            r.share_supply = x.share_supply_after;
            add_fees(r, x.fee_shares)?;
        }
        AidxEvent::MintedSingle(x) if x.index == *index_key => {
            let i = row_of_mint(r, &x.mint)?;
            r.balances[i] = x.balance_after;
            r.share_supply = x.share_supply_after;
            add_fees(r, x.fee_shares)?;
        }
        AidxEvent::RedeemedSingle(x) if x.index == *index_key => {
            let i = row_of_mint(r, &x.mint)?;
            r.balances[i] = x.balance_after;
            r.share_supply = x.share_supply_after;
            add_fees(r, x.fee_shares)?;
        }
        AidxEvent::RebalanceSwapped(x) if x.index == *index_key => {
            let (i, o) = (
                check_row(r, x.row_in as usize)?,
                check_row(r, x.row_out as usize)?,
            );
            r.balances[i] = r.balances[i]
                .checked_add(x.amount_in)
                .ok_or(out_of_range("balance"))?;
            r.balances[o] = r.balances[o]
                .checked_sub(x.amount_out)
                .ok_or(out_of_range("balance"))?;
        }
        AidxEvent::FeesAccrued(x) if x.index == *index_key => {
            r.share_supply = x.share_supply_after;
            add_fees(r, x.fee_shares)?;
        }
        AidxEvent::FeesClaimed(x) if x.index == *index_key => {
            r.fee_shares = r
                .fee_shares
                .checked_sub(x.shares)
                .ok_or(out_of_range("fee shares"))?;
        }
        AidxEvent::ShareSupplySynced(x) if x.index == *index_key => r.share_supply = x.new,
        AidxEvent::TargetsRecomputed(x) if x.index == *index_key => {
            set_targets(r, &x.targets)?;
            if x.membership.len() != r.mints.len() {
                return Err(ReplayError::RowCount {
                    position,
                    event,
                    got: x.membership.len(),
                    rows: r.mints.len(),
                });
            }
            // As the review decides: members in; an exit, or a row left out holding tokens,
            // winds down; a row set aside keeps its state.
            for (i, m) in x.membership.iter().enumerate() {
                use aidx::events::*;
                match *m {
                    MEMBERSHIP_STAYS | MEMBERSHIP_ENTERS => r.members[i] = true,
                    MEMBERSHIP_EXITS | MEMBERSHIP_OUT => {
                        r.members[i] = false;
                        if *m == MEMBERSHIP_EXITS || r.balances[i] > 0 {
                            r.winding_down[i] = true;
                        }
                    }
                    _ => {}
                }
            }
            r.last_review = Some(x.clone());
        }
        AidxEvent::ConstituentWindingDown(x) if x.index == *index_key => {
            let i = check_row(r, x.row as usize)?;
            set_targets(r, &x.targets_after)?;
            r.winding_down[i] = true;
        }
        AidxEvent::ConstituentRemoved(x) if x.index == *index_key => {
            let i = check_row(r, x.row as usize)?;
            r.mints.remove(i);
            r.balances.remove(i);
            r.targets.remove(i);
            r.quarantined.remove(i);
            r.members.remove(i);
            r.winding_down.remove(i);
        }
        AidxEvent::ConstituentQuarantined(x) if x.index == *index_key => {
            let i = row_of_mint(r, &x.mint)?;
            r.quarantined[i] = true;
        }
        AidxEvent::ConstituentReleased(x) if x.index == *index_key => {
            let i = row_of_mint(r, &x.mint)?;
            r.quarantined[i] = false;
        }
        AidxEvent::ConstituentWrittenOff(x) if x.index == *index_key => {
            let i = row_of_mint(r, &x.mint)?;
            r.mints.remove(i);
            r.balances.remove(i);
            r.targets.remove(i);
            r.quarantined.remove(i);
            r.members.remove(i);
            r.winding_down.remove(i);
            set_targets(r, &x.targets_after)?;
            r.written_off.push(WrittenOff {
                mint: x.mint,
                vault: x.vault,
                balance: x.balance,
                share_supply: x.share_supply,
                at: x.at,
            });
        }
        AidxEvent::ParamsUpdated(x) if x.index == *index_key => r.params = Some(x.new),
        AidxEvent::PauseSet(x) if x.index == *index_key => r.paused = x.new,
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::Event as _;

    fn added(index: Pubkey, mint: Pubkey) -> Vec<u8> {
        aidx::events::ConstituentAdded {
            index,
            position: 0,
            mint,
            vault: Pubkey::new_unique(),
            token_program: Pubkey::new_unique(),
            decimals: 6,
            sub_sector: 0,
            bucket: 0,
            feed_id: [1; 32],
            initial_units_per_share: 10,
            target_weight: 5,
            leg_accounts: 2,
            freeze_authority: None,
            pausable: false,
        }
        .data()
    }

    fn initialized(index: Pubkey) -> Vec<u8> {
        let k = Pubkey::new_unique();
        aidx::events::IndexInitialized {
            index,
            share_mint: k,
            dead_shares: k,
            fee_shares: k,
            admin: k,
            methodology_authority: k,
            guardian: k,
            fee_recipient: k,
            params: aidx::state::IndexParams::default(),
        }
        .data()
    }

    #[test]
    fn a_history_without_its_beginning_is_named_incomplete() {
        let index = Pubkey::new_unique();
        let other = Pubkey::new_unique();
        let mint = Pubkey::new_unique();
        // Another index's events before do not matter; this index's first must initialize it.
        let log = vec![added(other, mint), added(index, mint)];
        let err = replay(&log, &index).unwrap_err();
        assert_eq!(
            err,
            ReplayError::Incomplete {
                position: 1,
                event: "ConstituentAdded"
            }
        );
        assert!(
            err.to_string().contains("the history is incomplete"),
            "{err}"
        );
        let log = vec![added(other, mint), initialized(index), added(index, mint)];
        assert_eq!(replay(&log, &index).unwrap().mints, vec![mint]);
    }

    #[test]
    fn a_truncated_payload_is_a_named_error() {
        let index = Pubkey::new_unique();
        let good = added(index, Pubkey::new_unique());
        let truncated = good[..good.len() - 3].to_vec();
        let err = replay(&[initialized(index), good.clone(), truncated], &index).unwrap_err();
        assert!(matches!(
            err,
            ReplayError::Undecodable {
                position: 2,
                source: EventError::Malformed {
                    name: "ConstituentAdded",
                    ..
                }
            }
        ));
        assert!(err
            .to_string()
            .starts_with("event 2: ConstituentAdded event payload"));
        let foreign = vec![9u8; 40];
        assert!(matches!(
            replay(&[foreign], &index),
            Err(ReplayError::Undecodable {
                position: 0,
                source: EventError::UnknownDiscriminator(_)
            })
        ));
    }

    #[test]
    fn events_that_do_not_fit_the_history_are_named() {
        let index = Pubkey::new_unique();
        let mint = Pubkey::new_unique();
        let swap = |amount_out| {
            aidx::events::RebalanceSwapped {
                index,
                caller: index,
                row_in: 0,
                row_out: 1,
                amount_in: 1,
                amount_out,
                amount_requested: 1,
                price_in: 0,
                conf_in: 0,
                price_out: 0,
                conf_out: 0,
                value_in: 0,
                value_out: 0,
                reward: 0,
                auction_elapsed: 0,
                weights_before: vec![],
                weights_after: vec![],
                targets: vec![],
                nav_before: 0,
                nav_after: 0,
            }
            .data()
        };
        let log = vec![initialized(index), added(index, mint), swap(1)];
        assert_eq!(
            replay(&log, &index),
            Err(ReplayError::UnknownRow {
                position: 2,
                event: "RebalanceSwapped",
                row: 1,
                rows: 1
            })
        );
        let log = vec![
            initialized(index),
            added(index, mint),
            added(index, Pubkey::new_unique()),
            swap(1),
        ];
        assert_eq!(
            replay(&log, &index),
            Err(ReplayError::OutOfRange {
                position: 3,
                event: "RebalanceSwapped",
                what: "balance"
            })
        );
        // Another index's events are passed over.
        let other = Pubkey::new_unique();
        let r = replay(
            &[added(other, mint), initialized(index), added(index, mint)],
            &index,
        )
        .unwrap();
        assert_eq!(r.mints, vec![mint]);
    }
}
