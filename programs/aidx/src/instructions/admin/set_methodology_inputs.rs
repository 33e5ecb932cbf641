//! The methodology authority posts constituents' methodology inputs (circulating supply,
//! volume, depth, unlock flag, sub-sector, bucket) with the time they were observed.
//!
//! Each row names its constituent by mint, so a row can never land on another constituent
//! (after a removal moves later rows up, say), and any subset of the table can be posted: a
//! full table of rows does not fit one transaction, and `recompute_targets` waits until every
//! active row has inputs observed after the last review.

use crate::errors::AidxError;
use crate::events::{emit_event, MethodologyInputRow, MethodologyInputsSet};
use crate::state::*;
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct SetMethodologyInputsArgs {
    /// Unix time the facts were observed; not in the future, not older than the stored ones.
    pub observed_at: i64,
    /// One row per constituent posted, each naming its mint; any subset of the table, each
    /// constituent at most once.
    pub rows: Vec<MethodologyInputRow>,
}

#[derive(Accounts)]
pub struct SetMethodologyInputs<'info> {
    pub methodology_authority: Signer<'info>,
    #[account(
        mut,
        has_one = methodology_authority @ AidxError::UnauthorizedMethodologyAuthority,
    )]
    pub index: AccountLoader<'info, Index>,
}

/// Checks the rows against the index at `now`; returns each row's position in the table.
pub fn validate_inputs(
    index: &Index,
    args: &SetMethodologyInputsArgs,
    now: i64,
) -> Result<Vec<usize>> {
    require!(
        !args.rows.is_empty() && args.rows.len() <= index.num_constituents as usize,
        AidxError::InputsLengthMismatch
    );
    require!(args.observed_at <= now, AidxError::InputsFromFuture);
    let mut positions = Vec::with_capacity(args.rows.len());
    for row in &args.rows {
        let i = index
            .constituents()
            .iter()
            .position(|c| c.mint == row.mint)
            .ok_or_else(|| error!(AidxError::InputsRowUnknownMint))?;
        require!(!positions.contains(&i), AidxError::InputsRowDuplicate);
        require!(
            args.observed_at >= index.constituents()[i].inputs_observed_at,
            AidxError::InputsOlderThanLast
        );
        SubSector::from_u8(row.sub_sector)?;
        Bucket::from_u8(row.bucket)?;
        positions.push(i);
    }
    Ok(positions)
}

/// Checks and stores the rows at `now`. Emits nothing: the instruction and the keeper's
/// backtest run it alike.
pub fn store_inputs(index: &mut Index, args: &SetMethodologyInputsArgs, now: i64) -> Result<()> {
    let positions = validate_inputs(index, args, now)?;
    for (i, row) in positions.into_iter().zip(&args.rows) {
        let c = &mut index.constituents_mut()[i];
        c.circulating_supply = row.circulating_supply;
        c.avg_daily_volume_usd = row.avg_daily_volume_usd;
        c.depth_usd = row.depth_usd.unwrap_or(0);
        c.flags = (if row.unlock { FLAG_UNLOCK } else { 0 })
            | (if row.depth_usd.is_some() {
                FLAG_DEPTH_REPORTED
            } else {
                0
            });
        c.sub_sector = row.sub_sector;
        c.bucket = row.bucket;
        c.rank = row.rank;
        c.inputs_observed_at = args.observed_at;
    }
    index.invariant()
}

pub fn set_methodology_inputs(
    ctx: Context<SetMethodologyInputs>,
    args: SetMethodologyInputsArgs,
) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let index_key = ctx.accounts.index.key();
    let mut index = ctx.accounts.index.load_mut()?;
    store_inputs(&mut index, &args, now)?;
    emit_event(&MethodologyInputsSet {
        index: index_key,
        observed_at: args.observed_at,
        rows: args.rows,
    });
    Ok(())
}
