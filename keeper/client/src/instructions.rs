//! One builder per instruction of the program, with the accounts the program expects in the
//! order it expects them. Used by every keeper command and by the test harness, so tests
//! exercise exactly what operators send.

use crate::address::*;
use aidx::instructions::{
    AddConstituentArgs, InitializeIndexArgs, MintInKindArgs, MintSingleArgs, RebalanceSwapArgs,
    RedeemInKindArgs, RedeemSingleArgs, SetMethodologyInputsArgs,
};
use aidx::state::{Index, IndexParams};
use anchor_lang::{prelude::Pubkey, system_program, InstructionData, ToAccountMetas};
use solana_sdk::instruction::{AccountMeta, Instruction};

/// `initialize_index`: the share mint is a fresh keypair that must sign.
pub fn initialize_index(
    payer: &Pubkey,
    admin: &Pubkey,
    share_mint: &Pubkey,
    args: InitializeIndexArgs,
) -> Instruction {
    let index = index_address(share_mint);
    Instruction {
        program_id: PROGRAM_ID,
        accounts: aidx::accounts::InitializeIndex {
            payer: *payer,
            admin: *admin,
            share_mint: *share_mint,
            index,
            dead_shares: dead_shares_address(&index),
            fee_shares: fee_shares_address(&index),
            token_program: TOKEN_PROGRAM_ID,
            system_program: system_program::ID,
        }
        .to_account_metas(None),
        data: aidx::instruction::InitializeIndex { args }.data(),
    }
}

/// `add_constituent`.
pub fn add_constituent(
    payer: &Pubkey,
    admin: &Pubkey,
    index: &Pubkey,
    mint: &Pubkey,
    token_program: &Pubkey,
    args: AddConstituentArgs,
) -> Instruction {
    Instruction {
        program_id: PROGRAM_ID,
        accounts: aidx::accounts::AddConstituent {
            payer: *payer,
            admin: *admin,
            index: *index,
            mint: *mint,
            vault: vault_address(index, mint),
            token_program: *token_program,
            system_program: system_program::ID,
        }
        .to_account_metas(None),
        data: aidx::instruction::AddConstituent { args }.data(),
    }
}

/// The legs of an in-kind instruction, in table order: `(vault, holder token account)`, with
/// the mint first for rows whose token program needs it (`Constituent::leg_accounts`).
/// `holder_accounts` are the holder's token accounts, one per constituent.
pub fn leg_metas(index: &Index, holder_accounts: &[Pubkey]) -> Vec<AccountMeta> {
    let mut metas = Vec::with_capacity(index.leg_accounts());
    for (c, h) in index.constituents().iter().zip(holder_accounts) {
        if c.leg_accounts == aidx::state::CHECKED_LEG_ACCOUNTS {
            metas.push(AccountMeta::new_readonly(c.mint, false));
        }
        metas.push(AccountMeta::new(c.vault, false));
        metas.push(AccountMeta::new(*h, false));
    }
    metas
}

/// The holder's associated token accounts for every constituent, table order.
pub fn holder_atas(index: &Index, holder: &Pubkey) -> Vec<Pubkey> {
    index
        .constituents()
        .iter()
        .map(|c| ata(holder, &c.mint, &c.token_program))
        .collect()
}

/// `mint_in_kind` for `holder`, depositing from `holder_accounts`.
pub fn mint_in_kind(
    index_key: &Pubkey,
    index: &Index,
    holder: &Pubkey,
    holder_accounts: &[Pubkey],
    args: MintInKindArgs,
) -> Instruction {
    let mut accounts = aidx::accounts::MintInKind {
        holder: *holder,
        index: *index_key,
        share_mint: index.share_mint,
        holder_shares: ata(holder, &index.share_mint, &TOKEN_PROGRAM_ID),
        dead_shares: index.dead_shares,
        token_program: TOKEN_PROGRAM_ID,
        token_2022_program: TOKEN_2022_PROGRAM_ID,
        fee_shares: index.fee_shares,
    }
    .to_account_metas(None);
    accounts.extend(leg_metas(index, holder_accounts));
    Instruction {
        program_id: PROGRAM_ID,
        accounts,
        data: aidx::instruction::MintInKind { args }.data(),
    }
}

