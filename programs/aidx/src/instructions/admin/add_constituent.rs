//! Adds a constituent: an SPL Token or Token-2022 mint (checked against the extension policy),
//! its index-owned vault, classification, Pyth feed id and, before the first mint, its share of
//! the seed composition.

use crate::errors::AidxError;
use crate::events::{emit_event, ConstituentAdded};
use crate::math::WEIGHT_SCALE;
use crate::state::*;
use crate::token::policy::check_token_2022_mint;
use anchor_lang::prelude::*;
use anchor_lang::system_program;
use anchor_spl::token_2022::spl_token_2022::{
    extension::{BaseStateWithExtensions, ExtensionType, StateWithExtensions},
    state::{Account as SplAccount, Mint as SplMint},
};
use anchor_spl::token_interface::{self, InitializeAccount3, Mint, TokenInterface};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct AddConstituentArgs {
    /// [`SubSector`] as u8.
    pub sub_sector: u8,
    /// [`Bucket`] as u8.
    pub bucket: u8,
    /// The Pyth price feed id of the token.
    pub feed_id: [u8; 32],
    /// Raw units of the token per whole share in the seed composition. Only before the index
    /// is opened (`open_index`); must be 0 afterwards (a later constituent starts empty).
    pub initial_units_per_share: u64,
    /// precision: WEIGHT_SCALE. Target weight until the methodology computes targets.
    pub target_weight: u64,
}

#[derive(Accounts)]
pub struct AddConstituent<'info> {
    /// Pays for the vault.
    #[account(mut)]
    pub payer: Signer<'info>,
    /// The index admin.
    pub admin: Signer<'info>,
    #[account(mut, has_one = admin @ AidxError::UnauthorizedAdmin)]
    pub index: AccountLoader<'info, Index>,
    /// The token to add; owned by `token_program`.
    #[account(mint::token_program = token_program)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    /// CHECK: the vault PDA `["vault", index, mint]`, address checked by `seeds`; created and
    /// initialised as a token account owned by the index in the handler, after the table checks,
    /// so that a duplicate mint fails with `DuplicateConstituent` rather than "already in use".
    #[account(mut, seeds = [VAULT_SEED, index.key().as_ref(), mint.key().as_ref()], bump)]
    pub vault: UncheckedAccount<'info>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl AddConstituent<'_> {
    /// Checks the row; returns the accounts its in-kind leg takes and its `controls`.
    pub fn validate(&self, args: &AddConstituentArgs) -> Result<(u8, u8)> {
        let index = self.index.load()?;
        require!(
            (index.num_constituents as usize) < MAX_CONSTITUENTS,
            AidxError::TooManyConstituents
        );
        require_keys_neq!(
            self.mint.key(),
            index.share_mint,
            AidxError::ShareMintAsConstituent
        );
        require!(
            index
                .constituents()
                .iter()
                .all(|c| c.mint != self.mint.key()),
            AidxError::DuplicateConstituent
        );
        require!(args.feed_id != [0u8; 32], AidxError::MissingFeedId);
        require!(
            index
                .constituents()
                .iter()
                .all(|c| c.feed_id != args.feed_id),
            AidxError::DuplicateFeedId
        );
        require!(
            args.target_weight <= WEIGHT_SCALE,
            AidxError::InvalidTargetWeight
        );
        let targets = index
            .constituents()
            .iter()
            .try_fold(args.target_weight, |acc, c| {
                acc.checked_add(c.target_weight)
            })
            .ok_or(AidxError::MathOverflow)?;
        require!(targets <= WEIGHT_SCALE, AidxError::TargetsExceedOne);
        require!(
            self.mint.decimals <= MAX_DECIMALS,
            AidxError::InvalidDecimals
        );
        SubSector::from_u8(args.sub_sector)?;
        Bucket::from_u8(args.bucket)?;
        require!(
            index.opened == 0 || args.initial_units_per_share == 0,
            AidxError::SeedCompositionLocked
        );
        let admitted = if self.token_program.key() == anchor_spl::token_2022::ID {
            Some(check_token_2022_mint(&self.mint.to_account_info())?)
        } else {
            None
        };
        let needs_mint = admitted.is_some_and(|a| a.transfer_needs_mint);
        let mut controls = 0;
        if self.mint.freeze_authority.is_some() {
            controls |= CONTROL_FREEZE;
        }
        if admitted.is_some_and(|a| a.pausable) {
            controls |= CONTROL_PAUSE;
        }
        let leg_accounts = if needs_mint {
            CHECKED_LEG_ACCOUNTS
        } else {
            PLAIN_LEG_ACCOUNTS
        };
        require!(
            index.leg_accounts() + leg_accounts as usize <= MAX_LEG_ACCOUNTS,
            AidxError::BasketExceedsOneTransaction
        );
        Ok((leg_accounts, controls))
    }

    /// Size of a vault for this mint: the base account plus what the mint's extensions require.
    fn vault_size(&self) -> Result<usize> {
        if self.token_program.key() != anchor_spl::token_2022::ID {
            return Ok(anchor_spl::token::TokenAccount::LEN);
        }
        let info = self.mint.to_account_info();
        let data = info.try_borrow_data()?;
        let mint = StateWithExtensions::<SplMint>::unpack(&data)
            .map_err(|_| error!(AidxError::InvalidMintData))?;
        let mint_exts = mint
            .get_extension_types()
            .map_err(|_| error!(AidxError::InvalidMintData))?;
        let required = ExtensionType::get_required_init_account_extensions(&mint_exts);
        ExtensionType::try_calculate_account_len::<SplAccount>(&required)
            .map_err(|_| error!(AidxError::InvalidMintData))
    }

    /// Creates the vault PDA and initialises it as a token account owned by the index. A vault
    /// address pre-funded with lamports by a third party is topped up, allocated and assigned
    /// instead, so nobody can block a constituent by sending lamports to its vault address.
    fn create_vault(&self, vault_bump: u8) -> Result<()> {
        let space = self.vault_size()?;
        let index_key = self.index.key();
        let mint_key = self.mint.key();
        let seeds: &[&[u8]] = &[
            VAULT_SEED,
            index_key.as_ref(),
            mint_key.as_ref(),
            &[vault_bump],
        ];
        let rent = Rent::get()?.minimum_balance(space);
        let vault = self.vault.to_account_info();
        let system = self.system_program.key();
        if vault.lamports() == 0 {
            system_program::create_account(
                CpiContext::new_with_signer(
                    system,
                    system_program::CreateAccount {
                        from: self.payer.to_account_info(),
                        to: vault.clone(),
                    },
                    &[seeds],
                ),
                rent,
                space as u64,
                &self.token_program.key(),
            )?;
        } else {
            let top_up = rent.saturating_sub(vault.lamports());
            if top_up > 0 {
                system_program::transfer(
                    CpiContext::new(
                        system,
                        system_program::Transfer {
                            from: self.payer.to_account_info(),
                            to: vault.clone(),
                        },
                    ),
                    top_up,
                )?;
            }
            system_program::allocate(
                CpiContext::new_with_signer(
                    system,
                    system_program::Allocate {
                        account_to_allocate: vault.clone(),
                    },
                    &[seeds],
                ),
                space as u64,
            )?;
            system_program::assign(
                CpiContext::new_with_signer(
                    system,
                    system_program::Assign {
                        account_to_assign: vault.clone(),
                    },
                    &[seeds],
                ),
                &self.token_program.key(),
            )?;
        }
        token_interface::initialize_account3(CpiContext::new(
            self.token_program.key(),
            InitializeAccount3 {
                account: vault,
                mint: self.mint.to_account_info(),
                authority: self.index.to_account_info(),
            },
        ))
    }
}

