//! Pyth `PriceUpdateV2` accounts exactly as the Pyth receiver program writes them (its account
//! discriminator and Borsh layout, sized to `PriceUpdateV2::LEN`): what the embedded runtime
//! posts where no receiver runs, and what tests compare with.

use aidx::math::USD_SCALE;
use anchor_lang::{AnchorSerialize, Discriminator};
use pyth_solana_receiver_sdk::price_update::{PriceFeedMessage, PriceUpdateV2, VerificationLevel};
use solana_sdk::{account::Account, pubkey::Pubkey};

/// One price as Pyth publishes it: `price * 10^exponent` USD, `conf` in the same units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PythPrice {
    /// Mantissa of the price.
    pub price: i64,
    /// Mantissa of the confidence interval.
    pub conf: u64,
    /// Decimal exponent of both.
    pub exponent: i32,
    /// When Pyth published it, unix seconds.
    pub publish_time: i64,
}

impl PythPrice {
    /// A price in `USD_SCALE` units of one whole token expressed with exponent -8, the usual
    /// exponent of Pyth's crypto feeds, and a confidence of `conf_bps` of it.
    pub fn from_usd_scaled(usd: u128, conf_bps: u64, publish_time: i64) -> Self {
        let price = (usd / (USD_SCALE / 100_000_000)) as i64;
        PythPrice {
            price,
            conf: price as u64 * conf_bps / 10_000,
            exponent: -8,
            publish_time,
        }
    }
}

/// A price update, as the receiver writes it.
pub fn price_update(feed_id: [u8; 32], p: PythPrice, level: VerificationLevel) -> PriceUpdateV2 {
    PriceUpdateV2 {
        write_authority: Pubkey::new_from_array([7; 32]),
        verification_level: level,
        posted_slot: 1,
        price_message: PriceFeedMessage {
            feed_id,
            price: p.price,
            conf: p.conf,
            exponent: p.exponent,
            publish_time: p.publish_time,
            prev_publish_time: p.publish_time - 1,
            ema_price: p.price,
            ema_conf: p.conf,
        },
    }
}

/// The account data of a price update, as the receiver writes it.
pub fn price_update_data(feed_id: [u8; 32], p: PythPrice, level: VerificationLevel) -> Vec<u8> {
    let update = price_update(feed_id, p, level);
    let mut data = PriceUpdateV2::DISCRIMINATOR.to_vec();
    update.serialize(&mut data).expect("serialize price update");
    data.resize(PriceUpdateV2::LEN, 0);
    data
}

/// The account (owner: the Pyth receiver program).
pub fn price_update_account(feed_id: [u8; 32], p: PythPrice, level: VerificationLevel) -> Account {
    Account {
        lamports: 10_000_000,
        data: price_update_data(feed_id, p, level),
        owner: pyth_solana_receiver_sdk::ID,
        executable: false,
        rent_epoch: 0,
    }
}

/// The account at `key`: a push feed's own account (shard 0 of `feed_id`) carries itself as its
/// write authority, as the push oracle writes it (so that later updates through the push oracle
/// are accepted); any other account, the fixed authority of [`price_update_data`].
pub fn price_update_account_at(
    key: &Pubkey,
    feed_id: [u8; 32],
    p: PythPrice,
    level: VerificationLevel,
) -> Account {
    let mut account = price_update_account(feed_id, p, level);
    if *key == crate::address::push_feed_address(0, &feed_id) {
        account.data[8..40].copy_from_slice(key.as_ref());
    }
    account
}
