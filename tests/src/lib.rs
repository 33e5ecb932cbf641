//! Test harness for aidx: a [`TestContext`] over the embedded runtime (the program natively,
//! SPL Token / Token-2022 / ATA as the real bundled programs), builders for mints (with
//! Token-2022 extensions), holders and indexes of N constituents mixing both token programs,
//! one client helper per instruction, captured events, and exact-error assertions.

use aidx::errors::AidxError;
use aidx::instructions::{
    AddConstituentArgs, InitializeIndexArgs, MintInKindArgs, RedeemInKindArgs,
};
use aidx::instructions::{MintSingleArgs, RedeemSingleArgs};
use aidx::math::shares::DEAD_SHARES;
use aidx::math::{ONE_SHARE, WEIGHT_SCALE};
use aidx::state::{Bucket, Index, IndexParams, SubSector};
use aidx_client::chain::Chain as _;
use aidx_client::{self as client, AidxEvent, TxFailure, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID};
use aidx_embedded::Embedded;
use anchor_lang::solana_program::system_instruction;
use anchor_spl::token_2022::spl_token_2022::{
    self,
    extension::ExtensionType,
    state::{AccountState, Mint as Mint2022},
};
use solana_sdk::{
    instruction::{Instruction, InstructionError},
    message::AddressLookupTableAccount,
    pubkey::Pubkey,
    signature::Keypair,
    signer::Signer,
    transaction::TransactionError,
};

pub use aidx_client;
pub use aidx_client::pyth::PythPrice;
pub use aidx_client::DevChain;
pub use aidx_client::TxResult;
pub use aidx_embedded;

/// A Token-2022 mint extension a test mint is created with.
#[derive(Clone, Debug)]
pub enum MintExt {
    TransferFee {
        bps: u16,
    },
    TransferHook {
        authority: Option<Pubkey>,
        program: Option<Pubkey>,
    },
    NonTransferable,
    DefaultState(AccountState),
    PermanentDelegate(Pubkey),
    InterestBearing {
        rate_bps: i16,
    },
    MintCloseAuthority,
    MetadataPointer,
    ConfidentialTransfer,
    Pausable,
    /// A transfer hook with no program, whose authority is revoked right after the mint is
    /// initialized (Token-2022 refuses to initialize one with neither): inert for good.
    InertTransferHook,
    /// Group pointer at the mint itself.
    GroupPointer,
    /// Group member pointer at the mint itself.
    GroupMemberPointer,
    /// Token metadata in the mint (after initialization; give it a `MetadataPointer` too).
    TokenMetadata,
    /// A token group in the mint (after initialization; give it a `GroupPointer` too).
    TokenGroup,
    /// Membership of the group in mint `group` (after initialization; give it a
    /// `GroupMemberPointer` too). The payer is the group's update authority.
    TokenGroupMember {
        group: Pubkey,
    },
}

impl MintExt {
    fn kind(&self) -> ExtensionType {
        match self {
            MintExt::TransferFee { .. } => ExtensionType::TransferFeeConfig,
            MintExt::TransferHook { .. } => ExtensionType::TransferHook,
            MintExt::NonTransferable => ExtensionType::NonTransferable,
            MintExt::DefaultState(_) => ExtensionType::DefaultAccountState,
            MintExt::PermanentDelegate(_) => ExtensionType::PermanentDelegate,
            MintExt::InterestBearing { .. } => ExtensionType::InterestBearingConfig,
            MintExt::MintCloseAuthority => ExtensionType::MintCloseAuthority,
            MintExt::MetadataPointer => ExtensionType::MetadataPointer,
            MintExt::ConfidentialTransfer => ExtensionType::ConfidentialTransferMint,
            MintExt::Pausable => ExtensionType::Pausable,
            MintExt::InertTransferHook => ExtensionType::TransferHook,
            MintExt::GroupPointer => ExtensionType::GroupPointer,
            MintExt::GroupMemberPointer => ExtensionType::GroupMemberPointer,
            MintExt::TokenMetadata => ExtensionType::TokenMetadata,
            MintExt::TokenGroup => ExtensionType::TokenGroup,
            MintExt::TokenGroupMember { .. } => ExtensionType::TokenGroupMember,
        }
    }

    /// The extension type of the mint (for the vault's required account extensions).
    pub fn extension_type(&self) -> ExtensionType {
        self.kind()
    }

