//! The methodology authority posts each constituent's methodology inputs (circulating supply,
//! volume, depth, unlock flag, sub-sector, bucket) with the time they were observed.

use crate::errors::AidxError;
use crate::events::{emit_event, MethodologyInputRow, MethodologyInputsSet};
use crate::state::*;
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct SetMethodologyInputsArgs {
    /// Unix time the facts were observed; not in the future, not older than the stored ones.
    pub observed_at: i64,
    /// One row per constituent, table order.
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

impl SetMethodologyInputs<'_> {
    pub fn validate(&self, index: &Index, args: &SetMethodologyInputsArgs, now: i64) -> Result<()> {
        require!(
            args.rows.len() == index.num_constituents as usize,
            AidxError::InputsLengthMismatch
        );
        require!(args.observed_at <= now, AidxError::InputsFromFuture);
        for (c, row) in index.constituents().iter().zip(&args.rows) {
            require!(
                args.observed_at >= c.inputs_observed_at,
                AidxError::InputsOlderThanLast
            );
            SubSector::from_u8(row.sub_sector)?;
            Bucket::from_u8(row.bucket)?;
        }
        Ok(())
    }
}

pub fn set_methodology_inputs(
    ctx: Context<SetMethodologyInputs>,
    args: SetMethodologyInputsArgs,
) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let index_key = ctx.accounts.index.key();
    let mut index = ctx.accounts.index.load_mut()?;
    ctx.accounts.validate(&index, &args, now)?;
    for (c, row) in index.constituents_mut().iter_mut().zip(&args.rows) {
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
        c.inputs_observed_at = args.observed_at;
    }
    index.invariant()?;
    emit_event(&MethodologyInputsSet {
        index: index_key,
        observed_at: args.observed_at,
        rows: args.rows,
    });
    Ok(())
}
