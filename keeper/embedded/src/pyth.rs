//! Pyth's pull oracle on the embedded runtime: the Wormhole receiver, the Pyth receiver and the
//! Pyth push oracle, as native programs at their mainnet addresses, running the instructions
//! the keeper sends (`aidx_client::pull::receiver`) and writing what those programs write.
//!
//! Their code is not published for this stack (the Wormhole receiver is built on Anchor 0.28,
//! and neither compiles to SBF here), so this module implements what a keeper's transactions
//! rely on, from their IDLs and sources: the encoded VAA's account (`EncodedVaa`: status, write
//! authority, version, bytes), written in chunks by its write authority and verified against a
//! guardian set (every signature recovered with secp256k1 and compared with the guardian's
//! Ethereum address, indexes strictly increasing, a quorum of two thirds plus one); a price
//! posted only against a verified VAA from a configured data source whose payload is the
//! accumulator's Merkle root, the message proved with `pythnet-sdk`'s Merkle tree, the update fee
//! paid to the treasury, a `PriceUpdateV2` written with `VerificationLevel::Full`; the push
//! oracle's account updated through the receiver under its PDA, and left alone when the update
//! is not newer. Every refusal is a `Custom` error named in [`EmuError`].
//!
//! [`genesis`] gives the accounts the programs read: a guardian set (the test guardians of
//! `pythnet-sdk`, the ones a mock Hermes signs with), the receiver's config (data source: the
//! Pythnet accumulator emitter) and its treasuries.

use anchor_lang::prelude::Rent;
use anchor_lang::prelude::SolanaSysvar as _;
use anchor_lang::solana_program::{
    account_info::AccountInfo,
    clock::Clock,
    program::{invoke, invoke_signed},
    program_error::ProgramError,
    system_instruction,
};
use anchor_lang::{AnchorDeserialize, AnchorSerialize, Discriminator};
use pyth_solana_receiver_sdk::config::{Config, DataSource};
use pyth_solana_receiver_sdk::price_update::{PriceUpdateV2, VerificationLevel};
use pyth_solana_receiver_sdk::PostUpdateParams;
use pythnet_sdk::accumulators::merkle::MerkleRoot;
use pythnet_sdk::hashers::keccak256_160::Keccak160;
use pythnet_sdk::messages::Message;
use pythnet_sdk::wire::v1::{WormholeMessage, WormholePayload};
use solana_sdk::{account::Account, pubkey::Pubkey};

type ProgramResult = Result<(), ProgramError>;

/// The Wormhole receiver's program id.
pub use aidx_client::pull::receiver::{PUSH_ORACLE_ID, RECEIVER_ID, WORMHOLE_RECEIVER_ID};

/// Pythnet's chain id on Wormhole.
pub const PYTHNET_CHAIN: u16 = 26;
/// The Pythnet accumulator's emitter address on Wormhole (the data source Pyth's receiver
/// accepts on mainnet).
pub const PYTHNET_EMITTER: [u8; 32] = [
    0xe1, 0x01, 0xfa, 0xed, 0xac, 0x58, 0x51, 0xe3, 0x2b, 0x9b, 0x23, 0xb5, 0xf9, 0x41, 0x1a, 0x8c,
    0x2b, 0xac, 0x4a, 0xae, 0x3e, 0xd4, 0xdd, 0x7b, 0x81, 0x1d, 0xd1, 0xa7, 0x2e, 0xa4, 0xaa, 0x71,
];
/// The update fee the receiver charges per price, lamports (mainnet's).
pub const UPDATE_FEE_LAMPORTS: u64 = 1;
/// The guardian set the embedded runtime holds.
pub const GUARDIAN_SET_INDEX: u32 = 0;