    /// Initialized after the mint itself (the token program reallocates the mint for it).
    fn after_mint(&self) -> bool {
        matches!(
            self,
            MintExt::TokenMetadata | MintExt::TokenGroup | MintExt::TokenGroupMember { .. }
        )
    }

    /// The instruction that initializes a post-mint extension.
    fn post_init_ix(&self, mint: &Pubkey, authority: &Pubkey) -> Instruction {
        let p = &TOKEN_2022_PROGRAM_ID;
        match self {
            MintExt::TokenMetadata => spl_token_metadata_interface::instruction::initialize(
                p,
                mint,
                authority,
                mint,
                authority,
                "Test Token".into(),
                "TEST".into(),
                "https://example.invalid/t.json".into(),
            ),
            MintExt::TokenGroup => spl_token_group_interface::instruction::initialize_group(
                p,
                mint,
                mint,
                authority,
                Some(*authority),
                64,
            ),
            MintExt::TokenGroupMember { group } => {
                spl_token_group_interface::instruction::initialize_member(
                    p, mint, mint, authority, group, authority,
                )
            }
            other => panic!("{other:?} is initialized before the mint"),
        }
    }

    fn init_ix(&self, mint: &Pubkey, authority: &Pubkey) -> Instruction {
        use spl_token_2022::extension as ext;
        let p = &TOKEN_2022_PROGRAM_ID;
        match self {
            MintExt::TransferFee { bps } => {
                ext::transfer_fee::instruction::initialize_transfer_fee_config(
                    p,
                    mint,
                    Some(authority),
                    Some(authority),
                    *bps,
                    u64::MAX,
                )
            }
            MintExt::TransferHook { authority, program } => {
                ext::transfer_hook::instruction::initialize(p, mint, *authority, *program)
            }
            MintExt::NonTransferable => {
                spl_token_2022::instruction::initialize_non_transferable_mint(p, mint)
            }
            MintExt::DefaultState(s) => {
                ext::default_account_state::instruction::initialize_default_account_state(
                    p, mint, s,
                )
            }
            MintExt::PermanentDelegate(d) => {
                spl_token_2022::instruction::initialize_permanent_delegate(p, mint, d)
            }
            MintExt::InterestBearing { rate_bps } => {
                ext::interest_bearing_mint::instruction::initialize(
                    p,
                    mint,
                    Some(*authority),
                    *rate_bps,
                )
            }
            MintExt::MintCloseAuthority => {
                spl_token_2022::instruction::initialize_mint_close_authority(
                    p,
                    mint,
                    Some(authority),
                )
            }
            MintExt::MetadataPointer => ext::metadata_pointer::instruction::initialize(
                p,
                mint,
                Some(*authority),
                Some(*mint),
            ),
            MintExt::ConfidentialTransfer => {
                ext::confidential_transfer::instruction::initialize_mint(
                    p,
                    mint,
                    Some(*authority),
                    true,
                    None,
                )
            }
            MintExt::Pausable => ext::pausable::instruction::initialize(p, mint, authority),
            MintExt::InertTransferHook => {
                ext::transfer_hook::instruction::initialize(p, mint, Some(*authority), None)
            }
            MintExt::GroupPointer => {
                ext::group_pointer::instruction::initialize(p, mint, Some(*authority), Some(*mint))
            }
            MintExt::GroupMemberPointer => ext::group_member_pointer::instruction::initialize(
                p,
                mint,
                Some(*authority),
                Some(*mint),
            ),
            other => panic!("{other:?} is initialized after the mint"),
        }
        .expect("extension instruction")
    }
}

/// The token program of constituent `i` in a mixed index: even rows SPL Token, odd rows Token-2022.
pub fn mixed_program(i: usize) -> Pubkey {
    if i.is_multiple_of(2) {
        TOKEN_PROGRAM_ID
    } else {
        TOKEN_2022_PROGRAM_ID
    }
}

/// The decimals of constituent `i` in a [`TestContext::create_index`] index: 6, 9, 8, 0 repeating.
pub fn mixed_decimals(i: usize) -> u8 {
    [6u8, 9, 8, 0][i % 4]
}

/// Raw units of `tokens` whole tokens of constituent `i` of such an index.
pub fn whole(i: usize, tokens: u64) -> u64 {
    10u64.pow(u32::from(mixed_decimals(i))) * tokens
}

/// A row of a test index: token program, decimals, Token-2022 extensions, raw units per share.
#[derive(Clone, Debug)]
pub struct RowSpec {
    pub program: Pubkey,
    pub decimals: u8,
    pub exts: Vec<MintExt>,
    pub units: u64,
    /// An existing mint (made with `exts`) instead of a new one.
    pub mint: Option<Pubkey>,
}