/// `redeem_in_kind` for `holder`, paying into `holder_accounts`.
pub fn redeem_in_kind(
    index_key: &Pubkey,
    index: &Index,
    holder: &Pubkey,
    holder_accounts: &[Pubkey],
    args: RedeemInKindArgs,
) -> Instruction {
    let mut accounts = aidx::accounts::RedeemInKind {
        holder: *holder,
        index: *index_key,
        share_mint: index.share_mint,
        holder_shares: ata(holder, &index.share_mint, &TOKEN_PROGRAM_ID),
        token_program: TOKEN_PROGRAM_ID,
        token_2022_program: TOKEN_2022_PROGRAM_ID,
        fee_shares: index.fee_shares,
    }
    .to_account_metas(None);
    accounts.extend(leg_metas(index, holder_accounts));
    Instruction {
        program_id: PROGRAM_ID,
        accounts,
        data: aidx::instruction::RedeemInKind { args }.data(),
    }
}

/// The addresses every basket transaction of an index uses, for its address lookup table:
/// programs, the index accounts, then every constituent's mint, vault and (push-feed) price
/// account, so that a priced instruction on a full table (which refreshes every price first)
/// fits a packet too.
pub fn index_lookup_addresses(index_key: &Pubkey, index: &Index) -> Vec<Pubkey> {
    let mut v = vec![
        PROGRAM_ID,
        TOKEN_PROGRAM_ID,
        TOKEN_2022_PROGRAM_ID,
        *index_key,
        index.share_mint,
        index.dead_shares,
        index.fee_shares,
    ];
    for c in index.constituents() {
        v.push(c.mint);
        v.push(c.vault);
    }
    v.extend(crate::address::price_feed_accounts(index));
    v
}

/// `refresh_prices` with one price account per constituent, table order.
pub fn refresh_prices(index_key: &Pubkey, price_accounts: &[Pubkey]) -> Instruction {
    let mut accounts = aidx::accounts::RefreshPrices { index: *index_key }.to_account_metas(None);
    accounts.extend(
        price_accounts
            .iter()
            .map(|k| AccountMeta::new_readonly(*k, false)),
    );
    Instruction {
        program_id: PROGRAM_ID,
        accounts,
        data: aidx::instruction::RefreshPrices {}.data(),
    }
}

/// `report_nav`: emits NAV from stored prices (send after `refresh_prices`, simulated).
pub fn report_nav(index_key: &Pubkey) -> Instruction {
    Instruction {
        program_id: PROGRAM_ID,
        accounts: aidx::accounts::ReportNav { index: *index_key }.to_account_metas(None),
        data: aidx::instruction::ReportNav {}.data(),
    }
}

fn single_asset_accounts(
    index_key: &Pubkey,
    index: &Index,
    holder: &Pubkey,
    row: usize,
) -> Vec<AccountMeta> {
    let c = &index.constituents()[row];
    aidx::accounts::SingleAsset {
        holder: *holder,
        index: *index_key,
        share_mint: index.share_mint,
        holder_shares: ata(holder, &index.share_mint, &TOKEN_PROGRAM_ID),
        mint: c.mint,
        vault: c.vault,
        holder_token: ata(holder, &c.mint, &c.token_program),
        token_program: c.token_program,
        share_token_program: TOKEN_PROGRAM_ID,
        fee_shares: index.fee_shares,
    }
    .to_account_metas(None)
}

/// `mint_single` of constituent `row`, from the holder's associated token account.
pub fn mint_single(
    index_key: &Pubkey,
    index: &Index,
    holder: &Pubkey,
    row: usize,
    args: MintSingleArgs,
) -> Instruction {
    Instruction {
        program_id: PROGRAM_ID,
        accounts: single_asset_accounts(index_key, index, holder, row),
        data: aidx::instruction::MintSingle { args }.data(),
    }
}

/// `redeem_single` of constituent `row`, into the holder's associated token account.
pub fn redeem_single(
    index_key: &Pubkey,
    index: &Index,
    holder: &Pubkey,
    row: usize,
    args: RedeemSingleArgs,
) -> Instruction {
    Instruction {
        program_id: PROGRAM_ID,
        accounts: single_asset_accounts(index_key, index, holder, row),
        data: aidx::instruction::RedeemSingle { args }.data(),
    }
}

