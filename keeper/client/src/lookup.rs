//! Address lookup tables: reading the ones a book names from a chain, and the shapes a
//! transaction can take through them, cheapest first, for [`Chain::choose_shape`].

use crate::book::Book;
use crate::chain::Chain;
use crate::tx::Shape;
use anyhow::{anyhow, Result};
use solana_sdk::{message::AddressLookupTableAccount, pubkey::Pubkey};
use std::str::FromStr;

/// The lookup table at `key`, with its addresses as the chain holds them.
pub async fn read<C: Chain>(chain: &mut C, key: &Pubkey) -> Result<AddressLookupTableAccount> {
    let data = chain.data_of(key).await?;
    let table =
        solana_address_lookup_table_interface::state::AddressLookupTable::deserialize(&data)
            .map_err(|e| anyhow!("lookup table {key}: {e:?}"))?;
    Ok(AddressLookupTableAccount {
        key: *key,
        addresses: table.addresses.to_vec(),
    })
}

/// The lookup table the book names `name`, if it names one.
pub async fn named<C: Chain>(
    chain: &mut C,
    book: &Book,
    name: &str,
) -> Result<Option<AddressLookupTableAccount>> {
    match book.lookup_tables.get(name) {
        Some(key) => Ok(Some(read(chain, &Pubkey::from_str(key)?).await?)),
        None => Ok(None),
    }
}

/// The ways a transaction of the book's index can be sent, cheapest first: without a lookup
/// table; through the index's table (the programs, the index's accounts, every mint, vault
/// and price account); and, for a `holder`, through the index's and the holder's tables (the
/// holder's token and share accounts). Only the tables the book names.
pub async fn shapes<C: Chain>(
    chain: &mut C,
    book: &Book,
    holder: Option<&str>,
) -> Result<Vec<Shape>> {
    let mut out = vec![Shape {
        name: "no lookup table".into(),
        tables: vec![],
    }];
    let Some(index) = named(chain, book, "index").await? else {
        return Ok(out);
    };
    out.push(Shape {
        name: "the index's lookup table".into(),
        tables: vec![index.clone()],
    });
    if let Some(holder) = holder {
        if let Some(own) = named(chain, book, holder).await? {
            out.push(Shape {
                name: format!("the index's and {holder}'s lookup tables"),
                tables: vec![index, own],
            });
        }
    }
    Ok(out)
}