/// Why an emulated program refused an instruction (`Custom` codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum EmuError {
    /// Unknown instruction or malformed data.
    BadInstruction = 0x5059_0000,
    /// An account is missing, or not the one expected.
    BadAccount,
    /// The write authority did not sign, or is not the account's.
    WrongAuthority,
    /// The encoded VAA is not in the state the instruction needs.
    BadVaaStatus,
    /// A write past the account's bytes.
    WriteOutOfBounds,
    /// The VAA does not parse, is not version 1, or names another guardian set.
    BadVaa,
    /// A guardian signature does not recover to its guardian, or indexes are not increasing.
    BadSignature,
    /// Fewer signatures than a quorum.
    NoQuorum,
    /// The guardian set has expired.
    GuardianSetExpired,
    /// The VAA's emitter is not one of the receiver's data sources.
    InvalidDataSource,
    /// The VAA's payload is not an accumulator Merkle root.
    InvalidWormholeMessage,
    /// The message is not proved by the VAA's Merkle root.
    InvalidPriceUpdate,
    /// The message is not a price feed message, or not the feed named.
    UnsupportedMessage,
}

impl From<EmuError> for ProgramError {
    fn from(e: EmuError) -> Self {
        ProgramError::Custom(e as u32)
    }
}

fn disc(name: &str) -> [u8; 8] {
    aidx_client::pull::receiver::discriminator(name)
}

fn account_disc(name: &str) -> [u8; 8] {
    let h = solana_sha256_hasher::hashv(&[b"account:", name.as_bytes()]).to_bytes();
    h[..8].try_into().expect("8 bytes")
}

// ---- Wormhole receiver -------------------------------------------------------------------

/// `EncodedVaa` processing status.
const STATUS_WRITING: u8 = 1;
const STATUS_VERIFIED: u8 = 2;
/// Where the VAA's bytes start in the account (after discriminator, status, authority,
/// version and the bytes' length).
const VAA_START: usize = aidx_client::pull::receiver::ENCODED_VAA_HEADER;

/// A legacy Wormhole guardian set account (no discriminator).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct GuardianSet {
    /// Its index.
    pub index: u32,
    /// Each guardian's Ethereum address.
    pub keys: Vec<[u8; 20]>,
    /// When it was created, unix seconds.
    pub creation_time: u32,
    /// When it expires (0: the current set, never).
    pub expiration_time: u32,
}

/// The Wormhole receiver's native processor.
pub fn wormhole(_program_id: &Pubkey, accounts: &[AccountInfo], data: &[u8]) -> ProgramResult {
    let (tag, args) = data.split_at_checked(8).ok_or(EmuError::BadInstruction)?;
    let get = |i: usize| accounts.get(i).ok_or(EmuError::BadAccount);
    if tag == disc("init_encoded_vaa") {
        let (authority, vaa) = (get(0)?, get(1)?);
        if !authority.is_signer || vaa.owner != &WORMHOLE_RECEIVER_ID {
            return Err(EmuError::WrongAuthority.into());
        }
        let mut d = vaa.try_borrow_mut_data()?;
        if d.len() < VAA_START || d[..8] != [0; 8] {
            return Err(EmuError::BadVaaStatus.into());
        }
        let len = (d.len() - VAA_START) as u32;
        d[..8].copy_from_slice(&account_disc("EncodedVaa"));
        d[8] = STATUS_WRITING;
        d[9..41].copy_from_slice(authority.key.as_ref());
        d[41] = 0;
        d[42..46].copy_from_slice(&len.to_le_bytes());
        return Ok(());
    }
    if tag == disc("write_encoded_vaa") {
        let (authority, vaa) = (get(0)?, get(1)?);
        let index = u32::from_le_bytes(
            args.get(..4)
                .ok_or(EmuError::BadInstruction)?
                .try_into()
                .unwrap(),
        ) as usize;
        let chunk: Vec<u8> =
            Vec::<u8>::deserialize(&mut &args[4..]).map_err(|_| EmuError::BadInstruction)?;
        let mut d = writable_vaa(authority, vaa, STATUS_WRITING)?;
        let end = index
            .checked_add(chunk.len())
            .ok_or(EmuError::WriteOutOfBounds)?;
        if VAA_START + end > d.len() || chunk.is_empty() {
            return Err(EmuError::WriteOutOfBounds.into());
        }
        d[VAA_START + index..VAA_START + end].copy_from_slice(&chunk);
        return Ok(());
    }
    if tag == disc("verify_encoded_vaa_v1") {
        let (authority, vaa, set) = (get(0)?, get(1)?, get(2)?);
        let mut d = writable_vaa(authority, vaa, STATUS_WRITING)?;
        // The guardian set the VAA names, at its own address.
        let index = wormhole_raw_vaas::Vaa::parse(&d[VAA_START..])
            .map_err(|_| EmuError::BadVaa)?
            .guardian_set_index();
        if set.owner != &WORMHOLE_RECEIVER_ID
            || *set.key != aidx_client::pull::receiver::guardian_set_address(index)
        {
            return Err(EmuError::BadAccount.into());
        }
        let set = GuardianSet::deserialize(&mut &set.try_borrow_data()?[..])
            .map_err(|_| EmuError::BadAccount)?;
        let now = Clock::get()?.unix_timestamp;
        if set.expiration_time != 0 && (set.expiration_time as i64) < now {
            return Err(EmuError::GuardianSetExpired.into());
        }
        verify_vaa(&d[VAA_START..], &set)?;
        d[8] = STATUS_VERIFIED;
        d[41] = 1;
        return Ok(());
    }
    if tag == disc("close_encoded_vaa") {
        let (authority, vaa) = (get(0)?, get(1)?);
        {
            let d = vaa.try_borrow_data()?;
            if vaa.owner != &WORMHOLE_RECEIVER_ID
                || d.len() < VAA_START
                || d[..8] != account_disc("EncodedVaa")
            {
                return Err(EmuError::BadAccount.into());
            }
            if !authority.is_signer || d[9..41] != authority.key.to_bytes() {
                return Err(EmuError::WrongAuthority.into());
            }
        }
        close_into(vaa, authority)?;
        return Ok(());
    }
    Err(EmuError::BadInstruction.into())
}

