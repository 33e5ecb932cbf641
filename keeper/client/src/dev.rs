//! Development chains: what the embedded runtime and a local node (`aidx localnet`, or any node
//! with surfpool's `surfnet_setAccount` / `surfnet_timeTravel` cheatcodes) let a demo or a test
//! do beyond a cluster, namely write an account, move the clock and move to the next slot, and
//! everything built on those and plain transactions: mints under the fee payer's authority,
//! funded wallets, lookup tables, Pyth price updates. With it the demo runs unchanged on the
//! embedded runtime and over JSON-RPC.

use crate::chain::Chain;
use crate::pyth::PythPrice;
use anchor_spl::associated_token::spl_associated_token_account::instruction::create_associated_token_account_idempotent;
use anchor_spl::token_2022::spl_token_2022::instruction as token_ix;
use anyhow::{bail, Result};
use pyth_solana_receiver_sdk::price_update::VerificationLevel;
use solana_address_lookup_table_interface as alt;
use solana_sdk::{
    account::Account, message::AddressLookupTableAccount, program_pack::Pack, pubkey::Pubkey,
    rent::Rent, signature::Keypair, signer::Signer,
};

/// Lookup-table addresses one extend transaction carries.
const EXTEND_CHUNK: usize = 24;

/// A chain a demo or a test may rewrite (see the module's documentation).
#[allow(async_fn_in_trait)]
pub trait DevChain: Chain {
    /// Writes `account` at `key` as is.
    async fn set_account(&mut self, key: &Pubkey, account: Account) -> Result<()>;
    /// Moves the clock's unix time to `unix_timestamp` (never backwards).
    async fn set_unix_timestamp(&mut self, unix_timestamp: i64) -> Result<()>;
    /// Moves to a later slot.
    async fn next_slot(&mut self) -> Result<()>;
    /// A slot the lookup-table program accepts as a new table's recent slot (one in the
    /// `SlotHashes` sysvar).
    async fn recent_slot(&mut self) -> Result<u64>;

    /// Creates a mint at `mint` under `token_program` whose mint authority is the fee payer.
    async fn create_mint_at(
        &mut self,
        mint: &Keypair,
        token_program: &Pubkey,
        decimals: u8,
    ) -> Result<Pubkey> {
        let payer = self.fee_payer();
        let space = anchor_spl::token::spl_token::state::Mint::LEN;
        let ixs = [
            anchor_lang::solana_program::system_instruction::create_account(
                &payer,
                &mint.pubkey(),
                Rent::default().minimum_balance(space),
                space as u64,
                token_program,
            ),
            token_ix::initialize_mint2(token_program, &mint.pubkey(), &payer, None, decimals)?,
        ];
        self.send_ixs_ok(&ixs, &[mint]).await?;
        Ok(mint.pubkey())
    }

    /// Creates a mint at a new address (see [`DevChain::create_mint_at`]).
    async fn create_mint(&mut self, token_program: &Pubkey, decimals: u8) -> Result<Pubkey> {
        self.create_mint_at(&Keypair::new(), token_program, decimals)
            .await
    }

    /// Creates (idempotently) the associated token account of `owner` for `mint`.
    async fn create_ata(
        &mut self,
        owner: &Pubkey,
        mint: &Pubkey,
        token_program: &Pubkey,
    ) -> Result<Pubkey> {
        let ix = create_associated_token_account_idempotent(
            &self.fee_payer(),
            owner,
            mint,
            token_program,
        );
        self.send_ixs_ok(&[ix], &[]).await?;
        Ok(crate::address::ata(owner, mint, token_program))
    }

    /// Mints `amount` of a mint whose authority is the fee payer to `to`.
    async fn mint_to(
        &mut self,
        mint: &Pubkey,
        to: &Pubkey,
        token_program: &Pubkey,
        amount: u64,
    ) -> Result<()> {
        let ix = token_ix::mint_to(token_program, mint, to, &self.fee_payer(), &[], amount)?;
        self.send_ixs_ok(&[ix], &[]).await?;
        Ok(())
    }

    /// Sends `lamports` from the fee payer to `to`.
    async fn airdrop(&mut self, to: &Pubkey, lamports: u64) -> Result<()> {
        let ix = anchor_lang::solana_program::system_instruction::transfer(
            &self.fee_payer(),
            to,
            lamports,
        );
        self.send_ixs_ok(&[ix], &[]).await?;
        Ok(())
    }

