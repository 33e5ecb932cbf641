//! Pyth's Hermes service: the latest accumulator updates for a set of feeds, every failure
//! named (down, slow, an HTTP error, a malformed answer, a feed missing or stale).

use super::accumulator::{self, Accumulator};
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use std::time::Duration;

/// Why Hermes could not give usable updates. Nothing is posted or traded after any of them.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HermesError {
    /// No connection (refused, reset, DNS).
    #[error("Hermes at {url} cannot be reached: {reason}")]
    Unreachable {
        /// Where.
        url: String,
        /// What the connection said.
        reason: String,
    },
    /// No answer in time.
    #[error("Hermes at {url} gave no answer within {timeout:?}")]
    Timeout {
        /// Where.
        url: String,
        /// How long the keeper waited.
        timeout: Duration,
    },
    /// An HTTP error status.
    #[error("Hermes answered HTTP {status}: {body}")]
    Status {
        /// The status code.
        status: u16,
        /// The start of its body.
        body: String,
    },
    /// An answer that is not the expected JSON, or an update that does not parse.
    #[error("Hermes' answer is malformed: {0}")]
    Malformed(String),
    /// A requested feed is in none of the updates.
    #[error("Hermes' updates carry no price for feed 0x{0}")]
    MissingFeed(String),
    /// A price older than the trade allows.
    #[error("Hermes' price for feed 0x{feed} was published at {publish_time}, {age} s before the cluster's clock; a trade needs it within {max_age} s")]
    Stale {
        /// The feed, hex.
        feed: String,
        /// When Pyth published it.
        publish_time: i64,
        /// Its age against the cluster's clock, seconds.
        age: i64,
        /// The most the trade accepts.
        max_age: u32,
    },
}

/// A Hermes endpoint.
#[derive(Clone, Debug)]
pub struct Hermes {
    base: String,
    http: reqwest::Client,
    timeout: Duration,
}

#[derive(serde::Deserialize)]
struct Latest {
    binary: Binary,
}

#[derive(serde::Deserialize)]
struct Binary {
    encoding: String,
    data: Vec<String>,
}

impl Hermes {
    /// Hermes at `base_url` (for example `https://hermes.pyth.network`), each request bounded
    /// by `timeout`.
    pub fn new(base_url: &str, timeout: Duration) -> anyhow::Result<Self> {
        Ok(Hermes {
            base: base_url.trim_end_matches('/').to_string(),
            http: reqwest::Client::builder().timeout(timeout).build()?,
            timeout,
        })
    }

    /// The URL of the latest updates for `feeds`.
    pub fn latest_url(&self, feeds: &[[u8; 32]]) -> String {
        let ids: Vec<String> = feeds
            .iter()
            .map(|f| format!("ids[]=0x{}", hex::encode(f)))
            .collect();
        format!(
            "{}/v2/updates/price/latest?{}&encoding=base64&parsed=false",
            self.base,
            ids.join("&")
        )
    }

    /// The latest accumulator updates carrying `feeds`, parsed; every feed present.
    pub async fn latest(&self, feeds: &[[u8; 32]]) -> Result<Vec<Accumulator>, HermesError> {
        let url = self.latest_url(feeds);
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        let status = response.status();
        let body = response.text().await.map_err(|e| self.transport(e))?;
        if !status.is_success() {
            return Err(HermesError::Status {
                status: status.as_u16(),
                body: body.chars().take(200).collect(),
            });
        }
        let latest: Latest = serde_json::from_str(&body)
            .map_err(|e| HermesError::Malformed(format!("not the latest-updates JSON: {e}")))?;
        if latest.binary.encoding != "base64" {
            return Err(HermesError::Malformed(format!(
                "encoding {}, asked for base64",
                latest.binary.encoding
            )));
        }
        let updates = latest
            .binary
            .data
            .iter()
            .map(|d| {
                let bytes = B64
                    .decode(d)
                    .map_err(|e| HermesError::Malformed(format!("update not base64: {e}")))?;
                accumulator::parse(&bytes).map_err(|e| HermesError::Malformed(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        for f in feeds {
            if !updates
                .iter()
                .flat_map(|a| &a.updates)
                .any(|u| u.price.feed_id == *f)
            {
                return Err(HermesError::MissingFeed(hex::encode(f)));
            }
        }
        Ok(updates)
    }

    fn transport(&self, e: reqwest::Error) -> HermesError {
        if e.is_timeout() {
            HermesError::Timeout {
                url: self.base.clone(),
                timeout: self.timeout,
            }
        } else {
            HermesError::Unreachable {
                url: self.base.clone(),
                reason: std::error::Error::source(&e)
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| e.to_string()),
            }
        }
    }
}

/// Refuses, before anything is posted, a price of `feeds` older than `max_age` seconds at the
/// cluster's `now` (a trade would fail the oracle gate with it).
pub fn check_fresh(
    updates: &[Accumulator],
    feeds: &[[u8; 32]],
    now: i64,
    max_age: u32,
) -> Result<(), HermesError> {
    for f in feeds {
        let newest = updates
            .iter()
            .flat_map(|a| &a.updates)
            .filter(|u| u.price.feed_id == *f)
            .map(|u| u.price.publish_time)
            .max()
            .ok_or_else(|| HermesError::MissingFeed(hex::encode(f)))?;
        let age = now.saturating_sub(newest);
        if age > max_age as i64 {
            return Err(HermesError::Stale {
                feed: hex::encode(f),
                publish_time: newest,
                age,
                max_age,
            });
        }
    }
    Ok(())
}
