//! aidx: an on-chain AI-sector index token.
//!
//! `lib.rs` only dispatches; each instruction lives in its own file under `instructions/`,
//! grouped by role. Pure math (shared with the keeper) is in `math/`.

// Anchor's macros expand to cfg names and patterns clippy does not know about.
#![allow(unexpected_cfgs)]
#![allow(clippy::result_large_err)]

use anchor_lang::prelude::*;

pub mod errors;
pub mod events;
pub mod instructions;
pub mod math;
pub mod oracle;
pub mod state;
pub mod token;

use instructions::*;
use state::IndexParams;

declare_id!("AiDXBdrvjrMq4DsdkAYTAfLV2fbBYXh5BfS3eVjzZ1kG");

#[program]
pub mod aidx {
    use super::*;

    pub fn initialize_index(
        ctx: Context<InitializeIndex>,
        args: InitializeIndexArgs,
    ) -> Result<()> {
        instructions::initialize_index(ctx, args)
    }

    pub fn add_constituent(ctx: Context<AddConstituent>, args: AddConstituentArgs) -> Result<()> {
        instructions::add_constituent(ctx, args)
    }

    pub fn mint_in_kind<'info>(
        ctx: Context<'info, MintInKind<'info>>,
        args: MintInKindArgs,
    ) -> Result<()> {
        instructions::mint_in_kind(ctx, args)
    }

    pub fn redeem_in_kind<'info>(
        ctx: Context<'info, RedeemInKind<'info>>,
        args: RedeemInKindArgs,
    ) -> Result<()> {
        instructions::redeem_in_kind(ctx, args)
    }

    pub fn mint_single<'info>(
        ctx: Context<'info, SingleAsset<'info>>,
        args: MintSingleArgs,
    ) -> Result<()> {
        instructions::mint_single(ctx, args)
    }

    pub fn redeem_single(ctx: Context<SingleAsset>, args: RedeemSingleArgs) -> Result<()> {
        instructions::redeem_single(ctx, args)
    }

    pub fn refresh_prices<'info>(ctx: Context<'info, RefreshPrices<'info>>) -> Result<()> {
        instructions::refresh_prices(ctx)
    }

    pub fn report_nav(ctx: Context<ReportNav>) -> Result<()> {
        instructions::report_nav(ctx)
    }

    pub fn set_methodology_inputs(
        ctx: Context<SetMethodologyInputs>,
        args: SetMethodologyInputsArgs,
    ) -> Result<()> {
        instructions::set_methodology_inputs(ctx, args)
    }

    pub fn open_index(ctx: Context<AdminOnly>) -> Result<()> {
        instructions::open_index(ctx)
    }

    pub fn open_review(ctx: Context<OpenReview>) -> Result<()> {
        instructions::open_review(ctx)
    }

    pub fn recompute_targets(ctx: Context<RecomputeTargets>) -> Result<()> {
        instructions::recompute_targets(ctx)
    }

    pub fn poke_rebalance(ctx: Context<PokeRebalance>) -> Result<()> {
        instructions::poke_rebalance(ctx)
    }

    pub fn rebalance_swap(ctx: Context<RebalanceSwap>, args: RebalanceSwapArgs) -> Result<()> {
        instructions::rebalance_swap(ctx, args)
    }

    pub fn accrue_fees(ctx: Context<AccrueFees>) -> Result<()> {
        instructions::accrue_fees(ctx)
    }

    pub fn claim_fees(ctx: Context<ClaimFees>) -> Result<()> {
        instructions::claim_fees(ctx)
    }

    pub fn set_params(ctx: Context<SetParams>, params: IndexParams) -> Result<()> {
        instructions::set_params(ctx, params)
    }

    pub fn set_roles(ctx: Context<AdminOnly>, args: SetRolesArgs) -> Result<()> {
        instructions::set_roles(ctx, args)
    }

    pub fn propose_admin(ctx: Context<AdminOnly>, new_admin: Pubkey) -> Result<()> {
        instructions::propose_admin(ctx, new_admin)
    }

    pub fn accept_admin(ctx: Context<AcceptAdmin>) -> Result<()> {
        instructions::accept_admin(ctx)
    }

    pub fn set_pause(ctx: Context<SetPause>, flags: u8) -> Result<()> {
        instructions::set_pause(ctx, flags)
    }

    pub fn wind_down_constituent(ctx: Context<AdminOnly>, mint: Pubkey) -> Result<()> {
        instructions::wind_down_constituent(ctx, mint)
    }

    pub fn quarantine_constituent(ctx: Context<SetQuarantine>) -> Result<()> {
        instructions::quarantine_constituent(ctx)
    }

    pub fn release_constituent(ctx: Context<SetQuarantine>) -> Result<()> {
        instructions::release_constituent(ctx)
    }

    pub fn write_off_constituent(ctx: Context<WriteOff>) -> Result<()> {
        instructions::write_off_constituent(ctx)
    }

    pub fn remove_constituent(ctx: Context<RemoveConstituent>) -> Result<()> {
        instructions::remove_constituent(ctx)
    }
}