/// `set_methodology_inputs`, signed by the methodology authority.
pub fn set_methodology_inputs(
    index_key: &Pubkey,
    authority: &Pubkey,
    args: SetMethodologyInputsArgs,
) -> Instruction {
    Instruction {
        program_id: PROGRAM_ID,
        accounts: aidx::accounts::SetMethodologyInputs {
            methodology_authority: *authority,
            index: *index_key,
        }
        .to_account_metas(None),
        data: aidx::instruction::SetMethodologyInputs { args }.data(),
    }
}

/// Methodology input rows per `set_methodology_inputs` transaction: a row is 60 bytes with its
/// mint, so a full table takes two transactions (see the test of this constant).
pub const INPUT_ROWS_PER_TX: usize = 12;

/// `set_methodology_inputs` for every row, [`INPUT_ROWS_PER_TX`] rows an instruction, each to
/// be sent in its own transaction.
pub fn set_methodology_inputs_batched(
    index_key: &Pubkey,
    authority: &Pubkey,
    observed_at: i64,
    rows: &[aidx::events::MethodologyInputRow],
) -> Vec<Instruction> {
    rows.chunks(INPUT_ROWS_PER_TX)
        .map(|chunk| {
            set_methodology_inputs(
                index_key,
                authority,
                SetMethodologyInputsArgs {
                    observed_at,
                    rows: chunk.to_vec(),
                },
            )
        })
        .collect()
}

/// `open_index`, signed by the admin: the first mint may then seed the index.
pub fn open_index(index_key: &Pubkey, admin: &Pubkey) -> Instruction {
    Instruction {
        program_id: PROGRAM_ID,
        accounts: aidx::accounts::AdminOnly {
            admin: *admin,
            index: *index_key,
        }
        .to_account_metas(None),
        data: aidx::instruction::OpenIndex {}.data(),
    }
}

/// `open_review`, signed by the admin.
pub fn open_review(index_key: &Pubkey, admin: &Pubkey) -> Instruction {
    Instruction {
        program_id: PROGRAM_ID,
        accounts: aidx::accounts::OpenReview {
            admin: *admin,
            index: *index_key,
        }
        .to_account_metas(None),
        data: aidx::instruction::OpenReview {}.data(),
    }
}

/// `recompute_targets` (permissionless; send after `refresh_prices`).
pub fn recompute_targets(index_key: &Pubkey) -> Instruction {
    Instruction {
        program_id: PROGRAM_ID,
        accounts: aidx::accounts::RecomputeTargets { index: *index_key }.to_account_metas(None),
        data: aidx::instruction::RecomputeTargets {}.data(),
    }
}

/// `poke_rebalance` (permissionless; send after `refresh_prices`).
pub fn poke_rebalance(index_key: &Pubkey) -> Instruction {
    Instruction {
        program_id: PROGRAM_ID,
        accounts: aidx::accounts::PokeRebalance { index: *index_key }.to_account_metas(None),
        data: aidx::instruction::PokeRebalance {}.data(),
    }
}

/// `rebalance_swap`: `caller` pays row `row_in` and receives row `row_out`, through its
/// associated token accounts (send after `refresh_prices`).
pub fn rebalance_swap(
    index_key: &Pubkey,
    index: &Index,
    caller: &Pubkey,
    row_in: usize,
    row_out: usize,
    args: RebalanceSwapArgs,
) -> Instruction {
    let (ci, co) = (
        &index.constituents()[row_in],
        &index.constituents()[row_out],
    );
    Instruction {
        program_id: PROGRAM_ID,
        accounts: aidx::accounts::RebalanceSwap {
            caller: *caller,
            index: *index_key,
            mint_in: ci.mint,
            vault_in: ci.vault,
            caller_in: ata(caller, &ci.mint, &ci.token_program),
            mint_out: co.mint,
            vault_out: co.vault,
            caller_out: ata(caller, &co.mint, &co.token_program),
            token_program_in: ci.token_program,
            token_program_out: co.token_program,
        }
        .to_account_metas(None),
        data: aidx::instruction::RebalanceSwap { args }.data(),
    }
}

