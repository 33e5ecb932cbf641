//! Fresh Pyth prices on a cluster, fully verified, posted by the keeper before a trade.
//!
//! A trade (single-asset mint or redeem, a rebalance swap) needs every price it uses published
//! within the index's `trade_max_age_secs` (10 s by default), and the oracle gate takes only
//! fully verified updates. On a cluster nobody guarantees that: the keeper fetches the latest
//! updates from Pyth's Hermes service ([`hermes`]), posts them through Wormhole and Pyth's
//! receiver ([`receiver`]), then refreshes the index's prices and trades.
//!
//! How Pyth's pull oracle works on Solana, in the order the keeper follows it:
//!
//! 1. Hermes answers `GET /v2/updates/price/latest?ids[]=...&encoding=base64` with one or more
//!    *accumulator updates* (magic `PNAU`, big-endian): a Wormhole VAA whose payload is the
//!    Merkle root of every Pyth price of a slot, and for each requested feed its price message
//!    with a Merkle proof ([`accumulator`], parsed with `pythnet-sdk`'s wire types).
//! 2. The VAA is verified by the Wormhole receiver program in a few transactions: an account is
//!    created for it, initialised, written in two chunks (a VAA with 13 guardian signatures does
//!    not fit one transaction), and verified against the guardian set (every signature).
//! 3. Each price message is posted against the verified VAA: either into an account of the
//!    keeper's (receiver `post_update`, rent reclaimed afterwards) or into the feed's push
//!    account (push oracle `update_price_feed`, shard 0: the account the index and its lookup
//!    table already name, no rent, skipped silently when not newer). Both write a
//!    `PriceUpdateV2` with `VerificationLevel::Full`. The one-transaction `post_update_atomic`
//!    checks only the signatures that fit and writes `Partial`, which the oracle gate refuses.
//! 4. The VAA's account is closed (rent back), and so are the keeper's price accounts once the
//!    trade is done.
//!
//! [`plan`] groups those instructions into transactions that fit a packet (1,232 bytes), each
//! with a compute-unit limit from the receiver programs' published figures and a price.

pub mod accumulator;
pub mod hermes;
pub mod plan;
pub mod post;
pub mod receiver;
