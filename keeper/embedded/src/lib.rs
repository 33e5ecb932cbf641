//! The embedded in-process Solana runtime: the aidx program compiled natively and registered
//! with `solana-program-test`, next to the real SPL Token, Token-2022 and Associated Token
//! programs that `solana-program-test` bundles. The backend of `aidx demo`, of saved states
//! (`--state`) and of the tests.
//!
//! Events: the program logs them with `sol_log_data`, which natively goes to the syscall stubs.
//! [`install_event_capture`] wraps the stubs `solana-program-test` installs, forwards every call
//! to them and records `sol_log_data` payloads in a thread-local buffer. Transactions are
//! processed with `process_transaction_with_metadata`, which runs the bank on the calling
//! thread under a current-thread Tokio runtime, so each runtime (test) sees only its own events.

pub mod heap;
pub mod logs;
pub mod meter;
pub mod state;

use logs::Captured;

use aidx_client::pyth::PythPrice;
use aidx_client::tx;
use aidx_client::{AidxEvent, Chain, TxFailure, TxOutcome, TxResult};
use anchor_lang::solana_program::system_instruction;
use anyhow::{anyhow, bail, Context as _, Result};
use solana_address_lookup_table_interface as alt;
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_program_test::{processor, ProgramTest, ProgramTestContext};
use solana_sdk::{
    account::{Account, AccountSharedData},
    account_info::AccountInfo,
    clock::Clock,
    entrypoint::ProgramResult,
    instruction::Instruction,
    message::AddressLookupTableAccount,
    program_pack::Pack,
    pubkey::Pubkey,
    signature::Keypair,
    signer::Signer,
    transaction::{Transaction, TransactionError, VersionedTransaction},
};
use solana_sysvar::program_stubs::{set_syscall_stubs, SyscallStubs};
use std::cell::RefCell;
use std::sync::Once;

fn aidx_entry(program_id: &Pubkey, accounts: &[AccountInfo], data: &[u8]) -> ProgramResult {
    // Anchor's `entry` wants one lifetime for the slice and its items; `processor!` hands
    // out independent ones. The accounts outlive the call, so unifying them is sound.
    let accounts: &[AccountInfo] = unsafe { std::mem::transmute(accounts) };
    let was = heap::set_active(true);
    CAPTURED.with(|c| c.borrow_mut().push(vec![]));
    let r = aidx::entry(program_id, accounts, data);
    heap::set_active(was);
    r
}

thread_local! {
    /// What each invocation of the program did through its stubs, per invocation, in order.
    static CAPTURED: RefCell<Vec<Vec<Captured>>> = const { RefCell::new(Vec::new()) };
}

/// Records `item` for the current invocation of the program.
fn capture(item: Captured) {
    CAPTURED.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_empty() {
            c.push(vec![]);
        }
        c.last_mut().expect("an invocation").push(item);
    });
}

/// The syscall stubs of `solana-program-test`, wrapped to record `sol_log_data` payloads.
pub struct CaptureStubs {
    inner: Box<dyn SyscallStubs>,
}