fn writable_vaa<'a, 'b>(
    authority: &'a AccountInfo<'b>,
    vaa: &'a AccountInfo<'b>,
    status: u8,
) -> Result<std::cell::RefMut<'a, &'b mut [u8]>, ProgramError> {
    if vaa.owner != &WORMHOLE_RECEIVER_ID {
        return Err(EmuError::BadAccount.into());
    }
    let d = vaa.try_borrow_mut_data()?;
    if d.len() < VAA_START || d[..8] != account_disc("EncodedVaa") || d[8] != status {
        return Err(EmuError::BadVaaStatus.into());
    }
    if !authority.is_signer || d[9..41] != authority.key.to_bytes() {
        return Err(EmuError::WrongAuthority.into());
    }
    Ok(d)
}

/// Every signature of a version-1 VAA checked against `set`: recovered from the body's double
/// Keccak digest, compared with the guardian's address; indexes strictly increasing; a quorum.
fn verify_vaa(bytes: &[u8], set: &GuardianSet) -> ProgramResult {
    let vaa = wormhole_raw_vaas::Vaa::parse(bytes).map_err(|_| EmuError::BadVaa)?;
    if vaa.version() != 1 || vaa.guardian_set_index() != set.index {
        return Err(EmuError::BadVaa.into());
    }
    let digest =
        solana_keccak_hasher::hash(solana_keccak_hasher::hash(vaa.body().as_ref()).as_ref());
    let mut last: Option<usize> = None;
    for sig in vaa.signatures() {
        let index = sig.guardian_index() as usize;
        if last.is_some_and(|l| index <= l) {
            return Err(EmuError::BadSignature.into());
        }
        let guardian = set.keys.get(index).ok_or(EmuError::BadSignature)?;
        let pubkey = solana_secp256k1_recover::secp256k1_recover(
            digest.as_ref(),
            sig.recovery_id(),
            &sig.rs(),
        )
        .map_err(|_| EmuError::BadSignature)?;
        let address = solana_keccak_hasher::hash(&pubkey.to_bytes());
        if &address.as_ref()[12..] != guardian {
            return Err(EmuError::BadSignature.into());
        }
        last = Some(index);
    }
    let quorum = set.keys.len() * 2 / 3 + 1;
    if (vaa.signature_count() as usize) < quorum {
        return Err(EmuError::NoQuorum.into());
    }
    Ok(())
}

