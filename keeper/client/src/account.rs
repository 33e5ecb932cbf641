//! Decoding the index account.

use aidx::state::Index;
use anchor_lang::Discriminator;

/// Why account data could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The data does not start with the index account's discriminator.
    #[error("account is not an aidx index (discriminator mismatch)")]
    NotAnIndex,
    /// The data is shorter than an index (bytes found, bytes expected).
    #[error("index account has {0} bytes, expected {1}")]
    WrongSize(usize, usize),
}

/// Decodes an index account's data (discriminator checked).
pub fn decode_index(data: &[u8]) -> Result<Index, DecodeError> {
    let disc = Index::DISCRIMINATOR;
    if data.len() < disc.len() || &data[..disc.len()] != disc {
        return Err(DecodeError::NotAnIndex);
    }
    let body = &data[disc.len()..];
    let want = std::mem::size_of::<Index>();
    if body.len() < want {
        return Err(DecodeError::WrongSize(data.len(), want + disc.len()));
    }
    Ok(bytemuck::pod_read_unaligned(&body[..want]))
}
