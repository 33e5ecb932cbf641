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
pub mod pyth;
pub mod state;

use logs::Captured;

use aidx_client::pyth::PythPrice;
use aidx_client::tx;
use aidx_client::{AidxEvent, Chain, TxFailure, TxOutcome, TxResult};
use anyhow::{anyhow, bail, Context as _, Result};
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_program_test::{processor, ProgramTest, ProgramTestContext};
use solana_sdk::{
    account::{Account, AccountSharedData},
    account_info::AccountInfo,
    clock::Clock,
    entrypoint::ProgramResult,
    instruction::Instruction,
    message::AddressLookupTableAccount,
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
            signature: None,
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
    /// The instructions the last simulated transaction's instructions invoked (CPIs), per
    /// instruction, with their stack heights: what a validator reports as inner instructions.
    pub last_inner_instructions: Vec<
        Vec<(
            solana_sdk::message::compiled_instruction::CompiledInstruction,
            u8,
        )>,
    >,
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
        // Pyth's pull oracle, emulated at its mainnet addresses, with pythnet-sdk's test
        // guardians as the guardian set (what a mock Hermes signs with).
        pt.add_program(
            "wormhole_receiver",
            pyth::WORMHOLE_RECEIVER_ID,
            processor!(pyth::wormhole),
        );
        pt.add_program(
            "pyth_receiver",
            pyth::RECEIVER_ID,
            processor!(pyth::receiver),
        );
        pt.add_program(
            "pyth_push_oracle",
            pyth::PUSH_ORACLE_ID,
            processor!(pyth::push_oracle),
        );
        for (key, account) in pyth::genesis(pythnet_sdk::test_utils::dummy_guardians_addresses()) {
            pt.add_account(key, account);
        }
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
            last_inner_instructions: vec![],
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
        if tx::sets_compute_budget(ixs) {
            return ixs.to_vec();
        }
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
        let signature = tx.signatures.first().copied().unwrap_or_default();
        drain_captured();
        let r = self
            .ctx
            .banks_client
            .process_transaction_with_metadata(tx)
            .await
            .context("banks client")?;
        self.last_units_consumed = r.metadata.as_ref().map_or(0, |m| m.compute_units_consumed);
        let logs = r.metadata.map(|m| m.log_messages).unwrap_or_default();
        let mut o = outcome(r.result, logs);
        if let Ok(ok) = &mut o {
            ok.signature = Some(signature);
            self.event_log.extend(ok.raw_events.iter().cloned());
        }
        Ok(o)
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
        self.last_inner_instructions = r
            .simulation_details
            .as_ref()
            .and_then(|d| d.inner_instructions.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|list| {
                list.into_iter()
                    .map(|i| (i.instruction, i.stack_height))
                    .collect()
            })
            .collect();
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
            aidx_client::pyth::price_update_account_at(
                key,
                feed_id,
                price,
                pyth_solana_receiver_sdk::price_update::VerificationLevel::Full,
            ),
        );
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

impl aidx_client::DevChain for Embedded {
    async fn set_account(&mut self, key: &Pubkey, account: Account) -> Result<()> {
        Embedded::set_account(self, key, account);
        Ok(())
    }
    async fn set_unix_timestamp(&mut self, unix_timestamp: i64) -> Result<()> {
        Embedded::set_unix_timestamp(self, unix_timestamp).await
    }
    async fn next_slot(&mut self) -> Result<()> {
        let slot = self.ctx.banks_client.get_root_slot().await?;
        self.ctx
            .warp_to_slot(slot + 2)
            .map_err(|e| anyhow!("warp: {e:?}"))
    }
    async fn recent_slot(&mut self) -> Result<u64> {
        // After warping from root `r` to `r + 2`, `SlotHashes` holds `r + 1`.
        let slot = self.ctx.banks_client.get_root_slot().await?;
        self.next_slot().await?;
        Ok(slot + 1)
    }
}