/// Moves every lamport of `account` to `to` and empties it (the runtime removes it).
fn close_into(account: &AccountInfo, to: &AccountInfo) -> ProgramResult {
    let lamports = account.lamports();
    **to.try_borrow_mut_lamports()? = to
        .lamports()
        .checked_add(lamports)
        .ok_or(ProgramError::ArithmeticOverflow)?;
    **account.try_borrow_mut_lamports()? = 0;
    account.resize(0)?;
    Ok(())
}

// ---- Pyth receiver -----------------------------------------------------------------------

/// The Pyth receiver's native processor: `post_update` and `reclaim_rent`.
pub fn receiver(program_id: &Pubkey, accounts: &[AccountInfo], data: &[u8]) -> ProgramResult {
    let (tag, args) = data.split_at_checked(8).ok_or(EmuError::BadInstruction)?;
    let get = |i: usize| accounts.get(i).ok_or(EmuError::BadAccount);
    if tag == disc("post_update") {
        let params =
            PostUpdateParams::deserialize(&mut &args[..]).map_err(|_| EmuError::BadInstruction)?;
        let (payer, vaa, config, treasury, price, _system, authority) = (
            get(0)?,
            get(1)?,
            get(2)?,
            get(3)?,
            get(4)?,
            get(5)?,
            get(6)?,
        );
        if !payer.is_signer || !authority.is_signer {
            return Err(EmuError::WrongAuthority.into());
        }
        let config_data = read_config(program_id, config)?;
        if treasury.key != &pyth_solana_receiver_sdk::pda::get_treasury_address(params.treasury_id)
        {
            return Err(EmuError::BadAccount.into());
        }
        let message = verified_message(vaa, &config_data, &params)?;
        // The fee, then the account (created on first use; then only its write authority may
        // post into it).
        invoke(
            &system_instruction::transfer(
                payer.key,
                treasury.key,
                config_data.single_update_fee_in_lamports,
            ),
            &[payer.clone(), treasury.clone()],
        )?;
        if price.lamports() == 0 {
            if !price.is_signer {
                return Err(EmuError::WrongAuthority.into());
            }
            let lamports = Rent::get()?.minimum_balance(PriceUpdateV2::LEN);
            invoke(
                &system_instruction::create_account(
                    payer.key,
                    price.key,
                    lamports,
                    PriceUpdateV2::LEN as u64,
                    program_id,
                ),
                &[payer.clone(), price.clone()],
            )?;
        } else {
            let current = read_price(program_id, price)?;
            if current.write_authority != *authority.key {
                return Err(EmuError::WrongAuthority.into());
            }
        }
        let update = PriceUpdateV2 {
            write_authority: *authority.key,
            verification_level: VerificationLevel::Full,
            price_message: message,
            posted_slot: Clock::get()?.slot,
        };
        write_price(price, &update)?;
        return Ok(());
    }
    if tag == disc("reclaim_rent") {
        let (payer, price) = (get(0)?, get(1)?);
        let current = read_price(program_id, price)?;
        if !payer.is_signer || current.write_authority != *payer.key {
            return Err(EmuError::WrongAuthority.into());
        }
        close_into(price, payer)?;
        return Ok(());
    }
    Err(EmuError::BadInstruction.into())
}

fn read_config(program_id: &Pubkey, config: &AccountInfo) -> Result<Config, ProgramError> {
    if config.owner != program_id
        || config.key != &pyth_solana_receiver_sdk::pda::get_config_address()
    {
        return Err(EmuError::BadAccount.into());
    }
    let d = config.try_borrow_data()?;
    if d.len() < 8 || d[..8] != *Config::DISCRIMINATOR {
        return Err(EmuError::BadAccount.into());
    }
    Config::deserialize(&mut &d[8..]).map_err(|_| EmuError::BadAccount.into())
}

fn read_price(program_id: &Pubkey, price: &AccountInfo) -> Result<PriceUpdateV2, ProgramError> {
    if price.owner != program_id {
        return Err(EmuError::BadAccount.into());
    }
    let d = price.try_borrow_data()?;
    if d.len() < 8 || d[..8] != *PriceUpdateV2::DISCRIMINATOR {
        return Err(EmuError::BadAccount.into());
    }
    PriceUpdateV2::deserialize(&mut &d[8..]).map_err(|_| EmuError::BadAccount.into())
}