pub fn add_constituent(ctx: Context<AddConstituent>, args: AddConstituentArgs) -> Result<()> {
    let (leg_accounts, controls) = ctx.accounts.validate(&args)?;
    let freeze_authority: Option<Pubkey> = ctx.accounts.mint.freeze_authority.into();
    ctx.accounts.create_vault(ctx.bumps.vault)?;

    let index_key = ctx.accounts.index.key();
    let mut index = ctx.accounts.index.load_mut()?;
    let position = index.num_constituents;
    let row = Constituent {
        mint: ctx.accounts.mint.key(),
        vault: ctx.accounts.vault.key(),
        token_program: ctx.accounts.token_program.key(),
        feed_id: args.feed_id,
        balance: 0,
        initial_units_per_share: args.initial_units_per_share,
        target_weight: args.target_weight,
        price: 0,
        conf: 0,
        publish_time: 0,
        price_slot: 0,
        circulating_supply: 0,
        avg_daily_volume_usd: 0,
        depth_usd: 0,
        inputs_observed_at: 0,
        decimals: ctx.accounts.mint.decimals,
        sub_sector: args.sub_sector,
        bucket: args.bucket,
        status: ConstituentStatus::Active as u8,
        vault_bump: ctx.bumps.vault,
        flags: 0,
        leg_accounts,
        controls,
        quarantined_at: 0,
        quarantine_price: 0,
        quarantine: 0,
        // A candidate until a review admits it (the first review takes the top N, as the
        // membership rules say): targets stated at add hold until then.
        member: 0,
        rank: 0,
        reviews_under_entry: 0,
        _reserved: [0; 3],
    };
    index.constituents[position as usize] = row;
    index.num_constituents = position + 1;
    index.invariant()?;

    emit_event(&ConstituentAdded {
        index: index_key,
        position,
        mint: row.mint,
        vault: row.vault,
        token_program: row.token_program,
        feed_id: row.feed_id,
        decimals: row.decimals,
        sub_sector: row.sub_sector,
        bucket: row.bucket,
        initial_units_per_share: row.initial_units_per_share,
        target_weight: row.target_weight,
        leg_accounts: row.leg_accounts,
        freeze_authority,
        pausable: controls & CONTROL_PAUSE != 0,
    });
    Ok(())
}
