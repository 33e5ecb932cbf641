//! One row of the constituent table.

use crate::errors::AidxError;
use anchor_lang::prelude::*;

/// The seven AI sub-sectors of the methodology, plus host chains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum SubSector {
    /// Decentralized compute marketplaces.
    Compute = 0,
    /// On-chain inference networks.
    Inference = 1,
    /// Model marketplaces and registries.
    Models = 2,
    /// Autonomous agent frameworks.
    Agents = 3,
    /// Data DAOs and data layers.
    Data = 4,
    /// AI-native L1 / L2.
    AiChains = 5,
    /// AI-adjacent infrastructure: oracles, identity, storage, bridges.
    Infra = 6,
    /// Smart-contract platforms with material AI exposure.
    Host = 7,
}

impl SubSector {
    pub const ALL: [SubSector; 8] = [
        SubSector::Compute,
        SubSector::Inference,
        SubSector::Models,
        SubSector::Agents,
        SubSector::Data,
        SubSector::AiChains,
        SubSector::Infra,
        SubSector::Host,
    ];

    pub fn from_u8(v: u8) -> Result<Self> {
        Self::ALL
            .get(v as usize)
            .copied()
            .ok_or_else(|| error!(AidxError::InvalidSubSector))
    }

    /// The methodology's short name (`compute`, `inference`, ... `host`).
    pub fn name(self) -> &'static str {
        match self {
            SubSector::Compute => "compute",
            SubSector::Inference => "inference",
            SubSector::Models => "models",
            SubSector::Agents => "agents",
            SubSector::Data => "data",
            SubSector::AiChains => "ai_chains",
            SubSector::Infra => "infra",
            SubSector::Host => "host",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|x| x.name() == s)
    }
}

/// Which side of the optional pure-play / host-chain split a constituent counts in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Bucket {
    PurePlay = 0,
    Host = 1,
}

impl Bucket {
    pub fn from_u8(v: u8) -> Result<Self> {
        match v {
            0 => Ok(Bucket::PurePlay),
            1 => Ok(Bucket::Host),
            _ => err!(AidxError::InvalidBucket),
        }
    }
}

/// Lifecycle of a constituent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ConstituentStatus {
    Active = 0,
    /// Target 0, sold through rebalancing; removable once its vault is empty.
    WindingDown = 1,
}

/// A constituent: its mint, vault, oracle feed, classification and internal balance.
#[zero_copy]
#[derive(Debug, PartialEq, Eq)]
pub struct Constituent {
    /// The SPL Token or Token-2022 mint.
    pub mint: Pubkey,
    /// The index-owned vault, PDA `["vault", index, mint]`.
    pub vault: Pubkey,
    /// The token program that owns `mint` and `vault`.
    pub token_program: Pubkey,
    /// The Pyth price feed id.
    pub feed_id: [u8; 32],
    /// Raw units. The internal balance: what the index owns and accounts for. Tokens sent to
    /// the vault directly (donations) are not counted and move no value per share.
    pub balance: u64,
    /// Raw units per [`crate::math::ONE_SHARE`]. The stated composition the first mint seeds
    /// the basket with; unused after the first mint.
    pub initial_units_per_share: u64,
    /// precision: WEIGHT_SCALE. Target weight (stated at add; set by the methodology later).
    pub target_weight: u64,
    /// precision: USD_SCALE. Last gated oracle price of one whole token (0: never priced).
    pub price: u64,
    /// precision: USD_SCALE. Confidence of `price`.
    pub conf: u64,
    /// Publish time of `price`; a newer price must not be older than this.
    pub publish_time: i64,
    /// Slot `price` was stored in.
    pub price_slot: u64,
    /// Methodology input: whole tokens in circulation.
    pub circulating_supply: u64,
    /// Methodology input: average daily volume, whole USD.
    pub avg_daily_volume_usd: u64,
    /// Methodology input: depth within 2% of mid, whole USD (see `FLAG_DEPTH_REPORTED`).
    pub depth_usd: u64,
    /// Unix time the methodology inputs were observed (0: never set).
    pub inputs_observed_at: i64,
    /// Decimals of `mint`.
    pub decimals: u8,
    /// [`SubSector`] as u8.
    pub sub_sector: u8,
    /// [`Bucket`] as u8.
    pub bucket: u8,
    /// [`ConstituentStatus`] as u8.
    pub status: u8,
    /// Bump of the vault PDA.
    pub vault_bump: u8,
    /// Methodology flags: [`FLAG_UNLOCK`], [`FLAG_DEPTH_REPORTED`].
    pub flags: u8,
    /// Accounts this row takes in an in-kind leg: [`PLAIN_LEG_ACCOUNTS`] (vault, holder
    /// account) or [`CHECKED_LEG_ACCOUNTS`] (mint first) when its token program needs the mint
    /// to move it (a Token-2022 account with the pausable or transfer-hook extension).
    pub leg_accounts: u8,
    /// Who else can stop this token moving: [`CONTROL_FREEZE`] (the mint has a freeze
    /// authority: it can freeze the vault), [`CONTROL_PAUSE`] (a Token-2022 pause authority).
    pub controls: u8,
    /// Unix time the row was quarantined (see [`Quarantine`]); 0 when it is not.
    pub quarantined_at: i64,
    /// precision: USD_SCALE. What a share minted during the quarantine pays for its slice of
    /// this row, per whole token: the price plus confidence stored when it was quarantined,
    /// raised by any later stored price plus confidence. 0 when not quarantined.
    pub quarantine_price: u64,
    /// [`Quarantine`] as u8 (0: none).
    pub quarantine: u8,
    /// 1: a member of the index; 0: a candidate (every row until a review admits it: the
    /// stated targets hold until the first review).
    pub member: u8,
    /// Methodology input: the posted rank (see `MethodologyInputRow::rank`).
    pub rank: u16,
    /// Reviews in a row, up to the last, at which its volume was under the entry floor.
    pub reviews_under_entry: u8,
    pub _reserved: [u8; 3],
}