impl SyscallStubs for CaptureStubs {
    fn sol_log(&self, message: &str) {
        meter::log(message.len());
        heap::paused(|| {
            capture(Captured::Log(message.to_string()));
            self.inner.sol_log(message)
        })
    }
    fn sol_log_compute_units(&self) {
        heap::paused(|| self.inner.sol_log_compute_units())
    }
    fn sol_remaining_compute_units(&self) -> u64 {
        heap::paused(|| self.inner.sol_remaining_compute_units())
    }
    fn sol_invoke_signed(
        &self,
        instruction: &Instruction,
        account_infos: &[AccountInfo],
        signers_seeds: &[&[&[u8]]],
    ) -> ProgramResult {
        let data_bytes: u64 = account_infos.iter().map(|a| a.data_len() as u64).sum();
        meter::cpi(
            instruction.data.len(),
            instruction.accounts.len(),
            data_bytes,
        );
        heap::paused(|| {
            capture(Captured::Cpi);
            self.inner
                .sol_invoke_signed(instruction, account_infos, signers_seeds)
        })
    }
    fn sol_get_sysvar(&self, id: *const u8, var: *mut u8, offset: u64, length: u64) -> u64 {
        meter::base(length);
        heap::paused(|| self.inner.sol_get_sysvar(id, var, offset, length))
    }
    fn sol_get_clock_sysvar(&self, var_addr: *mut u8) -> u64 {
        meter::base(40);
        heap::paused(|| self.inner.sol_get_clock_sysvar(var_addr))
    }
    fn sol_get_epoch_schedule_sysvar(&self, var_addr: *mut u8) -> u64 {
        meter::base(33);
        heap::paused(|| self.inner.sol_get_epoch_schedule_sysvar(var_addr))
    }
    fn sol_get_fees_sysvar(&self, var_addr: *mut u8) -> u64 {
        meter::base(8);
        heap::paused(|| self.inner.sol_get_fees_sysvar(var_addr))
    }
    fn sol_get_rent_sysvar(&self, var_addr: *mut u8) -> u64 {
        meter::base(17);
        heap::paused(|| self.inner.sol_get_rent_sysvar(var_addr))
    }
    fn sol_get_epoch_rewards_sysvar(&self, var_addr: *mut u8) -> u64 {
        meter::base(81);
        heap::paused(|| self.inner.sol_get_epoch_rewards_sysvar(var_addr))
    }
    fn sol_get_last_restart_slot(&self, var_addr: *mut u8) -> u64 {
        meter::base(8);
        heap::paused(|| self.inner.sol_get_last_restart_slot(var_addr))
    }
    fn sol_get_epoch_stake(&self, vote_address: *const u8) -> u64 {
        heap::paused(|| self.inner.sol_get_epoch_stake(vote_address))
    }
    unsafe fn sol_memcpy(&self, dst: *mut u8, src: *const u8, n: usize) {
        heap::paused(|| self.inner.sol_memcpy(dst, src, n))
    }
    unsafe fn sol_memmove(&self, dst: *mut u8, src: *const u8, n: usize) {
        heap::paused(|| self.inner.sol_memmove(dst, src, n))
    }
    unsafe fn sol_memcmp(&self, s1: *const u8, s2: *const u8, n: usize, result: *mut i32) {
        heap::paused(|| self.inner.sol_memcmp(s1, s2, n, result))
    }
    unsafe fn sol_memset(&self, s: *mut u8, c: u8, n: usize) {
        heap::paused(|| self.inner.sol_memset(s, c, n))
    }
    fn sol_get_return_data(&self) -> Option<(Pubkey, Vec<u8>)> {
        heap::paused(|| self.inner.sol_get_return_data())
    }
    fn sol_set_return_data(&self, data: &[u8]) {
        heap::paused(|| self.inner.sol_set_return_data(data))
    }
    fn sol_log_data(&self, fields: &[&[u8]]) {
        meter::log_data(fields);
        heap::paused(|| capture(Captured::Data(fields.iter().map(|f| f.to_vec()).collect())));
    }
    fn sol_get_processed_sibling_instruction(&self, index: usize) -> Option<Instruction> {
        heap::paused(|| self.inner.sol_get_processed_sibling_instruction(index))
    }
    fn sol_get_stack_height(&self) -> u64 {
        heap::paused(|| self.inner.sol_get_stack_height())
    }
}

/// Wraps the syscall stubs `solana-program-test` installed with the event recorder. Must run
/// after the first `ProgramTest::start*` (which installs them) and before any transaction;
/// [`Embedded::start`] does both, and `Once` makes every other thread wait for it.
fn install_event_capture() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        struct Placeholder;
        impl SyscallStubs for Placeholder {}
        let program_test_stubs = set_syscall_stubs(Box::new(Placeholder));
        set_syscall_stubs(Box::new(CaptureStubs {
            inner: program_test_stubs,
        }));
    });
}

fn drain_captured() -> Vec<Vec<Captured>> {
    CAPTURED.with(|c| std::mem::take(&mut *c.borrow_mut()))
}

/// A processed or simulated transaction's result with the events it captured, and its logs as
/// a cluster writes them (see [`logs::cluster_logs`]).
fn outcome(result: std::result::Result<(), TransactionError>, logs: Vec<String>) -> TxResult {
    let calls = drain_captured();
    let logs = logs::cluster_logs(&logs, &aidx::ID, &calls);
    let captured: Vec<Vec<u8>> = calls
        .into_iter()
        .flatten()
        .filter_map(|c| match c {
            Captured::Data(fields) => Some(fields),
            _ => None,
        })
        .flatten()
        .collect();
    match result {
        Ok(()) => Ok(TxOutcome {
            events: captured
                .iter()
                .filter_map(|raw| AidxEvent::decode(raw))
                .collect(),
            raw_events: captured,
            logs,
        }),
        Err(error) => Err(TxFailure { error, logs }),
    }
}