/// The rows of a [`TestContext::create_index`] index: [`mixed_program`], [`mixed_decimals`],
/// no extension, `units(i)` seed units.
pub fn mixed_rows(n: usize, units: impl Fn(usize) -> u64) -> Vec<RowSpec> {
    (0..n)
        .map(|i| RowSpec {
            program: mixed_program(i),
            decimals: mixed_decimals(i),
            exts: vec![],
            units: units(i),
            mint: None,
        })
        .collect()
}

/// A constituent of an [`IndexFixture`].
#[derive(Clone, Debug)]
pub struct ConstituentFixture {
    pub mint: Pubkey,
    pub token_program: Pubkey,
    pub decimals: u8,
    pub units_per_share: u64,
    /// Its Pyth feed: the harness posts its prices at that feed's push-feed address.
    pub feed_id: [u8; 32],
}

/// An index built by [`TestContext::create_index`].
pub struct IndexFixture {
    pub key: Pubkey,
    pub share_mint: Pubkey,
    pub admin: Keypair,
    pub constituents: Vec<ConstituentFixture>,
    /// Address lookup table of the index's fixed accounts, mints and vaults (set by
    /// [`TestContext::create_index`]); in-kind helpers send v0 transactions through it.
    pub lut: Option<AddressLookupTableAccount>,
}

/// A holder: a keypair with SOL, token accounts for every constituent and a share account.
pub struct Holder {
    pub keypair: Keypair,
    pub token_accounts: Vec<Pubkey>,
    pub shares: Pubkey,
}

impl Holder {
    pub fn key(&self) -> Pubkey {
        self.keypair.pubkey()
    }
}

/// The `add_constituent` arguments of row `i` of an `n`-row test index: sub-sector `i % 8`
/// (the host bucket for host rows), feed [`test_feed_id`]`(seed, i)`, `units` raw units per
/// share, target `1/n`.
pub fn row_args(seed: u8, i: usize, n: usize, units: u64) -> AddConstituentArgs {
    AddConstituentArgs {
        sub_sector: (i % 8) as u8,
        bucket: if i % 8 == SubSector::Host as usize {
            Bucket::Host as u8
        } else {
            Bucket::PurePlay as u8
        },
        feed_id: test_feed_id(seed, i),
        initial_units_per_share: units,
        target_weight: WEIGHT_SCALE / n as u64,
    }
}

/// Feed id used for constituent `i` of test indexes (any nonzero, distinct value).
pub fn test_feed_id(seed: u8, i: usize) -> [u8; 32] {
    let mut f = [0u8; 32];
    f[0] = 0xfe;
    f[1] = seed;
    f[2..10].copy_from_slice(&(i as u64).to_le_bytes());
    f
}

pub struct TestContext {
    pub chain: Embedded,
    indexes_made: u8,
    /// Lookup tables of holders' accounts made by [`TestContext::send_basket`], kept for reuse.
    holder_tables: Vec<AddressLookupTableAccount>,
}

impl TestContext {
    /// A runtime on mainnet-beta's transaction limits (64 account locks, packet size).
    pub async fn new() -> Self {
        TestContext {
            chain: Embedded::start().await.expect("embedded runtime"),
            indexes_made: 0,
            holder_tables: vec![],
        }
    }

    /// A runtime on the test runtime's own limits (128 account locks, no packet-size check),
    /// for baskets larger than one mainnet transaction holds today.
    pub async fn with_test_limits() -> Self {
        TestContext {
            chain: Embedded::start_with_test_limits()
                .await
                .expect("embedded runtime"),
            indexes_made: 0,
            holder_tables: vec![],
        }
    }

    pub fn payer(&self) -> Pubkey {
        self.chain.payer_key()
    }