    /// A new holder's accounts: `lamports` of SOL, an associated token account of each
    /// `(mint, token program, amount)` credited with `amount` (the fee payer is every mint's
    /// authority); the token accounts in order.
    async fn fund_holder(
        &mut self,
        owner: &Pubkey,
        lamports: u64,
        tokens: &[(Pubkey, Pubkey, u64)],
    ) -> Result<Vec<Pubkey>> {
        self.airdrop(owner, lamports).await?;
        let mut accounts = vec![];
        for (mint, program, amount) in tokens {
            let ata = self.create_ata(owner, mint, program).await?;
            if *amount > 0 {
                self.mint_to(mint, &ata, program, *amount).await?;
            }
            accounts.push(ata);
        }
        Ok(accounts)
    }

    /// Creates a lookup table holding `addresses`, owned by the fee payer, and moves to the
    /// next slot so that it is usable.
    async fn create_lookup_table(
        &mut self,
        addresses: &[Pubkey],
    ) -> Result<AddressLookupTableAccount> {
        let payer = self.fee_payer();
        let slot = self.recent_slot().await?;
        let (create, table) = alt::instruction::create_lookup_table(payer, payer, slot);
        self.send_ixs_ok(&[create], &[]).await?;
        for chunk in addresses.chunks(EXTEND_CHUNK) {
            let extend =
                alt::instruction::extend_lookup_table(table, payer, Some(payer), chunk.to_vec());
            self.send_ixs_ok(&[extend], &[]).await?;
        }
        self.next_slot().await?;
        Ok(AddressLookupTableAccount {
            key: table,
            addresses: addresses.to_vec(),
        })
    }

    /// Writes a fully verified Pyth price update for `feed_id` at `key`, as the receiver
    /// would.
    async fn post_price(
        &mut self,
        key: &Pubkey,
        feed_id: [u8; 32],
        price: PythPrice,
    ) -> Result<()> {
        self.set_account(
            key,
            crate::pyth::price_update_account_at(key, feed_id, price, VerificationLevel::Full),
        )
        .await
    }

    /// Publishes one fully verified price update per constituent of the index, table order,
    /// at the Pyth push-feed addresses operators read on a cluster (shard 0): the development
    /// chain's stand-in for Pyth. Returns those addresses.
    async fn post_index_prices(
        &mut self,
        index_key: &Pubkey,
        prices: &[PythPrice],
    ) -> Result<Vec<Pubkey>> {
        let index = self.load_index(index_key).await?;
        if prices.len() != index.constituents().len() {
            bail!(
                "{} prices for {} constituents",
                prices.len(),
                index.constituents().len()
            );
        }
        let keys = crate::price_feed_accounts(&index);
        for ((c, key), p) in index.constituents().iter().zip(&keys).zip(prices) {
            self.post_price(key, c.feed_id, *p).await?;
        }
        Ok(keys)
    }

    /// Publishes a Pyth price update for every constituent of the book's index, published now
    /// with a confidence of `conf_bps`: the stored prices, with `overrides` (symbol, USD
    /// decimal) replacing some. What `aidx oracle` does on a development chain.
    async fn publish_prices(
        &mut self,
        book: &crate::Book,
        overrides: &[(String, String)],
        conf_bps: u64,
    ) -> Result<()> {
        let index_key = book.index_key()?;
        let index = self.load_index(&index_key).await?;
        let now = self.get_clock().await?.unix_timestamp;
        let mut prices: Vec<u128> = index
            .constituents()
            .iter()
            .map(|c| c.price as u128)
            .collect();
        for (symbol, usd) in overrides {
            let row = book.row_of(symbol)?;
            *prices.get_mut(row).ok_or_else(|| {
                anyhow::anyhow!(
                    "{symbol} is row {row}, but the index has {} rows",
                    index.constituents().len()
                )
            })? = crate::format::parse_decimal(usd, aidx::math::USD_SCALE)?;
        }
        let mut updates = vec![];
        for (row, p) in prices.into_iter().enumerate() {
            if p == 0 {
                bail!("no price for {}: give one with --set", book.symbol(row));
            }
            updates.push(PythPrice::from_usd_scaled(p, conf_bps, now));
        }
        self.post_index_prices(&index_key, &updates).await?;
        Ok(())
    }
}