/// `accrue_fees` (permissionless).
pub fn accrue_fees(index_key: &Pubkey, index: &Index) -> Instruction {
    Instruction {
        program_id: PROGRAM_ID,
        accounts: aidx::accounts::AccrueFees {
            index: *index_key,
            share_mint: index.share_mint,
            fee_shares: index.fee_shares,
            token_program: TOKEN_PROGRAM_ID,
        }
        .to_account_metas(None),
        data: aidx::instruction::AccrueFees {}.data(),
    }
}

/// `claim_fees`, signed by the fee recipient, into its associated share account.
pub fn claim_fees(index_key: &Pubkey, index: &Index) -> Instruction {
    Instruction {
        program_id: PROGRAM_ID,
        accounts: aidx::accounts::ClaimFees {
            fee_recipient: index.fee_recipient,
            index: *index_key,
            fee_shares: index.fee_shares,
            recipient_shares: ata(&index.fee_recipient, &index.share_mint, &TOKEN_PROGRAM_ID),
            token_program: TOKEN_PROGRAM_ID,
        }
        .to_account_metas(None),
        data: aidx::instruction::ClaimFees {}.data(),
    }
}

fn admin_only(index_key: &Pubkey, admin: &Pubkey) -> Vec<AccountMeta> {
    aidx::accounts::AdminOnly {
        admin: *admin,
        index: *index_key,
    }
    .to_account_metas(None)
}

/// `set_params`, signed by the admin (accrues the management fee at the old rate first).
pub fn set_params(
    index_key: &Pubkey,
    index: &Index,
    admin: &Pubkey,
    params: IndexParams,
) -> Instruction {
    Instruction {
        program_id: PROGRAM_ID,
        accounts: aidx::accounts::SetParams {
            admin: *admin,
            index: *index_key,
            share_mint: index.share_mint,
            fee_shares: index.fee_shares,
            token_program: TOKEN_PROGRAM_ID,
        }
        .to_account_metas(None),
        data: aidx::instruction::SetParams { params }.data(),
    }
}

/// `set_roles`, signed by the admin.
pub fn set_roles(
    index_key: &Pubkey,
    admin: &Pubkey,
    args: aidx::instructions::SetRolesArgs,
) -> Instruction {
    Instruction {
        program_id: PROGRAM_ID,
        accounts: admin_only(index_key, admin),
        data: aidx::instruction::SetRoles { args }.data(),
    }
}

/// `propose_admin`, signed by the admin.
pub fn propose_admin(index_key: &Pubkey, admin: &Pubkey, new_admin: Pubkey) -> Instruction {
    Instruction {
        program_id: PROGRAM_ID,
        accounts: admin_only(index_key, admin),
        data: aidx::instruction::ProposeAdmin { new_admin }.data(),
    }
}

/// `accept_admin`, signed by the proposed admin.
pub fn accept_admin(index_key: &Pubkey, pending_admin: &Pubkey) -> Instruction {
    Instruction {
        program_id: PROGRAM_ID,
        accounts: aidx::accounts::AcceptAdmin {
            pending_admin: *pending_admin,
            index: *index_key,
        }
        .to_account_metas(None),
        data: aidx::instruction::AcceptAdmin {}.data(),
    }
}

/// `set_pause`, signed by the guardian (add flags only) or the admin.
pub fn set_pause(index_key: &Pubkey, authority: &Pubkey, flags: u8) -> Instruction {
    Instruction {
        program_id: PROGRAM_ID,
        accounts: aidx::accounts::SetPause {
            authority: *authority,
            index: *index_key,
        }
        .to_account_metas(None),
        data: aidx::instruction::SetPause { flags }.data(),
    }
}

/// `wind_down_constituent`, signed by the admin.
pub fn wind_down_constituent(index_key: &Pubkey, admin: &Pubkey, mint: Pubkey) -> Instruction {
    Instruction {
        program_id: PROGRAM_ID,
        accounts: admin_only(index_key, admin),
        data: aidx::instruction::WindDownConstituent { mint }.data(),
    }
}