    /// Creates a mint under `token_program` (Token-2022 with `exts`), authority the payer.
    pub async fn create_mint(
        &mut self,
        token_program: Pubkey,
        decimals: u8,
        exts: &[MintExt],
    ) -> Pubkey {
        if exts.is_empty() {
            return self
                .chain
                .create_mint(&token_program, decimals)
                .await
                .expect("mint");
        }
        assert_eq!(
            token_program, TOKEN_2022_PROGRAM_ID,
            "extensions need Token-2022"
        );
        let mint = Keypair::new();
        let payer = self.payer();
        let (before, after): (Vec<&MintExt>, Vec<&MintExt>) =
            exts.iter().partition(|e| !e.after_mint());
        let kinds: Vec<ExtensionType> = before.iter().map(|e| e.kind()).collect();
        let space = ExtensionType::try_calculate_account_len::<Mint2022>(&kinds).expect("len");
        // Post-mint extensions grow the account: pay the rent of the larger size up front.
        let grown = space + if after.is_empty() { 0 } else { 1_024 };
        let rent = self
            .chain
            .ctx
            .banks_client
            .get_rent()
            .await
            .unwrap()
            .minimum_balance(grown);
        let mut ixs = vec![system_instruction::create_account(
            &payer,
            &mint.pubkey(),
            rent,
            space as u64,
            &TOKEN_2022_PROGRAM_ID,
        )];
        ixs.extend(before.iter().map(|e| e.init_ix(&mint.pubkey(), &payer)));
        ixs.push(
            spl_token_2022::instruction::initialize_mint2(
                &TOKEN_2022_PROGRAM_ID,
                &mint.pubkey(),
                &payer,
                Some(&payer),
                decimals,
            )
            .unwrap(),
        );
        ixs.extend(after.iter().map(|e| e.post_init_ix(&mint.pubkey(), &payer)));
        if exts.iter().any(|e| matches!(e, MintExt::InertTransferHook)) {
            ixs.push(
                spl_token_2022::instruction::set_authority(
                    &TOKEN_2022_PROGRAM_ID,
                    &mint.pubkey(),
                    None,
                    spl_token_2022::instruction::AuthorityType::TransferHookProgramId,
                    &payer,
                    &[],
                )
                .unwrap(),
            );
        }
        if let Err(f) = self.chain.send(&ixs, &[&mint]).await.unwrap() {
            panic!("create extension mint {exts:?}: {f}\n{}", f.logs.join("\n"));
        }
        mint.pubkey()
    }

    /// Creates a plain mint under `token_program` whose mint and freeze authority are the payer
    /// (so the payer can freeze any account of it, an index vault included).
    pub async fn create_mint_with_freeze(&mut self, token_program: Pubkey, decimals: u8) -> Pubkey {
        use solana_sdk::program_pack::Pack;
        let mint = Keypair::new();
        let payer = self.payer();
        let space = anchor_spl::token::spl_token::state::Mint::LEN;
        let rent = self
            .chain
            .ctx
            .banks_client
            .get_rent()
            .await
            .unwrap()
            .minimum_balance(space);
        let ixs = [
            system_instruction::create_account(
                &payer,
                &mint.pubkey(),
                rent,
                space as u64,
                &token_program,
            ),
            spl_token_2022::instruction::initialize_mint2(
                &token_program,
                &mint.pubkey(),
                &payer,
                Some(&payer),
                decimals,
            )
            .unwrap(),
        ];
        self.chain
            .send_ok(&ixs, &[&mint])
            .await
            .expect("create freezable mint");
        mint.pubkey()
    }

    /// Index parameters used by default in tests: the methodology's defaults.
    pub fn default_args(&self) -> InitializeIndexArgs {
        let p = self.payer();
        InitializeIndexArgs {
            // Every row the table holds is a member (the default count, 20, leaves room for
            // entrants; the membership tests set their own).
            params: IndexParams {
                max_members: aidx::state::MAX_CONSTITUENTS as u8,
                ..IndexParams::default()
            },
            methodology_authority: p,
            guardian: p,
            fee_recipient: p,
        }
    }

    /// Initializes an empty index; returns (index, share mint, admin).
    pub async fn init_index(&mut self, args: InitializeIndexArgs) -> (TxResult, IndexFixture) {
        let admin = Keypair::new();
        let share_mint = Keypair::new();
        let payer = self.payer();
        let ix = client::initialize_index(&payer, &admin.pubkey(), &share_mint.pubkey(), args);
        let r = self
            .chain
            .send(&[ix], &[&admin, &share_mint])
            .await
            .unwrap();
        let fx = IndexFixture {
            key: client::index_address(&share_mint.pubkey()),
            share_mint: share_mint.pubkey(),
            admin,
            constituents: vec![],
            lut: None,
        };
        (r, fx)
    }

    /// `add_constituent` signed by `admin`.
    pub async fn add_constituent(
        &mut self,
        index: &Pubkey,
        admin: &Keypair,
        mint: &Pubkey,
        token_program: &Pubkey,
        args: AddConstituentArgs,
    ) -> TxResult {
        let payer = self.payer();
        let ix = client::add_constituent(&payer, &admin.pubkey(), index, mint, token_program, args);
        self.chain.send(&[ix], &[admin]).await.unwrap()
    }