fn write_price(price: &AccountInfo, update: &PriceUpdateV2) -> ProgramResult {
    let mut bytes = PriceUpdateV2::DISCRIMINATOR.to_vec();
    update
        .serialize(&mut bytes)
        .map_err(|_| EmuError::BadInstruction)?;
    bytes.resize(PriceUpdateV2::LEN, 0);
    let mut d = price.try_borrow_mut_data()?;
    if d.len() != PriceUpdateV2::LEN {
        return Err(EmuError::BadAccount.into());
    }
    d.copy_from_slice(&bytes);
    Ok(())
}

/// The price message of `params`, proved against the verified VAA in `vaa` from one of the
/// config's data sources.
fn verified_message(
    vaa: &AccountInfo,
    config: &Config,
    params: &PostUpdateParams,
) -> Result<pythnet_sdk::messages::PriceFeedMessage, ProgramError> {
    if vaa.owner != &config.wormhole {
        return Err(EmuError::BadAccount.into());
    }
    let d = vaa.try_borrow_data()?;
    if d.len() < VAA_START || d[..8] != account_disc("EncodedVaa") || d[8] != STATUS_VERIFIED {
        return Err(EmuError::BadVaaStatus.into());
    }
    let parsed = wormhole_raw_vaas::Vaa::parse(&d[VAA_START..]).map_err(|_| EmuError::BadVaa)?;
    let body = parsed.body();
    let source = DataSource {
        chain: body.emitter_chain(),
        emitter: Pubkey::new_from_array(body.emitter_address()),
    };
    if !config.valid_data_sources.contains(&source) {
        return Err(EmuError::InvalidDataSource.into());
    }
    let message = WormholeMessage::try_from_bytes(body.payload().as_ref())
        .map_err(|_| EmuError::InvalidWormholeMessage)?;
    let WormholePayload::Merkle(root) = message.payload;
    let root: MerkleRoot<Keccak160> = MerkleRoot::new(root.root);
    if !root.check(
        params.merkle_price_update.proof.clone(),
        params.merkle_price_update.message.as_ref(),
    ) {
        return Err(EmuError::InvalidPriceUpdate.into());
    }
    match pythnet_sdk::wire::from_slice::<byteorder::BE, Message>(
        params.merkle_price_update.message.as_ref(),
    ) {
        Ok(Message::PriceFeedMessage(m)) => Ok(m),
        _ => Err(EmuError::UnsupportedMessage.into()),
    }
}

// ---- Push oracle -------------------------------------------------------------------------