/// Why a row is quarantined: it cannot move or cannot be priced, and every operation that
/// would need it leaves it aside (see `instructions::admin::quarantine`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Quarantine {
    None = 0,
    /// Anyone showed the vault frozen; anyone may release it once it is thawed.
    FrozenVault = 1,
    /// Anyone showed the mint paused; anyone may release it once it is unpaused.
    PausedMint = 2,
    /// The admin or guardian quarantined it (a dead or deprecated feed, or anything else);
    /// only they release it.
    Authority = 3,
}

impl Quarantine {
    pub fn from_u8(v: u8) -> Option<Self> {
        [
            Quarantine::None,
            Quarantine::FrozenVault,
            Quarantine::PausedMint,
            Quarantine::Authority,
        ]
        .get(v as usize)
        .copied()
    }

    pub fn name(self) -> &'static str {
        match self {
            Quarantine::None => "none",
            Quarantine::FrozenVault => "frozen vault",
            Quarantine::PausedMint => "paused mint",
            Quarantine::Authority => "by authority",
        }
    }
}

/// In-kind leg of a row moved by a plain transfer: vault, holder account.
pub const PLAIN_LEG_ACCOUNTS: u8 = 2;
/// In-kind leg of a row whose token program needs the mint to transfer: mint, vault, holder
/// account.
pub const CHECKED_LEG_ACCOUNTS: u8 = 3;

/// `controls`: the mint has a freeze authority.
pub const CONTROL_FREEZE: u8 = 1;
/// `controls`: the mint is pausable (Token-2022).
pub const CONTROL_PAUSE: u8 = 2;

/// The token faces an unlock over 10% of its float.
pub const FLAG_UNLOCK: u8 = 1;
/// `depth_usd` was reported (otherwise the depth floor is not checked).
pub const FLAG_DEPTH_REPORTED: u8 = 2;

const _: () = assert!(core::mem::size_of::<Constituent>() == 128 + 16 + 40 + 32 + 8 + 24);

impl Constituent {
    /// Stores a price that passed the oracle gate, in `slot`. A quarantined row's quarantine
    /// price only rises: a mint during the quarantine pays for its slice at the highest price
    /// plus confidence seen.
    pub fn store_price(&mut self, p: &crate::oracle::GatedPrice, slot: u64) -> Result<()> {
        self.price = p.price;
        self.conf = p.conf;
        self.publish_time = p.publish_time;
        self.price_slot = slot;
        if self.is_quarantined() {
            let high = self
                .price
                .checked_add(self.conf)
                .ok_or(AidxError::MathOverflow)?;
            self.quarantine_price = self.quarantine_price.max(high);
        }
        Ok(())
    }

    /// The row is quarantined: it leaves deposits, NAV, the cap and band checks and the
    /// auction clock until released or written off.
    pub fn is_quarantined(&self) -> bool {
        self.quarantine != Quarantine::None as u8
    }

    /// The methodology's view of this constituent at its stored price.
    pub fn facts(&self) -> crate::math::methodology::TokenFacts {
        crate::math::methodology::TokenFacts {
            price: self.price as u128,
            circulating_supply: self.circulating_supply as u128,
            avg_daily_volume_usd: self.avg_daily_volume_usd as u128,
            depth_usd: (self.flags & FLAG_DEPTH_REPORTED != 0).then_some(self.depth_usd as u128),
            unlock: self.flags & FLAG_UNLOCK != 0,
            host: self.bucket == Bucket::Host as u8,
        }
    }
}