    /// An index of `n` constituents alternating SPL Token and Token-2022 (decimals cycling
    /// 6, 9, 8, 0 ... ), each seeded with `units(i)` raw units per share.
    pub async fn create_index(&mut self, n: usize, units: impl Fn(usize) -> u64) -> IndexFixture {
        self.create_index_with(self.default_args(), n, units).await
    }

    /// Like [`TestContext::create_index`], initialized with `args` (e.g. nonzero fees).
    pub async fn create_index_with(
        &mut self,
        args: InitializeIndexArgs,
        n: usize,
        units: impl Fn(usize) -> u64,
    ) -> IndexFixture {
        self.create_index_of(args, &mixed_rows(n, units)).await
    }

    /// [`TestContext::create_index`], not opened: rows with seed units can still be added
    /// and nobody can mint until [`TestContext::open_index`].
    pub async fn create_index_unopened(
        &mut self,
        n: usize,
        units: impl Fn(usize) -> u64,
    ) -> IndexFixture {
        let args = self.default_args();
        self.create_index_rows(args, &mixed_rows(n, units), false)
            .await
    }

    /// An index of the given rows (each a new mint), opened when some row has seed units,
    /// with its lookup table.
    pub async fn create_index_of(
        &mut self,
        args: InitializeIndexArgs,
        rows: &[RowSpec],
    ) -> IndexFixture {
        self.create_index_rows(args, rows, true).await
    }

    async fn create_index_rows(
        &mut self,
        args: InitializeIndexArgs,
        rows: &[RowSpec],
        open: bool,
    ) -> IndexFixture {
        let (r, mut fx) = self.init_index(args).await;
        r.expect("initialize_index");
        self.indexes_made += 1;
        let n = rows.len();
        for (i, row) in rows.iter().enumerate() {
            let mint = match row.mint {
                Some(m) => m,
                None => self.create_mint(row.program, row.decimals, &row.exts).await,
            };
            let args = row_args(self.indexes_made, i, n, row.units);
            let feed_id = args.feed_id;
            self.add_constituent(&fx.key, &fx.admin, &mint, &row.program, args)
                .await
                .expect("add_constituent");
            fx.constituents.push(ConstituentFixture {
                mint,
                token_program: row.program,
                decimals: row.decimals,
                units_per_share: row.units,
                feed_id,
            });
        }
        if open && rows.iter().any(|r| r.units > 0) {
            self.open_index(&fx).await.expect("open_index");
        }
        let index = self.index(&fx).await;
        let addresses = client::index_lookup_addresses(&fx.key, &index);
        fx.lut = Some(
            self.chain
                .create_lookup_table(&addresses)
                .await
                .expect("lookup table"),
        );
        fx
    }

    /// What `aidx audit` finds on the fixture's index, from chain state alone.
    pub async fn audit(&mut self, fx: &IndexFixture) -> client::audit::AuditReport {
        let book = client::Book {
            index: fx.key.to_string(),
            ..Default::default()
        };
        client::audit::audit(&mut self.chain, &book, false)
            .await
            .expect("audit")
    }

    /// `open_index` signed by the fixture's admin.
    pub async fn open_index(&mut self, fx: &IndexFixture) -> TxResult {
        let ix = client::open_index(&fx.key, &fx.admin.pubkey());
        self.chain.send(&[ix], &[&fx.admin]).await.unwrap()
    }

    /// A new funded holder with token accounts for every constituent (each credited with
    /// `amount(i)`) and a share account.
    pub async fn holder(&mut self, fx: &IndexFixture, amount: impl Fn(usize) -> u64) -> Holder {
        let keypair = Keypair::new();
        let tokens: Vec<_> = fx
            .constituents
            .iter()
            .enumerate()
            .map(|(i, c)| (c.mint, c.token_program, amount(i)))
            .collect();
        let token_accounts = self
            .chain
            .fund_holder(&keypair.pubkey(), 1_000_000_000, &tokens)
            .await
            .unwrap();
        let shares = self
            .chain
            .create_ata(&keypair.pubkey(), &fx.share_mint, &TOKEN_PROGRAM_ID)
            .await
            .unwrap();
        Holder {
            keypair,
            token_accounts,
            shares,
        }
    }

    pub async fn index(&mut self, fx: &IndexFixture) -> Index {
        self.chain.index(&fx.key).await.unwrap()
    }