/// The in-process chain.
pub struct Embedded {
    pub ctx: ProgramTestContext,
    nonce: u32,
    /// Every account a transaction or `set_account` named: what [`Embedded::export`] saves.
    touched: std::collections::BTreeSet<Pubkey>,
    /// Every event of every committed transaction, as logged, in order: the index's history
    /// (what `Program data:` log lines give on a cluster).
    pub event_log: Vec<Vec<u8>>,
    /// Whether a transaction larger than a packet is refused before it runs, as a cluster
    /// refuses it (on, unless started with [`Embedded::start_with_test_limits`]).
    pub cluster_size_limit: bool,
    /// Compute units the last processed or simulated transaction consumed (the SPL programs'
    /// metering; the natively run program is not metered).
    pub last_units_consumed: u64,
}

pub use aidx_client::tx::MAINNET_ACCOUNT_LOCKS;

/// Compute units each transaction may use; also varied per transaction (see [`Embedded::send`]).
const TX_COMPUTE_LIMIT: u32 = 1_400_000;

impl Embedded {
    /// Starts a runtime with the aidx program on mainnet-beta's transaction limits: 64 account
    /// locks (`increase_tx_account_lock_limit` deactivated) and transactions refused above
    /// `PACKET_DATA_SIZE`. Needs a current-thread Tokio runtime.
    pub async fn start() -> Result<Self> {
        Self::start_with(|_| {}).await
    }

    /// Like [`Embedded::start`], letting the caller configure the `ProgramTest` first
    /// (accounts to preload, features to deactivate).
    pub async fn start_with(configure: impl FnOnce(&mut ProgramTest)) -> Result<Self> {
        if tokio::runtime::Handle::current().runtime_flavor()
            != tokio::runtime::RuntimeFlavor::CurrentThread
        {
            bail!("the embedded runtime needs a current-thread Tokio runtime to capture events");
        }
        // solana-program-test installs a debug-level logger unless RUST_LOG says otherwise.
        if std::env::var_os("RUST_LOG").is_none() {
            std::env::set_var("RUST_LOG", "error");
        }
        let mut pt = ProgramTest::new("aidx", aidx::ID, processor!(aidx_entry));
        pt.prefer_bpf(false);
        pt.deactivate_feature(agave_feature_set::increase_tx_account_lock_limit::id());
        pt.set_transaction_account_lock_limit(MAINNET_ACCOUNT_LOCKS);
        configure(&mut pt);
        let ctx = pt.start_with_context().await;
        install_event_capture();
        drain_captured();
        Ok(Embedded {
            ctx,
            nonce: 0,
            touched: Default::default(),
            event_log: vec![],
            cluster_size_limit: true,
            last_units_consumed: 0,
        })
    }

    /// A runtime on the test runtime's own limits (128 account locks, no packet-size check):
    /// only for baskets larger than one mainnet transaction holds today.
    pub async fn start_with_test_limits() -> Result<Self> {
        let mut chain = Self::start_with(|pt| pt.set_transaction_account_lock_limit(128)).await?;
        chain.cluster_size_limit = false;
        Ok(chain)
    }

    pub fn payer(&self) -> &Keypair {
        &self.ctx.payer
    }

    pub fn payer_key(&self) -> Pubkey {
        self.ctx.payer.pubkey()
    }

