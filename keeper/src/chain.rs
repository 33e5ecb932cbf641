//! One chain-access trait for every keeper command, with two backends: the embedded in-process
//! runtime ([`crate::embedded::Embedded`], the default for `demo` and the tests) and a real
//! cluster over JSON-RPC ([`crate::rpc::Rpc`]).

use crate::client::{self, decode_index};
use crate::embedded::{Embedded, TxFailure, TxOutcome};
use aidx::state::Index;
use anchor_spl::token::spl_token::state::{Account as TokenState, Mint as MintState};
use anyhow::{anyhow, Result};
use solana_sdk::{
    account::Account, clock::Clock, instruction::Instruction, message::AddressLookupTableAccount,
    program_pack::Pack, pubkey::Pubkey, signature::Keypair,
};

pub type TxResult = std::result::Result<TxOutcome, TxFailure>;

/// What the keeper needs from a chain.
#[allow(async_fn_in_trait)]
pub trait Chain {
    /// The key that pays fees.
    fn fee_payer(&self) -> Pubkey;
    async fn get_account(&mut self, key: &Pubkey) -> Result<Option<Account>>;
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

    async fn data_of(&mut self, key: &Pubkey) -> Result<Vec<u8>> {
        self.get_account(key)
            .await?
            .map(|a| a.data)
            .ok_or_else(|| anyhow!("account {key} does not exist"))
    }

    async fn load_index(&mut self, key: &Pubkey) -> Result<Index> {
        let data = self.data_of(key).await?;
        Ok(decode_index(&data)?)
    }

    async fn balance_of(&mut self, token_account: &Pubkey) -> Result<u64> {
        let data = self.data_of(token_account).await?;
        let base = data
            .get(..TokenState::LEN)
            .ok_or_else(|| anyhow!("{token_account} is not a token account"))?;
        Ok(TokenState::unpack_from_slice(base)?.amount)
    }

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
            .map_err(|f| anyhow!("{f}\n{}", f.logs.join("\n")))
    }

    /// Creates `owner`'s associated token account for `mint` if it does not exist.
    async fn ensure_ata(
        &mut self,
        owner: &Pubkey,
        mint: &Pubkey,
        token_program: &Pubkey,
    ) -> Result<Pubkey> {
        let ata = client::ata(owner, mint, token_program);
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

impl Chain for Embedded {
    fn fee_payer(&self) -> Pubkey {
        self.payer_key()
    }
    async fn get_account(&mut self, key: &Pubkey) -> Result<Option<Account>> {
        self.account(key).await
    }
    async fn get_clock(&mut self) -> Result<Clock> {
        self.clock().await
    }
    async fn simulate_ixs(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<TxResult> {
        self.simulate(ixs, signers).await
    }
    async fn send_ixs(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<TxResult> {
        self.send(ixs, signers).await
    }
    async fn simulate_ixs_v0(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
        tables: &[AddressLookupTableAccount],
    ) -> Result<TxResult> {
        self.simulate_v0(ixs, signers, tables).await
    }
    async fn send_ixs_v0(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
        tables: &[AddressLookupTableAccount],
    ) -> Result<TxResult> {
        self.send_v0(ixs, signers, tables).await
    }
    async fn index_events(&mut self, _index: &Pubkey) -> Result<Vec<Vec<u8>>> {
        Ok(self.event_log.clone())
    }
}