    /// The `mint_in_kind` instruction for `holder` (tests may edit its accounts).
    pub async fn mint_in_kind_ix(
        &mut self,
        fx: &IndexFixture,
        holder: &Holder,
        args: MintInKindArgs,
    ) -> Instruction {
        let index = self.index(fx).await;
        client::mint_in_kind(&fx.key, &index, &holder.key(), &holder.token_accounts, args)
    }

    pub async fn redeem_in_kind_ix(
        &mut self,
        fx: &IndexFixture,
        holder: &Holder,
        args: RedeemInKindArgs,
    ) -> Instruction {
        let index = self.index(fx).await;
        client::redeem_in_kind(&fx.key, &index, &holder.key(), &holder.token_accounts, args)
    }

    /// Mints `shares` with no slippage limit.
    pub async fn mint_in_kind(
        &mut self,
        fx: &IndexFixture,
        holder: &Holder,
        shares: u64,
    ) -> TxResult {
        let n = fx.constituents.len();
        let args = MintInKindArgs {
            shares,
            max_amounts_in: vec![u64::MAX; n],
            min_shares_out: 0,
        };
        let ix = self.mint_in_kind_ix(fx, holder, args).await;
        self.send_basket(fx, ix, &[&holder.keypair]).await
    }

    /// Redeems `shares` with no slippage limit.
    pub async fn redeem_in_kind(
        &mut self,
        fx: &IndexFixture,
        holder: &Holder,
        shares: u64,
    ) -> TxResult {
        let n = fx.constituents.len();
        let args = RedeemInKindArgs {
            shares,
            min_amounts_out: vec![0; n],
            skip_mask: 0,
        };
        let ix = self.redeem_in_kind_ix(fx, holder, args).await;
        self.send_basket(fx, ix, &[&holder.keypair]).await
    }

    /// Sends a basket instruction the way the keeper does: a v0 transaction through the index's
    /// lookup table when that fits mainnet's limits, otherwise through a second table of the
    /// holder's accounts too (made once per set of accounts and kept). Legacy when the fixture
    /// has no table.
    pub async fn send_basket(
        &mut self,
        fx: &IndexFixture,
        ix: Instruction,
        signers: &[&Keypair],
    ) -> TxResult {
        let Some(lut) = &fx.lut else {
            return self.send(ix, signers).await;
        };
        let mut tables = vec![lut.clone()];
        let mut all = self.chain.budget_instructions();
        all.push(ix.clone());
        let payer = self.payer();
        let index_only = client::tx::measure(&payer, &all, &tables).unwrap();
        if !index_only.fits() {
            // The holder's own accounts: writable, not signing, not in the index's table.
            let own: Vec<Pubkey> = ix
                .accounts
                .iter()
                .filter(|m| m.is_writable && !m.is_signer && !lut.addresses.contains(&m.pubkey))
                .map(|m| m.pubkey)
                .collect();
            let known = self
                .holder_tables
                .iter()
                .find(|t| own.iter().all(|k| t.addresses.contains(k)))
                .cloned();
            let table = match known {
                Some(t) => t,
                None => {
                    let t = self.chain.create_lookup_table(&own).await.unwrap();
                    self.holder_tables.push(t.clone());
                    t
                }
            };
            tables.push(table);
        }
        self.chain.send_v0(&[ix], signers, &tables).await.unwrap()
    }

    pub async fn send(&mut self, ix: Instruction, signers: &[&Keypair]) -> TxResult {
        self.chain.send(&[ix], signers).await.unwrap()
    }

    pub async fn balance(&mut self, token_account: &Pubkey) -> u64 {
        self.chain.token_balance(token_account).await.unwrap()
    }

    /// Balances of the holder's token accounts, table order.
    pub async fn holder_balances(&mut self, holder: &Holder) -> Vec<u64> {
        let mut v = vec![];
        for a in &holder.token_accounts {
            v.push(self.balance(a).await);
        }
        v
    }

    /// Balances of the index vaults, table order.
    pub async fn vault_balances(&mut self, fx: &IndexFixture) -> Vec<u64> {
        let mut v = vec![];
        for c in &fx.constituents {
            let vault = client::vault_address(&fx.key, &c.mint);
            v.push(self.balance(&vault).await);
        }
        v
    }

    pub async fn share_supply(&mut self, fx: &IndexFixture) -> u64 {
        self.chain.mint_supply(&fx.share_mint).await.unwrap()
    }
}