    /// A legacy transaction of `ixs` (with the nonce instruction), signed by the payer and
    /// `signers`, at the latest blockhash.
    async fn legacy_tx(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Transaction> {
        let all = self.with_nonce(ixs);
        let blockhash = self.ctx.banks_client.get_latest_blockhash().await?;
        let keys = tx::signer_list(&self.ctx.payer, &all, signers);
        Ok(Transaction::new_signed_with_payer(
            &all,
            Some(&self.ctx.payer.pubkey()),
            &keys,
            blockhash,
        ))
    }

    /// Signs with the payer and `signers`, processes, and returns the events or the failure.
    ///
    /// A compute-unit-limit instruction is prepended whose value differs per transaction, so
    /// two identical transactions in one blockhash still have distinct signatures.
    pub async fn send(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<TxResult> {
        let tx = self.legacy_tx(ixs, signers).await?;
        self.process_versioned(tx).await
    }

    /// Like [`Embedded::send`] as a v0 transaction resolving accounts through `tables`:
    /// how baskets whose accounts exceed a legacy transaction's 38 static keys are sent.
    pub async fn send_v0(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
        tables: &[AddressLookupTableAccount],
    ) -> Result<TxResult> {
        let tx = self.build_v0(ixs, signers, tables).await?;
        self.process_versioned(tx).await
    }

    /// Builds and signs (payer first) a v0 transaction; exposed so its size can be measured.
    pub async fn build_v0(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
        tables: &[AddressLookupTableAccount],
    ) -> Result<VersionedTransaction> {
        let all = self.with_nonce(ixs);
        let blockhash = self.ctx.banks_client.get_latest_blockhash().await?;
        tx::build_v0(&self.ctx.payer, &all, signers, tables, blockhash)
    }

    /// Sends a basket instruction as a v0 transaction through `tables` (refused before it runs
    /// when larger than a cluster accepts, see [`Embedded::cluster_size_limit`]). Returns its
    /// outcome and its size.
    pub async fn send_basket(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
        tables: &[AddressLookupTableAccount],
    ) -> Result<(TxResult, usize)> {
        let tx = self.build_v0(ixs, signers, tables).await?;
        let size = tx::wire_size(&tx)?;
        Ok((self.process_versioned(tx).await?, size))
    }

    fn with_nonce(&mut self, ixs: &[Instruction]) -> Vec<Instruction> {
        self.nonce = self.nonce.wrapping_add(1) % 100_000;
        let mut all = vec![ComputeBudgetInstruction::set_compute_unit_limit(
            TX_COMPUTE_LIMIT - self.nonce,
        )];
        all.extend_from_slice(ixs);
        all
    }

    /// Refuses a transaction a cluster would refuse for its size (unless on test limits).
    fn check_size(&self, tx: &VersionedTransaction) -> Result<()> {
        if self.cluster_size_limit {
            tx::check_size(tx)?;
        }
        Ok(())
    }

    /// Processes an already-signed transaction.
    pub async fn process_versioned(
        &mut self,
        tx: impl Into<VersionedTransaction>,
    ) -> Result<TxResult> {
        let tx: VersionedTransaction = tx.into();
        self.check_size(&tx)?;
        self.touch(&tx);
        drain_captured();
        let r = self
            .ctx
            .banks_client
            .process_transaction_with_metadata(tx)
            .await
            .context("banks client")?;
        self.last_units_consumed = r.metadata.as_ref().map_or(0, |m| m.compute_units_consumed);
        let logs = r.metadata.map(|m| m.log_messages).unwrap_or_default();
        let o = outcome(r.result, logs);
        if let Ok(ok) = &o {
            self.event_log.extend(ok.raw_events.iter().cloned());
        }
        Ok(o)
    }

    /// Creates an address lookup table holding `addresses`, owned by the payer, and advances
    /// one slot so that it is usable.
    pub async fn create_lookup_table(
        &mut self,
        addresses: &[Pubkey],
    ) -> Result<AddressLookupTableAccount> {
        let payer = self.payer_key();
        let slot = self.ctx.banks_client.get_root_slot().await?;
        self.ctx
            .warp_to_slot(slot + 2)
            .map_err(|e| anyhow!("warp: {e:?}"))?;
        let (create, table) = alt::instruction::create_lookup_table(payer, payer, slot + 1);
        self.send_ok(&[create], &[]).await?;
        for chunk in addresses.chunks(24) {
            let extend =
                alt::instruction::extend_lookup_table(table, payer, Some(payer), chunk.to_vec());
            self.send_ok(&[extend], &[]).await?;
        }
        let slot = self.ctx.banks_client.get_root_slot().await?;
        self.ctx
            .warp_to_slot(slot + 2)
            .map_err(|e| anyhow!("warp: {e:?}"))?;
        Ok(AddressLookupTableAccount {
            key: table,
            addresses: addresses.to_vec(),
        })
    }

    /// [`Embedded::send`], turning a failed transaction into an error.
    pub async fn send_ok(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<TxOutcome> {
        self.send(ixs, signers).await?.map_err(anyhow::Error::from)
    }

    pub async fn account(&mut self, key: &Pubkey) -> Result<Option<Account>> {
        Ok(self.ctx.banks_client.get_account(*key).await?)
    }

    pub async fn account_data(&mut self, key: &Pubkey) -> Result<Vec<u8>> {
        Chain::data_of(self, key).await
    }

    /// Every account a transaction or `set_account` named, or that was loaded at start: what a
    /// scan (a node's `getProgramAccounts`) looks through.
    pub fn known_keys(&self) -> Vec<Pubkey> {
        self.touched.iter().copied().collect()
    }

    /// Adds accounts to those [`Embedded::export`] saves (accounts preloaded at start).
    pub fn remember(&mut self, keys: &[Pubkey]) {
        self.touched.extend(keys.iter().copied());
    }

    fn touch(&mut self, tx: &VersionedTransaction) {
        self.touched
            .extend(tx.message.static_account_keys().iter().copied());
        if let Some(lookups) = tx.message.address_table_lookups() {
            self.touched.extend(lookups.iter().map(|l| l.account_key));
        }
    }

    /// [`Embedded::simulate`] for a v0 transaction through `tables`.
    pub async fn simulate_v0(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
        tables: &[AddressLookupTableAccount],
    ) -> Result<TxResult> {
        let tx = self.build_v0(ixs, signers, tables).await?;
        self.simulate_versioned(tx).await
    }

    /// Runs a signed transaction without committing it: its events and logs, or its failure.
    pub async fn simulate(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<TxResult> {
        let tx = self.legacy_tx(ixs, signers).await?;
        self.simulate_versioned(tx).await
    }

    /// Simulates an already-signed transaction (refused first when a cluster would refuse it
    /// for its size).
    pub async fn simulate_versioned(
        &mut self,
        tx: impl Into<VersionedTransaction>,
    ) -> Result<TxResult> {
        let tx: VersionedTransaction = tx.into();
        self.check_size(&tx)?;
        drain_captured();
        let r = self
            .ctx
            .banks_client
            .simulate_transaction(tx)
            .await
            .context("banks client")?;
        self.last_units_consumed = r
            .simulation_details
            .as_ref()
            .map_or(0, |d| d.units_consumed);
        let logs = r.simulation_details.map(|d| d.logs).unwrap_or_default();
        match r.result {
            Some(result) => Ok(outcome(result, logs)),
            None => bail!("simulation returned no result"),
        }
    }

    /// Every account transactions have named, as it is now, except programs and sysvars:
    /// enough to start another embedded runtime in the same state.
    pub async fn export(&mut self) -> Result<Vec<(Pubkey, Account)>> {
        let keys: Vec<Pubkey> = self.touched.iter().copied().collect();
        let mut out = vec![];
        for key in keys {
            if let Some(a) = self.account(&key).await? {
                let skip = a.executable
                    || a.owner == solana_sdk::sysvar::ID
                    || a.owner == solana_sdk::native_loader::ID
                    || a.owner == anchor_lang::solana_program::bpf_loader_upgradeable::ID;
                if !skip {
                    out.push((key, a));
                }
            }
        }
        Ok(out)
    }

    pub fn set_account(&mut self, key: &Pubkey, account: Account) {
        self.touched.insert(*key);
        self.ctx.set_account(key, &AccountSharedData::from(account));
    }

    /// Reads the index account.
    pub async fn index(&mut self, key: &Pubkey) -> Result<aidx::state::Index> {
        Chain::load_index(self, key).await
    }

    /// Amount held by a token account (either program).
    pub async fn token_balance(&mut self, key: &Pubkey) -> Result<u64> {
        Chain::balance_of(self, key).await
    }

    /// Supply of a mint (either program).
    pub async fn mint_supply(&mut self, key: &Pubkey) -> Result<u64> {
        Chain::supply_of(self, key).await
    }

    /// Creates a plain mint under `token_program` whose mint authority is the payer.
    pub async fn create_mint(&mut self, token_program: &Pubkey, decimals: u8) -> Result<Pubkey> {
        let mint = Keypair::new();
        let payer = self.payer_key();
        let space = anchor_spl::token::spl_token::state::Mint::LEN;
        let rent = self
            .ctx
            .banks_client
            .get_rent()
            .await?
            .minimum_balance(space);
        let ixs = [
            system_instruction::create_account(
                &payer,
                &mint.pubkey(),
                rent,
                space as u64,
                token_program,
            ),
            anchor_spl::token_2022::spl_token_2022::instruction::initialize_mint2(
                token_program,
                &mint.pubkey(),
                &payer,
                None,
                decimals,
            )?,
        ];
        self.send_ok(&ixs, &[&mint]).await?;
        Ok(mint.pubkey())
    }

    /// Creates (idempotently) the associated token account of `owner` for `mint`.
    pub async fn create_ata(
        &mut self,
        owner: &Pubkey,
        mint: &Pubkey,
        token_program: &Pubkey,
    ) -> Result<Pubkey> {
        let payer = self.payer_key();
        let ix = anchor_spl::associated_token::spl_associated_token_account::instruction::create_associated_token_account_idempotent(
            &payer,
            owner,
            mint,
            token_program,
        );
        self.send_ok(&[ix], &[]).await?;
        Ok(aidx_client::ata(owner, mint, token_program))
    }

    /// Mints `amount` of a payer-controlled mint to `to`.
    pub async fn mint_to(
        &mut self,
        mint: &Pubkey,
        to: &Pubkey,
        token_program: &Pubkey,
        amount: u64,
    ) -> Result<()> {
        let payer = self.payer_key();
        let ix = anchor_spl::token_2022::spl_token_2022::instruction::mint_to(
            token_program,
            mint,
            to,
            &payer,
            &[],
            amount,
        )?;
        self.send_ok(&[ix], &[]).await?;
        Ok(())
    }

    /// Sends lamports from the payer, e.g. to fund a new holder.
    pub async fn airdrop(&mut self, to: &Pubkey, lamports: u64) -> Result<()> {
        let payer = self.payer_key();
        self.send_ok(&[system_instruction::transfer(&payer, to, lamports)], &[])
            .await?;
        Ok(())
    }
}

impl Embedded {
    /// The bank's clock.
    pub async fn clock(&mut self) -> Result<solana_sdk::clock::Clock> {
        Ok(self.ctx.banks_client.get_sysvar().await?)
    }

    /// Moves the clock's unix time (warping does not move it).
    pub async fn set_unix_timestamp(&mut self, unix_timestamp: i64) -> Result<()> {
        let mut clock = self.clock().await?;
        clock.unix_timestamp = unix_timestamp;
        self.ctx.set_sysvar(&clock);
        Ok(())
    }

    /// Writes a fully verified Pyth price update for `feed_id` at `key`.
    pub fn post_price(&mut self, key: &Pubkey, feed_id: [u8; 32], price: PythPrice) {
        self.set_account(
            key,
            aidx_client::pyth::price_update_account(
                feed_id,
                price,
                pyth_solana_receiver_sdk::price_update::VerificationLevel::Full,
            ),
        );
    }
}

impl Embedded {
    /// Publishes one fully verified price update per constituent of the index, table order, at
    /// the Pyth push-feed addresses operators read on a cluster (shard 0): the embedded
    /// runtime's stand-in for Pyth. Returns those addresses.
    pub async fn post_index_prices(
        &mut self,
        index_key: &Pubkey,
        prices: &[PythPrice],
    ) -> Result<Vec<Pubkey>> {
        let index = Chain::load_index(self, index_key).await?;
        if prices.len() != index.constituents().len() {
            bail!(
                "{} prices for {} constituents",
                prices.len(),
                index.constituents().len()
            );
        }
        let keys = aidx_client::price_feed_accounts(&index);
        for ((c, key), p) in index.constituents().iter().zip(&keys).zip(prices) {
            self.post_price(key, c.feed_id, *p);
        }
        Ok(keys)
    }

    /// A new holder's accounts: `lamports` of SOL, an associated token account of each
    /// `(mint, token program, amount)` credited with `amount` (the payer is every mint's
    /// authority), and returns the token accounts in order.
    pub async fn fund_holder(
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
}

impl Chain for Embedded {
    fn fee_payer(&self) -> Pubkey {
        self.payer_key()
    }
    fn budget_instructions(&self) -> Vec<Instruction> {
        vec![ComputeBudgetInstruction::set_compute_unit_limit(
            TX_COMPUTE_LIMIT,
        )]
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

impl Embedded {
    /// Publishes a Pyth price update for every constituent of the book's index, published now
    /// with a confidence of `conf_bps`: the stored prices, with `overrides` (symbol, USD
    /// decimal) replacing some. What `aidx oracle` does on a saved chain.
    pub async fn publish_prices(
        &mut self,
        book: &aidx_client::Book,
        overrides: &[(String, String)],
        conf_bps: u64,
    ) -> Result<()> {
        let index_key = book.index_key()?;
        let index = self.index(&index_key).await?;
        let now = self.clock().await?.unix_timestamp;
        let mut prices: Vec<u128> = index
            .constituents()
            .iter()
            .map(|c| c.price as u128)
            .collect();
        for (symbol, usd) in overrides {
            prices[book.row_of(symbol)?] =
                aidx_client::format::parse_decimal(usd, aidx::math::USD_SCALE)?;
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
