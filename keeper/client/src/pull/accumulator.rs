//! Hermes' accumulator updates, parsed with `pythnet-sdk`'s wire types: the VAA (and its guardian
//! set, read with `wormhole-raw-vaas`) and each feed's price message with its Merkle proof.

use pythnet_sdk::messages::{Message, PriceFeedMessage};
use pythnet_sdk::wire::v1::{AccumulatorUpdateData, MerklePriceUpdate, Proof};

/// One price of an accumulator update: the message as the receiver takes it (bytes and proof)
/// and its decoded contents.
#[derive(Clone, Debug)]
pub struct PriceUpdate {
    /// The message and its Merkle proof, as `post_update` and `update_price_feed` take them.
    pub merkle: MerklePriceUpdate,
    /// The decoded price message.
    pub price: PriceFeedMessage,
}

/// An accumulator update: one VAA, the prices it proves.
#[derive(Clone, Debug)]
pub struct Accumulator {
    /// The Wormhole VAA, as signed by the guardians.
    pub vaa: Vec<u8>,
    /// The guardian set that signed it (the PDA the Wormhole receiver verifies against).
    pub guardian_set_index: u32,
    /// How many guardian signatures the VAA carries.
    pub signatures: usize,
    /// Its price messages, in the update's order.
    pub updates: Vec<PriceUpdate>,
}

/// Why an accumulator update could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AccumulatorError {
    /// Not a `PNAU` accumulator update of a version this keeper reads.
    #[error("not an accumulator update (magic PNAU, major version 1): {0}")]
    NotAccumulator(String),
    /// The VAA inside it does not parse.
    #[error("its VAA does not parse: {0}")]
    BadVaa(String),
    /// A message that is not a price feed message (TWAP, publisher caps...) or does not parse.
    #[error("message {0} is not a price feed message")]
    NotPrice(usize),
}

/// Parses one accumulator update's bytes (Hermes' `binary.data[i]`, base64-decoded).
pub fn parse(bytes: &[u8]) -> Result<Accumulator, AccumulatorError> {
    let data = AccumulatorUpdateData::try_from_slice(bytes)
        .map_err(|e| AccumulatorError::NotAccumulator(format!("{e:?}")))?;
    let Proof::WormholeMerkle { vaa, updates } = data.proof;
    let vaa: Vec<u8> = vaa.into();
    let parsed =
        wormhole_raw_vaas::Vaa::parse(&vaa).map_err(|e| AccumulatorError::BadVaa(e.to_string()))?;
    let guardian_set_index = parsed.guardian_set_index();
    let signatures = parsed.signature_count() as usize;
    let updates = updates
        .into_iter()
        .enumerate()
        .map(|(i, merkle)| {
            match pythnet_sdk::wire::from_slice::<byteorder::BE, Message>(merkle.message.as_ref()) {
                Ok(Message::PriceFeedMessage(price)) => Ok(PriceUpdate { merkle, price }),
                _ => Err(AccumulatorError::NotPrice(i)),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Accumulator {
        vaa,
        guardian_set_index,
        signatures,
        updates,
    })
}