/// What [`TestContext::seed`] mints: with the dead shares, a supply of [`SUPPLY0`].
pub const SEED_SHARES: u64 = 100 * ONE_SHARE - DEAD_SHARES;
/// The share supply right after [`TestContext::seed`].
pub const SUPPLY0: u64 = 100 * ONE_SHARE;

/// Raw units per share of row `i` in a seeded fixture: 10 whole tokens, so the seed holds
/// exactly 1,000 whole tokens of every row.
pub fn units(i: usize) -> u64 {
    whole(i, 10)
}

/// What a holder funded far beyond any test's needs holds of every constituent.
pub fn rich(_: usize) -> u64 {
    1_000_000_000_000_000
}

/// A seeded index on its own runtime (see [`TestContext::seeded`]).
pub struct Seeded {
    /// The runtime.
    pub t: TestContext,
    /// The index.
    pub fx: IndexFixture,
    /// The holder that seeded it, still rich in every constituent.
    pub seeder: Holder,
    /// The seed's events.
    pub seed_events: Vec<AidxEvent>,
}

impl TestContext {
    /// Seeds `fx`: a rich holder mints [`SEED_SHARES`] in kind. Checks that every vault then
    /// holds exactly 100 times its units per share and that the supply is [`SUPPLY0`].
    pub async fn seed(&mut self, fx: &IndexFixture) -> (Holder, Vec<AidxEvent>) {
        let seeder = self.holder(fx, rich).await;
        let ev = events(self.mint_in_kind(fx, &seeder, SEED_SHARES).await);
        let want: Vec<u64> = fx
            .constituents
            .iter()
            .map(|c| 100 * c.units_per_share)
            .collect();
        assert_eq!(self.vault_balances(fx).await, want, "seeded vaults");
        assert_eq!(self.share_supply(fx).await, SUPPLY0, "seeded supply");
        (seeder, ev)
    }

    /// A new runtime with an `n`-constituent index ([`TestContext::create_index_with`] on the
    /// default arguments edited by `edit`, [`units`] per share), seeded by
    /// [`TestContext::seed`]: 1,000 whole tokens of every row, supply [`SUPPLY0`].
    pub async fn seeded(n: usize, edit: impl FnOnce(&mut InitializeIndexArgs)) -> Seeded {
        let mut t = TestContext::new().await;
        let mut args = t.default_args();
        edit(&mut args);
        let fx = t.create_index_with(args, n, units).await;
        let (seeder, seed_events) = t.seed(&fx).await;
        Seeded {
            t,
            fx,
            seeder,
            seed_events,
        }
    }
}

/// Where the harness posts the Pyth price of constituent `row` of an index: the Pyth push-feed
/// account of its feed (shard 0), where operators read prices on a cluster and where the demo
/// and `aidx oracle` post them.
pub fn price_key(fx: &IndexFixture, row: usize) -> Pubkey {
    client::push_feed_address(0, &fx.constituents[row].feed_id)
}

impl TestContext {
    pub async fn now(&mut self) -> i64 {
        self.chain.clock().await.unwrap().unix_timestamp
    }

    /// Moves to a later slot, then sets the clock's unix time: a stored price is fresh in the
    /// slot it was stored in whatever its age, so an age test has to leave that slot first.
    pub async fn warp_to_time(&mut self, unix_timestamp: i64) {
        let slot = self.chain.clock().await.unwrap().slot;
        self.chain.ctx.warp_to_slot(slot + 1).expect("warp");
        self.chain.set_unix_timestamp(unix_timestamp).await.unwrap();
    }

    /// Writes one Pyth price update per constituent (its own feed), table order.
    pub async fn post_prices(&mut self, fx: &IndexFixture, prices: &[PythPrice]) {
        let index = self.index(fx).await;
        for (row, (c, p)) in index.constituents().iter().zip(prices).enumerate() {
            self.chain.post_price(&price_key(fx, row), c.feed_id, *p);
        }
    }

    /// `refresh_prices` with the harness's price accounts.
    pub async fn refresh_prices(&mut self, fx: &IndexFixture) -> TxResult {
        let n = self.index(fx).await.num_constituents as usize;
        let keys: Vec<Pubkey> = (0..n).map(|i| price_key(fx, i)).collect();
        self.send(client::refresh_prices(&fx.key, &keys), &[]).await
    }

