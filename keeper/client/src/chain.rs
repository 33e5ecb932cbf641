//! One chain-access trait for everything the client does, with the outcome of a transaction.
//! Backends: a cluster over JSON-RPC ([`crate::rpc::Rpc`]) here, and the embedded in-process
//! runtime (the `aidx-embedded` crate) for the demo, saved states and the tests.

use crate::account::decode_index;
use crate::events::AidxEvent;
use crate::explain;
use aidx::state::Index;
use anchor_spl::token::spl_token::state::{Account as TokenState, Mint as MintState};
use anyhow::{anyhow, Result};
use solana_sdk::{
    account::Account, clock::Clock, instruction::Instruction, message::AddressLookupTableAccount,
    program_pack::Pack, pubkey::Pubkey, signature::Keypair, transaction::TransactionError,
};

/// What a successful transaction left behind.
#[derive(Debug, Default)]
pub struct TxOutcome {
    /// Decoded program events, in emission order.
    pub events: Vec<AidxEvent>,
    /// The same events as logged (`discriminator ++ borsh`).
    pub raw_events: Vec<Vec<u8>>,
    /// The transaction's log messages.
    pub logs: Vec<String>,
    /// The transaction's signature, once sent (none for a simulation).
    pub signature: Option<solana_sdk::signature::Signature>,
}

/// A failed transaction: the runtime's error and the logs. Its `Display` names the error:
/// the aidx error by name and message (from the IDL), SPL Token and Anchor errors by name,
/// and the instruction that failed.
#[derive(Debug, Clone, PartialEq)]
pub struct TxFailure {
    /// The runtime's error.
    pub error: TransactionError,
    /// The transaction's log messages.
    pub logs: Vec<String>,
}

impl std::fmt::Display for TxFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", explain::transaction_error(&self.error))
    }
}

impl std::error::Error for TxFailure {}

/// A transaction's outcome: its events, or why it failed.
pub type TxResult = std::result::Result<TxOutcome, TxFailure>;

/// What the keeper needs from a chain.
#[allow(async_fn_in_trait)]
pub trait Chain {
    /// The key that pays fees.
    fn fee_payer(&self) -> Pubkey;
    /// The compute-budget instructions the backend puts before every transaction's own.
    fn budget_instructions(&self) -> Vec<Instruction>;
    /// The account at `key`, if it exists.
    async fn get_account(&mut self, key: &Pubkey) -> Result<Option<Account>>;
    /// The cluster's clock.
    async fn get_clock(&mut self) -> Result<Clock>;
    /// Runs the instructions without committing anything: events and logs, or the failure.
    async fn simulate_ixs(&mut self, ixs: &[Instruction], signers: &[&Keypair])
        -> Result<TxResult>;
    /// Runs a v0 transaction through `tables` without committing anything.
    async fn simulate_ixs_v0(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
        tables: &[AddressLookupTableAccount],
    ) -> Result<TxResult>;
    /// Simulates, then sends and confirms (legacy transaction).
    async fn send_ixs(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<TxResult>;
    /// Simulates, then sends and confirms a v0 transaction through `tables`.
    async fn send_ixs_v0(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
        tables: &[AddressLookupTableAccount],
    ) -> Result<TxResult>;
    /// The events an index emitted, oldest first, as logged.
    async fn index_events(&mut self, index: &Pubkey) -> Result<Vec<Vec<u8>>>;

    /// The first of `shapes` (cheapest first) in which `ixs`, sent by this backend (its fee
    /// payer and compute-budget instructions included), fits a cluster's size and lock limits.
    fn choose_shape(
        &self,
        ixs: &[Instruction],
        shapes: Vec<crate::tx::Shape>,
    ) -> Result<(crate::tx::Shape, crate::tx::Footprint)> {
        let mut all = match crate::tx::sets_compute_budget(ixs) {
            true => vec![],
            false => self.budget_instructions(),
        };
        all.extend_from_slice(ixs);
        crate::tx::choose_shape(&self.fee_payer(), &all, shapes)
    }

    /// Simulates `ixs` as a v0 transaction in the cheapest of `shapes` that fits; with the
    /// outcome, the shape's name and the transaction's footprint.
    async fn simulate_in(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
        shapes: &[crate::tx::Shape],
    ) -> Result<(TxResult, String, crate::tx::Footprint)> {
        let (shape, footprint) = self.choose_shape(ixs, shapes.to_vec())?;
        let r = self.simulate_ixs_v0(ixs, signers, &shape.tables).await?;
        Ok((r, shape.name, footprint))
    }

    /// Sends `ixs` as a v0 transaction in the cheapest of `shapes` that fits a cluster's
    /// limits; with the outcome, the shape's name and the transaction's footprint.
    async fn send_in(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
        shapes: &[crate::tx::Shape],
    ) -> Result<(TxResult, String, crate::tx::Footprint)> {
        let (shape, footprint) = self.choose_shape(ixs, shapes.to_vec())?;
        let r = self.send_ixs_v0(ixs, signers, &shape.tables).await?;
        Ok((r, shape.name, footprint))
    }

    /// The data of the account at `key`; an error if it does not exist.
    async fn data_of(&mut self, key: &Pubkey) -> Result<Vec<u8>> {
        self.get_account(key)
            .await?
            .map(|a| a.data)
            .ok_or_else(|| anyhow!("account {key} does not exist"))
    }

    /// Reads and decodes the index account at `key`.
    async fn load_index(&mut self, key: &Pubkey) -> Result<Index> {
        let data = self.data_of(key).await?;
        Ok(decode_index(&data)?)
    }

    /// The amount a token account (either token program) holds.
    async fn balance_of(&mut self, token_account: &Pubkey) -> Result<u64> {
        let data = self.data_of(token_account).await?;
        let base = data
            .get(..TokenState::LEN)
            .ok_or_else(|| anyhow!("{token_account} is not a token account"))?;
        Ok(TokenState::unpack_from_slice(base)?.amount)
    }

    /// The supply of a mint (either token program).
    async fn supply_of(&mut self, mint: &Pubkey) -> Result<u64> {
        let data = self.data_of(mint).await?;
        let base = data
            .get(..MintState::LEN)
            .ok_or_else(|| anyhow!("{mint} is not a mint"))?;
        Ok(MintState::unpack_from_slice(base)?.supply)
    }

    /// [`Chain::send_ixs`], a failed transaction as an error with its logs.
    async fn send_ixs_ok(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<TxOutcome> {
        self.send_ixs(ixs, signers)
            .await?
            .map_err(anyhow::Error::from)
    }

    /// Creates `owner`'s associated token account for `mint` if it does not exist.
    async fn ensure_ata(
        &mut self,
        owner: &Pubkey,
        mint: &Pubkey,
        token_program: &Pubkey,
    ) -> Result<Pubkey> {
        let ata = crate::address::ata(owner, mint, token_program);
        if self.get_account(&ata).await?.is_none() {
            let ix = anchor_spl::associated_token::spl_associated_token_account::instruction::create_associated_token_account_idempotent(
                &self.fee_payer(),
                owner,
                mint,
                token_program,
            );
            self.send_ixs_ok(&[ix], &[]).await?;
        }
        Ok(ata)
    }
}