/// `quarantine_constituent` of row `row`, signed by `authority`: anyone when the row's vault
/// is frozen or its mint paused (the accounts are the proof), the admin or guardian for any
/// reason.
pub fn quarantine_constituent(
    index_key: &Pubkey,
    index: &Index,
    authority: &Pubkey,
    row: usize,
) -> Instruction {
    Instruction {
        program_id: PROGRAM_ID,
        accounts: set_quarantine(index_key, index, authority, row),
        data: aidx::instruction::QuarantineConstituent {}.data(),
    }
}

/// `release_constituent` of row `row`, signed by `authority`: anyone once a quarantine shown
/// on-chain is over, the admin or guardian for any.
pub fn release_constituent(
    index_key: &Pubkey,
    index: &Index,
    authority: &Pubkey,
    row: usize,
) -> Instruction {
    Instruction {
        program_id: PROGRAM_ID,
        accounts: set_quarantine(index_key, index, authority, row),
        data: aidx::instruction::ReleaseConstituent {}.data(),
    }
}

fn set_quarantine(
    index_key: &Pubkey,
    index: &Index,
    authority: &Pubkey,
    row: usize,
) -> Vec<AccountMeta> {
    let c = &index.constituents()[row];
    aidx::accounts::SetQuarantine {
        authority: *authority,
        index: *index_key,
        mint: c.mint,
        vault: c.vault,
    }
    .to_account_metas(None)
}

/// `write_off_constituent` of row `row`, signed by the admin: a row quarantined for 30 days
/// that still cannot move leaves the table.
pub fn write_off_constituent(
    index_key: &Pubkey,
    index: &Index,
    admin: &Pubkey,
    row: usize,
) -> Instruction {
    let c = &index.constituents()[row];
    Instruction {
        program_id: PROGRAM_ID,
        accounts: aidx::accounts::WriteOff {
            admin: *admin,
            index: *index_key,
            mint: c.mint,
            vault: c.vault,
        }
        .to_account_metas(None),
        data: aidx::instruction::WriteOffConstituent {}.data(),
    }
}

/// `remove_constituent` of row `row`, signed by the admin; unaccounted tokens go to the admin's
/// associated token account.
pub fn remove_constituent(
    index_key: &Pubkey,
    index: &Index,
    admin: &Pubkey,
    row: usize,
) -> Instruction {
    let c = &index.constituents()[row];
    Instruction {
        program_id: PROGRAM_ID,
        accounts: aidx::accounts::RemoveConstituent {
            admin: *admin,
            index: *index_key,
            mint: c.mint,
            vault: c.vault,
            sweep_to: ata(admin, &c.mint, &c.token_program),
            token_program: c.token_program,
        }
        .to_account_metas(None),
        data: aidx::instruction::RemoveConstituent {}.data(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tx;
    use aidx::events::MethodologyInputRow;
    use solana_compute_budget_interface::ComputeBudgetInstruction;

    /// A full table of input rows at their largest (every option set) goes in two batches,
    /// each of which, with the RPC backend's compute-budget instructions and a fee payer other
    /// than the authority, fits a packet.
    #[test]
    fn a_batch_of_input_rows_fits_one_transaction() {
        let row = |_| MethodologyInputRow {
            mint: Pubkey::new_unique(),
            circulating_supply: u64::MAX,
            avg_daily_volume_usd: u64::MAX,
            depth_usd: Some(u64::MAX),
            unlock: true,
            sub_sector: 7,
            bucket: 1,
            rank: u16::MAX,
        };
        let rows: Vec<_> = (0..24).map(row).collect();
        let (index, authority, payer) = (
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            Pubkey::new_unique(),
        );
        let ixs = set_methodology_inputs_batched(&index, &authority, 1, &rows);
        assert_eq!(ixs.len(), 2);
        for ix in ixs {
            let all = [
                ComputeBudgetInstruction::set_compute_unit_limit(1_400_000),
                ComputeBudgetInstruction::set_compute_unit_price(1),
                ix,
            ];
            let f = tx::measure(&payer, &all, &[]).unwrap();
            assert!(f.fits(), "{f}");
        }
    }
}