    /// Posts `usd[i]` (USD_SCALE per whole token, confidence `conf_bps` of it) published now,
    /// and refreshes.
    pub async fn set_prices(&mut self, fx: &IndexFixture, usd: &[u128], conf_bps: u64) -> TxResult {
        let now = self.now().await;
        let prices: Vec<PythPrice> = usd
            .iter()
            .map(|u| PythPrice::from_usd_scaled(*u, conf_bps, now))
            .collect();
        self.post_prices(fx, &prices).await;
        self.refresh_prices(fx).await
    }

    pub async fn mint_single(
        &mut self,
        fx: &IndexFixture,
        holder: &Holder,
        row: usize,
        amount_in: u64,
        min_shares_out: u64,
    ) -> TxResult {
        let index = self.index(fx).await;
        let ix = client::mint_single(
            &fx.key,
            &index,
            &holder.key(),
            row,
            MintSingleArgs {
                amount_in,
                min_shares_out,
            },
        );
        self.send(ix, &[&holder.keypair]).await
    }

    pub async fn redeem_single(
        &mut self,
        fx: &IndexFixture,
        holder: &Holder,
        row: usize,
        shares: u64,
        min_amount_out: u64,
    ) -> TxResult {
        let index = self.index(fx).await;
        let ix = client::redeem_single(
            &fx.key,
            &index,
            &holder.key(),
            row,
            RedeemSingleArgs {
                shares,
                min_amount_out,
            },
        );
        self.send(ix, &[&holder.keypair]).await
    }
}

/// The failing instruction and custom error code of a failed transaction, if it failed with one.
pub fn failed_at(r: &TxResult) -> Option<(u8, u32)> {
    match r {
        Err(TxFailure {
            error: TransactionError::InstructionError(ix, InstructionError::Custom(c)),
            ..
        }) => Some((*ix, *c)),
        _ => None,
    }
}

/// The custom error code of a failed transaction, if it failed with one.
pub fn custom_code(r: &TxResult) -> Option<u32> {
    failed_at(r).map(|(_, c)| c)
}

/// Asserts the transaction failed in instruction `ix` (the harness's compute-budget
/// instruction is 0) with exactly this custom code (an aidx or Anchor error, or a raw code).
#[track_caller]
pub fn assert_failed_at(r: &TxResult, ix: u8, expected: impl Into<u32> + std::fmt::Debug) {
    let label = format!("{expected:?}");
    let want = expected.into();
    if failed_at(r) != Some((ix, want)) {
        panic!(
            "expected instruction {ix} to fail with {label} ({want}), got {:?}",
            r.as_ref()
                .map(|o| &o.events)
                .map_err(|f| (&f.error, &f.logs))
        );
    }
}

/// Asserts a transaction failed with exactly this aidx error.
#[track_caller]
pub fn assert_aidx_error(r: &TxResult, expected: AidxError) {
    let want = u32::from(expected);
    match custom_code(r) {
        Some(c) if c == want => {}
        _ => panic!(
            "expected {expected:?} ({want}), got {:?}",
            r.as_ref()
                .map(|o| &o.events)
                .map_err(|f| (&f.error, &f.logs))
        ),
    }
}

/// Asserts a transaction failed with exactly this Anchor framework error.
#[track_caller]
pub fn assert_anchor_error(r: &TxResult, expected: anchor_lang::error::ErrorCode) {
    let want = u32::from(expected);
    match custom_code(r) {
        Some(c) if c == want => {}
        _ => panic!(
            "expected {expected:?} ({want}), got {:?}",
            r.as_ref()
                .map(|o| &o.events)
                .map_err(|f| (&f.error, &f.logs))
        ),
    }
}

/// The events of a successful transaction (panics with the logs otherwise).
#[track_caller]
pub fn events(r: TxResult) -> Vec<AidxEvent> {
    match r {
        Ok(o) => o.events,
        Err(f) => panic!("transaction failed: {:?}\n{}", f.error, f.logs.join("\n")),
    }
}

/// Asserts a transaction failed with exactly this instruction error, for failures that are not
/// a custom code (e.g. `InvalidAccountData` from a token-state decoder, `ProgramFailedToComplete`).
#[track_caller]
pub fn assert_instruction_error(r: &TxResult, expected: InstructionError) {
    match r {
        Err(TxFailure {
            error: TransactionError::InstructionError(_, e),
            ..
        }) if *e == expected => {}
        _ => panic!(
            "expected {expected:?}, got {:?}",
            r.as_ref()
                .map(|o| &o.events)
                .map_err(|f| (&f.error, &f.logs))
        ),
    }
}