/// The push oracle's native processor: `update_price_feed`, through the receiver's
/// `post_update` under the feed account's PDA; an update not newer than the account's is
/// skipped.
pub fn push_oracle(program_id: &Pubkey, accounts: &[AccountInfo], data: &[u8]) -> ProgramResult {
    let (tag, args) = data.split_at_checked(8).ok_or(EmuError::BadInstruction)?;
    if tag != disc("update_price_feed") {
        return Err(EmuError::BadInstruction.into());
    }
    let mut rest = args;
    let params = PostUpdateParams::deserialize(&mut rest).map_err(|_| EmuError::BadInstruction)?;
    let shard = u16::deserialize(&mut rest).map_err(|_| EmuError::BadInstruction)?;
    let feed_id = <[u8; 32]>::deserialize(&mut rest).map_err(|_| EmuError::BadInstruction)?;
    let get = |i: usize| accounts.get(i).ok_or(EmuError::BadAccount);
    let (payer, receiver_program, vaa, config, treasury, feed, system) = (
        get(0)?,
        get(1)?,
        get(2)?,
        get(3)?,
        get(4)?,
        get(5)?,
        get(6)?,
    );
    let (expected, bump) =
        Pubkey::find_program_address(&[&shard.to_le_bytes(), &feed_id], program_id);
    if feed.key != &expected || receiver_program.key != &RECEIVER_ID {
        return Err(EmuError::BadAccount.into());
    }
    let message = pythnet_sdk::wire::from_slice::<byteorder::BE, Message>(
        params.merkle_price_update.message.as_ref(),
    )
    .map_err(|_| EmuError::UnsupportedMessage)?;
    let Message::PriceFeedMessage(m) = message else {
        return Err(EmuError::UnsupportedMessage.into());
    };
    if m.feed_id != feed_id {
        return Err(EmuError::UnsupportedMessage.into());
    }
    if feed.lamports() > 0 {
        let current = read_price(&RECEIVER_ID, feed)?;
        if current.price_message.publish_time >= m.publish_time {
            return Ok(());
        }
    }
    let mut data = disc("post_update").to_vec();
    params
        .serialize(&mut data)
        .map_err(|_| EmuError::BadInstruction)?;
    let ix = solana_sdk::instruction::Instruction {
        program_id: RECEIVER_ID,
        accounts: vec![
            solana_sdk::instruction::AccountMeta::new(*payer.key, true),
            solana_sdk::instruction::AccountMeta::new_readonly(*vaa.key, false),
            solana_sdk::instruction::AccountMeta::new_readonly(*config.key, false),
            solana_sdk::instruction::AccountMeta::new(*treasury.key, false),
            solana_sdk::instruction::AccountMeta::new(*feed.key, true),
            solana_sdk::instruction::AccountMeta::new_readonly(*system.key, false),
            solana_sdk::instruction::AccountMeta::new_readonly(*feed.key, true),
        ],
        data,
    };
    invoke_signed(
        &ix,
        &[
            payer.clone(),
            vaa.clone(),
            config.clone(),
            treasury.clone(),
            feed.clone(),
            system.clone(),
            receiver_program.clone(),
        ],
        &[&[&shard.to_le_bytes(), &feed_id, &[bump]]],
    )
}

// ---- Genesis -------------------------------------------------------------------------------

/// The accounts the emulated programs read, with `guardians` (Ethereum addresses) as guardian
/// set [`GUARDIAN_SET_INDEX`]: the guardian set, the receiver's config (the Pythnet emitter as
/// its data source, mainnet's fee) and its 256 treasuries.
pub fn genesis(guardians: Vec<[u8; 20]>) -> Vec<(Pubkey, Account)> {
    let rent = Rent::default();
    let mut out = vec![];
    let set = GuardianSet {
        index: GUARDIAN_SET_INDEX,
        keys: guardians,
        creation_time: 0,
        expiration_time: 0,
    };
    let data = borsh::to_vec(&set).expect("borsh");
    out.push((
        aidx_client::pull::receiver::guardian_set_address(GUARDIAN_SET_INDEX),
        Account {
            lamports: rent.minimum_balance(data.len()),
            data,
            owner: WORMHOLE_RECEIVER_ID,
            executable: false,
            rent_epoch: 0,
        },
    ));
    let config = Config {
        governance_authority: Pubkey::new_from_array([9; 32]),
        target_governance_authority: None,
        wormhole: WORMHOLE_RECEIVER_ID,
        valid_data_sources: vec![DataSource {
            chain: PYTHNET_CHAIN,
            emitter: Pubkey::new_from_array(PYTHNET_EMITTER),
        }],
        single_update_fee_in_lamports: UPDATE_FEE_LAMPORTS,
        minimum_signatures: 5,
    };
    let mut data = Config::DISCRIMINATOR.to_vec();
    config.serialize(&mut data).expect("borsh");
    data.resize(Config::LEN, 0);
    out.push((
        pyth_solana_receiver_sdk::pda::get_config_address(),
        Account {
            lamports: rent.minimum_balance(data.len()),
            data,
            owner: RECEIVER_ID,
            executable: false,
            rent_epoch: 0,
        },
    ));
    for id in 0..=u8::MAX {
        out.push((
            pyth_solana_receiver_sdk::pda::get_treasury_address(id),
            Account {
                lamports: rent.minimum_balance(0),
                data: vec![],
                owner: anchor_lang::system_program::ID,
                executable: false,
                rent_epoch: 0,
            },
        ));
    }
    out
}
